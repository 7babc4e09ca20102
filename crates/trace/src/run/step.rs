//! [`Step`]: one dump's samples in full, for the step view and the sample inspector. The only
//! part of a run that holds samples: one step at a time.

use super::summary::attach_train;
use super::{DumpRef, SampleDetail, SampleRow, Scanned, StepData, TrainData, TrainTokens};
use std::collections::HashMap;

use tokenizer::Tokenizer;

pub struct Step {
    pub dump: DumpRef,
    details: Vec<SampleDetail>,
    train: HashMap<usize, TrainTokens>,
    /// Problems met reading the dump or its train data.
    pub notes: Vec<String>,
}

impl Step {
    /// From a step scan (`DumpScan::step`) and the dump's train data (read with tokens).
    pub fn new(dump: DumpRef, mut scan: Scanned, train: Option<Result<TrainData, String>>) -> Step {
        let mut notes = std::mem::take(&mut scan.notes);
        let mut tokens = HashMap::new();
        match train {
            Some(Ok(t)) => {
                attach_train(&mut scan, &t);
                notes.extend(t.notes.iter().take(10).cloned());
                tokens = t.tokens;
            }
            Some(Err(e)) => notes.push(format!(
                "{}: {e}",
                dump.train_file.as_deref().unwrap_or("train data")
            )),
            None => {}
        }
        let mut details = scan.details;
        for (d, r) in details.iter_mut().zip(scan.rows) {
            d.row = r;
        }
        Step {
            dump,
            details,
            train: tokens,
            notes,
        }
    }

    pub fn len(&self) -> usize {
        self.details.len()
    }

    pub fn is_empty(&self) -> bool {
        self.details.is_empty()
    }

    /// Every sample's table line.
    pub fn rows(&self) -> Vec<SampleRow> {
        self.details.iter().map(|d| d.row.clone()).collect()
    }

    /// Every sample's response (the step table searches them).
    pub fn responses(&self) -> Vec<&str> {
        self.details.iter().map(|d| d.response.as_str()).collect()
    }

    /// The step table's data.
    pub fn data(&self) -> StepData {
        StepData {
            dump: Some(self.dump.clone()),
            rows: self.rows(),
            responses: self.responses().into_iter().map(str::to_string).collect(),
            notes: self.notes.clone(),
        }
    }

    /// Sample `position` in full, with its per-token train values, and its response token by
    /// token when the run has a tokenizer.
    pub fn detail(&self, position: usize, tokenizer: Option<&Tokenizer>) -> Option<SampleDetail> {
        let mut d = self.details.get(position)?.clone();
        d.train = self.train.get(&position).cloned();
        if let Some(t) = tokenizer {
            d.pieces = bounded_pieces(t, &d.tokens);
            d.prompt_pieces = bounded_pieces(t, &d.prompt_tokens);
        }
        Some(d)
    }
}

/// `ids` token by token, unless they decode to more than a text field may hold. A token may
/// stand for up to 1 KiB, so a sample's ids could decode to 1 000 × the dump's size; a
/// response or prompt is at most [`super::MAX_TEXT_CHARS`] chars (≤ 4 bytes each): ids that
/// decode to more are not the sample's text, and get no pieces (the viewer then shows the
/// per-token values as a strip).
fn bounded_pieces(t: &Tokenizer, ids: &[u32]) -> Option<Vec<super::TokenPiece>> {
    let decoded = ids.iter().try_fold(0usize, |n, &id| {
        let b = t.token_bytes(id).map_or(3, <[u8]>::len);
        n.checked_add(b).filter(|&n| n <= 4 * super::MAX_TEXT_CHARS)
    });
    decoded.map(|_| t.pieces(ids))
}
