//! Embeds the built viewer (`dist/` at the workspace root, made by `cargo xtask build` or
//! `trunk build --release`) into the binary, each text asset also pre-gzipped.
//!
//! Build order: Trunk first, then this crate. Without `dist/` the binary still builds and
//! says, on its index page and in `rollscope html`, that the viewer was not built in.

use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dist = manifest.join("../../dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut code = String::from("pub static ASSETS: &[Asset] = &[\n");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dist)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let gz = if compressible(&path) {
            let data = std::fs::read(&path).unwrap();
            let gz_path = out.join(format!("{name}.gz"));
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&data).unwrap();
            std::fs::write(&gz_path, enc.finish().unwrap()).unwrap();
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".into()
        };
        code.push_str(&format!(
            "    Asset {{ path: {name:?}, bytes: include_bytes!({:?}), gzip: {gz} }},\n",
            path.canonicalize().unwrap().display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("assets.rs"), code).unwrap();
}

fn compressible(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("html" | "js" | "wasm" | "css" | "json" | "svg")
    )
}
