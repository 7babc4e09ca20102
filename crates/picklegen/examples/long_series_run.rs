//! Writes a run folder whose one sample has no token ids and whose train data names a
//! per-token series of 16 777 216 values through a 4-byte, stride-0 tensor (a few KB on
//! disk), with no tokenizer: the run explorer must summarise it, not draw every cell
//! (issue 24, item 6). `cargo run -p picklegen --example long_series_run -- OUT_DIR`.

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

fn main() {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: long_series_run OUT_DIR");
        std::process::exit(2);
    };
    let out = std::path::PathBuf::from(out);
    for (dir, bytes) in [
        ("rollout_data", rollout_dump()),
        ("train_data", train_dump()),
    ] {
        let path = out.join(dir).join("0.pt");
        let written =
            std::fs::create_dir_all(out.join(dir)).and_then(|()| std::fs::write(&path, bytes));
        if let Err(e) = written {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    }
    println!("a run with a {LEN}-value train series in {}", out.display());
}
