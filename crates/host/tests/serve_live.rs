//! `rollscope DIR` on a run still being written: the index is listed again on request (with
//! an `ETag`, `304` when unchanged), and a file that appears is served under the same rules
//! as one listed at start (a link that appears is neither listed nor served).

mod common;

use std::path::PathBuf;

use common::{raw, start, Reply};

fn fixture(f: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/run")
        .join(f)
}

fn paths(body: &[u8]) -> Vec<String> {
    let index: serde_json::Value = serde_json::from_slice(body).expect("index JSON");
    index["files"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The index once it names `want`: asked every 1.1 s (the server lists a live run again at
/// most once a second, less often when a listing is slow), for at most 20 s; the last answer.
fn listed_again(addr: &str, index_path: &str, extra: &[(&str, &str)], want: &[&str]) -> Reply {
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let r = raw(addr, "GET", index_path, extra);
        if (r.status == 200 && paths(&r.body) == want)
            || started.elapsed() > std::time::Duration::from_secs(20)
        {
            return r;
        }
    }
}

#[test]
fn a_live_run_folder_is_listed_again_with_a_validator() {
    let dir = common::tmpdir("serve-live");
    std::fs::create_dir_all(dir.join("rollout_data")).unwrap();
    std::fs::copy(fixture("rollout_data/0.pt"), dir.join("rollout_data/0.pt")).unwrap();
    let srv = start(&[dir.to_str().unwrap()]);
    let index_path = format!("/{}", srv.url.split("?run=").nth(1).expect("?run="));
    let prefix = index_path.trim_end_matches("index.json").to_string();

    let r = raw(&srv.addr, "GET", &index_path, &[]);
    assert_eq!(r.status, 200);
    let tag = r.header("etag").expect("an ETag").to_string();
    assert_eq!(paths(&r.body), ["rollout_data/0.pt"]);
    let r = raw(&srv.addr, "GET", &index_path, &[("If-None-Match", &tag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-frame-options"), Some("DENY"));

    // Not listed yet: not served.
    let new = format!("{prefix}f/rollout_data/1.pt");
    std::fs::copy(fixture("rollout_data/1.pt"), dir.join("rollout_data/1.pt")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", dir.join("rollout_data/2.pt")).unwrap();
    let r = listed_again(
        &srv.addr,
        &index_path,
        &[("If-None-Match", &tag)],
        &["rollout_data/0.pt", "rollout_data/1.pt"],
    );
    assert_eq!(r.status, 200);
    assert_ne!(r.header("etag"), Some(tag.as_str()));
    assert_eq!(paths(&r.body), ["rollout_data/0.pt", "rollout_data/1.pt"]);
    let r = raw(&srv.addr, "GET", &new, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, std::fs::read(fixture("rollout_data/1.pt")).unwrap());
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{prefix}f/rollout_data/2.pt"),
        &[],
    );
    assert_eq!(r.status, 404);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_verl_step_folder_that_gains_a_dump_serves_nothing_from_its_parent() {
    // `rollscope out/validation`: a lone verl step folder is listed from its parent
    // (`validation/0.jsonl`). Once a dump lands in it, it is listed from itself, but the
    // index keeps naming files from the first root, and nothing of the parent is served.
    let base = common::tmpdir("serve-live-verl");
    let dir = base.join("validation");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(base.join("secret.txt"), "parent file\n").unwrap();
    std::fs::write(dir.join("0.jsonl"), "{\"score\": 1}\n").unwrap();
    let srv = start(&[dir.to_str().unwrap()]);
    let index_path = format!("/{}", srv.url.split("?run=").nth(1).expect("?run="));
    let prefix = index_path.trim_end_matches("index.json").to_string();
    let r = raw(&srv.addr, "GET", &index_path, &[]);
    assert_eq!(paths(&r.body), ["validation/0.jsonl"]);

    std::fs::write(dir.join("secret.txt"), "x\n").unwrap();
    std::fs::copy(fixture("rollout_data/1.pt"), dir.join("1.pt")).unwrap();
    let want = [
        "validation/0.jsonl",
        "validation/1.pt",
        "validation/secret.txt",
    ];
    let r = listed_again(&srv.addr, &index_path, &[], &want);
    assert_eq!(paths(&r.body), want);
    let r = raw(&srv.addr, "GET", &format!("{prefix}f/secret.txt"), &[]);
    assert_eq!(r.status, 404, "the parent's file is not served");
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{prefix}f/validation/secret.txt"),
        &[],
    );
    assert_eq!((r.status, r.body.as_slice()), (200, &b"x\n"[..]));
    drop(srv);
    let _ = std::fs::remove_dir_all(&base);
}
