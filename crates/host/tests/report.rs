//! `rollscope html`, run as users run it: the one-file report carries the parsing worker's
//! start (its glue and wasm, as a `data:` URL the page starts its worker from) and the
//! dump's rows (the gzipped row store, `trace::store::binary`), under a CSP that allows exactly that;
//! and bad input or a bad output path is a clear one-line error that writes nothing.
//! (That the page actually opens it, and Open…/drag-drop work inside it, is
//! `tests/browser/report.test.js`.)

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;

fn rollscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes the report of `input` to `out`; `None` (after checking the error says why) when
/// this binary was built without the viewer (native `cargo test` without `dist/`).
fn write_report(input: &Path, out: &Path) -> Option<String> {
    let res = rollscope(&["html", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    // Where the viewer is required (`cargo xtask test`, CI), its absence fails here.
    if !common::viewer_built() {
        assert!(!res.status.success());
        assert!(
            stderr(&res).contains("built without the viewer: run `cargo xtask build`"),
            "{}",
            stderr(&res)
        );
        assert!(!out.exists(), "nothing written");
        return None;
    }
    assert!(res.status.success(), "{}", stderr(&res));
    Some(std::fs::read_to_string(out).unwrap())
}

/// The text between `open` (whose end is the first `>` after it) and the next `</script>`.
fn element<'a>(html: &'a str, open: &str) -> &'a str {
    let at = html
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in the report"));
    let body = &html[at + html[at..].find('>').unwrap() + 1..];
    &body[..body.find("</script>").unwrap()]
}

/// A payload block: base64 of gzip, decoded and inflated.
fn payload(html: &str, id: &str) -> Vec<u8> {
    payload_at(
        html,
        &format!("<script id=\"{id}\" type=\"application/octet-stream\""),
    )
}

fn payload_at(html: &str, open: &str) -> Vec<u8> {
    let text = element(html, open);
    let gz = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_else(|e| panic!("{open}: not base64: {e}"));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{open}: not gzip: {e}"));
    out
}

fn csp(html: &str) -> &str {
    let at = html
        .find("http-equiv=\"Content-Security-Policy\" content=\"")
        .expect("a CSP meta");
    let rest = &html[at..];
    let rest = &rest[rest.find("content=\"").unwrap() + 9..];
    &rest[..rest.find('"').unwrap()]
}

#[test]
fn the_report_carries_the_worker_start_and_the_rows_under_a_csp_that_allows_only_that() {
    let dir = common::tmpdir("report-content");
    let out = dir.join("pd_1.html");
    let Some(html) = write_report(&common::fixture("pd_1.pt"), &out) else {
        return;
    };

    // Three scripts run, each pinned by its SHA-256 in the CSP: the module script (the start),
    // the rows script in the head, and the one-line call after each block of rows.
    assert_eq!(html.matches("<script type=\"module\">").count(), 1);
    assert_eq!(html.matches("type=\"application/octet-stream\"").count(), 4);
    let take = "<script>__rollscope_rows.take()</script>";
    assert_eq!(html.matches(take).count(), 1, "one block of rows, one call");
    assert_eq!(
        html.matches("<script").count(),
        7,
        "the start, the rows script, three payloads, one block of rows and its call"
    );
    let script = element(&html, "<script type=\"module\">");
    let after_module = &html[html.find(script).unwrap() + script.len()..];
    let rows_js = element(after_module, "<script>");
    assert!(rows_js.contains("window.__rollscope_rows = (() => {"));
    let hash = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
    };
    assert_eq!(
        csp(&html),
        format!(
            "default-src 'none'; script-src 'sha256-{}' 'sha256-{}' 'sha256-{}' \
             'wasm-unsafe-eval'; worker-src data:; style-src 'unsafe-inline'; img-src data:; \
             base-uri 'none'; form-action 'none'",
            hash(script),
            hash(rows_js),
            hash("__rollscope_rows.take()")
        ),
        "nothing remote, nothing to fetch, workers only from data: URLs"
    );
    // The rows script is in the head, before any block of rows it takes.
    assert!(html.find(rows_js).unwrap() < html.find("</head>").unwrap());
    assert!(html.find("</head>").unwrap() < html.find("class=\"rollscope-data\"").unwrap());

    // The bootstrap: the worker's source (its glue, then its start with its own wasm) becomes
    // the data: URL the page starts its worker from, and the rows go to the page as a file.
    let worker_js =
        String::from_utf8(host::assets::get("worker.js").unwrap().bytes.to_vec()).unwrap();
    let worker_init = "__wbg_init";
    assert!(worker_js.contains(&format!("{worker_init} as default")));
    for needed in [
        "window.__rollscope_worker_url = \"data:text/javascript;charset=utf-8,\" + encodeURIComponent(workerSource);",
        "\"\\nawait (\" + String(startWorker) + \")(__wbg_init, \\\"\" + take(\"rollscope-worker-wasm\") + \"\\\");\\n\"",
        "async function startWorker(init, wasmGzB64) {",
        "await init({ module_or_path: wasm });",
        "window.__rollscope_data = { name: name(), bytes };",
        "return await rows.done();",
        "await __wbg_init({ module_or_path: await viewerWasm });",
    ] {
        assert!(script.contains(needed), "the module script lacks {needed:?}");
    }
    assert!(!script.contains("VIEWER_INIT") && !script.contains("WORKER_INIT"));
    // The start comes after the glue it calls, in a block of its own.
    let glue_end = script
        .find("export { initSync, __wbg_init as default };")
        .unwrap();
    assert!(glue_end < script.find("async function startWorker").unwrap());

    // The payloads are the embedded files themselves, and the rows of this dump.
    assert_eq!(payload(&html, "rollscope-worker-js"), worker_js.as_bytes());
    assert_eq!(
        payload(&html, "rollscope-worker-wasm"),
        host::assets::get("worker_bg.wasm").unwrap().bytes
    );
    let viewer_wasm = host::assets::names()
        .find(|n| n.starts_with("viewer-") && n.ends_with("_bg.wasm"))
        .unwrap();
    assert_eq!(
        payload(&html, "rollscope-wasm"),
        host::assets::get(viewer_wasm).unwrap().bytes
    );
    let store = payload_at(
        &html,
        "<script class=\"rollscope-data\" type=\"application/octet-stream\"",
    );
    assert!(html.contains(&format!(
        "data-bytes=\"{}\" data-piece=\"{}\">",
        store.len(),
        4 << 20
    )));
    let built = trace::store::binary::read(&store).unwrap().materialize();
    let reference: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::fixture("pd_1.trace_timeline_cache.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        built.cache.rows.len() as u64,
        reference["sample_count"].as_u64().unwrap()
    );
    assert!(html.contains("data-name=\"pd_1.pt\""));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_dump_name_is_text_in_the_report() {
    let dir = common::tmpdir("report-name");
    let input = dir.join("<img src=x onerror=alert(1)>&\".pt");
    std::fs::copy(common::fixture("legacy_6.pt"), &input).unwrap();
    let Some(html) = write_report(&input, &dir.join("r.html")) else {
        return;
    };
    let escaped = "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;.pt";
    assert!(html.contains(&format!("<title>rollscope — {escaped}</title>")));
    assert!(html.contains(&format!("data-name=\"{escaped}\"")));
    assert!(!html.contains("<img"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_or_output_is_one_clear_line_and_writes_nothing() {
    let dir = common::tmpdir("report-errors");
    let out = dir.join("r.html");
    let out_s = out.to_str().unwrap();

    let missing = dir.join("missing.pt");
    let res = rollscope(&["html", missing.to_str().unwrap(), "-o", out_s]);
    assert!(!res.status.success());
    let err = stderr(&res);
    assert!(
        err.starts_with(&format!("error: {}: No such file", missing.display())),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let junk = dir.join("junk.pt");
    std::fs::write(&junk, b"this is not a rollout dump").unwrap();
    let res = rollscope(&["html", junk.to_str().unwrap(), "-o", out_s]);
    assert!(!res.status.success());
    let err = stderr(&res);
    assert!(
        err.starts_with(&format!(
            "error: {}: not a torch file or pickle",
            junk.display()
        )),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists(), "no report for a file that is not a dump");

    if common::viewer_built() {
        let nowhere = dir.join("no-such-dir").join("r.html");
        let res = rollscope(&[
            "html",
            common::fixture("pd_1.pt").to_str().unwrap(),
            "-o",
            nowhere.to_str().unwrap(),
        ]);
        assert!(!res.status.success());
        let err = stderr(&res);
        assert!(err.contains(&format!("{}: ", nowhere.display())), "{err}");
        assert!(err.contains("No such file"), "{err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
