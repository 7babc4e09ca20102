//! What the page decodes: every fixture and every hostile catalog case gives `Materialized` JSON that
//! is strict JSON and that `serde_json::from_str::<trace::Materialized>` reads back equal (the same
//! JSON when written again), non-finite numbers included (see `trace::model::jf64`).

#[path = "support/inputs.rs"]
mod inputs;

fn inputs() -> Vec<(String, Vec<u8>)> {
    inputs::fixtures_and_catalog(usize::MAX)
}

#[test]
fn every_built_reads_back_equal() {
    let mut read_back = 0;
    for (name, bytes) in inputs() {
        let Ok(built) =
            trace::load(&bytes, &trace::LoadOptions::new("x", 0.0)).map(trace::Loaded::materialize)
        else {
            continue; // refused files have nothing to decode
        };
        let text = serde_json::to_string(&built).unwrap();
        let strict: Result<serde_json::Value, _> = serde_json::from_str(&text);
        assert!(strict.is_ok(), "{name}: not strict JSON");
        let back: trace::Materialized = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name}: the page could not decode it: {e}"));
        assert_eq!(serde_json::to_string(&back).unwrap(), text, "{name}");
        read_back += 1;
    }
    assert!(read_back >= 20, "{read_back}");
}

/// This crate's catalog cases (`trace_*`, `cache_*`, `otlp_*`) give what they promise `rollscope cache`
/// gives: the error text, or the rows and the warning. Bound: each < 20 s in a debug build
/// (the largest, 50 000 rows from one shared sample, takes a few seconds).
#[test]
fn trace_catalog_cases_give_what_they_expect() {
    use picklegen::hostile::Expect;
    let mut checked = 0;
    for case in picklegen::hostile::catalog() {
        if !["trace_", "cache_", "otlp_"]
            .iter()
            .any(|p| case.file.starts_with(p))
        {
            continue;
        }
        assert!(
            case.bytes.len() < 2 << 20,
            "{}: {} bytes",
            case.file,
            case.bytes.len()
        );
        let t = std::time::Instant::now();
        let got = trace::load(&case.bytes, &trace::LoadOptions::new(case.file, 0.0))
            .map(trace::Loaded::materialize);
        assert!(
            t.elapsed().as_secs() < 20,
            "{}: {:?}",
            case.file,
            t.elapsed()
        );
        match (&case.expect, got) {
            (Expect::Error(text), Err(e)) => {
                assert!(e.to_string().contains(text), "{}: {e}", case.file)
            }
            (Expect::Rows { rows, warning }, Ok(b)) => {
                assert_eq!(b.cache.rows.len(), *rows, "{}", case.file);
                let w: Vec<String> = b.warnings.iter().map(|w| w.to_string()).collect();
                assert!(
                    warning.is_empty() || w.iter().any(|x| x.contains(warning)),
                    "{}: {w:#?}",
                    case.file
                );
            }
            (want, Ok(b)) => panic!(
                "{}: wanted {want:?}, got {} rows",
                case.file,
                b.cache.rows.len()
            ),
            (want, Err(e)) => panic!("{}: wanted {want:?}, got error {e}", case.file),
        }
        checked += 1;
    }
    assert_eq!(checked, 24);
}
