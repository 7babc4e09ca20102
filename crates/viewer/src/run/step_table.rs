//! The step view's logic without the DOM: which columns a step has, sorting, filtering,
//! the text search in responses, the group view's statistics, and the token view's
//! per-token value series and colours. Plain Rust, compiled and tested natively (the
//! components in `step.rs`, `inspector.rs` and `tokens.rs` only render what this returns).

use serde_json::Value as J;
use std::cmp::Ordering;
use trace::run::{SampleDetail, SampleRow, StepData};

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
        rows.iter().any(|r| r.train.as_ref().and_then(f).is_some())
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

/// A number in a cell: integers as integers, else 4 significant digits.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{x:.3e}")
    } else {
        let digits = (4 - (a.log10().floor() as i32) - 1).clamp(0, 6) as usize;
        format!("{x:.digits$}")
    }
}

pub fn fmt_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), fmt_num)
}

// ---- token view ---------------------------------------------------------------------------

/// A per-token value the token view can colour by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenValue {
    RolloutLogProb,
    TrainLogProb,
    Advantage,
    Kl,
    LogProbGap,
}

impl TokenValue {
    pub const ALL: [TokenValue; 5] = [
        TokenValue::RolloutLogProb,
        TokenValue::TrainLogProb,
        TokenValue::Advantage,
        TokenValue::Kl,
        TokenValue::LogProbGap,
    ];

    pub fn key(self) -> &'static str {
        match self {
            TokenValue::RolloutLogProb => "rollout_log_prob",
            TokenValue::TrainLogProb => "train_log_prob",
            TokenValue::Advantage => "advantage",
            TokenValue::Kl => "kl",
            TokenValue::LogProbGap => "logprob_gap",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            TokenValue::RolloutLogProb => "rollout log prob",
            TokenValue::TrainLogProb => "train log prob",
            TokenValue::Advantage => "advantage",
            TokenValue::Kl => "KL",
            TokenValue::LogProbGap => "train − rollout log prob",
        }
    }

    pub fn from_key(k: &str) -> Option<TokenValue> {
        TokenValue::ALL.into_iter().find(|v| v.key() == k)
    }

    /// Signed values (0 is neutral) get a two-sided scale; log probs a one-sided one.
    pub fn diverging(self) -> bool {
        !matches!(self, TokenValue::RolloutLogProb | TokenValue::TrainLogProb)
    }

    /// This value for every token the sample has it for (may be shorter or longer than the
    /// token list; the caller shows the mismatch), or `None` when the sample has none.
    pub fn series(self, d: &SampleDetail) -> Option<Vec<f32>> {
        let t = d.train.as_ref();
        let nonempty = |v: &Vec<f32>| (!v.is_empty()).then(|| v.clone());
        match self {
            TokenValue::RolloutLogProb => nonempty(&d.rollout_log_probs)
                .or_else(|| t.and_then(|t| nonempty(&t.rollout_log_probs))),
            TokenValue::TrainLogProb => t.and_then(|t| nonempty(&t.log_probs)),
            TokenValue::Advantage => t.and_then(|t| nonempty(&t.advantages)),
            TokenValue::Kl => t.and_then(|t| nonempty(&t.kl)),
            TokenValue::LogProbGap => {
                let t = t?;
                // The train side's own copy of the rollout log probs is what slime subtracts;
                // the rollout dump's is the fallback.
                let rollout = if t.rollout_log_probs.is_empty() {
                    &d.rollout_log_probs
                } else {
                    &t.rollout_log_probs
                };
                let n = t.log_probs.len().min(rollout.len());
                (n > 0).then(|| (0..n).map(|i| t.log_probs[i] - rollout[i]).collect())
            }
        }
    }
}

/// The values a sample offers, in menu order.
pub fn available_values(d: &SampleDetail) -> Vec<TokenValue> {
    TokenValue::ALL
        .into_iter()
        .filter(|v| v.series(d).is_some())
        .collect()
}

/// How many response tokens the token view shows: the pieces when decoded, else the ids,
/// else the longest value series (a dump without ids still has one value per token).
pub fn token_count(d: &SampleDetail) -> usize {
    if let Some(p) = &d.pieces {
        return p.len();
    }
    if !d.tokens.is_empty() {
        return d.tokens.len();
    }
    TokenValue::ALL
        .into_iter()
        .filter_map(|v| v.series(d).map(|s| s.len()))
        .max()
        .unwrap_or(0)
}

/// Whether response token `i` is tool output (not trained on): `loss_mask` 0, from the
/// rollout dump, else from the train side.
pub fn is_tool(d: &SampleDetail, i: usize) -> bool {
    if let Some(&m) = d.loss_mask.get(i) {
        return m == 0;
    }
    d.train
        .as_ref()
        .and_then(|t| t.loss_masks.get(i))
        .is_some_and(|&m| m == 0)
}

/// The colour scale of one series: finite min and max, and for a diverging value the
/// largest magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub min: f32,
    pub max: f32,
    pub diverging: bool,
}

impl Scale {
    pub fn of(values: &[f32], diverging: bool) -> Option<Scale> {
        let mut it = values.iter().copied().filter(|x| x.is_finite());
        let first = it.next()?;
        let (min, max) = it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x)));
        Some(Scale {
            min,
            max,
            diverging,
        })
    }

    /// A CSS background colour for `v`: diverging — red below 0, blue above, opacity by
    /// magnitude; one-sided (log probs) — red, stronger the lower `v` is. Non-finite: none.
    pub fn color(&self, v: f32) -> Option<String> {
        if !v.is_finite() {
            return None;
        }
        if self.diverging {
            let m = self.min.abs().max(self.max.abs());
            if m == 0.0 {
                return None;
            }
            let a = (v.abs() / m).clamp(0.0, 1.0) * 0.75;
            let hue = if v < 0.0 { 0 } else { 215 };
            Some(format!("hsla({hue},85%,50%,{a:.3})"))
        } else {
            let span = self.max - self.min;
            let a = if span > 0.0 {
                ((self.max - v) / span).clamp(0.0, 1.0) * 0.75
            } else {
                0.0
            };
            Some(format!("hsla(0,85%,50%,{a:.3})"))
        }
    }
}

/// Token text for a tooltip: spaces, newlines and tabs made visible, other control
/// characters as `\u{..}` escapes.
pub fn visible_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' => out.push('␣'),
            '\n' => out.push('↵'),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('⇥'),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The response cut into runs of tool output and model output, as byte ranges of
/// `d.response`, from the pieces and the loss mask. `None` when the pieces do not tile the
/// response exactly (each piece's text at its place): the response is then shown plain,
/// never split wrongly.
pub fn tool_segments(d: &SampleDetail) -> Option<Vec<(usize, usize, bool)>> {
    let pieces = d.pieces.as_ref()?;
    // Byte offset of each char boundary: pieces count chars, slicing needs bytes.
    let mut bounds: Vec<usize> = d.response.char_indices().map(|(b, _)| b).collect();
    bounds.push(d.response.len());
    let mut out: Vec<(usize, usize, bool)> = Vec::new();
    let mut at = 0;
    for (i, p) in pieces.iter().enumerate() {
        if p.start != at || p.end < p.start {
            return None;
        }
        let (b0, b1) = (*bounds.get(p.start)?, *bounds.get(p.end)?);
        if d.response.get(b0..b1)? != p.text {
            return None;
        }
        at = p.end;
        if b1 == b0 {
            continue;
        }
        let tool = is_tool(d, i);
        match out.last_mut() {
            Some(last) if last.2 == tool => last.1 = b1,
            _ => out.push((b0, b1, tool)),
        }
    }
    (at + 1 == bounds.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trace::run::{TokenPiece, TrainFields, TrainTokens};

    fn row(pos: usize, group: J, status: &str, reward: Option<f64>) -> SampleRow {
        SampleRow {
            position: pos,
            index: json!(pos),
            group_index: group,
            status: Some(status.into()),
            reward,
            response_length: Some(10.0 * pos as f64),
            ..Default::default()
        }
    }

    fn step() -> StepData {
        let rows = vec![
            row(0, json!(0), "completed", Some(1.0)),
            row(1, json!(0), "completed", Some(1.0)),
            row(2, json!(1), "truncated", Some(0.0)),
            row(3, json!(1), "completed", Some(1.0)),
            row(4, json!(2), "aborted", None),
        ];
        StepData {
            rows,
            responses: vec![
                "The answer is 4".into(),
                "the ANSWER, the answer".into(),
                "no idea".into(),
                "<script>alert(1)</script>".into(),
                String::new(),
            ],
            ..Default::default()
        }
    }

    fn positions(s: &StepData, v: &View) -> Vec<usize> {
        v.order.iter().map(|&i| s.rows[i].position).collect()
    }

    #[test]
    fn sort_by_reward_both_ways_missing_last_ties_in_dump_order() {
        let s = step();
        let idx = SearchIndex::new(&s);
        let f = Filter::default();
        let asc = view(&s, &idx, &f, Some((&Column::Reward, false)));
        assert_eq!(positions(&s, &asc), vec![2, 0, 1, 3, 4]);
        let desc = view(&s, &idx, &f, Some((&Column::Reward, true)));
        assert_eq!(positions(&s, &desc), vec![0, 1, 3, 2, 4]);
        let by_status = view(&s, &idx, &f, Some((&Column::Status, false)));
        assert_eq!(positions(&s, &by_status), vec![4, 0, 1, 3, 2]);
    }

    #[test]
    fn text_search_is_case_insensitive_and_counts_rows_and_hits() {
        let s = step();
        let idx = SearchIndex::new(&s);
        let f = Filter {
            text: "Answer".into(),
            ..Default::default()
        };
        let v = view(&s, &idx, &f, None);
        assert_eq!(positions(&s, &v), vec![0, 1]);
        assert_eq!((v.text_rows, v.text_hits), (2, 3));
        let f = Filter {
            text: "<SCRIPT>".into(),
            ..Default::default()
        };
        assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![3]);
    }

    #[test]
    fn status_group_and_reward_filters_combine() {
        let s = step();
        let idx = SearchIndex::new(&s);
        let mut f = Filter {
            status: Some("completed".into()),
            ..Default::default()
        };
        assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![0, 1, 3]);
        f.group = " 1 ".into();
        assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![3]);
        f = Filter {
            reward: RewardFilter::parse("= 0").unwrap(),
            ..Default::default()
        };
        assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![2]);
        f.reward = RewardFilter::parse("0.5..").unwrap();
        assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![0, 1, 3]);
    }

    #[test]
    fn reward_filter_syntax() {
        assert_eq!(RewardFilter::parse("  ").unwrap(), RewardFilter::Any);
        assert_eq!(RewardFilter::parse("1").unwrap(), RewardFilter::Eq(1.0));
        assert_eq!(RewardFilter::parse("==0.5").unwrap(), RewardFilter::Eq(0.5));
        assert_eq!(
            RewardFilter::parse("..0").unwrap(),
            RewardFilter::Range {
                min: None,
                max: Some(0.0)
            }
        );
        assert_eq!(
            RewardFilter::parse(">= -1").unwrap(),
            RewardFilter::Range {
                min: Some(-1.0),
                max: None
            }
        );
        let e = RewardFilter::parse("high").unwrap_err();
        assert!(e.contains("\"high\"") && e.contains("range"), "{e}");
        assert!(RewardFilter::parse("1..x").unwrap_err().contains("\"x\""));
        assert!(RewardFilter::parse("nan").is_err());
        // A float32 reward (0.3 read back as 0.30000001192…) equals "= 0.3"; 0.31 does not.
        assert!(RewardFilter::Eq(0.3).matches(Some(f64::from(0.3f32))));
        assert!(!RewardFilter::Eq(0.3).matches(Some(0.31)));
        assert!(!RewardFilter::Eq(0.0).matches(None));
    }

    #[test]
    fn groups_keep_whole_group_stats_and_mark_zero_std() {
        let s = step();
        let idx = SearchIndex::new(&s);
        let f = Filter {
            status: Some("completed".into()),
            ..Default::default()
        };
        let v = view(&s, &idx, &f, None);
        let g = groups(&s.rows, &v.order);
        assert_eq!(g.len(), 2, "group 2 has no completed row");
        assert_eq!(
            (g[0].key.as_str(), g[0].size, g[0].zero_std),
            ("0", 2, true)
        );
        assert_eq!(g[0].members, vec![0, 1]);
        assert_eq!(g[0].std, Some(0.0));
        // Group 1 is filtered down to one row but its statistics are the whole group's.
        assert_eq!(
            (g[1].key.as_str(), g[1].size, g[1].members.len()),
            ("1", 2, 1)
        );
        assert_eq!((g[1].mean, g[1].std), (Some(0.5), Some(0.5)));
        assert!(!g[1].zero_std);
        let mut rows = s.rows.clone();
        for r in &mut rows {
            r.group_index = J::Null;
            r.reward = Some(1.0);
        }
        let all: Vec<usize> = (0..rows.len()).collect();
        let g = groups(&rows, &all);
        assert_eq!((g.len(), g[0].key.as_str(), g[0].zero_std), (1, "—", false));
    }

    #[test]
    fn columns_expand_dict_rewards_and_show_train_only_when_present() {
        let mut s = step();
        assert!(!columns(&s.rows).contains(&Column::AdvantageMean));
        s.rows[1].reward_fields = vec![("score".into(), json!(1.0)), ("acc".into(), json!(true))];
        s.rows[2].reward_fields = vec![("pred".into(), json!("4")), ("score".into(), json!(0.0))];
        s.rows[3].train = Some(TrainFields {
            advantage_mean: Some(0.5),
            ..Default::default()
        });
        let cols = columns(&s.rows);
        let fields: Vec<String> = cols
            .iter()
            .filter_map(|c| match c {
                Column::RewardField(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(fields, ["score", "acc", "pred"]);
        assert!(cols.contains(&Column::AdvantageMean));
        assert!(!cols.contains(&Column::KlMean));
        let idx = SearchIndex::new(&s);
        let v = view(
            &s,
            &idx,
            &Filter::default(),
            Some((&Column::RewardField("pred".into()), false)),
        );
        assert_eq!(positions(&s, &v)[0], 2);
    }

    #[test]
    fn ten_thousand_rows_filter_and_sort_quickly() {
        // Bound: 10 000 rows × 500-char responses, 20 filter+sort passes in < 5 s (a
        // quadratic sort or a per-keystroke lowercase copy would blow it).
        let n = 10_000;
        let s = StepData {
            rows: (0..n)
                .map(|i| row(i, json!(i / 8), "completed", Some((i % 7) as f64)))
                .collect(),
            responses: (0..n).map(|i| format!("{}{i}", "x".repeat(500))).collect(),
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let idx = SearchIndex::new(&s);
        let mut shown = 0;
        for k in 0..20 {
            let f = Filter {
                text: format!("x{k}"),
                ..Default::default()
            };
            let v = view(&s, &idx, &f, Some((&Column::Reward, k % 2 == 0)));
            shown += v.order.len();
            let _ = groups(&s.rows, &v.order);
        }
        assert!(shown > 0);
        assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
    }

    fn detail() -> SampleDetail {
        let response = "ab\n<out>é</out>".to_string();
        let cuts = [(0, 2), (2, 3), (3, 8), (8, 9), (9, 15)];
        let chars: Vec<char> = response.chars().collect();
        let pieces = cuts
            .iter()
            .enumerate()
            .map(|(i, &(s, e))| TokenPiece {
                id: i as u32,
                text: chars[s..e].iter().collect(),
                start: s,
                end: e,
            })
            .collect();
        SampleDetail {
            response,
            tokens: vec![0, 1, 2, 3, 4],
            loss_mask: vec![1, 1, 0, 0, 0],
            rollout_log_probs: vec![-0.1, -2.0, 0.0, 0.0, 0.0],
            pieces: Some(pieces),
            train: Some(TrainTokens {
                log_probs: vec![-0.2, -1.5, 0.0, 0.0, 0.0],
                rollout_log_probs: vec![-0.1, -2.0, 0.0, 0.0, 0.0],
                advantages: vec![0.5; 5],
                kl: vec![],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn tool_segments_follow_the_loss_mask_in_bytes() {
        let d = detail();
        let seg = tool_segments(&d).unwrap();
        assert_eq!(seg, vec![(0, 3, false), (3, d.response.len(), true)]);
        assert_eq!(&d.response[3..], "<out>é</out>");
        // Pieces that do not spell the response: no split at all.
        let mut bad = d.clone();
        bad.pieces.as_mut().unwrap()[1].text = "X".into();
        assert_eq!(tool_segments(&bad), None);
        let mut short = d.clone();
        short.pieces.as_mut().unwrap().pop();
        assert_eq!(tool_segments(&short), None);
        let mut none = d;
        none.pieces = None;
        assert_eq!(tool_segments(&none), None);
    }

    #[test]
    fn token_values_offered_only_when_present() {
        let d = detail();
        assert_eq!(
            available_values(&d),
            vec![
                TokenValue::RolloutLogProb,
                TokenValue::TrainLogProb,
                TokenValue::Advantage,
                TokenValue::LogProbGap
            ]
        );
        let gap = TokenValue::LogProbGap.series(&d).unwrap();
        assert!((gap[0] + 0.1).abs() < 1e-6 && (gap[1] - 0.5).abs() < 1e-6);
        assert_eq!(token_count(&d), 5);
        let mut bare = d.clone();
        bare.pieces = None;
        bare.tokens.clear();
        bare.train = None;
        assert_eq!(available_values(&bare), vec![TokenValue::RolloutLogProb]);
        assert_eq!(token_count(&bare), 5, "one cell per rollout log prob");
        assert!(is_tool(&d, 2) && !is_tool(&d, 1) && !is_tool(&d, 99));
    }

    #[test]
    fn colour_scales() {
        let lp = Scale::of(&[-3.0, f32::NAN, -0.5, 0.0], false).unwrap();
        assert_eq!((lp.min, lp.max), (-3.0, 0.0));
        assert_eq!(lp.color(-3.0).unwrap(), "hsla(0,85%,50%,0.750)");
        assert_eq!(lp.color(0.0).unwrap(), "hsla(0,85%,50%,0.000)");
        assert_eq!(lp.color(f32::NAN), None);
        let adv = Scale::of(&[-1.0, 2.0], true).unwrap();
        assert_eq!(adv.color(2.0).unwrap(), "hsla(215,85%,50%,0.750)");
        assert_eq!(adv.color(-1.0).unwrap(), "hsla(0,85%,50%,0.375)");
        assert_eq!(Scale::of(&[f32::NAN], true), None);
        assert_eq!(visible_ws(" a\n\t\u{1}"), "␣a↵⇥\\u{1}");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(-0.8660239577293396), "-0.8660");
        assert_eq!(fmt_num(227.71), "227.7");
        assert_eq!(fmt_num(1.5e-7), "1.500e-7");
        assert_eq!(fmt_opt(None), "—");
    }
}
