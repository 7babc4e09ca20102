//! Turns a `structured` fuzz input into the file it stands for, so a finding can be committed
//! as plain bytes that do not depend on the generator's version:
//! `cargo run -p fuzzcheck --example arb_dump -- INPUT OUT.pt [OUT_STREAM.bin]`.
//! `OUT.pt` is the generated dump (for `fuzz/regressions/trace_load/`); `OUT_STREAM.bin` is the
//! same with the generator's chunk sizes in front (for `fuzz/regressions/stream_vs_whole/`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: arb_dump INPUT OUT.pt [OUT_STREAM.bin]");
        std::process::exit(2);
    };
    let data = std::fs::read(input).unwrap_or_else(|e| {
        eprintln!("{input}: {e}");
        std::process::exit(1)
    });
    let g = picklegen::arb::dump_from_bytes(&data);
    let write = |path: &str, bytes: &[u8]| {
        if let Err(e) = std::fs::write(path, bytes) {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    write(out, &g.bytes);
    if let Some(stream) = args.get(2) {
        match fuzzcheck::stream::size_bytes(&g.chunks) {
            Some(prefix) => write(stream, &[prefix, g.bytes.clone()].concat()),
            None => eprintln!("chunk sizes {:?} have no size-byte form", g.chunks),
        }
    }
    println!("{} bytes, chunks {:?}", g.bytes.len(), g.chunks);
}
