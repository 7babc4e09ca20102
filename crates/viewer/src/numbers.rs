//! Numbers as text, one formatter per purpose (plain Rust, tested natively):
//! [`compact`] where space is short (chart ticks and labels, the rollout table, comparisons:
//! three significant digits) and [`precise`] where one value is read on its own (the sample
//! table's cells, the inspector, the timeline's metrics panel and legend: four significant
//! digits). Both write integers as integers, keep non-finite values readable (`NaN`, `inf`)
//! and use an exponent only far from everyday sizes. A missing value is [`MISSING`].

/// What a missing value shows as.
pub const MISSING: &str = "—";

/// Three significant digits, no exponent for everyday sizes (`227.7`, `0.458`, `24`).
pub fn compact(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if (x.fract() == 0.0 && a < 1e15) || a >= 1000.0 {
        // Counts, ids and round ticks: no decimals.
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.001 {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

/// [`compact`], or [`MISSING`].
pub fn compact_opt(x: Option<f64>) -> String {
    x.map_or_else(|| MISSING.into(), compact)
}

/// Integers as integers, else four significant digits (`-0.8660`, `227.7`, `1.500e-7`).
pub fn precise(x: f64) -> String {
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

/// [`precise`], or [`MISSING`].
pub fn precise_opt(x: Option<f64>) -> String {
    x.map_or_else(|| MISSING.into(), precise)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_three_digits() {
        assert_eq!(compact(227.68039), "227.7");
        assert_eq!(compact(0.45833), "0.458");
        assert_eq!(compact(24.0), "24");
        assert_eq!(compact(-0.0), "0");
        assert_eq!(compact(1234.5), "1234");
        assert_eq!(compact(2.5_f64.sqrt()), "1.58");
        assert_eq!(compact(0.000_12), "1.20e-4");
        assert_eq!(compact(f64::NAN), "NaN");
        assert_eq!(compact_opt(None), "—");
    }

    #[test]
    fn precise_keeps_four_digits() {
        assert_eq!(precise(3.0), "3");
        assert_eq!(precise(-0.8660239577293396), "-0.8660");
        assert_eq!(precise(227.71), "227.7");
        assert_eq!(precise(12.3456), "12.35");
        assert_eq!(precise(1.5e-7), "1.500e-7");
        assert_eq!(precise(2.5e7), "25000000");
        assert_eq!(precise(f64::INFINITY), "inf");
        assert_eq!(precise_opt(None), "—");
        assert_eq!(precise_opt(Some(0.5)), "0.5000");
    }
}
