//! Build time per hostile trace shape (natively, release): `cargo bench -p trace --bench shapes`.
//! Prints; asserts nothing (tests bound the same shapes generously in debug builds).
//!
//! Also times the many-span benchmark dump if there is one: `$ROLLSCOPE_BENCH_DUMP`, else
//! `target/bench/synth_turns60.pt` (`python3 tools/synth_large.py OUT --turns 60`),
//! and prints its items and cache JSON size against the build's limits.

use std::time::Instant;

#[path = "../tests/support/shapes.rs"]
mod shapes;

fn time(label: &str, bytes: &[u8]) {
    // `ROLLSCOPE_SHAPE=FIFO` runs only the shapes whose label contains it.
    if let Ok(only) = std::env::var("ROLLSCOPE_SHAPE") {
        if !label.contains(&only) {
            return;
        }
    }
    let t = Instant::now();
    let mut loader = trace::Loader::new(trace::LoadOptions::new("bench", 0.0));
    if let Err(e) = loader.push(bytes) {
        println!("{label:<36} error: {e}");
        return;
    }
    let read = t.elapsed();
    let t = Instant::now();
    let built = loader.finish().map(trace::Loaded::materialize);
    let build = t.elapsed();
    match built {
        Ok(b) => {
            let items: usize = b.cache.rows.iter().map(|r| r.items.len()).sum();
            let lanes = b.cache.rows.iter().map(|r| r.lane_count).max().unwrap_or(0);
            let t = Instant::now();
            let json = serde_json::to_vec(&b.cache).map(|v| v.len()).unwrap_or(0);
            let write = t.elapsed();
            println!(
                "{label:<36} {:>7.1} KB in  read+rows {:>8.3} s  finish {:>8.3} s  json {:>8.3} s  \
                 {items:>8} items  {lanes:>7} lanes  {:>9.1} MB out  {} warnings",
                bytes.len() as f64 / 1e3,
                read.as_secs_f64(),
                build.as_secs_f64(),
                write.as_secs_f64(),
                json as f64 / 1e6,
                b.warnings.len()
            );
        }
        Err(e) => println!("{label:<36} error: {e}"),
    }
}

fn main() {
    let n = 200_000;
    time(
        "nested open spans (30 000)",
        &shapes::dump(&[shapes::nested_open(30_000)]),
    );
    time(
        "nested open spans (200 000)",
        &shapes::dump(&[shapes::nested_open(n)]),
    );
    time(
        "FIFO ends (200 000 spans)",
        &shapes::dump(&[shapes::fifo(n)]),
    );
    time(
        "open siblings (50 000)",
        &shapes::dump(&[shapes::open_siblings(50_000)]),
    );
    time(
        "open siblings (200 000)",
        &shapes::dump(&[shapes::open_siblings(n)]),
    );
    time(
        "[P]/[D] lanes (100 000 spans)",
        &shapes::dump(&[shapes::pd_lanes(100_000)]),
    );
    let many: Vec<Vec<shapes::Ev>> = (0..4096).map(|_| shapes::pd_lanes(60)).collect();
    time("4 096 samples × 60 PD spans", &shapes::dump(&many));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let big = std::env::var_os("ROLLSCOPE_BENCH_DUMP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench/synth_turns60.pt"));
    match std::fs::read(&big) {
        Ok(bytes) => time(&format!("{}", big.display()), &bytes),
        Err(_) => println!("(no {}: skipped)", big.display()),
    }
    println!(
        "limits: {} items per file, {} MiB output, {} events per sample",
        trace::MAX_FILE_ITEMS,
        trace::MAX_OUTPUT_BYTES >> 20,
        trace::MAX_SAMPLE_EVENTS
    );
}
