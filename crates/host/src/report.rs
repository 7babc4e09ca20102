//! `rollscope html`: one self-contained HTML file (viewer wasm, JS, CSS and the dump's rows,
//! gzipped) that opens from `file://` with no network and no server.
//!
//! How it works: the viewer's wasm-bindgen glue is inlined as a module script and started
//! with the wasm bytes (base64) instead of a URL; the rows travel as gzipped cache JSON in a
//! `<script type="application/octet-stream">` block, inflated by the browser's
//! `DecompressionStream` and handed to the app as `window.__rollscope_data` (a serialised
//! `trace::Built`: rows, warnings, metrics). Everything is built here, natively, so the page
//! needs no worker (workers cannot start from `file://`).

use std::io::Write;

use base64::Engine;

use crate::assets;

/// Builds the report for a built cache. `name` is shown as the file name.
pub fn build(built: &trace::Built, name: &str) -> Result<String, String> {
    if !assets::viewer_built() {
        return Err(
            "this rollscope was built without the viewer: run `cargo xtask build`, then rebuild"
                .into(),
        );
    }
    let (js, wasm, css) = viewer_files()?;
    let init = default_export(&js).ok_or("the viewer's JS has no default export")?;
    let json = serde_json::to_vec(built).map_err(|e| e.to_string())?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).map_err(|e| e.to_string())?;
    let gz = gz.finish().map_err(|e| e.to_string())?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let title = html_escape(name);
    // Module scripts may not contain "</script": the glue never does; our data is base64.
    let glue = js.replace("</script", "<\\/script");
    let script = format!(
        r#"
{glue}
const unb64 = (id) => Uint8Array.from(atob(document.getElementById(id).textContent.trim()), (c) => c.charCodeAt(0));
const el = document.getElementById("rollscope-data");
const stream = new Blob([unb64("rollscope-data")]).stream().pipeThrough(new DecompressionStream("gzip"));
window.__rollscope_data = {{ name: el.dataset.name, bytes: new Uint8Array(await new Response(stream).arrayBuffer()) }};
await {init}({{ module_or_path: unb64("rollscope-wasm") }});
"#
    );
    // The one script allowed to run is this one, by its SHA-256.
    let hash = b64.encode(<sha2::Sha256 as sha2::Digest>::digest(script.as_bytes()));
    Ok(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-{hash}' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; connect-src data: blob:">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>rollscope — {title}</title>
<style>{css}</style>
<script id="rollscope-data" type="application/octet-stream" data-name="{title}">{data}</script>
<script id="rollscope-wasm" type="application/octet-stream">{wasm}</script>
</head>
<body data-state="idle">
<script type="module">{script}</script>
</body>
</html>
"#,
        data = b64.encode(&gz),
        wasm = b64.encode(wasm),
    ))
}

/// The viewer's JS glue, wasm and CSS, found through the names Trunk wrote into index.html.
fn viewer_files() -> Result<(String, &'static [u8], String), String> {
    let find = |prefix: &str, ext: &str| {
        assets::names().find(|n| n.starts_with(prefix) && n.ends_with(ext))
    };
    let js = find("viewer-", ".js").ok_or("no viewer JS embedded")?;
    let wasm = find("viewer-", "_bg.wasm").ok_or("no viewer wasm embedded")?;
    let css = find("main-", ".css");
    let text = |n: &str| {
        assets::get(n)
            .map(|a| String::from_utf8_lossy(a.bytes).into_owned())
            .unwrap_or_default()
    };
    let wasm = assets::get(wasm)
        .map(|a| a.bytes)
        .ok_or("no viewer wasm embedded")?;
    Ok((text(js), wasm, css.map(text).unwrap_or_default()))
}

/// The glue's default export: `export { …, NAME as default };` (what wasm-bindgen writes)
/// or `export default NAME;`.
fn default_export(js: &str) -> Option<&str> {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    if let Some(at) = js.rfind(" as default") {
        let before = &js[..at];
        let start = before.rfind(|c: char| !ident(c)).map_or(0, |i| i + 1);
        return Some(&before[start..]).filter(|s| !s.is_empty());
    }
    let at = js.rfind("export default ")?;
    let rest = &js[at + "export default ".len()..];
    let end = rest.find(|c: char| !ident(c))?;
    Some(&rest[..end]).filter(|s| !s.is_empty())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_default_export() {
        let js =
            "async function __wbg_init(x) {}\nexport { initSync };\nexport default __wbg_init;\n";
        assert_eq!(super::default_export(js), Some("__wbg_init"));
        let js = "export { initSync, __wbg_init as default };\n";
        assert_eq!(super::default_export(js), Some("__wbg_init"));
        assert_eq!(
            super::html_escape("<a \"b\">&"),
            "&lt;a &quot;b&quot;&gt;&amp;"
        );
    }
}
