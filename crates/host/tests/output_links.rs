//! No output is written through a link planted at its name (issue 24, item 1): `cache`,
//! `html`, `DUMP --no-serve` (their default names beside the dump) and every `-o`, run on the
//! real binary. A symlink at the target (to a file outside the folder, or dangling) is
//! refused with an error naming the path; the linked file is unchanged, nothing is created,
//! and no temporary file is left behind.
#![cfg(unix)]

mod common;

use std::process::{Command, Output};

use common::{entries, tmpdir};

fn rollscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `args` (with `{dump}` and `{link}` filled in) against a fresh folder holding a dump
/// and a link at `link_name` pointing outside; checks the refusal and that nothing moved.
/// `needs_viewer`: the command fails earlier, without naming the link, in a binary built
/// without the viewer (the outside file must still be untouched).
fn refused_through_link(tag: &str, link_name: &str, args: &[&str], needs_viewer: bool) {
    let dir = tmpdir(&format!("links-{tag}"));
    let dump = dir.join("basic_0.pt");
    std::fs::copy(common::fixture("basic_0.pt"), &dump).unwrap();
    let outside = dir.with_extension("bashrc");
    std::fs::write(&outside, b"# keep me\n").unwrap();
    let link = dir.join(link_name);
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("{dump}", dump.to_str().unwrap())
                .replace("{link}", link.to_str().unwrap())
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rollscope(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{args:?} wrote through the link: {err}"
    );
    if !needs_viewer || common::viewer_built() {
        assert!(
            err.contains(link.to_str().unwrap()) && err.contains("symbolic link"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"# keep me\n", "{args:?}");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let mut want = vec!["basic_0.pt".to_string(), link_name.to_string()];
    want.sort();
    assert_eq!(entries(&dir), want, "{args:?}: only the dump and the link");

    // The same link left dangling: its target is not created either.
    std::fs::remove_file(&outside).unwrap();
    let out = rollscope(&args);
    assert!(!out.status.success());
    assert!(
        !outside.exists(),
        "{args:?} created a dangling link's target"
    );
    assert_eq!(entries(&dir), want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cache_default_name_refuses_a_link() {
    let name = "basic_0.trace_timeline_cache.json";
    refused_through_link("cache", name, &["cache", "{dump}"], false);
}

#[test]
fn cache_dash_o_refuses_a_link() {
    refused_through_link(
        "cache-o",
        "out.json",
        &["cache", "{dump}", "-o", "{link}"],
        false,
    );
}

#[test]
fn export_dash_o_refuses_a_link() {
    for format in ["chrome", "otlp"] {
        refused_through_link(
            &format!("export-{format}"),
            "out.json",
            &["export", "{dump}", "--format", format, "-o", "{link}"],
            false,
        );
    }
}

#[test]
fn html_default_name_and_dash_o_refuse_a_link() {
    let name = "basic_0.trace_timeline_viewer.html";
    refused_through_link("html", name, &["html", "{dump}"], true);
    refused_through_link(
        "html-o",
        "r.html",
        &["html", "{dump}", "-o", "{link}"],
        true,
    );
    refused_through_link("no-serve", name, &["{dump}", "--no-serve"], true);
}

/// A FIFO at the output name is refused at once (no open, so no hang); a regular file there
/// is replaced as before.
#[test]
fn a_fifo_is_refused_and_a_regular_file_replaced() {
    let dir = tmpdir("links-fifo");
    let dump = dir.join("basic_0.pt");
    std::fs::copy(common::fixture("basic_0.pt"), &dump).unwrap();
    let out_path = dir.join("basic_0.trace_timeline_cache.json");
    let c = std::ffi::CString::new(out_path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = rollscope(&["cache", dump.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("a FIFO"), "{err}");
    std::fs::remove_file(&out_path).unwrap();
    std::fs::write(&out_path, b"old").unwrap();
    let out = rollscope(&["cache", dump.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(text.starts_with('{'), "{text:.40}");
    assert_eq!(
        entries(&dir),
        ["basic_0.pt", "basic_0.trace_timeline_cache.json"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The output is never the input: `-o` naming the dump (or a hard link to it) is refused
/// before anything is read or written, and the dump is unchanged.
#[test]
fn the_input_is_never_the_output() {
    let dir = tmpdir("links-input");
    let dump = dir.join("basic_0.pt");
    std::fs::copy(common::fixture("basic_0.pt"), &dump).unwrap();
    let bytes = std::fs::read(&dump).unwrap();
    let hard = dir.join("hard.json");
    std::fs::hard_link(&dump, &hard).unwrap();
    let d = dump.to_str().unwrap();
    for out in [d, hard.to_str().unwrap()] {
        for args in [
            vec!["cache", d, "-o", out],
            vec!["export", d, "--format", "otlp", "-o", out],
            vec!["html", d, "-o", out],
        ] {
            let run = rollscope(&args);
            let err = String::from_utf8_lossy(&run.stderr);
            assert!(
                !run.status.success() && err.contains("refusing to write over the input"),
                "{args:?}: {err}"
            );
            assert_eq!(std::fs::read(&dump).unwrap(), bytes, "{args:?}");
        }
    }
    assert_eq!(entries(&dir), ["basic_0.pt", "hard.json"]);
    // Another file is written as before.
    let other = dir.join("other.json");
    let run = rollscope(&["cache", d, "-o", other.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
