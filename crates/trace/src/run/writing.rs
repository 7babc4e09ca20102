//! Whether a run's file is still being written (a live run: issue #21), from its first and
//! last bytes, so neither the CLI's `--follow` nor the run explorer reads a dump that
//! `torch.save` has not finished, nor reports one as an error.
//!
//! `torch.save` writes a torch ZIP front to back (`data.pkl`, then each storage) and the
//! central directory with its end record last, when the file is closed. So a file is being
//! written when it is empty (opened, nothing written yet), or when it starts as a ZIP
//! (`PK\x03\x04`) and its last [`TAIL_WINDOW`] bytes hold no end record that ends exactly at
//! the end of the file (its comment length accounts for every byte after it). A JSON Lines
//! file (verl's `{step}.jsonl`: starts with `{`, one object per line, each line ended by a
//! newline) is being written while its last line is not finished: it does not end with a
//! newline and that line is no whole JSON value. A legacy torch file or a bare pickle has no
//! such end mark; it is taken as it is.

/// Bytes at the end of a file that hold a ZIP's end record: the record (22 bytes) and the
/// longest comment it may carry.
pub const TAIL_WINDOW: u64 = 22 + 0xFFFF;

/// Bytes at the start of a file that tell a ZIP.
pub const HEAD_WINDOW: u64 = 4;

const LOCAL_HEADER: &[u8; 4] = b"PK\x03\x04";
const END_RECORD: &[u8; 4] = b"PK\x05\x06";

/// Why a file of `len` bytes, whose first bytes are `head` and last bytes `tail` (at most
/// [`TAIL_WINDOW`] of each, fewer for a short file), is still being written; `None` when it
/// looks complete.
pub fn being_written(head: &[u8], tail: &[u8], len: u64) -> Option<&'static str> {
    if len == 0 {
        return Some("empty: being written");
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if text.first() == Some(&b'{') {
        return unfinished_line(tail);
    }
    if head.len() < LOCAL_HEADER.len() && LOCAL_HEADER.starts_with(head) {
        return Some("the start of a torch ZIP: being written");
    }
    if !head.starts_with(LOCAL_HEADER) {
        return None;
    }
    if has_end_record(tail) {
        None
    } else {
        Some("a torch ZIP without its central directory yet: being written")
    }
}

/// Why a JSON Lines file whose last bytes are `tail` is being written: its last line is cut
/// (no newline after it, and not a whole JSON value). A last line longer than `tail` that
/// ends with `}` is taken as finished.
fn unfinished_line(tail: &[u8]) -> Option<&'static str> {
    if tail.ends_with(b"\n") {
        return None;
    }
    let (last, whole) = match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => (&tail[i + 1..], true),
        None => (tail, false),
    };
    let finished = serde_json::from_slice::<serde::de::IgnoredAny>(last).is_ok()
        || (!whole && last.trim_ascii_end().ends_with(b"}"));
    (!finished).then_some("a JSON Lines file whose last line is not finished: being written")
}

/// Whether `tail` (a file's last bytes) ends with a ZIP end record and its comment.
fn has_end_record(tail: &[u8]) -> bool {
    let mut end = tail.len();
    while let Some(at) = tail[..end].windows(4).rposition(|w| w == END_RECORD) {
        let comment = tail
            .get(at + 20..at + 22)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])));
        if comment.is_some_and(|c| at + 22 + c == tail.len()) {
            return true;
        }
        end = at + 3;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Option<&'static str> {
        let n = bytes.len();
        let tail = &bytes[n.saturating_sub(TAIL_WINDOW as usize)..];
        being_written(&bytes[..n.min(4)], tail, n as u64)
    }

    #[test]
    fn a_torch_zip_cut_anywhere_is_being_written_and_whole_it_is_not() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run");
        for f in [
            "rollout_data/0.pt",
            "rollout_data/eval_5.pt",
            "train_data/3.pt",
        ] {
            let bytes = std::fs::read(dir.join(f)).unwrap();
            assert!(bytes.starts_with(LOCAL_HEADER), "{f}");
            assert_eq!(check(&bytes), None, "{f}");
            for cut in [
                0,
                1,
                4,
                100,
                bytes.len() / 2,
                bytes.len() - 23,
                bytes.len() - 1,
            ] {
                assert!(check(&bytes[..cut]).is_some(), "{f} cut at {cut}");
            }
        }
    }

    #[test]
    fn an_end_record_inside_the_data_does_not_count() {
        // "PK\x05\x06" inside a stored entry, not at the end: still being written.
        let mut b = LOCAL_HEADER.to_vec();
        b.extend_from_slice(b"data PK\x05\x06 and more data after it, no real end record");
        assert!(check(&b).is_some());
        // A real end record with a comment: complete.
        b.extend_from_slice(END_RECORD);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&3u16.to_le_bytes());
        b.extend_from_slice(b"abc");
        assert_eq!(check(&b), None);
    }

    #[test]
    fn other_files_are_taken_as_they_are() {
        assert_eq!(check(b"\x80\x02}q\x00."), None);
        assert!(check(b"").is_some());
    }

    #[test]
    fn a_json_lines_file_is_being_written_until_its_last_line_is_whole() {
        let lines = b"{\"input\": \"a\", \"score\": 1.0}\n{\"input\": \"b\", \"score\": 0.0}\n";
        assert_eq!(check(lines), None);
        for cut in 1..lines.len() {
            let part = &lines[..cut];
            let at_line_end = part.ends_with(b"\n") || part.ends_with(b"}");
            assert_eq!(
                check(part).is_none(),
                at_line_end,
                "{:?}",
                String::from_utf8_lossy(part)
            );
        }
        // A finished last line without its newline, and a BOM before the first.
        assert_eq!(check(b"{\"not\": \"a zip\"}"), None);
        assert!(check(b"\xEF\xBB\xBF{\"input\": \"a").is_some());
        // The last line alone decides, whatever the lines before it hold.
        assert!(check(b"{\"a\": 1}\n{\"b\": [1, 2").is_some());
    }
}
