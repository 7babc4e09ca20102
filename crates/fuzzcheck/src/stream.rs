//! Stream = whole read: the streaming readers fed in chunks must give exactly what the
//! whole-buffer readers give: the same value, or an error on both (issue #12, class 5; the
//! messages may differ, as where each reader notices a broken file may).

use trace::interop::Series;
use trace::Materialized;

use crate::built::{self, same_text};
use crate::tree;

/// Splits a fuzz input into chunk sizes and the file: byte 0 modulo 16 is how many size bytes
/// follow; each gives one chunk size ([`chunk_size`]), used in turn and cycled. No size bytes
/// means the whole file in one push.
pub fn split_input(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let n = usize::from(n % 16).min(rest.len());
    let sizes = rest[..n].iter().map(|&b| chunk_size(b)).collect();
    (sizes, &rest[n..])
}

/// A size byte: 0–239 is 1–240 bytes (chunk edges inside opcodes and headers), 240–255 is
/// 1–16 × 4 KiB (a browser's stream chunks).
pub fn chunk_size(b: u8) -> usize {
    if b < 0xF0 {
        usize::from(b) + 1
    } else {
        usize::from(b - 0xEF) * 4096
    }
}

/// The [`split_input`] prefix for these chunk sizes, if each has a size byte (at most 15).
pub fn size_bytes(sizes: &[usize]) -> Option<Vec<u8>> {
    if sizes.len() > 15 {
        return None;
    }
    let mut out = vec![sizes.len() as u8];
    for &s in sizes {
        out.push((0..=255u8).find(|&b| chunk_size(b) == s)?);
    }
    Some(out)
}

/// `file` cut into chunks of `sizes` (cycled); the whole file as one chunk if `sizes` is empty
/// or all zero. An empty file gives no chunk at all, as an empty browser stream does.
pub fn chunks<'a>(file: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = file;
    let mut i = 0;
    while !rest.is_empty() {
        let size = match sizes.get(i % sizes.len().max(1)) {
            Some(&s) if s > 0 => s,
            _ => rest.len(),
        };
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

/// What reading a file gave, in a form two readers' results can be compared by.
enum Outcome {
    Materialized(Box<Materialized>),
    Series(Vec<Series>),
    Error(String),
}

impl Outcome {
    fn of(content: Result<trace::Content, trace::Error>) -> Outcome {
        match content {
            Ok(trace::Content::Series(series)) => Outcome::Series(series),
            Ok(trace::Content::Rows(loaded)) => {
                Outcome::Materialized(Box::new(loaded.materialize()))
            }
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Materialized(b) => format!("{b:?}"),
            Outcome::Series(s) => format!("series {s:?}"),
            Outcome::Error(e) => format!("error: {e}"),
        }
    }
}

/// `trace::Loader` fed `chunks(file, sizes)` (stopping once it says it is done, as the
/// worker does) vs `trace::load` on the whole file (which reads a dump with `pt`'s
/// whole-buffer reader; Prometheus data, which `load` refuses, read as the loader reads it).
/// The whole read's result also gets the checks of a load.
pub fn check_trace_stream(file: &[u8], sizes: &[usize]) {
    let options = trace::LoadOptions::new("fuzz.pt", 0.0);
    let whole = Outcome::of(match trace::sniff::kind(file) {
        trace::sniff::Kind::Prometheus => {
            trace::interop::parse_prometheus(file).map(trace::Content::Series)
        }
        _ => trace::load(file, &options).map(|l| trace::Content::Rows(Box::new(l))),
    });
    let mut loader = trace::Loader::new(options);
    let mut failed = None;
    for chunk in chunks(file, sizes) {
        if loader.is_done() {
            break;
        }
        if let Err(e) = loader.push(chunk) {
            failed = Some(e);
            break;
        }
    }
    let streamed = match failed {
        Some(e) => Outcome::Error(e.to_string()),
        None => Outcome::of(loader.finish_content()),
    };
    // The whole read's own checks first: while a known stream/whole difference is unfixed, a
    // broken invariant of the output (the more serious finding) still shows.
    match &whole {
        Outcome::Materialized(b) => built::check_built(b, file.len(), built::origin_of(file)),
        Outcome::Series(s) => built::check_series(s, file.len()),
        Outcome::Error(_) => {}
    }
    compare("trace::Loader", &whole, &streamed, sizes);
}

/// `pt::StreamReader` vs `pt::read`, under [`tree::FUZZ_LIMITS`]: the same format and value
/// (compared in [`tree::canonical`] form), or the same error.
pub fn check_pt_stream(file: &[u8], sizes: &[usize]) {
    let limits = tree::FUZZ_LIMITS;
    // Errors on both sides agree whatever their messages (see `compare`).
    let describe = |r: Result<pt::Dump, pt::Error>| match r {
        Ok(dump) => {
            tree::check_tree_bounded(&dump.tree, &limits);
            format!("{:?}\n{}", dump.format, tree::canonical(&dump.tree))
        }
        Err(e) => format!("error: {e}"),
    };
    let whole = describe(pt::read(file, &limits));
    let mut reader = pt::StreamReader::new(&limits);
    let mut failed = None;
    for chunk in chunks(file, sizes) {
        if reader.is_done() {
            break;
        }
        if let Err(e) = reader.push(chunk) {
            failed = Some(e);
            break;
        }
    }
    let streamed = match failed {
        Some(e) => format!("error: {e}"),
        None => describe(reader.finish()),
    };
    if whole != streamed && !(whole.starts_with("error: ") && streamed.starts_with("error: ")) {
        same_text(
            &whole,
            &streamed,
            &format!("pt::StreamReader (chunks {sizes:?}) and pt::read disagree"),
        );
    }
}

fn compare(what: &str, whole: &Outcome, streamed: &Outcome, sizes: &[usize]) {
    if let (Outcome::Error(_), Outcome::Error(_)) = (whole, streamed) {
        // An error on both is agreement (issue #12: "the same rows or an error on both"):
        // a truncated ZIP fails on its missing central directory when read whole but on the
        // first bad opcode when streamed, and either message is true.
        return;
    }
    let (a, b) = (whole.describe(), streamed.describe());
    same_text(
        &a,
        &b,
        &format!("{what} (chunks {sizes:?}) and the whole-buffer read disagree"),
    );
}
