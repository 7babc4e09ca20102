//! Writes every hostile case of the catalog into a folder, plus `index.json`
//! (`[{file, class, what, expect, export?}]`) for the browser and Python tests:
//! `cargo run -p picklegen --example hostile -- OUT_DIR [--full]`.

fn main() {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: hostile OUT_DIR");
        std::process::exit(2);
    };
    let out = std::path::PathBuf::from(out);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("{}: {e}", out.display());
        std::process::exit(1);
    }
    let cases = picklegen::hostile::catalog();
    let exports = picklegen::hostile::export_cases();
    let expect_json = |e: &picklegen::hostile::Expect| match e {
        picklegen::hostile::Expect::Error(t) => serde_json::json!({"expect": "error", "text": t}),
        picklegen::hostile::Expect::Rows { rows, warning } => {
            serde_json::json!({"expect": "rows", "text": warning, "rows": rows})
        }
    };
    let mut index = Vec::new();
    for c in &cases {
        if let Err(e) = std::fs::write(out.join(c.file), &c.bytes) {
            eprintln!("{}: {e}", c.file);
            std::process::exit(1);
        }
        let (kind, text, rows) = match &c.expect {
            picklegen::hostile::Expect::Error(t) => ("error", *t, 0),
            picklegen::hostile::Expect::Rows { rows, warning } => ("rows", *warning, *rows),
        };
        let mut entry = serde_json::json!({
            "file": c.file, "class": c.class, "what": c.what, "expect": kind,
            "text": text, "rows": rows, "browser": c.browser,
        });
        // What `export --format chrome|otlp` must give, for the output cases.
        if let Some(ex) = exports.iter().find(|e| e.file == c.file) {
            entry["export"] = serde_json::json!({
                "chrome": expect_json(&ex.chrome), "otlp": expect_json(&ex.otlp),
            });
        }
        index.push(entry);
    }
    let index = serde_json::to_string_pretty(&index).unwrap_or_default();
    if let Err(e) = std::fs::write(out.join("index.json"), index) {
        eprintln!("index.json: {e}");
        std::process::exit(1);
    }
    // `--full`: also the full-size files (too slow for a debug build's tests): the
    // ADDITEMS runs at 16 M, and 1 000 samples sharing one trace of 2 000 and 5 000 events.
    if std::env::args().any(|a| a == "--full") {
        use picklegen::hostile::{amplify::additems_runs, shared_trace};
        for (name, bytes) in [
            ("amp_additems_mark_runs_16m.pt", additems_runs(16_000_000)),
            ("output_shared_trace_1000x2000.pt", shared_trace(1000, 1000)),
            ("output_shared_trace_1000x5000.pt", shared_trace(1000, 2500)),
        ] {
            if let Err(e) = std::fs::write(out.join(name), bytes) {
                eprintln!("{name}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{} hostile files in {}", cases.len(), out.display());
}
