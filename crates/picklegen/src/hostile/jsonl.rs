//! Hostile verl step logs (`{step}.jsonl`, read by `trace::run::verl`): each case is one step
//! file of a run whose other steps are good, and what reading it must give. A case of 2 GB is
//! described, not held: [`JsonlBody::Long`] writes its run of bytes as it goes (or as a hole
//! of a sparse file, [`JsonlCase::write_file`]).

use std::io::{Seek, SeekFrom, Write};

/// A good line as verl writes it, for `step`.
pub fn good_line(step: i64, score: f64) -> String {
    format!(
        "{{\"input\": \"Question {step}?\", \"output\": \"#### {score}\", \"gts\": \"1\", \
         \"score\": {score:?}, \"step\": {step}, \"acc\": {}, \"uid\": \"u{step}\"}}\n",
        score == 1.0
    )
}

/// A case's bytes.
#[derive(Debug, Clone)]
pub enum JsonlBody {
    Bytes(Vec<u8>),
    /// `head`, then `fill` zero bytes (a sparse file's hole on disk), then `tail`.
    Long {
        head: Vec<u8>,
        fill: u64,
        tail: Vec<u8>,
    },
    /// `head`, then `unit` `times` over, then `tail` (written as it goes).
    Repeat {
        head: Vec<u8>,
        unit: Vec<u8>,
        times: u64,
        tail: Vec<u8>,
    },
}

/// What reading the case must give: `Rows` lines read as samples and a note containing
/// `note`, or an error containing the text (the run's other steps read all the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonlExpect {
    Rows { rows: usize, note: &'static str },
    Error(&'static str),
}

/// One hostile step file.
#[derive(Debug, Clone)]
pub struct JsonlCase {
    /// A name for reports (the file is written as `{step}.jsonl` in a run folder).
    pub name: &'static str,
    pub what: &'static str,
    pub body: JsonlBody,
    pub expect: JsonlExpect,
    /// Whether a browser test can hand it over (not the 2 GB line).
    pub browser: bool,
}

impl JsonlCase {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match &self.body {
            JsonlBody::Bytes(b) => b.len() as u64,
            JsonlBody::Long { head, fill, tail } => (head.len() + tail.len()) as u64 + fill,
            JsonlBody::Repeat {
                head,
                unit,
                times,
                tail,
            } => (head.len() + tail.len()) as u64 + unit.len() as u64 * times,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands its bytes to `f` in chunks of at most 1 MiB (never the whole case at once).
    pub fn chunks(&self, f: &mut dyn FnMut(&[u8])) {
        match &self.body {
            JsonlBody::Bytes(b) => b.chunks(1 << 20).for_each(f),
            JsonlBody::Long { head, fill, tail } => {
                f(head);
                let zeros = vec![0u8; 1 << 20];
                let mut left = *fill;
                while left > 0 {
                    let n = left.min(zeros.len() as u64) as usize;
                    f(&zeros[..n]);
                    left -= n as u64;
                }
                f(tail);
            }
            JsonlBody::Repeat { head, tail, .. } => {
                f(head);
                self.repeated(&mut |b| {
                    f(b);
                    Ok(())
                })
                .unwrap_or(());
                f(tail);
            }
        }
    }

    /// A [`JsonlBody::Repeat`]'s repeated part, in chunks of about 1 MiB.
    fn repeated(&self, f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()> {
        let JsonlBody::Repeat { unit, times, .. } = &self.body else {
            return Ok(());
        };
        let per = ((1 << 20) / unit.len().max(1)).max(1) as u64;
        let chunk = unit.repeat(per as usize);
        let mut left = *times;
        while left > 0 {
            let n = left.min(per);
            f(&chunk[..n as usize * unit.len()])?;
            left -= n;
        }
        Ok(())
    }

    /// Writes it to `path` (a long run of zeros as a hole: a 2 GB case takes no disk).
    pub fn write_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        match &self.body {
            JsonlBody::Bytes(b) => f.write_all(b),
            JsonlBody::Long { head, fill, tail } => {
                f.write_all(head)?;
                f.seek(SeekFrom::Current(i64::try_from(*fill).unwrap_or(i64::MAX)))?;
                f.write_all(tail)
            }
            JsonlBody::Repeat { head, tail, .. } => {
                let mut w = std::io::BufWriter::new(f);
                w.write_all(head)?;
                self.repeated(&mut |b| w.write_all(b))?;
                w.write_all(tail)?;
                w.flush()
            }
        }
    }
}

/// Every case, in a stable order.
pub fn cases() -> Vec<JsonlCase> {
    let good = |s: i64| good_line(s, 1.0).into_bytes();
    let mut bad_utf8 = good(2);
    bad_utf8.extend(
        b"{\"input\": \"q\", \"output\": \"\xff\xfe broken \xc3\", \"score\": 1.0, \"step\": 2}\n",
    );
    bad_utf8.extend(good(2));
    let mut long_number = good(2);
    long_number.extend(b"{\"input\": \"q\", \"output\": \"a\", \"score\": ");
    long_number.extend(std::iter::repeat_n(b'9', 10_000));
    long_number.extend(b", \"step\": 2}\n");
    long_number.extend(good(2));
    let mut score_text = good(2);
    score_text.extend(br#"{"input": "q", "output": "a", "gts": "1", "score": "1.0", "step": 2}"#);
    score_text.push(b'\n');
    let mut blank = vec![b'\n'; 10_000_000];
    blank.extend(good(2));
    let mut not_json = b"this is not JSON\n".to_vec();
    not_json.extend(b"[1, 2, 3]\n");
    let mut deep = good(2);
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    deep.push(b'\n');
    vec![
        JsonlCase {
            name: "verl_invalid_utf8",
            what: "a line whose output is not UTF-8, between two good lines",
            body: JsonlBody::Bytes(bad_utf8),
            expect: JsonlExpect::Rows {
                rows: 2,
                note: "line 2: not a JSON object",
            },
            browser: true,
        },
        JsonlCase {
            name: "verl_long_number",
            what: "a score of 10 000 digits",
            body: JsonlBody::Bytes(long_number),
            expect: JsonlExpect::Rows {
                rows: 2,
                note: "line 2:",
            },
            browser: true,
        },
        JsonlCase {
            name: "verl_score_text",
            what: "a score that is a string",
            body: JsonlBody::Bytes(score_text),
            expect: JsonlExpect::Rows {
                rows: 2,
                note: "line 2: score is a string",
            },
            browser: true,
        },
        JsonlCase {
            name: "verl_blank_lines",
            what: "10 million empty lines, then a good line",
            body: JsonlBody::Bytes(blank),
            expect: JsonlExpect::Rows {
                rows: 1,
                note: "10000000 blank lines skipped",
            },
            browser: true,
        },
        JsonlCase {
            name: "verl_deep_nesting",
            what: "a line of 100 000 open brackets",
            body: JsonlBody::Bytes(deep),
            expect: JsonlExpect::Rows {
                rows: 1,
                note: "line 2: not a JSON object",
            },
            browser: true,
        },
        JsonlCase {
            name: "verl_not_json",
            what: "no line is a JSON object",
            body: JsonlBody::Bytes(not_json),
            expect: JsonlExpect::Error("no verl sample in the file (line 1: not a JSON object"),
            browser: true,
        },
        JsonlCase {
            name: "verl_2gb_line",
            what: "a line of 2 GiB between two good lines",
            body: JsonlBody::Long {
                head: [good(2), b"{\"input\": \"".to_vec()].concat(),
                fill: 2 << 30,
                tail: [b"\"}\n".to_vec(), good(2)].concat(),
            },
            expect: JsonlExpect::Rows {
                rows: 2,
                note: "line 2: 2147483661 bytes, longer than",
            },
            browser: false,
        },
    ]
}

/// The cases read for bounded memory and time through the plain run table (not `--json`,
/// whose million sample records are its output): a file whose size is in one line's big
/// extra, and one of a million short lines. Each reads in ≤ 1 GiB.
pub fn big_cases() -> Vec<JsonlCase> {
    let good = |s: i64| good_line(s, 1.0).into_bytes();
    let short = br#"{"input": "p", "output": "o", "score": 1, "step": 2, "uid": "u"}"#;
    vec![
        JsonlCase {
            name: "verl_wide_line",
            what: "a line whose extra is a list of 29 million zeros (58 MB), between good lines",
            body: JsonlBody::Repeat {
                head: [
                    good(2),
                    br#"{"input": "p", "output": "o", "score": 1, "step": 2, "x": [0"#.to_vec(),
                ]
                .concat(),
                unit: b",0".to_vec(),
                times: 29_000_000,
                tail: [b"]}\n".to_vec(), good(2)].concat(),
            },
            expect: JsonlExpect::Rows { rows: 3, note: "" },
            browser: false,
        },
        JsonlCase {
            name: "verl_many_lines",
            what: "1.1 million short lines (72 MB)",
            body: JsonlBody::Repeat {
                head: Vec::new(),
                unit: [short.as_slice(), b"\n"].concat(),
                times: 1_100_000,
                tail: Vec::new(),
            },
            expect: JsonlExpect::Rows {
                // trace's `MAX_LINES`: the most lines read from one file.
                rows: 1 << 20,
                note: "reading stopped after line 1048576",
            },
            browser: false,
        },
    ]
}
