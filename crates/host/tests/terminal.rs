//! Text from a dump never reaches the terminal raw: the real binary on a dump whose status,
//! sample index, span names, attribute values, class names and even file name carry ESC
//! sequences, CR, BEL, C1, bidi controls, U+2028/U+2029, U+FEFF and a tag character. Every
//! byte it writes must be printable (or a line break), and the hostile text must still be
//! there, escaped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use picklegen::Pickle;

mod common;

const ESC_STATUS: &str = "\u{1b}[31mFAILED\r\u{e0041}";
const ESC_INDEX: &str = "\u{1b}]0;pwned\u{7}";
const ESC_SPAN: &str = "\u{1b}[2Jspan\u{202e}kcab\u{2028}";
const ESC_REASON: &str = "stop\u{9b}2J\u{7f}\u{feff}";
const ESC_MODULE: &str = "evil\u{1b}[5m";
const ESC_CLASS: &str = "Thing\r\u{2066}\u{2029}";

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rollscope-term-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `{"type": …, "name": …, "ts": …, "span_id": "a", "attrs": {…}}`.
fn event(p: &mut Pickle, ty: &str, name: &str, ts: f64, id: &str, reason: Option<&str>) {
    p.str_dict([
        (
            "type",
            Box::new(move |p: &mut Pickle| {
                p.str(ty);
            }) as Box<dyn FnOnce(&mut Pickle)>,
        ),
        (
            "name",
            Box::new(move |p: &mut Pickle| {
                p.str(name);
            }),
        ),
        (
            "ts",
            Box::new(move |p: &mut Pickle| {
                p.float(ts);
            }),
        ),
        (
            "span_id",
            Box::new(move |p: &mut Pickle| {
                p.str(id);
            }),
        ),
        (
            "attrs",
            Box::new(move |p: &mut Pickle| match reason {
                Some(r) => {
                    p.str_dict([(
                        "finish_reason",
                        Box::new(move |p: &mut Pickle| {
                            p.str(r);
                        }) as Box<dyn FnOnce(&mut Pickle)>,
                    )]);
                }
                None => {
                    p.empty_dict();
                }
            }),
        ),
    ]);
}

/// Two samples with hostile text everywhere, and a third whose trace is an object of a
/// hostile class (a warning names it).
fn hostile_dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.str_dict([
        (
            "rollout_id",
            Box::new(|p: &mut Pickle| {
                p.int(0);
            }) as Box<dyn FnOnce(&mut Pickle)>,
        ),
        (
            "samples",
            Box::new(|p: &mut Pickle| {
                p.list_of(3, |p, i| {
                    if i == 2 {
                        p.str_dict([
                            (
                                "index",
                                Box::new(|p: &mut Pickle| {
                                    p.int(2);
                                }) as Box<dyn FnOnce(&mut Pickle)>,
                            ),
                            (
                                "trace",
                                Box::new(|p: &mut Pickle| {
                                    p.stack_global(ESC_MODULE, ESC_CLASS).empty_tuple().newobj();
                                }),
                            ),
                        ]);
                        return;
                    }
                    let t0 = 100.0 + i as f64;
                    p.str_dict([
                        (
                            "index",
                            Box::new(move |p: &mut Pickle| {
                                p.str(&format!("{ESC_INDEX}{i}"));
                            }) as Box<dyn FnOnce(&mut Pickle)>,
                        ),
                        (
                            "group_index",
                            Box::new(|p: &mut Pickle| {
                                p.int(0);
                            }),
                        ),
                        (
                            "status",
                            Box::new(|p: &mut Pickle| {
                                p.str(ESC_STATUS);
                            }),
                        ),
                        (
                            "trace",
                            Box::new(move |p: &mut Pickle| {
                                p.str_dict([(
                                    "events",
                                    Box::new(move |p: &mut Pickle| {
                                        p.empty_list().mark();
                                        event(p, "span_start", ESC_SPAN, t0, "a", None);
                                        event(
                                            p,
                                            "span_start",
                                            "sglang_generate",
                                            t0 + 0.1,
                                            "b",
                                            None,
                                        );
                                        event(
                                            p,
                                            "span_end",
                                            "sglang_generate",
                                            t0 + 0.5,
                                            "b",
                                            Some(ESC_REASON),
                                        );
                                        event(p, "span_end", ESC_SPAN, t0 + 1.0, "a", None);
                                        p.appends();
                                    })
                                        as Box<dyn FnOnce(&mut Pickle)>,
                                )]);
                            }),
                        ),
                    ]);
                });
            }),
        ),
    ]);
    picklegen::torch_zip("rollout_0", &p.stop())
}

/// A dump whose `samples` is an object of a hostile class: a one-line error names it.
fn hostile_error_dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.str_dict([(
        "samples",
        Box::new(|p: &mut Pickle| {
            p.stack_global(ESC_MODULE, ESC_CLASS).empty_tuple().newobj();
        }) as Box<dyn FnOnce(&mut Pickle)>,
    )]);
    picklegen::torch_zip("rollout_0", &p.stop())
}

/// The first byte sequence a terminal could act on: C0 other than `\n`, DEL, C1 (as UTF-8
/// or as a lone byte), or a bidi control.
fn first_unsafe(bytes: &[u8]) -> Option<(usize, String)> {
    let text = String::from_utf8_lossy(bytes);
    text.char_indices()
        .find(|&(_, c)| c != '\n' && host::term::is_unsafe(c))
        .map(|(at, c)| (at, format!("{c:?}")))
}

fn run(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

fn assert_clean(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some((at, c)) = first_unsafe(bytes) {
            panic!(
                "{what}: raw {c} in {stream} at byte {at}: {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

#[test]
fn nothing_from_a_dump_reaches_the_terminal_raw() {
    let dir = tmpdir("ok");
    // The file name is hostile too: it is printed in every warning and in the table.
    let file = dir.join("rollout\u{1b}[8m_0.pt");
    std::fs::write(&file, hostile_dump()).unwrap();

    let cache = run(&["cache", "-o", "-"], &file);
    assert_clean("cache -o -", &cache);
    assert!(
        cache.status.success(),
        "{}",
        String::from_utf8_lossy(&cache.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&cache.stdout).unwrap();
    assert_eq!(
        json["rows"][0]["status"], ESC_STATUS,
        "same value, escaped bytes"
    );
    let err = String::from_utf8_lossy(&cache.stderr);
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning: ") && l.contains("sample 2"))
        .unwrap_or_else(|| panic!("no warning for sample 2: {err}"));
    assert!(warning.contains("rollout\\u{1b}[8m_0.pt"), "{warning}");
    assert!(
        warning.contains("evil\\u{1b}[5m"),
        "the class is named, escaped: {warning}"
    );
    assert!(
        warning.contains("Thing\\u{d}\\u{2066}\\u{2029}"),
        "{warning}"
    );

    let stats = run(&["stats"], &file);
    assert_clean("stats", &stats);
    assert!(stats.status.success());
    let table = String::from_utf8_lossy(&stats.stdout);
    for escaped in [
        "\\u{1b}[31mFAILED\\u{d}\\u{e0041}",
        "\\u{1b}[2Jspan\\u{202e}kcab\\u{2028}",
        "stop\\u{9b}2J\\u{7f}\\u{feff}",
        "rollout\\u{1b}[8m_0.pt",
    ] {
        assert!(
            table.contains(escaped),
            "{escaped} not in the table:\n{table}"
        );
    }

    let stats_json = run(&["stats", "--json"], &file);
    assert_clean("stats --json", &stats_json);
    serde_json::from_slice::<serde_json::Value>(&stats_json.stdout).unwrap();

    for format in ["chrome", "otlp"] {
        let out = run(&["export", "--format", format], &file);
        assert_clean(&format!("export --format {format}"), &out);
        assert!(out.status.success());
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
    }
    // `html` writes where it is told and prints where (or fails when the viewer is not built
    // in, which fails the test where the viewer is required): either way, one clean line on
    // stderr.
    let report = dir.join("r.html");
    let html = run(&["html", "-o", report.to_str().unwrap()], &file);
    assert_clean("html", &html);
    assert_eq!(html.status.success(), common::viewer_built(), "{html:?}");
    assert_eq!(report.exists(), common::viewer_built());
}

#[test]
fn errors_naming_hostile_classes_are_escaped() {
    let dir = tmpdir("err");
    let file = dir.join("bad\r.pt");
    std::fs::write(&file, hostile_error_dump()).unwrap();
    for args in [
        &["cache", "-o", "-"][..],
        &["stats"],
        &["export", "--format", "chrome"],
    ] {
        let out = run(args, &file);
        assert_clean(&format!("{args:?}"), &out);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("bad\\u{d}.pt"), "{err}");
        assert!(err.contains("evil\\u{1b}[5m"), "{err}");
    }
}

/// `rollscope run` on a folder whose names and notes carry escapes: a dump named without an
/// id (a note naming it), a hostile dump (its flags and errors), an unreadable dump whose
/// error names a hostile class, and a symlink and a FIFO with escapes in their names (the
/// note on what was skipped). Table and `--json` alike: nothing raw, the text still there.
#[cfg(unix)]
#[test]
fn a_runs_names_and_notes_are_escaped() {
    let dir = tmpdir("run");
    let data = dir.join("rollout_data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("0.pt"), hostile_dump()).unwrap();
    std::fs::write(data.join("1.pt"), hostile_error_dump()).unwrap();
    std::fs::write(data.join("evil\u{1b}]x\u{7}.pt"), hostile_dump()).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", data.join("link\u{1b}[2J.pt")).unwrap();
    let fifo = data.join("fifo\u{9b}1m.pt");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

    let table = run(&["run"], &dir);
    assert_clean("run", &table);
    assert!(table.status.success(), "{table:?}");
    let text = String::from_utf8_lossy(&table.stdout);
    for escaped in [
        // The unnamed dump's note, with its name escaped.
        "rollout_data/evil\\u{1b}]x\\u{7}.pt: no rollout id in the name",
        // The skipped entries, quoted by the listing (so escaped even in JSON).
        "2 entries skipped",
        "\"rollout_data/fifo\\u{9b}1m.pt\"",
        "\"rollout_data/link\\u{1b}[2J.pt\"",
        // The unreadable dump's error names the class, escaped.
        "evil\\u{1b}[5m",
    ] {
        assert!(text.contains(escaped), "{escaped} not in:\n{text}");
    }

    let json = run(&["run", "--json"], &dir);
    assert_clean("run --json", &json);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let notes = doc["notes"].to_string();
    assert!(notes.contains("2 entries skipped"), "{notes}");
    assert_eq!(doc["rollouts"].as_array().map(Vec::len), Some(3), "{doc}");
    std::fs::remove_dir_all(&dir).unwrap();
}
