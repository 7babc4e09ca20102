//! A whole run: the dumps slime writes with `--dump-details DIR` (`rollout_data/{id}.pt`,
//! `rollout_data/eval_{id}.pt`, `train_data/{id}.pt`, `tokenizer/`), read one dump at a time.
//!
//! **Owns:** which file is which ([`layout`]), what each sample of a rollout dump says in a
//! table line ([`SampleRow`]), the train-side fields aligned by `rollout_position`
//! ([`TrainData`]), slime's per-rollout metrics under slime's names
//! ([`RolloutSummary::metrics`], equal to `run_reference.json`, which slime's own
//! `compute_metrics_from_samples`, `compute_perf_metrics_from_samples`, `compute_pass_rate`,
//! `compute_statistics` and `log_eval_rollout_data` wrote), flags (straggler, truncation
//! burst, untraced, missing train data), and a step's samples in full ([`Step`]).
//!
//! **Memory:** a summary is made by streaming a dump through the same reader as the timeline
//! ([`DumpScan`]: samples handed over and freed as they are read, token lists kept as length
//! and sum), so a run of hundreds of dumps holds one summary per dump ([`RolloutSummary`]:
//! metrics, flags and at most [`DIST_POINTS`] points per distribution), never its samples.
//! Only [`Step`] keeps a dump's samples in full (response ids and per-token values compact).
//!
//! Files: `layout.rs` (paths → dumps, either slime layout or slime's own templates),
//! `sample.rs` (one sample → [`SampleRow`] and its [`SampleDetail`]), `sample_state.rs` (what a
//! sample says of its own state: removed, staleness, spec decoding), `pd.rs` (PD timings, read
//! as `stats` reads them), `scan.rs` ([`DumpScan`], the streamed read), `train.rs`
//! ([`TrainData`]), `train_metrics.rs` (slime's train-side numbers), `eval_sets.rs` (an eval
//! dump's datasets), `metrics.rs` (slime's metrics), `summary.rs` ([`RolloutSummary`],
//! distributions), `flags.rs` (flags and pass@k), `step.rs` ([`Step`]), `record.rs` (the
//! `run_reference.json` records), `writing.rs` (a file still being written), `pair.rs` and
//! `pair_json.rs` (two runs side by side), `verl/` (verl's `{step}.jsonl` rollout logs read as
//! dumps), this file (types shared by all).

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

mod eval_sets;
mod flags;
mod images;
mod layout;
mod metrics;
mod pair;
mod pair_json;
mod pd;
mod record;
mod sample;
mod sample_state;
mod scan;
mod step;
mod summary;
mod train;
mod train_metrics;
pub mod verl;
mod writing;

pub use eval_sets::{
    eval_set_names, eval_sets, eval_sets_json, parse_eval_names, renamed_set, EvalSet,
    MAX_EVAL_SETS,
};
pub use flags::{pass_at_of, FlagInfo};
pub use images::{SampleImage, MAX_IMAGES, MAX_SIDE};
pub use layout::{
    layout, layout_with, match_template, pair_train, FileRole, RunLayout, Templates,
    MAX_NAMED_ROLLOUT_ID,
};
pub use metrics::{group_size, pass_rate};
pub use pair::{
    align, compare_train, deltas, logprob_diff, most_different, per_token_diff, samples_seen,
    Align, LogProbDiff, SampleMatch, TrainPair,
};
pub use pair_json::{pair_json, RunSide, TrainPairs, MOST_DIFFERENT};
pub use record::{as_older_reference, json_diff, rollout_record, run_json, sample_record};
pub use sample::{has_repetition, Allowance};
pub use sample::{Message, Prompt};
pub use sample_state::SampleState;
pub use scan::{scan_bytes, DumpScan, Scanned, NOT_A_ROLLOUT_DUMP};
pub use step::Step;
pub use summary::summarize_with;
pub use summary::{
    attach_train, summarize, Dist, Dists, Flags, RolloutSummary, SummaryExtra, DIST_POINTS,
};
pub use train::{TrainData, TrainTokens};
pub use train_metrics::{train_rollout_metrics, TokenAgg, TrainRollout, TrainSample};
pub use writing::{being_written, HEAD_WINDOW, TAIL_WINDOW};

/// What a dump cannot tell and slime's arguments do, at slime's defaults unless the user says
/// otherwise (`rollscope run --reward-key …`, the Python keywords). [`RunOptions::assumed`]
/// says which values were used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// `--eval-names a,b`: the eval datasets' names in slime's config order, for dumps whose
    /// samples do not name them.
    pub eval_names: Vec<String>,
    /// `--reward-key`: the entry of a dict reward that slime's metrics read (unset: `score`,
    /// else `reward`, else the first number).
    pub reward_key: Option<String>,
    /// `--eval-reward-key` (unset: the reward key).
    pub eval_reward_key: Option<String>,
    /// `--rollout-max-response-len`, for `multi_turn/…clip_ratio` (unset: the shortest
    /// response of a `truncated` sample of the rollout; no truncated sample, no clip).
    pub rollout_max_response_len: Option<f64>,
    /// `--advantage-estimator` (unset: slime's default, `grpo`): under `ppo` slime counts no
    /// zero-std groups.
    pub advantage_estimator: Option<String>,
}

impl RunOptions {
    /// One line naming the values a run's numbers assume.
    pub fn assumed(&self) -> String {
        let key = |k: &Option<String>| k.clone().unwrap_or_else(|| "score (or reward)".into());
        format!(
            "assumed: --reward-key {} --eval-reward-key {} --rollout-max-response-len {} \
             --eval-names {} --advantage-estimator {}",
            key(&self.reward_key),
            self.eval_reward_key
                .clone()
                .unwrap_or_else(|| key(&self.reward_key)),
            self.rollout_max_response_len
                .map_or("(the truncated samples' length)".into(), |x| x.to_string()),
            if self.eval_names.is_empty() {
                "(from metadata, else \"eval set N\")".into()
            } else {
                self.eval_names.join(",")
            },
            self.advantage_estimator.as_deref().unwrap_or("grpo")
        )
    }
}

/// Most files listed in a run folder (slime writes three per rollout step): the CLI, Python
/// and the browser stop listing past it, with an error.
pub const MAX_RUN_FILES: usize = 300_000;

/// The largest train file read (train files are read whole: their tensor storages sit after
/// the pickle). Past it a rollout is summarised without its train side, and says so.
pub const MAX_TRAIN_BYTES: u64 = 512 << 20;

/// A rollout dump (`{id}.pt`) or an eval dump (`eval_{id}.pt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DumpKind {
    Train,
    Eval,
}

impl DumpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DumpKind::Train => "train",
            DumpKind::Eval => "eval",
        }
    }
}

/// One dump of a run, with its train-side file when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpRef {
    pub rollout_id: i64,
    pub kind: DumpKind,
    /// Path as given (relative to the run's folder when it is one), e.g. `rollout_data/0.pt`.
    pub file: String,
    /// `train_data/{id}.pt` beside it, for a train dump whose run has one.
    pub train_file: Option<String>,
}

impl DumpRef {
    /// Whether the file is a verl step log (`{step}.jsonl`, [`verl::verl_role`]), not a
    /// pickle dump.
    pub fn is_verl(&self) -> bool {
        verl::is_verl_path(&self.file)
    }
}

/// One sample of a dump, as a line of the step table and a record of `rollscope run --json`.
/// Text is never held here (only its size and hash): a run's rows stay small.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleRow {
    /// Position in the dump's `samples`.
    pub position: usize,
    /// `index` and `group_index` as JSON (an int, `null`, or short text).
    pub index: J,
    pub group_index: J,
    pub status: Option<String>,
    /// The reward as slime's metrics see it: a number, or a dict reward's `reward_key`
    /// (`score`) value.
    pub reward: Option<f64>,
    pub reward_is_dict: bool,
    /// A dict reward's entries (at most 32, values as short JSON).
    pub reward_fields: Vec<(String, J)>,
    pub response_length: Option<f64>,
    /// `sum(loss_mask)` when the sample has a loss mask, else `response_length`.
    pub effective_response_length: Option<f64>,
    /// `label` as JSON (text cut at 4 096 characters, visibly).
    pub label: J,
    pub prompt_is_messages: bool,
    /// Characters of the prompt: the string's, or the sum of the messages' `content`.
    pub prompt_chars: usize,
    pub response_chars: usize,
    pub response_max_line_chars: usize,
    /// sha256 of the response's UTF-8 bytes, lowercase hex.
    pub response_sha256: String,
    /// The sample has trace events.
    pub traced: bool,
    /// The eval dataset: `metadata["eval_dataset"]` (or `dataset`, `dataset_name`) when it is
    /// a string; else, once the dump's eval sets are told apart ([`eval_sets`]), the set's name.
    pub eval_dataset: Option<String>,
    /// Which eval set of its dump the sample belongs to (0, 1, …), for an eval dump.
    pub eval_set: Option<usize>,
    /// `remove_sample`, weight versions, `spec_info` ([`SampleState`]).
    pub state: SampleState,
    /// [`SampleState::staleness`] against the dump's rollout id (set by the summary).
    pub staleness: Option<i64>,
    pub non_generation_time: Option<f64>,
    /// slime's `has_repetition(response)`.
    pub repetition: bool,
    /// `prefix_cache_info`: cached and total prompt tokens.
    pub cached_tokens: Option<f64>,
    pub total_prompt_tokens: Option<f64>,
    /// The sample's `sglang_generate` requests (span ends with attrs) and their e2e latency sum.
    pub requests: usize,
    pub e2e_latency: Option<f64>,
    /// Train-side fields from `train_data/{id}.pt` `samples[position]`, when present (boxed:
    /// a row without them, as every verl row, stays small).
    pub train: Option<Box<TrainFields>>,
    /// A hash of the prompt (samples of one prompt share it: an eval's groups, whose
    /// `group_index` is `None`).
    pub prompt_hash: u64,
}

/// The train-side fields of one sample (`train_data/{id}.pt`), means over response tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainFields {
    /// `local_raw_reward`.
    pub raw_reward: Option<f64>,
    /// `rewards`: the group-normalised reward.
    pub normalized_reward: Option<f64>,
    pub advantage_mean: Option<f64>,
    /// slime's per-sample loss-masked mean (see `train_metrics`) of `advantages`.
    pub advantage_masked_mean: Option<f64>,
    pub return_mean: Option<f64>,
    pub kl_mean: Option<f64>,
    /// slime's per-sample loss-masked mean of `kl`.
    pub kl_masked_mean: Option<f64>,
    /// Mean of `log_probs - rollout_log_probs` over tokens with `loss_masks` 1.
    pub logprob_gap_mean: Option<f64>,
    /// The sample's `train/train_rollout_logprob_abs_diff`: loss-masked mean of
    /// |`log_probs` − `rollout_log_probs`|.
    pub logprob_abs_diff: Option<f64>,
    pub response_length: Option<f64>,
    pub rollout_position: Option<i64>,
    pub sample_index: Option<i64>,
    pub data_parallel_rank: Option<i64>,
}

/// Everything about one sample, for the sample inspector ([`Step::detail`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleDetail {
    pub row: SampleRow,
    pub prompt: Prompt,
    /// The whole response (cut only past [`MAX_TEXT_CHARS`], and then visibly).
    pub response: String,
    pub label: J,
    /// The reward as stored (a dict reward keeps its keys).
    pub reward: J,
    pub metadata: J,
    /// The response's token ids: the last `response_length` ids of `tokens`.
    pub tokens: Vec<u32>,
    /// One per response token (as stored; may be shorter or longer than `tokens`).
    pub loss_mask: Vec<u8>,
    pub rollout_log_probs: Vec<f32>,
    /// Per-token train-side values, when the run has train data for this sample.
    pub train: Option<TrainTokens>,
    /// The response token by token, when the run has a tokenizer (filled by the caller that
    /// holds it): concatenated, the pieces' `text` is the decoded response. `None` too when
    /// the ids decode to more than 4 × [`MAX_TEXT_CHARS`] bytes (not a response's ids).
    pub pieces: Option<Vec<TokenPiece>>,
    /// The prompt's token ids: `tokens` before the response (`tokens[:-response_length]`;
    /// empty without a `response_length`).
    #[serde(default)]
    pub prompt_tokens: Vec<u32>,
    /// The prompt token by token, as [`SampleDetail::pieces`] (so a chat-template drift
    /// shows): `None` without a tokenizer or past the same bound.
    #[serde(default)]
    pub prompt_pieces: Option<Vec<TokenPiece>>,
    /// The images of `multimodal_inputs` (a VLM run's), drawn small, or why not.
    #[serde(default)]
    pub images: Vec<SampleImage>,
}

/// One response token as text (the tokenizer's [`tokenizer::Piece`]).
pub use tokenizer::Piece as TokenPiece;

/// One step (dump) opened in the step view: every sample's table line and response, no
/// per-token values (those come with [`SampleDetail`], one sample at a time).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepData {
    pub dump: Option<DumpRef>,
    pub rows: Vec<SampleRow>,
    pub responses: Vec<String>,
    pub notes: Vec<String>,
}

/// Longest text kept for one field of a sample; more is cut with a visible note.
pub const MAX_TEXT_CHARS: usize = 4 << 20;
