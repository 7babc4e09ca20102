//! `rollscope html`: one self-contained HTML file (viewer, parsing worker, CSS and the dump's
//! rows) that opens from `file://` with no network and no server.
//!
//! How it works: the report is the served viewer with its files carried inline. Its start
//! (a module script allowed by its SHA-256) is the viewer's wasm-bindgen glue followed by
//! `report/boot.js`, which
//! - builds the parsing worker's source (the worker's glue, then its start with its own wasm
//!   bytes) and sets `window.__rollscope_worker_url` to it as a `data:` URL: workers cannot
//!   start from `file://`, and Chromium refuses a module worker from a Blob URL made by a
//!   `file://` page (opaque origin, CORS), but starts one from a `data:` URL; so Open…,
//!   drag-drop and worker replacement work as on the served page;
//! - sets `window.__rollscope_data = { name, bytes }`, the bytes of the dump's row store
//!   (`trace::store::binary`: the store's columns as they are, no JSON), which the page opens
//!   through that worker like any opened file (one path for every file), or `{ name, error }`
//!   when the blocks cannot be unpacked (a report cut short or changed);
//! - starts the viewer with its wasm bytes.
//!
//! Every payload (both wasm modules, the worker's glue, the data) is gzip in base64 in a
//! `<script type="application/octet-stream">` block, inflated by the browser's
//! `DecompressionStream`. The rows are many blocks (`report/rows.rs`), unpacked by helper
//! workers while the page is still parsed (`report/rows.js`, a classic script in the head,
//! called after each block by a one-line script; both allowed by their SHA-256). The module
//! script comes first and the data last: a module script runs once the page is parsed, so a
//! report cut short still starts and says its rows are damaged.

use std::io::Write;

use base64::Engine;

use crate::assets;

mod rows;

/// The report's start, after the viewer's glue (see the module doc).
const BOOT: &str = include_str!("report/boot.js");

/// What the report's CSP allows: its scripts by hash and wasm compilation (which the
/// worker inherits), workers only from `data:` URLs (the ones it makes itself), inline
/// styles, and nothing to fetch (`default-src 'none'` covers `connect-src`: every byte is in
/// the file, and a `?url=` in a report's address must not reach the network).
fn csp(script_hashes: &[String]) -> String {
    let scripts: String = script_hashes
        .iter()
        .map(|h| format!("'sha256-{h}' "))
        .collect();
    format!(
        "default-src 'none'; script-src {scripts}'wasm-unsafe-eval'; \
         worker-src data:; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; \
         form-action 'none'"
    )
}

/// A report ready to write: everything but the rows, which are streamed from the row store
/// when it is written ([`Report::write`]), so the page never holds them whole.
pub struct Report<'a> {
    compact: &'a trace::Loaded,
    /// The row store's size in bytes.
    store_len: usize,
    /// The page up to the rows' block, and after it.
    head: String,
    tail: String,
    title: String,
}

/// Prepares the report of a build. `name` is shown as the file name. Refuses (before
/// anything is written) rows the page would refuse, by sizing their store first.
pub fn prepare<'a>(compact: &'a trace::Loaded, name: &str) -> Result<Report<'a>, String> {
    if !assets::viewer_built() {
        return Err(
            "this rollscope was built without the viewer: run `cargo xtask build`, then rebuild"
                .into(),
        );
    }
    let viewer = viewer_files()?;
    let worker = worker_files()?;
    let viewer_init = default_export(&viewer.js).ok_or("the viewer's JS has no default export")?;
    let worker_init =
        default_export(&worker.js).ok_or("the parsing worker's JS has no default export")?;
    let store_len = store_len(compact)?;
    fits_in_a_tab(store_len)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let title = html_escape(name);
    let boot = BOOT
        .replace("VIEWER_INIT", viewer_init)
        .replace("WORKER_INIT", worker_init);
    let script = escape_script(&format!("\n{}\n{{\n{boot}}}\n", viewer.js));
    // The scripts allowed to run are these, by their SHA-256: the start, the rows script and
    // the call after each block of rows.
    let hash = |text: &str| b64.encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    let rows_js = escape_script(rows::ROWS_JS);
    let hashes = [hash(&script), hash(&rows_js), hash(rows::TAKE_JS)];
    let payload = |id: &str, gz: &[u8]| {
        format!(
            "<script id=\"{id}\" type=\"application/octet-stream\">{}</script>\n",
            b64.encode(gz)
        )
    };
    let mut head = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>rollscope — {title}</title>
<style>{css}</style>
<script type="module">{script}</script>
<script>{rows_js}</script>
</head>
<body data-state="idle">
"#,
        csp = csp(&hashes),
        css = viewer.css,
    );
    head += &payload("rollscope-wasm", &viewer.wasm_gz);
    head += &payload("rollscope-worker-js", &gzip(worker.js.as_bytes())?);
    head += &payload("rollscope-worker-wasm", &worker.wasm_gz);
    let tail = "</body>\n</html>\n".to_string();
    Ok(Report {
        compact,
        store_len,
        head,
        tail,
        title,
    })
}

impl Report<'_> {
    /// Writes the page; gives its size in bytes.
    pub fn write(&self, w: &mut dyn Write) -> std::io::Result<u64> {
        let mut w = Counted { inner: w, n: 0 };
        w.write_all(self.head.as_bytes())?;
        rows::write_blocks(
            self.compact,
            &self.title,
            self.store_len,
            rows::PIECE,
            &mut w,
        )?;
        w.write_all(self.tail.as_bytes())?;
        Ok(w.n)
    }
}

/// The row store's size in bytes, counted without keeping it.
fn store_len(compact: &trace::Loaded) -> Result<usize, String> {
    let mut n = Counted {
        inner: std::io::sink(),
        n: 0,
    };
    trace::store::binary::write(compact, &mut n).map_err(|e| format!("writing the rows: {e}"))?;
    Ok(usize::try_from(n.n).unwrap_or(usize::MAX))
}

/// A writer counting what passes through it.
struct Counted<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The most the viewer's worker holds of one file it reads whole (`MAX_BUFFERED` in
/// `crates/viewer/src/bin/worker`: a store is read whole, unlike a dump, which streams).
const MAX_STORE: usize = 512 << 20;

/// A report whose rows the page would refuse is refused here, saying what to do instead.
fn fits_in_a_tab(store_len: usize) -> Result<(), String> {
    if store_len > MAX_STORE {
        return Err(format!(
            "the rows are {:.1} MB, more than the viewer reads from one file in a browser \
             tab ({:.0} MB): serve the dump instead (`rollscope DUMP`), which streams it",
            store_len as f64 / 1e6,
            MAX_STORE as f64 / 1e6
        ));
    }
    Ok(())
}

/// The JS glue and gzipped wasm of one wasm-bindgen module, and (for the viewer) the CSS.
struct Module {
    js: String,
    wasm_gz: Vec<u8>,
    css: String,
}

fn text(name: &str) -> Option<String> {
    assets::get(name).map(|a| String::from_utf8_lossy(a.bytes).into_owned())
}

/// An embedded file gzipped: `build.rs` gzipped the text and wasm assets already.
fn gzipped(name: &str) -> Result<Vec<u8>, String> {
    let a = assets::get(name).ok_or_else(|| format!("{name} is not embedded"))?;
    match a.gzip {
        Some(gz) => Ok(gz.to_vec()),
        None => gzip(a.bytes),
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).map_err(|e| format!("gzip: {e}"))?;
    gz.finish().map_err(|e| format!("gzip: {e}"))
}

/// The viewer's JS glue, wasm and CSS, by the names Trunk gives them (`viewer-<hash>.js`,
/// `viewer-<hash>_bg.wasm`, `main-<hash>.css`).
fn viewer_files() -> Result<Module, String> {
    let find = |prefix: &str, ext: &str| {
        assets::names().find(|n| n.starts_with(prefix) && n.ends_with(ext))
    };
    let js = find("viewer-", ".js")
        .filter(|n| !n.ends_with("_bg.js"))
        .and_then(text)
        .ok_or("no viewer JS embedded")?;
    let wasm = find("viewer-", "_bg.wasm").ok_or("no viewer wasm embedded")?;
    Ok(Module {
        js,
        wasm_gz: gzipped(wasm)?,
        css: find("main-", ".css").and_then(text).unwrap_or_default(),
    })
}

/// The parsing worker's glue and wasm, found the way the served page finds them: the loader
/// Trunk writes (`worker_loader.js`: `import init from './worker.js';await init();`) names
/// the glue, and the glue names its wasm (`new URL('worker_bg.wasm', import.meta.url)`).
fn worker_files() -> Result<Module, String> {
    const REBUILD: &str = "rebuild the viewer with `cargo xtask build`, then rollscope";
    let loader = text("worker_loader.js").ok_or_else(|| {
        format!("the embedded viewer has no parsing worker (worker_loader.js): {REBUILD}")
    })?;
    let js_name = quoted_after(&loader, "from ")
        .and_then(|n| n.strip_prefix("./"))
        .ok_or_else(|| format!("worker_loader.js names no module ({loader:?}): {REBUILD}"))?;
    let js = text(js_name)
        .ok_or_else(|| format!("the parsing worker's JS ({js_name}) is not embedded: {REBUILD}"))?;
    let wasm_name = quoted_after(&js, "new URL(")
        .filter(|n| n.ends_with(".wasm"))
        .ok_or_else(|| format!("the parsing worker's JS ({js_name}) names no wasm: {REBUILD}"))?;
    let wasm_gz = gzipped(wasm_name).map_err(|e| format!("the parsing worker's {e}: {REBUILD}"))?;
    Ok(Module {
        js,
        wasm_gz,
        css: String::new(),
    })
}

/// The first quoted string (single or double quotes) right after `marker` in `text`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = text[text.find(marker)? + marker.len()..].trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    Some(&rest[..rest.find(quote)?])
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

/// Makes JS safe inside `<script>…</script>`: the HTML parser ends the element at any
/// `</script` (any case) and treats `<!--` specially. Both can only occur inside JS strings,
/// regexes or comments (in a module's code they are syntax errors), where `<\/script` and
/// `<\!--` mean the same text.
fn escape_script(js: &str) -> String {
    let mut out = String::with_capacity(js.len());
    let mut rest = js;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let starts = |p: &str| {
            tail.get(..p.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(p))
        };
        if starts("</script") {
            out.push_str("<\\/");
            rest = &tail[2..];
        } else if starts("<!--") {
            out.push_str("<\\!");
            rest = &tail[2..];
        } else {
            out.push('<');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Text safe in HTML content and in double-quoted attributes.
pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_default_export() {
        let js =
            "async function __wbg_init(x) {}\nexport { initSync };\nexport default __wbg_init;\n";
        assert_eq!(default_export(js), Some("__wbg_init"));
        let js = "export { initSync, __wbg_init as default };\n";
        assert_eq!(default_export(js), Some("__wbg_init"));
        assert_eq!(default_export("export { initSync };"), None);
        assert_eq!(html_escape("<a \"b\">&"), "&lt;a &quot;b&quot;&gt;&amp;");
    }

    #[test]
    fn finds_the_worker_files_by_the_names_trunk_writes() {
        let loader = "import init from './worker.js';await init();";
        assert_eq!(quoted_after(loader, "from "), Some("./worker.js"));
        let glue = "if (x) {\n module_or_path = new URL(\"worker_bg.wasm\", import.meta.url);";
        assert_eq!(quoted_after(glue, "new URL("), Some("worker_bg.wasm"));
        assert_eq!(quoted_after("new URL(x)", "new URL("), None);
        assert_eq!(quoted_after("from './unclosed", "from "), None);
    }

    #[test]
    fn rows_the_page_would_refuse_are_refused_here() {
        assert!(fits_in_a_tab(512 << 20).is_ok());
        let err = fits_in_a_tab((512 << 20) + 1).unwrap_err();
        assert!(
            err.starts_with("the rows are 536.9 MB, more than")
                && err.contains("tab (537 MB)")
                && err.contains("`rollscope DUMP`"),
            "{err}"
        );
    }

    #[test]
    fn script_text_cannot_end_the_element() {
        let js = r#"const a = "</script><!--"; const b = "</SCRIPT>"; x < y; "<"; "#;
        let safe = escape_script(js);
        assert_eq!(
            safe,
            r#"const a = "<\/script><\!--"; const b = "<\/SCRIPT>"; x < y; "<"; "#
        );
        assert!(!safe.to_ascii_lowercase().contains("</script"));
        assert!(!safe.contains("<!--"));
        assert_eq!(escape_script("ends with <"), "ends with <");
    }

    #[test]
    fn the_start_has_one_place_for_each_init_name() {
        assert_eq!(BOOT.matches("VIEWER_INIT").count(), 1);
        assert_eq!(BOOT.matches("WORKER_INIT").count(), 1);
        // The worker's start goes into the worker as text: it must not use the page's helpers.
        let start = &BOOT[BOOT.find("async function startWorker").unwrap()..];
        let body = &start[..start.find("\n}\n").unwrap()];
        for page_only in ["take(", "unb64(", "gunzip(", "document", "window"] {
            assert!(!body.contains(page_only), "startWorker uses {page_only}");
        }
    }
}
