//! `rollscope DIR`: a run folder served read-only — its index and exactly its files, under a
//! per-run token, with the Host check and security headers of every route. Real binary, raw
//! HTTP (a URL library would normalise away the traversal attempts).

mod common;

use std::path::PathBuf;

use common::{raw, raw_host, start};

fn run_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run")
}

#[test]
fn a_run_folder_is_served_by_its_index_and_nothing_else() {
    let dir = run_dir();
    let srv = start(&[dir.to_str().expect("utf-8 path")]);
    // http://ADDR/?run=r/<token>/index.json
    let index_path = srv
        .url
        .split("?run=")
        .nth(1)
        .map(|p| format!("/{p}"))
        .unwrap_or_else(|| panic!("no ?run= in {}", srv.url));
    assert!(
        index_path.starts_with("/r/") && index_path.ends_with("/index.json"),
        "{index_path}"
    );
    let prefix = index_path.trim_end_matches("index.json").to_string();

    let r = raw(&srv.addr, "GET", &index_path, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    let index: serde_json::Value = serde_json::from_slice(&r.body).expect("index JSON");
    assert_eq!(index["name"], "run");
    let files: Vec<&str> = index["files"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default();
    for want in [
        "rollout_data/0.pt",
        "rollout_data/eval_5.pt",
        "train_data/4.pt",
        "tokenizer/tokenizer.json",
    ] {
        assert!(files.contains(&want), "{want} not in {files:?}");
    }
    // A listed file, byte for byte; its size as the index says.
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{prefix}f/rollout_data/3.pt"),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        std::fs::read(dir.join("rollout_data/3.pt")).expect("fixture")
    );
    // Percent-encoded segments name the same file.
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{prefix}f/rollout%5Fdata/3.pt"),
        &[],
    );
    assert_eq!(r.status, 200);

    // Nothing outside the list: traversal, absolute paths, other tokens, the folder itself.
    for path in [
        format!("{prefix}f/../README.md"),
        format!("{prefix}f/rollout_data/../../slime/basic_0.pt"),
        format!("{prefix}f/%2e%2e/%2e%2e/slime/basic_0.pt"),
        format!("{prefix}f/rollout_data%2F..%2F..%2Fslime%2Fbasic_0.pt"),
        format!("{prefix}f//etc/passwd"),
        format!("{prefix}f/rollout_data"),
        format!("{prefix}f/rollout_data/"),
        format!("{prefix}f/rollout_data\\3.pt"),
        "/r/0000000000000000/index.json".to_string(),
        "/r/0000000000000000/f/rollout_data/3.pt".to_string(),
        format!("{prefix}rollout_data/3.pt"),
    ] {
        let r = raw(&srv.addr, "GET", &path, &[]);
        assert_eq!(r.status, 404, "{path}");
    }
    // Another Host (DNS rebinding) gets nothing, not even the index.
    let port = srv.addr.rsplit(':').next().unwrap_or("0");
    let r = raw_host(
        &srv.addr,
        Some(&format!("evil.example:{port}")),
        "GET",
        &index_path,
        &[],
    );
    assert_eq!(r.status, 403);
    let r = raw(&srv.addr, "POST", &index_path, &[]);
    assert_eq!(r.status, 405);
}

/// Odd names (space, `%`, `#`, `?`) are listed and served when percent-encoded; a symlink
/// (here to a file outside the folder) is neither listed nor served.
#[test]
fn odd_names_are_served_and_symlinks_are_not() {
    let tmp = std::env::temp_dir().join(format!("rollscope-serve-odd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let data = tmp.join("rollout_data");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::copy(run_dir().join("rollout_data/0.pt"), data.join("0.pt")).expect("copy");
    let odd = "a b%25#1?.txt";
    std::fs::write(data.join(odd), b"odd").expect("write");
    let outside = tmp.with_extension("secret");
    std::fs::write(&outside, b"secret").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, data.join("1.pt")).expect("symlink");

    let srv = start(&[tmp.to_str().expect("utf-8 path")]);
    let index_path = srv
        .url
        .split("?run=")
        .nth(1)
        .map(|p| format!("/{p}"))
        .unwrap_or_else(|| panic!("no ?run= in {}", srv.url));
    let prefix = index_path.trim_end_matches("index.json").to_string();
    let r = raw(&srv.addr, "GET", &index_path, &[]);
    assert_eq!(r.status, 200);
    let index: serde_json::Value = serde_json::from_slice(&r.body).expect("index JSON");
    let files: Vec<&str> = index["files"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default();
    assert!(files.contains(&"rollout_data/a b%25#1?.txt"), "{files:?}");
    assert!(!files.iter().any(|f| f.contains("1.pt")), "{files:?}");
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{prefix}f/rollout_data/a%20b%2525%231%3F.txt"),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"odd");
    let r = raw(
        &srv.addr,
        "GET",
        &format!("{prefix}f/rollout_data/1.pt"),
        &[],
    );
    assert_eq!(r.status, 404);
    drop(srv);
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_file(&outside);
}
