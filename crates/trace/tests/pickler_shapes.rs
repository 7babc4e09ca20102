//! Sample lists in the shapes Python's own pickler writes (`tests/fixtures/pickler/python/`,
//! made by `make.py` there) and hand-written opcodes that reach back into a batch
//! (`crafted/`): read as written (protocol ≥ 2, samples handed over one by one while a batch
//! is read) and with the PROTO byte set to 1 (whole batches), the rows, warnings and errors
//! are the same.

use std::path::{Path, PathBuf};

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/pickler")
        .join(sub)
}

/// Everything a load shows, as text: the rows and warnings, or the error.
fn load(bytes: &[u8]) -> String {
    match trace::load(bytes, &trace::LoadOptions::new("x", 0.0)) {
        Ok(loaded) => serde_json::to_string(&loaded.materialize()).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

/// The same bytes read with whole batches only (no hand-over before a batch's APPENDS).
fn whole_batches(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(
        &bytes[..1],
        b"\x80",
        "a pickle of protocol 2 or more starts with PROTO"
    );
    assert!(bytes[1] >= 2);
    let mut b = bytes.to_vec();
    b[1] = 1;
    b
}

fn pickles(sub: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pkl"))
        .map(|p: PathBuf| {
            let name = Path::new(&p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn what_pythons_pickler_writes_reads_the_same_sample_by_sample_and_whole() {
    let files = pickles("python");
    assert!(files.len() >= 60, "{} pickles", files.len());
    let mut rows = 0;
    for (name, bytes) in &files {
        let early = load(bytes);
        let whole = load(&whole_batches(bytes));
        assert!(!early.starts_with("error"), "{name}: {early}");
        rows += early.matches("\"row_id\"").count();
        if name.starts_with("far_") {
            // An object shared with a sample read (and freed) long before: the rows say so.
            assert_ne!(early, whole, "{name}");
            assert!(
                early.contains("read and freed long before"),
                "{name}: {early}"
            );
            continue;
        }
        assert_eq!(
            early, whole,
            "{name}: read sample by sample vs whole batches"
        );
    }
    assert!(rows > 1500, "{rows} rows in all");
}

#[test]
fn more_than_a_batch_of_dict_samples_gives_every_row() {
    let bytes = std::fs::read(dir("python").join("batch_and_a_half_p2.pkl")).unwrap();
    let loaded = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0))
        .unwrap()
        .materialize();
    assert_eq!(loaded.cache.rows.len(), 1500);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn pickles_reaching_back_into_a_batch_read_the_same_or_fail_saying_so() {
    let files = pickles("crafted");
    assert!(files.len() >= 7);
    for (name, bytes) in &files {
        let early = load(bytes);
        let whole = load(&whole_batches(bytes));
        if early != whole {
            assert!(
                early.contains("sample list")
                    || early.contains("read as a sample")
                    || early.contains("read and freed long before"),
                "{name}: differs from whole batches without saying why:\n{early}\nvs\n{whole}"
            );
        }
    }
}
