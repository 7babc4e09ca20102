//! Writes every hostile case of the catalog into a folder, plus `index.json`
//! (`[{file, class, what, expect}]`) for the browser tests:
//! `cargo run -p picklegen --example hostile -- OUT_DIR`.

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
        index.push(serde_json::json!({
            "file": c.file, "class": c.class, "what": c.what, "expect": kind,
            "text": text, "rows": rows, "browser": c.browser,
        }));
    }
    let index = serde_json::to_string_pretty(&index).unwrap_or_default();
    if let Err(e) = std::fs::write(out.join("index.json"), index) {
        eprintln!("index.json: {e}");
        std::process::exit(1);
    }
    println!("{} hostile files in {}", cases.len(), out.display());
}
