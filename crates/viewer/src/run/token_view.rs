//! The token view's logic without the DOM: which per-token values a sample has, their
//! series and colour scales, which tokens the loss mask leaves out (tool output), which
//! prompt tokens are drawn, and whitespace made visible.
//! Plain Rust, compiled and tested natively (`tokens.rs` and `inspector.rs` render it).

use trace::run::SampleDetail;

/// A per-token value the token view can colour by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenValue {
    RolloutLogProb,
    TrainLogProb,
    Advantage,
    Kl,
    LogProbGap,
    /// The train dump's other per-token series, by their key (slime's names).
    RefLogProb,
    Entropy,
    Value,
    TeacherLogProb,
    OpdReverseKl,
    /// train − reference log prob.
    RefGap,
}

impl TokenValue {
    pub const ALL: [TokenValue; 11] = [
        TokenValue::RolloutLogProb,
        TokenValue::TrainLogProb,
        TokenValue::Advantage,
        TokenValue::Kl,
        TokenValue::LogProbGap,
        TokenValue::RefLogProb,
        TokenValue::Entropy,
        TokenValue::Value,
        TokenValue::TeacherLogProb,
        TokenValue::OpdReverseKl,
        TokenValue::RefGap,
    ];

    /// The train dump's key for a series held in `TrainTokens::other`.
    fn other_key(self) -> Option<&'static str> {
        Some(match self {
            TokenValue::RefLogProb => "ref_log_probs",
            TokenValue::Entropy => "entropy",
            TokenValue::Value => "values",
            TokenValue::TeacherLogProb => "teacher_log_probs",
            TokenValue::OpdReverseKl => "opd_reverse_kl",
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            TokenValue::RolloutLogProb => "rollout_log_prob",
            TokenValue::TrainLogProb => "train_log_prob",
            TokenValue::Advantage => "advantage",
            TokenValue::Kl => "kl",
            TokenValue::LogProbGap => "logprob_gap",
            TokenValue::RefLogProb => "ref_log_prob",
            TokenValue::Entropy => "entropy",
            TokenValue::Value => "value",
            TokenValue::TeacherLogProb => "teacher_log_prob",
            TokenValue::OpdReverseKl => "opd_reverse_kl",
            TokenValue::RefGap => "ref_gap",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            TokenValue::RolloutLogProb => "rollout log prob",
            TokenValue::TrainLogProb => "train log prob",
            TokenValue::Advantage => "advantage",
            TokenValue::Kl => "KL",
            TokenValue::LogProbGap => "train − rollout log prob",
            TokenValue::RefLogProb => "reference log prob",
            TokenValue::Entropy => "entropy",
            TokenValue::Value => "value",
            TokenValue::TeacherLogProb => "teacher log prob",
            TokenValue::OpdReverseKl => "OPD reverse KL",
            TokenValue::RefGap => "train − reference log prob",
        }
    }

    pub fn from_key(k: &str) -> Option<TokenValue> {
        TokenValue::ALL.into_iter().find(|v| v.key() == k)
    }

    /// Signed values (0 is neutral) get a two-sided scale; log probs a one-sided one.
    pub fn diverging(self) -> bool {
        !matches!(
            self,
            TokenValue::RolloutLogProb
                | TokenValue::TrainLogProb
                | TokenValue::RefLogProb
                | TokenValue::TeacherLogProb
                | TokenValue::Entropy
        )
    }

    /// The series as stored in the detail, without a copy (`None` for the gaps, which are
    /// computed: [`TokenValue::series`]).
    pub fn slice(self, d: &SampleDetail) -> Option<&[f32]> {
        fn nonempty(v: &[f32]) -> Option<&[f32]> {
            (!v.is_empty()).then_some(v)
        }
        let t = d.train.as_ref();
        match self {
            TokenValue::RolloutLogProb => nonempty(&d.rollout_log_probs)
                .or_else(|| t.and_then(|t| nonempty(&t.rollout_log_probs))),
            TokenValue::TrainLogProb => t.and_then(|t| nonempty(&t.log_probs)),
            TokenValue::Advantage => t.and_then(|t| nonempty(&t.advantages)),
            TokenValue::Kl => t.and_then(|t| nonempty(&t.kl)),
            TokenValue::LogProbGap | TokenValue::RefGap => None,
            v => other(t?, v.other_key()?),
        }
    }

    /// The two sides of a gap: the train log probs and what slime subtracts from them (for
    /// the rollout gap the train side's own copy of the rollout log probs, the rollout
    /// dump's as the fallback; for the reference gap the reference log probs).
    fn gap_sides(self, d: &SampleDetail) -> Option<(&[f32], &[f32])> {
        let t = d.train.as_ref()?;
        let other_side = match self {
            TokenValue::RefGap => other(t, "ref_log_probs")?,
            _ if t.rollout_log_probs.is_empty() => &d.rollout_log_probs,
            _ => &t.rollout_log_probs,
        };
        Some((&t.log_probs, other_side))
    }

    /// How many values [`TokenValue::series`] would give, without making them (`None` when
    /// the sample has none).
    pub fn len(self, d: &SampleDetail) -> Option<usize> {
        match self {
            TokenValue::LogProbGap | TokenValue::RefGap => {
                let (train, rollout) = self.gap_sides(d)?;
                let n = train.len().min(rollout.len());
                (n > 0).then_some(n)
            }
            _ => self.slice(d).map(<[f32]>::len),
        }
    }

    /// This value for every token the sample has it for (may be shorter or longer than the
    /// token list; the caller shows the mismatch), or `None` when the sample has none.
    pub fn series(self, d: &SampleDetail) -> Option<Vec<f32>> {
        match self {
            TokenValue::LogProbGap | TokenValue::RefGap => {
                let (train, rollout) = self.gap_sides(d)?;
                let n = train.len().min(rollout.len());
                (n > 0).then(|| train.iter().zip(rollout).map(|(t, r)| t - r).collect())
            }
            _ => self.slice(d).map(<[f32]>::to_vec),
        }
    }
}

/// A non-empty series of the train dump's other per-token values, by key.
fn other<'a>(t: &'a trace::run::TrainTokens, key: &str) -> Option<&'a [f32]> {
    t.other
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_slice())
}

/// The values a sample offers, in menu order.
pub fn available_values(d: &SampleDetail) -> Vec<TokenValue> {
    TokenValue::ALL
        .into_iter()
        .filter(|v| v.len(d).is_some())
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
        .filter_map(|v| v.len(d))
        .max()
        .unwrap_or(0)
}

/// Whether the sample has a loss mask at all (the rollout dump's, else the train side's).
pub fn has_mask(d: &SampleDetail) -> bool {
    !d.loss_mask.is_empty() || d.train.as_ref().is_some_and(|t| !t.loss_masks.is_empty())
}

/// How many of the first `n` response tokens the loss mask leaves out of training (`None`
/// without a mask): the count the token view's legend states beside the hatched swatch.
pub fn masked_count(d: &SampleDetail, n: usize) -> Option<usize> {
    has_mask(d).then(|| (0..n).filter(|&i| is_tool(d, i)).count())
}

/// Whether response token `i` is masked out of the loss (not trained on; tool output in a
/// multi-turn sample): `loss_mask` 0, from the rollout dump, else from the train side.
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

/// Most tokens the strip (no tokenizer) draws one cell each; a longer series is drawn as a
/// summary of [`SUMMARY_COLUMNS`] columns instead, so any length costs the same to draw.
pub const MAX_STRIP_CELLS: usize = 4096;
/// Columns of a summarised strip: about one per pixel of a wide window.
pub const SUMMARY_COLUMNS: usize = 1024;
/// Tokens of text (with a tokenizer) rendered at first, and added by each "show more": a
/// 450 000-token response renders its first page at once, not all of it.
pub const TEXT_PAGE: usize = 4000;

/// One column of a summarised strip: tokens `start..end` and their values' finite min,
/// mean and max (`None` when none is finite), and how many are tool output.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub start: usize,
    pub end: usize,
    pub stats: Option<(f32, f32, f32)>,
    pub tool: usize,
}

/// `n` tokens in at most `columns` contiguous, non-empty buckets of near-equal size, with
/// the min/mean/max of `values` (which may be shorter than `n`) and the tool-output count
/// (`is_tool(i)`) of each. O(n) time, O(columns) memory.
pub fn summarize(
    values: &[f32],
    n: usize,
    columns: usize,
    is_tool: impl Fn(usize) -> bool,
) -> Vec<Bucket> {
    let columns = columns.min(n).max(1);
    if n == 0 {
        return Vec::new();
    }
    // u64: `n × columns` passes u32 for long series on wasm32.
    let edge = |c: usize| ((c as u64 * n as u64) / columns as u64) as usize;
    (0..columns)
        .map(|c| {
            let (start, end) = (edge(c), edge(c + 1));
            let mut sum = 0.0f64;
            let mut count = 0usize;
            let mut lo = f32::INFINITY;
            let mut hi = f32::NEG_INFINITY;
            for &x in values.get(start..end.min(values.len())).unwrap_or(&[]) {
                if x.is_finite() {
                    sum += f64::from(x);
                    count += 1;
                    lo = lo.min(x);
                    hi = hi.max(x);
                }
            }
            let stats = (count > 0).then(|| (lo, (sum / count as f64) as f32, hi));
            let tool = (start..end).filter(|&i| is_tool(i)).count();
            Bucket {
                start,
                end,
                stats,
                tool,
            }
        })
        .collect()
}

/// How the token view draws `n` tokens: every token as text (a tokenizer decoded them), one
/// cell per token, or a summary when there are more than [`MAX_STRIP_CELLS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Text,
    Cells,
    Summary,
}

impl Layout {
    pub fn of(n: usize, with_pieces: bool) -> Layout {
        if with_pieces {
            Layout::Text
        } else if n > MAX_STRIP_CELLS {
            Layout::Summary
        } else {
            Layout::Cells
        }
    }
}

/// Characters of a response rendered at first, and added by each "show more": laid out at
/// once, a 904 KB response of short words blocks the page for seconds.
pub const RESPONSE_PAGE: usize = 50_000;

/// The byte length of `text`'s first `pages` pages of [`RESPONSE_PAGE`] characters (at least
/// one page), and whether that is all of it.
pub fn response_shown(text: &str, pages: usize) -> (usize, bool) {
    let chars = pages.max(1).saturating_mul(RESPONSE_PAGE);
    match text.char_indices().nth(chars) {
        Some((at, _)) => (at, false),
        None => (text.len(), true),
    }
}

/// Prompt tokens drawn from each end of a longer prompt (a chat template's drift sits at its
/// start or at its end, where the generation prompt is); the middle is one note.
pub const PROMPT_EDGE: usize = 2000;

/// How many prompt tokens the sample has: decoded pieces, else ids.
pub fn prompt_count(d: &SampleDetail) -> usize {
    d.prompt_pieces
        .as_ref()
        .map_or(d.prompt_tokens.len(), Vec::len)
}

/// Which of `n` prompt tokens are drawn: all of a short prompt; of a longer one the first and
/// the last [`PROMPT_EDGE`] (the second range is empty when nothing is left out).
pub fn prompt_shown(n: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    if n <= 2 * PROMPT_EDGE {
        (0..n, n..n)
    } else {
        (0..PROMPT_EDGE, n - PROMPT_EDGE..n)
    }
}

/// How many of `n` tokens of text to show after `pages` pages (at least one page).
pub fn text_shown(n: usize, pages: usize) -> usize {
    n.min(pages.max(1).saturating_mul(TEXT_PAGE))
}

#[cfg(test)]
mod tests;
