//! The release build of dist/ (Trunk), its wasm size budgets and the page's CSP pinning.

use std::path::Path;

use crate::{cmd, run, step, Result};

/// Release wasm budget of the timeline (the page and its parsing worker, gzipped): what every
/// page load fetches. Issue 22's target: measured 592 KB (page 317 + worker 275) once the
/// worker lost Unicode's case tables (the row builder lowers ASCII only).
const WASM_BUDGET_GZ: u64 = 600 * 1024;
/// Release wasm budget of the run explorer (`runapp` and `runworker`, gzipped), fetched only
/// when a run is opened: measured at 671 KB (runapp 434 + runworker 236: two runs, live runs,
/// verl logs, images), plus about 1%.
const RUN_WASM_BUDGET_GZ: u64 = 680 * 1024;

/// The two wasm apps in dist/: the timeline (page + parsing worker) and the run explorer
/// (`runapp_bg.wasm` + `runworker_bg.wasm`, loaded lazily), each with its budget.
pub const APPS: [(&str, u64); 2] = [
    ("timeline (page + worker)", WASM_BUDGET_GZ),
    ("run explorer (runapp + runworker)", RUN_WASM_BUDGET_GZ),
];

/// Which of [`APPS`] a `.wasm` file of dist/ belongs to (its index).
pub fn app_of(file: &str) -> usize {
    usize::from(file.starts_with("runapp") || file.starts_with("runworker"))
}

pub fn build_dist(root: &Path) -> Result {
    step("building the viewer (trunk build --release, offline)");
    run(cmd("trunk").args(["build", "--release"]).current_dir(root))?;
    pin_inline_scripts(&root.join("dist/index.html"))?;
    let sizes = wasm_sizes(root)?;
    for (name, raw, gz) in &sizes {
        println!("wasm: {name} {} KB ({} KB gzipped)", raw / 1024, gz / 1024);
    }
    let mut over = Vec::new();
    for (i, (app, budget)) in APPS.iter().enumerate() {
        let total: u64 = sizes
            .iter()
            .filter(|s| app_of(&s.0) == i)
            .map(|s| s.2)
            .sum();
        println!(
            "wasm {app}: {} KB gzipped (budget {} KB)",
            total / 1024,
            budget / 1024
        );
        if total > *budget {
            over.push(format!(
                "the {app} release wasm is {} KB gzipped, over its {} KB budget",
                total / 1024,
                budget / 1024
            ));
        }
    }
    if !over.is_empty() {
        return Err(over.join("; "));
    }
    Ok(())
}

/// Each `.wasm` in dist/: (file name, bytes, bytes gzipped with `gzip -9`), by name.
pub fn wasm_sizes(root: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(root.join("dist")).map_err(|e| format!("dist: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "wasm") {
            let out = cmd("gzip")
                .args(["-9", "-c"])
                .arg(&path)
                .output()
                .map_err(|e| format!("gzip: {e}"))?;
            let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            sizes.push((name.into_owned(), raw, out.stdout.len() as u64));
        }
    }
    sizes.sort();
    Ok(sizes)
}

/// Replaces `'unsafe-inline'` in the page's `script-src` with the SHA-256 of each inline
/// script (Trunk's loader), so no other inline script can run.
fn pin_inline_scripts(index: &Path) -> Result {
    use base64::Engine;
    use sha2::Digest;
    let html = std::fs::read_to_string(index).map_err(|e| format!("{}: {e}", index.display()))?;
    let mut hashes = Vec::new();
    let mut rest = html.as_str();
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..]
            .find('>')
            .map(|i| at + i + 1)
            .ok_or("unclosed <script")?;
        let close = rest[tag_end..]
            .find("</script>")
            .map(|i| tag_end + i)
            .ok_or("no </script>")?;
        if !rest[at..tag_end].contains("src=") {
            let digest = sha2::Sha256::digest(&rest.as_bytes()[tag_end..close]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &rest[close..];
    }
    let needle = "script-src 'self' 'unsafe-inline'";
    if !html.contains(needle) {
        return Err(format!("{}: no `{needle}` to pin", index.display()));
    }
    let pinned = html.replace(needle, &format!("script-src 'self' {}", hashes.join(" ")));
    std::fs::write(index, pinned).map_err(|e| format!("{}: {e}", index.display()))?;
    println!("csp: pinned {} inline script(s) by SHA-256", hashes.len());
    Ok(())
}
