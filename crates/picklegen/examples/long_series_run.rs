//! Writes a run folder whose one sample has no token ids and whose train data names a
//! per-token series of 16 777 216 values through a 4-byte, stride-0 tensor (a few KB on
//! disk), with no tokenizer: the run explorer must summarise it, not draw every cell
//! (issue 24, item 6). `cargo run -p picklegen --example long_series_run -- OUT_DIR`.
//!
//! With `--long-response`, a run whose one sample has a 904 KB response (452 000 short
//! words) of 450 000 token ids, and the fixture run's tokenizer: the run explorer must open it
//! in bounded time, rendering its text and tokens in pages, without blocking the page for
//! seconds.

use picklegen::{tensor, torch_zip, Pickle};

/// Values in the train series.
const LEN: i64 = 1 << 24;

fn rollout_dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().mark();
    p.empty_dict().mark();
    p.str("index").int(0);
    p.str("group_index").int(0);
    p.str("prompt").str("a long series");
    p.str("response").str("no token ids here");
    p.str("reward").float(1.0);
    p.str("status").str("completed");
    p.setitems();
    p.appends().setitem();
    torch_zip("archive", &p.stop())
}

fn train_dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().mark();
    p.empty_dict().mark();
    p.str("rollout_position").int(0);
    p.str("advantages");
    tensor(&mut p, &[LEN], &[0]);
    p.setitems();
    p.appends().setitem();
    picklegen::train::torch_zip_one_storage(&p.stop(), &0.5f32.to_le_bytes())
}

/// Token ids of the long response.
const RESPONSE_TOKENS: usize = 450_000;

/// One sample: a 904 000-byte response (short words) of [`RESPONSE_TOKENS`] ids (cycling
/// through the fixture tokenizer's merged tokens) after a 3-token prompt.
fn long_response_dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().mark();
    p.empty_dict().mark();
    p.str("index").int(0);
    p.str("group_index").int(0);
    p.str("prompt").str("a long response");
    p.str("response").str(&"a ".repeat(452_000));
    p.str("response_length").int(RESPONSE_TOKENS as i64);
    p.str("tokens").list_of(3 + RESPONSE_TOKENS, |p, i| {
        p.int(256 + (i % 2048) as i64);
    });
    p.str("reward").float(1.0);
    p.str("status").str("completed");
    p.setitems();
    p.appends().setitem();
    torch_zip("archive", &p.stop())
}

fn main() {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: long_series_run OUT_DIR [--long-response]");
        std::process::exit(2);
    };
    let out = std::path::PathBuf::from(out);
    let files = if std::env::args().any(|a| a == "--long-response") {
        let tokenizer = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/run/tokenizer/tokenizer.json");
        let tokenizer = std::fs::read(&tokenizer).unwrap_or_else(|e| {
            eprintln!("{}: {e}", tokenizer.display());
            std::process::exit(1);
        });
        [
            ("rollout_data/0.pt", long_response_dump()),
            ("tokenizer/tokenizer.json", tokenizer),
        ]
    } else {
        [
            ("rollout_data/0.pt", rollout_dump()),
            ("train_data/0.pt", train_dump()),
        ]
    };
    for (name, bytes) in files {
        let path = out.join(name);
        let dir = path.parent().unwrap_or(&out);
        let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, bytes));
        if let Err(e) = written {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    }
    println!("a run in {}", out.display());
}
