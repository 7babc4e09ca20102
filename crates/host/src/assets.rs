//! The viewer's files, embedded at build time (see `build.rs`).

/// One embedded file.
#[derive(Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// Pre-gzipped at build time, for text assets.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded file with exactly this name (no decoding, no path logic: anything that is
/// not one of these names is simply not found).
pub fn get(path: &str) -> Option<Asset> {
    ASSETS.iter().find(|a| a.path == path).copied()
}

/// Whether the viewer was built into this binary.
pub fn viewer_built() -> bool {
    get("index.html").is_some()
}

/// All embedded names.
pub fn names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.path)
}

/// Content type by extension.
pub fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Trunk names content-hashed assets `name-<hex>.ext` (a u64 in hex, not zero-padded):
/// those can be cached forever.
pub fn is_hashed(path: &str) -> bool {
    let stem = path.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, h)| {
        (8..=16).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert!(is_hashed("viewer-314be7a4a5b158e2_bg.wasm"));
        assert!(is_hashed("main-ac9b8cbc84847f3c.css"));
        assert!(
            is_hashed("viewer-465d6fe65f71d4e.js"),
            "15 digits: no zero padding"
        );
        assert!(!is_hashed("worker_loader.js"));
        assert!(!is_hashed("rollscope-embed.html"));
        assert!(!is_hashed("index.html"));
        assert_eq!(mime("x.wasm"), "application/wasm");
        assert!(get("../Cargo.toml").is_none());
        assert!(get("").is_none());
    }
}
