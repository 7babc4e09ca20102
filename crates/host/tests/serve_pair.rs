//! `rollscope A B`: two run folders served side by side, each under its own token, and the
//! page opened with both (`?run=<A>&run=<B>`).

mod common;

use std::path::PathBuf;

use common::{raw, start};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

#[test]
fn two_run_folders_are_served_each_under_its_own_index() {
    let (a, b) = (fixture("run"), fixture("run_replay"));
    let srv = start(&[a.to_str().expect("utf-8"), b.to_str().expect("utf-8")]);
    let indexes: Vec<String> = srv
        .url
        .split("run=")
        .skip(1)
        .map(|p| format!("/{}", p.trim_end_matches('&')))
        .collect();
    assert_eq!(indexes.len(), 2, "{}", srv.url);
    assert_ne!(indexes[0], indexes[1]);
    for (index, dir, name) in [(&indexes[0], &a, "run"), (&indexes[1], &b, "run_replay")] {
        let r = raw(&srv.addr, "GET", index, &[]);
        assert_eq!(r.status, 200, "{index}");
        let doc: serde_json::Value = serde_json::from_slice(&r.body).expect("index JSON");
        assert_eq!(doc["name"], name);
        let prefix = index.trim_end_matches("index.json");
        let r = raw(&srv.addr, "GET", &format!("{prefix}f/train_data/1.pt"), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            std::fs::read(dir.join("train_data/1.pt")).expect("fixture")
        );
    }
    // B's files are not under A's token.
    let a_prefix = indexes[0].trim_end_matches("index.json");
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{a_prefix}f/rollout_data/eval_5.pt"),
        &[],
    );
    assert_eq!(r.status, 200);
    let b_prefix = indexes[1].trim_end_matches("index.json");
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{b_prefix}f/rollout_data/eval_5.pt"),
        &[],
    );
    assert_eq!(r.status, 404);
}
