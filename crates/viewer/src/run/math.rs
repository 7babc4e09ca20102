//! The run explorer's arithmetic, apart from the DOM (so it is tested natively): names of
//! dumps, reading slime's metrics out of a summary, histogram bins and
//! chart scales.

use trace::run::{Dist, DumpKind, DumpRef, RolloutSummary};

/// Bins a histogram uses.
pub const BINS: usize = 12;

/// A dump as people name it: `2` for rollout 2, `eval 5` for the eval after rollout 5.
pub fn dump_label(d: &DumpRef) -> String {
    match d.kind {
        DumpKind::Train => d.rollout_id.to_string(),
        DumpKind::Eval => format!("eval {}", d.rollout_id),
    }
}

/// The link's name of a dump: `2`, `eval_5`.
pub fn dump_key(d: &DumpRef) -> String {
    match d.kind {
        DumpKind::Train => d.rollout_id.to_string(),
        DumpKind::Eval => format!("eval_{}", d.rollout_id),
    }
}

/// A number of a summary's metrics.
pub fn metric(s: &RolloutSummary, key: &str) -> Option<f64> {
    s.metrics
        .get(key)
        .and_then(|v| v.as_f64())
        .filter(|x| x.is_finite())
}

/// The range `[lo, hi]` covering every distribution given (`None` when all are empty).
pub fn range<'a>(dists: impl IntoIterator<Item = &'a Dist>) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for d in dists {
        if let (Some(a), Some(b)) = (d.points.first(), d.points.last()) {
            r = Some(match r {
                None => (*a, *b),
                Some((lo, hi)) => (lo.min(*a), hi.max(*b)),
            });
        }
    }
    r.map(|(lo, hi)| {
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        }
    })
}

/// The share of `d` in each of `BINS` equal bins over `[lo, hi]` (points beyond go to the
/// end bins). Each point stands for `count / points.len()` values: the points are every
/// value, or evenly spaced quantiles, so shares are right either way.
pub fn shares(d: &Dist, lo: f64, hi: f64) -> Vec<f64> {
    let mut out = vec![0.0; BINS];
    if d.points.is_empty() || hi <= lo {
        return out;
    }
    let w = 1.0 / d.points.len() as f64;
    for &x in &d.points {
        let b = (((x - lo) / (hi - lo)) * BINS as f64).floor();
        let b = (b.max(0.0) as usize).min(BINS - 1);
        out[b] += w;
    }
    out
}

/// An outline path over `shares` in a box `w × h` at (x0, y0), scaled so `top` is full height.
pub fn outline(shares: &[f64], top: f64, x0: f64, y0: f64, w: f64, h: f64) -> String {
    let n = shares.len().max(1) as f64;
    let y = |s: f64| y0 + h - if top > 0.0 { s / top * h } else { 0.0 };
    let mut d = format!("M{x0:.1},{:.1}", y0 + h);
    for (i, &s) in shares.iter().enumerate() {
        let (a, b) = (x0 + w * i as f64 / n, x0 + w * (i + 1) as f64 / n);
        d.push_str(&format!("L{a:.1},{:.1}L{b:.1},{:.1}", y(s), y(s)));
    }
    d.push_str(&format!("L{:.1},{:.1}Z", x0 + w, y0 + h));
    d
}

/// About `n` round tick values covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..=n * 2 + 2)
        .map(|i| first + step * i as f64)
        .take_while(|t| *t <= hi + step * 1e-9)
        .collect()
}

/// The median of the finite values given (`None` when there are none).
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace::run::DumpKind;

    #[test]
    fn shares_sum_to_one_and_fall_in_the_right_bins() {
        let d = Dist::of([0.0, 0.0, 0.0, 1.0]);
        let s = shares(&d, 0.0, 1.0);
        assert_eq!(s[0], 0.75);
        assert_eq!(s[BINS - 1], 0.25);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 1.0, 4), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(ticks(0.0, 230.0, 4), vec![0.0, 100.0, 200.0]);
        assert_eq!(ticks(5.0, 5.0, 4), vec![5.0]);
    }

    #[test]
    fn names_and_numbers() {
        let d = DumpRef {
            rollout_id: 5,
            kind: DumpKind::Eval,
            file: "rollout_data/eval_5.pt".into(),
            train_file: None,
        };
        assert_eq!(dump_label(&d), "eval 5");
        assert_eq!(dump_key(&d), "eval_5");
        assert_eq!(median([3.0, 1.0, f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn a_single_value_still_gets_a_range() {
        let d = Dist::of([3.0, 3.0]);
        assert_eq!(range([&d]), Some((2.5, 3.5)));
        assert_eq!(range([&Dist::default()]), None);
    }
}
