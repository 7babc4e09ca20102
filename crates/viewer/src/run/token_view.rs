//! The token view's logic without the DOM: which per-token values a sample has, their
//! series and colour scales, which tokens are tool output, and whitespace made visible.
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
mod tests;
