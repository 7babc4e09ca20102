//! The sample table's logic without the DOM: which columns a step has, sorting, filtering,
//! the text search in responses and the group view's statistics. Plain Rust, compiled and
//! tested natively (the components in `step.rs` and `inspector.rs` only render what this
//! returns; the token view's logic is `token_view.rs`).

use serde_json::Value as J;
use std::cmp::Ordering;
use trace::run::{SampleRow, StepData};

/// A column of the sample table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Column {
    Position,
    Index,
    Status,
    Reward,
    /// One key of a dict reward (`reward_fields`).
    RewardField(String),
    ResponseLength,
    EffectiveLength,
    Label,
    Group,
    AdvantageMean,
    KlMean,
    LogprobGap,
    NormalizedReward,
    E2eLatency,
    Flags,
}

impl Column {
    pub fn title(&self) -> String {
        match self {
            Column::Position => "pos".into(),
            Column::Index => "index".into(),
            Column::Status => "status".into(),
            Column::Reward => "reward".into(),
            Column::RewardField(k) => format!("reward.{k}"),
            Column::ResponseLength => "resp len".into(),
            Column::EffectiveLength => "effective".into(),
            Column::Label => "label".into(),
            Column::Group => "group".into(),
            Column::AdvantageMean => "adv mean".into(),
            Column::KlMean => "KL mean".into(),
            Column::LogprobGap => "train−rollout lp".into(),
            Column::NormalizedReward => "norm reward".into(),
            Column::E2eLatency => "e2e (s)".into(),
            Column::Flags => "flags".into(),
        }
    }

    /// A stable name for `data-col` attributes (tests and styles find columns by it).
    pub fn key(&self) -> String {
        match self {
            Column::RewardField(k) => format!("reward.{k}"),
            Column::Position => "position".into(),
            Column::Index => "index".into(),
            Column::Status => "status".into(),
            Column::Reward => "reward".into(),
            Column::ResponseLength => "response_length".into(),
            Column::EffectiveLength => "effective_response_length".into(),
            Column::Label => "label".into(),
            Column::Group => "group".into(),
            Column::AdvantageMean => "advantage_mean".into(),
            Column::KlMean => "kl_mean".into(),
            Column::LogprobGap => "logprob_gap_mean".into(),
            Column::NormalizedReward => "normalized_reward".into(),
            Column::E2eLatency => "e2e_latency".into(),
            Column::Flags => "flags".into(),
        }
    }

    /// Numeric columns are right-aligned and sort descending first.
    pub fn numeric(&self) -> bool {
        !matches!(
            self,
            Column::Status | Column::Label | Column::Flags | Column::Group
        )
    }
}

/// The columns a step has: the fixed ones, one per dict-reward key (union over rows, in
/// first-seen order), and the train-side and latency columns only when some row has them.
pub fn columns(rows: &[SampleRow]) -> Vec<Column> {
    let mut cols = vec![
        Column::Position,
        Column::Index,
        Column::Status,
        Column::Reward,
    ];
    let mut seen = std::collections::HashSet::new();
    for r in rows {
        for (k, _) in &r.reward_fields {
            if seen.insert(k.as_str()) {
                cols.push(Column::RewardField(k.clone()));
            }
        }
    }
    cols.extend([
        Column::ResponseLength,
        Column::EffectiveLength,
        Column::Label,
        Column::Group,
    ]);
    let train = |f: fn(&trace::run::TrainFields) -> Option<f64>| {
        rows.iter()
            .any(|r| r.train.as_deref().and_then(f).is_some())
    };
    if train(|t| t.advantage_mean) {
        cols.push(Column::AdvantageMean);
    }
    if train(|t| t.kl_mean) {
        cols.push(Column::KlMean);
    }
    if train(|t| t.logprob_gap_mean) {
        cols.push(Column::LogprobGap);
    }
    if train(|t| t.normalized_reward) {
        cols.push(Column::NormalizedReward);
    }
    if rows.iter().any(|r| r.e2e_latency.is_some()) {
        cols.push(Column::E2eLatency);
    }
    cols.push(Column::Flags);
    cols
}

/// What a cell sorts by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortVal {
    Num(f64),
    Text(String),
    Missing,
}

fn json_sort(v: &J) -> SortVal {
    match v {
        J::Null => SortVal::Missing,
        J::Number(n) => n.as_f64().map_or(SortVal::Missing, SortVal::Num),
        J::Bool(b) => SortVal::Num(f64::from(u8::from(*b))),
        J::String(s) => SortVal::Text(s.clone()),
        other => SortVal::Text(other.to_string()),
    }
}

fn num(v: Option<f64>) -> SortVal {
    v.filter(|x| !x.is_nan())
        .map_or(SortVal::Missing, SortVal::Num)
}

/// JSON shown in a cell: strings as they are, `null` as "—", the rest as compact JSON.
pub fn json_text(v: &J) -> String {
    match v {
        J::Null => "—".into(),
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A row's flags, as short words.
pub fn flags(r: &SampleRow) -> Vec<&'static str> {
    let mut f = Vec::new();
    if r.status.as_deref() == Some("truncated") {
        f.push("truncated");
    }
    if r.repetition {
        f.push("repetition");
    }
    // slime's `remove_sample`: generated, then left out of training.
    if r.state.remove_sample {
        f.push("removed");
    }
    // Begun with older weights (async or partial rollouts).
    if r.staleness.is_some_and(|x| x > 0) {
        f.push("stale");
    }
    f
}

pub fn sort_value(r: &SampleRow, c: &Column) -> SortVal {
    let t = r.train.as_ref();
    match c {
        Column::Position => SortVal::Num(r.position as f64),
        Column::Index => json_sort(&r.index),
        Column::Status => r.status.clone().map_or(SortVal::Missing, SortVal::Text),
        Column::Reward => num(r.reward),
        Column::RewardField(k) => r
            .reward_fields
            .iter()
            .find(|(key, _)| key == k)
            .map_or(SortVal::Missing, |(_, v)| json_sort(v)),
        Column::ResponseLength => num(r.response_length),
        Column::EffectiveLength => num(r.effective_response_length),
        Column::Label => json_sort(&r.label),
        Column::Group => json_sort(&r.group_index),
        Column::AdvantageMean => num(t.and_then(|t| t.advantage_mean)),
        Column::KlMean => num(t.and_then(|t| t.kl_mean)),
        Column::LogprobGap => num(t.and_then(|t| t.logprob_gap_mean)),
        Column::NormalizedReward => num(t.and_then(|t| t.normalized_reward)),
        Column::E2eLatency => num(r.e2e_latency),
        Column::Flags => {
            let f = flags(r);
            if f.is_empty() {
                SortVal::Missing
            } else {
                SortVal::Text(f.join(" "))
            }
        }
    }
}

/// Missing values last in both directions; numbers before text.
fn cmp_vals(a: &SortVal, b: &SortVal, desc: bool) -> Ordering {
    let dir = |o: Ordering| if desc { o.reverse() } else { o };
    match (a, b) {
        (SortVal::Missing, SortVal::Missing) => Ordering::Equal,
        (SortVal::Missing, _) => Ordering::Greater,
        (_, SortVal::Missing) => Ordering::Less,
        (SortVal::Num(x), SortVal::Num(y)) => dir(x.total_cmp(y)),
        (SortVal::Text(x), SortVal::Text(y)) => dir(x.cmp(y)),
        (SortVal::Num(_), SortVal::Text(_)) => dir(Ordering::Less),
        (SortVal::Text(_), SortVal::Num(_)) => dir(Ordering::Greater),
    }
}

/// The reward filter: a range (either end open) or one value.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum RewardFilter {
    #[default]
    Any,
    Eq(f64),
    Range {
        min: Option<f64>,
        max: Option<f64>,
    },
}

impl RewardFilter {
    /// `""` (any), `"1"` or `"= 1"` (that value), `"0.2..0.8"`, `"0.5.."`, `"..0"`, `">= 0.5"`,
    /// `"<= 0"` (inclusive ranges). Anything else is an error saying what is accepted.
    pub fn parse(s: &str) -> Result<RewardFilter, String> {
        let s = s.trim();
        let number = |t: &str| -> Result<f64, String> {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("reward filter: {:?} is not a number", t.trim()))
        };
        let opt = |t: &str| -> Result<Option<f64>, String> {
            if t.trim().is_empty() {
                Ok(None)
            } else {
                number(t).map(Some)
            }
        };
        if s.is_empty() {
            return Ok(RewardFilter::Any);
        }
        if let Some((a, b)) = s.split_once("..") {
            return Ok(RewardFilter::Range {
                min: opt(a)?,
                max: opt(b)?,
            });
        }
        if let Some(rest) = s.strip_prefix(">=") {
            return Ok(RewardFilter::Range {
                min: Some(number(rest)?),
                max: None,
            });
        }
        if let Some(rest) = s.strip_prefix("<=") {
            return Ok(RewardFilter::Range {
                min: None,
                max: Some(number(rest)?),
            });
        }
        let rest = s
            .strip_prefix("==")
            .or_else(|| s.strip_prefix('='))
            .unwrap_or(s);
        number(rest).map(RewardFilter::Eq).map_err(|_| {
            format!(
                "reward filter {s:?}: use a value (= 1), a range (0.2..0.8, 0.5.., ..0), >= or <="
            )
        })
    }

    pub fn matches(&self, reward: Option<f64>) -> bool {
        match (*self, reward) {
            (RewardFilter::Any, _) => true,
            (_, None) => false,
            // Rewards may be float32 (0.3 → 0.30000001192…): "= 0.3" must still find them,
            // so equality allows float32 rounding, far below any step between real rewards.
            (RewardFilter::Eq(v), Some(r)) => (r - v).abs() <= 1e-6 * v.abs().max(1.0),
            (RewardFilter::Range { min, max }, Some(r)) => {
                min.is_none_or(|m| r >= m) && max.is_none_or(|m| r <= m)
            }
        }
    }
}

/// Everything the table filters on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// `None`: any status; `Some("")`: rows without a status.
    pub status: Option<String>,
    pub reward: RewardFilter,
    /// Exact group as shown in the table (`json_text(group_index)`); empty: any.
    pub group: String,
    /// Case-insensitive substring of the response; empty: any.
    pub text: String,
}

/// A step's responses lowercased once, so that each keystroke of the search is one pass of
/// substring searches, not a lowercase copy of every response.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    lower: Vec<String>,
}

impl SearchIndex {
    pub fn new(step: &StepData) -> SearchIndex {
        SearchIndex {
            lower: step.responses.iter().map(|r| r.to_lowercase()).collect(),
        }
    }

    /// Occurrences of `needle_lower` in the response at `i` (non-overlapping), 0 when the
    /// response is missing.
    pub fn count(&self, i: usize, needle_lower: &str) -> usize {
        if needle_lower.is_empty() {
            return 0;
        }
        self.lower
            .get(i)
            .map_or(0, |h| h.matches(needle_lower).count())
    }
}

/// The table's rows after filter and sort.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// Indices into `StepData::rows`, in display order.
    pub order: Vec<usize>,
    /// With a text search: responses containing it (before the other filters) and all its
    /// occurrences in the shown rows.
    pub text_rows: usize,
    pub text_hits: usize,
}

/// Filter then sort `step.rows` (ties keep the dump's order).
pub fn view(
    step: &StepData,
    index: &SearchIndex,
    filter: &Filter,
    sort: Option<(&Column, bool)>,
) -> View {
    let needle = filter.text.to_lowercase();
    let mut text_rows = 0;
    let mut text_hits = 0;
    let mut order = Vec::with_capacity(step.rows.len());
    for (i, r) in step.rows.iter().enumerate() {
        let hits = index.count(i, &needle);
        if !needle.is_empty() {
            if hits == 0 {
                continue;
            }
            text_rows += 1;
        }
        let status_ok = match &filter.status {
            None => true,
            Some(s) if s.is_empty() => r.status.is_none(),
            Some(s) => r.status.as_deref() == Some(s.as_str()),
        };
        let group_ok =
            filter.group.trim().is_empty() || json_text(&r.group_index) == filter.group.trim();
        if status_ok && group_ok && filter.reward.matches(r.reward) {
            text_hits += hits;
            order.push(i);
        }
    }
    if let Some((col, desc)) = sort {
        let keys: Vec<SortVal> = step.rows.iter().map(|r| sort_value(r, col)).collect();
        order.sort_by(|&a, &b| cmp_vals(&keys[a], &keys[b], desc).then(a.cmp(&b)));
    }
    View {
        order,
        text_rows,
        text_hits,
    }
}

/// The statuses present, in first-seen order (`""` for rows without one).
pub fn statuses(rows: &[SampleRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        let s = r.status.clone().unwrap_or_default();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// One group of the group view.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group as shown (`json_text(group_index)`).
    pub key: String,
    /// Rows of the group in the current view, in display order (indices into `rows`).
    pub members: Vec<usize>,
    /// Samples of the whole group (filters do not change its statistics).
    pub size: usize,
    pub mean: Option<f64>,
    /// Population standard deviation (as slime's GRPO normalisation uses).
    pub std: Option<f64>,
    /// Two or more rewards, all equal: the group gives no learning signal.
    pub zero_std: bool,
}

/// Groups of the shown rows, in the order their first shown member appears; statistics over
/// the whole group. Rows without a group (`group_index` null, e.g. evals) form one group "—"
/// that is never marked zero-std.
pub fn groups(rows: &[SampleRow], order: &[usize]) -> Vec<Group> {
    let mut stats: std::collections::HashMap<String, Vec<f64>> = Default::default();
    let mut sizes: std::collections::HashMap<String, usize> = Default::default();
    for r in rows {
        let k = json_text(&r.group_index);
        *sizes.entry(k.clone()).or_default() += 1;
        if let Some(x) = r.reward.filter(|x| x.is_finite()) {
            stats.entry(k).or_default().push(x);
        }
    }
    let mut out: Vec<Group> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    for &i in order {
        let Some(r) = rows.get(i) else { continue };
        let k = json_text(&r.group_index);
        if let Some(&g) = at.get(&k) {
            out[g].members.push(i);
            continue;
        }
        let rewards = stats.get(&k).map(Vec::as_slice).unwrap_or(&[]);
        let (mean, std) = mean_std(rewards);
        let ungrouped = r.group_index.is_null();
        at.insert(k.clone(), out.len());
        out.push(Group {
            size: sizes.get(&k).copied().unwrap_or(0),
            zero_std: !ungrouped && rewards.len() >= 2 && rewards.iter().all(|&x| x == rewards[0]),
            key: k,
            members: vec![i],
            mean,
            std,
        });
    }
    out
}

fn mean_std(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    if xs.is_empty() {
        return (None, None);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (Some(mean), Some(var.sqrt()))
}

/// Where ↑ (`delta` −1), ↓ (+1) or Enter (0) moves the selection among `len` shown rows, from
/// `current` (its index among them, if shown): the index to select, or `None` to do nothing.
/// ↑/↓ stop at the ends; with nothing selected they start at the first row.
pub fn next_selection(len: usize, current: Option<usize>, delta: isize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    match (current, delta) {
        (Some(c), 0) => Some(c.min(len - 1)),
        (None, 0) => None,
        (None, _) => Some(0),
        (Some(c), d) => Some(c.saturating_add_signed(d).min(len - 1)),
    }
}

/// The count line: "showing 500 of 812 (filtered from 1000) samples".
pub fn count_line(shown: usize, matched: usize, all: usize) -> String {
    let mut s = format!("showing {shown} of {matched}");
    if matched != all {
        s.push_str(&format!(" (filtered from {all})"));
    }
    s.push_str(" samples");
    s
}

/// The text search's line: how many responses contain it, and its matches in the shown rows.
pub fn search_line(v: &View, total: usize) -> String {
    format!(
        "{} of {total} responses contain it · {} {} in the shown samples",
        v.text_rows,
        v.text_hits,
        if v.text_hits == 1 { "match" } else { "matches" }
    )
}

/// A group's heading in the group view.
pub fn group_head(g: &Group) -> String {
    let filtered = if g.members.len() < g.size {
        format!(" · {} shown by the filter", g.members.len())
    } else {
        String::new()
    };
    format!(
        "group {} · {} samples · reward mean {} · std {}{filtered}",
        g.key,
        g.size,
        crate::numbers::precise_opt(g.mean),
        crate::numbers::precise_opt(g.std),
    )
}

#[cfg(test)]
mod tests;
