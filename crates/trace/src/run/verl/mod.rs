//! verl's rollout logs: the `{global_step}.jsonl` files verl's trainer writes under
//! `trainer.rollout_data_dir` (training) and `trainer.validation_data_dir` (validation), one
//! JSON object per sample, read as a run's dumps.
//!
//! **Which file is which** ([`verl_role`], used by `layout`): a file named `{digits}.jsonl` is
//! a verl step, its id the number; it is an eval (validation) step when its folder's name
//! starts with `val`, `eval` or `test` (`validation/`, `val_generations/`, `eval/`), else a
//! training step.
//!
//! **Reading** ([`VerlScan`]): streamed, one line at a time ([`Lines`], bounded by
//! [`MAX_LINE_BYTES`], [`MAX_LINES`], [`MAX_JSONL_BYTES`]); a line that is not a JSON object,
//! or whose `score` is not a number, is a note naming its line, and the other lines are read.
//! Only a file with no readable line at all is an error.
//!
//! **Meaning** (`summary.rs`): a file is one rollout entry with slime's keys where the meaning
//! is the same (`rollout_id` = the step, `kind`, `sample_count`, `reward/*` from `score`,
//! `pass_rate` or `eval/{name}-pass@k` over groups: equal `uid`, else runs of identical
//! `input`); numeric extras (`acc`) add `reward_extra/{key}/mean`. Nothing verl does not record
//! (tokens, timings, train-side fields) is written, as 0 or otherwise.
//!
//! Files: `lines.rs` (the bounded line cutter), `sample.rs` (a line → row), `summary.rs`
//! (metrics, summary, `--json` record), this file (names and the scan).

mod lines;
mod sample;
mod summary;

pub use lines::{Lines, Piece, MAX_JSONL_BYTES, MAX_LINES, MAX_LINE_BYTES};
pub use sample::BASE_KEYS;
pub use summary::{summarize_verl, verl_sample_record};

use super::{DumpKind, Scanned};
use crate::MAX_SAMPLES;

/// What a file is by its folder (last component) and name, if it is a verl step log: its kind
/// and step (see the module doc).
pub fn verl_role(dir: &str, name: &str) -> Option<(DumpKind, i64)> {
    let stem = name.strip_suffix(".jsonl")?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = stem.parse().ok()?;
    let d = dir.to_ascii_lowercase();
    let eval = ["val", "eval", "test"].iter().any(|p| d.starts_with(p));
    Some((
        if eval {
            DumpKind::Eval
        } else {
            DumpKind::Train
        },
        step,
    ))
}

/// Whether a run's file is a verl step log, by its path (the one rule: [`verl_role`]).
pub fn is_verl_path(path: &str) -> bool {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (d.rsplit('/').next().unwrap_or(d), n),
        None => ("", path),
    };
    verl_role(dir, name).is_some()
}

/// Most notes one file gives (the rest are counted in a last note).
const MAX_NOTES: usize = 50;

/// One verl step log read as its bytes arrive: [`VerlScan::push`] each chunk, then
/// [`VerlScan::finish`]. Holds one line and the rows (details too for a step scan).
pub struct VerlScan {
    lines: Lines,
    st: State,
}

/// What the lines read so far gave.
struct State {
    out: Scanned,
    detail: bool,
    /// Lines with a problem, beyond the notes kept.
    more_problems: u64,
    /// Lines that could be read as a sample.
    read: usize,
    first_error: Option<String>,
}

impl VerlScan {
    pub fn new(detail: bool) -> VerlScan {
        VerlScan {
            lines: Lines::default(),
            st: State {
                out: Scanned::default(),
                detail,
                more_problems: 0,
                read: 0,
                first_error: None,
            },
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        let st = &mut self.st;
        self.lines.push(chunk, &mut |p| st.take(p));
    }

    /// Whether the rest of the file is not read (a limit was reached).
    pub fn is_done(&self) -> bool {
        self.lines.stopped().is_some()
    }

    pub fn finish(mut self) -> Result<Scanned, String> {
        let st = &mut self.st;
        self.lines.finish(&mut |p| st.take(p));
        let mut st = self.st;
        if let Some(s) = self.lines.stopped() {
            st.out.notes.push(s.to_string());
        }
        let blank = self.lines.blank_lines();
        if blank > 0 {
            st.out.notes.push(format!("{blank} blank lines skipped"));
        }
        if st.more_problems > 0 {
            let n = st.more_problems;
            st.out
                .notes
                .push(format!("{n} more lines with problems (not listed)"));
        }
        if st.read == 0 {
            return Err(match st.first_error {
                Some(e) => format!("no verl sample in the file ({e})"),
                None => "no verl sample in the file (no lines)".into(),
            });
        }
        Ok(st.out)
    }
}

impl State {
    fn take(&mut self, p: Piece) {
        let (number, line) = match p {
            Piece::TooLong(n, len) => {
                self.problem(format!(
                    "line {n}: {len} bytes, longer than {MAX_LINE_BYTES} (skipped)"
                ));
                return;
            }
            Piece::Line(n, b) => (n, b),
        };
        // A UTF-8 byte order mark before the first line is no part of it.
        let line = match line.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) if number == 1 => rest,
            _ => line,
        };
        let obj = match serde_json::from_slice::<sample::RawLine>(line) {
            Ok(o) => o,
            Err(e) => {
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                self.problem(format!(
                    "line {number}: not a JSON object ({msg}, column {})",
                    e.column()
                ));
                return;
            }
        };
        let skipped = obj.skipped;
        let obj = match sample::values(obj.kept) {
            Ok(o) => o,
            Err(e) => {
                self.problem(format!("line {number}: {e}"));
                return;
            }
        };
        if self.out.rows.len() >= MAX_SAMPLES {
            return;
        }
        let s = sample::read_line(obj, skipped, self.out.rows.len(), self.detail);
        for p in s.problems {
            self.problem(format!("line {number}: {p}"));
        }
        match (s.step, self.out.rollout_id) {
            (Some(step), None) if self.read == 0 => self.out.rollout_id = Some(step),
            (Some(step), Some(first)) if step != first => self.problem(format!(
                "line {number}: step {step}, where the file's first line says {first}"
            )),
            _ => {}
        }
        self.read += 1;
        self.out.rows.push(s.row);
        if let Some(d) = s.detail {
            self.out.details.push(d);
        }
    }

    fn problem(&mut self, e: String) {
        self.first_error.get_or_insert_with(|| e.clone());
        if self.out.notes.len() < MAX_NOTES {
            self.out.notes.push(e);
        } else {
            self.more_problems += 1;
        }
    }
}

#[cfg(test)]
mod tests;
