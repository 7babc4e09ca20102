//! `verl_read`: the verl step log reader (`trace::run::verl`) on any bytes.

use trace::run::{sample_record, summarize, DumpKind, DumpRef, DumpScan, Scanned};

/// Reads `data` as one verl step pushed in `chunk`-byte pieces.
fn scan(dump: &DumpRef, data: &[u8], chunk: usize, step: bool) -> Result<Scanned, String> {
    let mut s = DumpScan::of(dump, step);
    for c in data.chunks(chunk.max(1)) {
        s.push(c)?;
        if s.is_done() {
            break;
        }
    }
    s.finish()
}

/// A step log read whole and in small chunks gives the same rows and notes (the line cutter
/// holds no state that depends on where chunks end); a step scan has a detail per row and no
/// more rows than the input has lines; the summary and every record are JSON.
pub fn check_verl_read(data: &[u8]) {
    let dump = DumpRef {
        rollout_id: 1,
        kind: DumpKind::Train,
        file: "rollout/1.jsonl".into(),
        train_file: None,
    };
    let chunk = 1 + data.first().map_or(0, |&b| b as usize % 13);
    let whole = scan(&dump, data, data.len(), false);
    let cut = scan(&dump, data, chunk, false);
    match (&whole, &cut) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.rows, b.rows, "rows depend on where chunks end");
            assert_eq!(a.notes, b.notes, "notes depend on where chunks end");
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "errors depend on where chunks end"),
        _ => panic!("whole {:?} vs chunked {:?}", whole.err(), cut.err()),
    }
    let lines = data.split(|&b| b == b'\n').count();
    if let Ok(step) = scan(&dump, data, chunk, true) {
        assert_eq!(step.details.len(), step.rows.len(), "a detail per row");
        assert!(step.rows.len() <= lines, "more rows than lines");
    }
    if let Ok(s) = whole {
        for r in &s.rows {
            serde_json::to_string(&sample_record(&dump, r)).expect("a record is JSON");
        }
        let (sum, _) = summarize(&dump, s, None, false);
        serde_json::to_string(&sum).expect("a summary is JSON");
    }
}
