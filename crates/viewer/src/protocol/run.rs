//! Messages between the run app and the run worker (a run opened as a folder, dropped, or
//! `?run=<index URL>`; issue #14). The run worker is a script of its own (`bin/runworker`,
//! loaded only with the run app), started per run; the timeline's parsing worker is not
//! involved and does not link the run's reading or the tokenizer.
//!
//! **Run app → worker**, JS objects: `{run: "open", layout, paths, sources}`: `layout` is the JSON
//! text of the page's `trace::run::RunLayout`, `paths[i]` a relative path and `sources[i]` its
//! `File` or absolute URL (only the files the layout names); `{run: "step", id, index}` reads
//! dump `layout.dumps[index]` in full; `{run: "detail", id, position}` asks for one sample of
//! the open step; `{run: "update", layout, paths, sources}` (a live run: its files listed
//! again) replaces the layout and sources, and the worker reads the dumps it has not read
//! (or whose train file is new), skipping files still being written
//! ([`RunFromWorker::RunWriting`]); `{run: "pair", id, a, b}` compares train dumps with run
//! B's (two runs).
//!
//! **Worker → run app**: JSON text of [`RunFromWorker`] (summaries and a step's table are small
//! enough), and one JS object: a sample's detail `{kind: "run_detail", id, json, <float
//! column>: ArrayBuffer…}`. Per-token values travel as `Float32Array` buffers ([`split_detail`],
//! [`join_detail`]) because JSON cannot say NaN or −∞ (a log prob of −∞ is a real value), and a
//! long response's values are most of the detail; its token ids and pieces travel as
//! `Uint32Array` buffers too (`run_tokens`). The worker's `ready` and `crashed` messages
//! are the same as the parsing worker's ([`super::FromWorker`]).

use serde::{Deserialize, Serialize};
use trace::run::{RolloutSummary, SampleDetail, StepData, TrainPair, TrainTokens};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunFromWorker {
    /// The layout was received; dumps are read one at a time from now on.
    RunStarted { dumps: usize },
    /// `layout.dumps[index]`, summarised (or failed: `summary.error`).
    RunSummary {
        index: usize,
        summary: Box<RolloutSummary>,
    },
    /// Every dump has its summary, or is being written.
    RunDone,
    /// `layout.dumps[index]` (`file`) is still being written (`torch.save` has not finished
    /// it): not read; read when the run's files are next updated.
    RunWriting {
        index: usize,
        file: String,
        reason: String,
    },
    /// The run's `tokenizer.json` could not be used (the inspector then shows ids).
    RunTokenizer { message: String },
    /// Answer to `{run: "step", id, index}`.
    RunStep {
        id: u32,
        index: usize,
        step: Box<StepData>,
    },
    /// Answer to `{run: "pair", id, a, b}`: each pair of train dumps (`a[i]`, a path of this
    /// run; `b[i]`, run B's `File` or URL) compared by sample index
    /// (`trace::run::compare_train`), `None` where either could not be read.
    RunPair {
        id: u32,
        pairs: Vec<Option<TrainPair>>,
    },
    /// A step or detail request that could not be answered, and why.
    RunFailed { id: u32, message: String },
    /// The run could not be opened at all (its layout did not arrive intact).
    RunError { message: String },
}

/// A text message of the run worker: one of its own, or the parsing worker's `ready` /
/// `crashed` (sent by the shared start-up and panic hook).
#[derive(Debug)]
pub enum RunMessage {
    Run(RunFromWorker),
    Other(super::FromWorker),
}

pub fn run_to_text(msg: &RunFromWorker) -> String {
    serde_json::to_string(msg).unwrap_or_else(|e| {
        serde_json::to_string(&RunFromWorker::RunError {
            message: format!("internal: the run worker could not write its answer: {e}"),
        })
        .unwrap_or_else(|_| r#"{"kind":"run_error","message":"internal error"}"#.into())
    })
}

/// Decodes one text message of the run worker (see [`RunMessage`]).
pub fn decode_run(text: &str) -> Result<RunMessage, String> {
    let kind = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("kind")?.as_str().map(str::to_string))
        .unwrap_or_default();
    if kind.starts_with("run_") {
        serde_json::from_str::<RunFromWorker>(text)
            .map(RunMessage::Run)
            .map_err(|e| format!("internal: bad {kind} message from the run worker: {e}"))
    } else {
        super::decode(text).map(RunMessage::Other)
    }
}

/// The per-token values of a detail, moved out of it (see the module doc).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DetailFloats {
    pub rollout_log_probs: Vec<f32>,
    /// The train side, when present: log_probs, rollout_log_probs, advantages, returns, kl.
    pub train: Option<[Vec<f32>; 5]>,
    /// The train side's other series (`TrainTokens::other`), in order; their keys stay in
    /// the JSON. Column `other_{i}` of the message.
    pub other: Vec<Vec<f32>>,
}

/// The message column of [`DetailFloats::other`]`[i]`.
pub fn other_column(i: usize) -> String {
    format!("other_{i}")
}

/// Names of the float columns of a `run_detail` message, in [`DetailFloats::train`] order
/// after `rollout_log_probs`.
pub const TRAIN_COLUMNS: [&str; 5] = [
    "train_log_probs",
    "train_rollout_log_probs",
    "train_advantages",
    "train_returns",
    "train_kl",
];

/// Takes the per-token float values out of `d` (leaving empty vectors).
pub fn split_detail(d: &mut SampleDetail) -> DetailFloats {
    DetailFloats {
        rollout_log_probs: std::mem::take(&mut d.rollout_log_probs),
        train: d.train.as_mut().map(|t| {
            [
                std::mem::take(&mut t.log_probs),
                std::mem::take(&mut t.rollout_log_probs),
                std::mem::take(&mut t.advantages),
                std::mem::take(&mut t.returns),
                std::mem::take(&mut t.kl),
            ]
        }),
        other: d
            .train
            .as_mut()
            .map(|t| t.other.iter_mut().map(|(_, v)| std::mem::take(v)).collect())
            .unwrap_or_default(),
    }
}

/// Puts the float values back. A train column without train fields in the JSON (or the
/// reverse) is a message that does not fit together: an error, never a guess.
pub fn join_detail(d: &mut SampleDetail, f: DetailFloats) -> Result<(), String> {
    d.rollout_log_probs = f.rollout_log_probs;
    match (&mut d.train, f.train) {
        (None, None) => Ok(()),
        (Some(t), Some([lp, rlp, adv, ret, kl])) => {
            *t = TrainTokens {
                log_probs: lp,
                rollout_log_probs: rlp,
                advantages: adv,
                returns: ret,
                kl,
                loss_masks: std::mem::take(&mut t.loss_masks),
                // The other series' keys travel in the JSON part, their values as columns.
                other: {
                    let mut o = std::mem::take(&mut t.other);
                    if o.len() != f.other.len() {
                        return Err(format!(
                            "internal: a sample's detail names {} other train series and \
                             carries {}",
                            o.len(),
                            f.other.len()
                        ));
                    }
                    for ((_, v), col) in o.iter_mut().zip(f.other) {
                        *v = col;
                    }
                    o
                },
                tokens: std::mem::take(&mut t.tokens),
            };
            Ok(())
        }
        _ => Err(
            "internal: a sample's detail came with train values and no train fields, or the reverse"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_floats_round_trip_keeps_non_finite_values() {
        let mut d = SampleDetail {
            response: "<script>alert(1)</script>".into(),
            rollout_log_probs: vec![-0.5, f32::NEG_INFINITY, f32::NAN],
            train: Some(TrainTokens {
                log_probs: vec![-1.0, f32::NEG_INFINITY],
                advantages: vec![0.25],
                loss_masks: vec![1, 0],
                other: vec![("ref_log_probs".into(), vec![f32::NAN, -2.0])],
                ..TrainTokens::default()
            }),
            ..SampleDetail::default()
        };
        let floats = split_detail(&mut d);
        // What crosses as JSON has no float columns left; it decodes to the same detail.
        let json = serde_json::to_string(&d).unwrap();
        let mut back: SampleDetail = serde_json::from_str(&json).unwrap();
        assert!(back.rollout_log_probs.is_empty());
        join_detail(&mut back, floats).unwrap();
        assert_eq!(back.rollout_log_probs[0], -0.5);
        assert_eq!(back.rollout_log_probs[1], f32::NEG_INFINITY);
        assert!(back.rollout_log_probs[2].is_nan());
        let t = back.train.unwrap();
        assert_eq!(t.log_probs, vec![-1.0, f32::NEG_INFINITY]);
        assert_eq!(t.other[0].0, "ref_log_probs");
        assert!(t.other[0].1[0].is_nan() && t.other[0].1[1] == -2.0);
        assert_eq!(t.advantages, vec![0.25]);
        assert_eq!(t.loss_masks, vec![1, 0]);
        assert_eq!(back.response, "<script>alert(1)</script>");
    }

    #[test]
    fn train_columns_without_train_fields_are_refused() {
        let mut d = SampleDetail::default();
        let f = DetailFloats {
            train: Some(Default::default()),
            ..DetailFloats::default()
        };
        assert!(join_detail(&mut d, f).unwrap_err().contains("train values"));
    }

    #[test]
    fn run_and_worker_messages_decode_apart() {
        let text = run_to_text(&RunFromWorker::RunSummary {
            index: 3,
            summary: Box::default(),
        });
        assert!(matches!(
            decode_run(&text),
            Ok(RunMessage::Run(RunFromWorker::RunSummary { index: 3, .. }))
        ));
        assert!(matches!(
            decode_run(r#"{"kind":"ready"}"#),
            Ok(RunMessage::Other(super::super::FromWorker::Ready))
        ));
        let bad = decode_run(r#"{"kind":"run_step","id":1}"#).unwrap_err();
        assert!(bad.contains("bad run_step message"), "{bad}");
    }
}
