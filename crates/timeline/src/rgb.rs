//! Span colours as RGB bytes, for pictures painted pixel by pixel (the overview strips): the
//! same colours as the CSS strings of `color_for` and `pd_color`.

use crate::{pd_color, NameHue};

/// `hsl(h s% l%)` as CSS converts it to sRGB bytes.
pub fn hsl_rgb(h: f64, s: f64, l: f64) -> [u8; 3] {
    let (s, l) = (s / 100.0, l / 100.0);
    let a = s * l.min(1.0 - l);
    let f = |n: f64| {
        let k = (n + h / 30.0) % 12.0;
        let v = l - a * (k - 3.0).min(9.0 - k).clamp(-1.0, 1.0);
        (v * 255.0).round().clamp(0.0, 255.0) as u8
    };
    [f(0.0), f(8.0), f(4.0)]
}

/// `#rrggbb` as bytes (`None` for anything else).
pub fn hex_rgb(hex: &str) -> Option<[u8; 3]> {
    let h = hex.strip_prefix('#').filter(|h| h.len() == 6)?;
    let byte = |i: usize| u8::from_str_radix(h.get(i..i + 2)?, 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// A span's colour (its PD phase colour, else the stable hue of its name) as bytes.
pub fn span_rgb(name: &str, dark: bool) -> [u8; 3] {
    if let Some(rgb) = pd_color(name).and_then(hex_rgb) {
        return rgb;
    }
    let (h, s, l) = NameHue::of(name, dark).hsl();
    hsl_rgb(h as f64, s as f64, l as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_conversions() {
        assert_eq!(hsl_rgb(0.0, 100.0, 50.0), [255, 0, 0]);
        assert_eq!(hsl_rgb(120.0, 100.0, 25.0), [0, 128, 0]);
        assert_eq!(hsl_rgb(240.0, 100.0, 50.0), [0, 0, 255]);
        assert_eq!(hsl_rgb(60.0, 50.0, 75.0), [223, 223, 159]);
        assert_eq!(hsl_rgb(0.0, 0.0, 100.0), [255, 255, 255]);
        assert_eq!(hex_rgb("#4e79a7"), Some([0x4e, 0x79, 0xa7]));
        assert_eq!(hex_rgb("4e79a7"), None);
        assert_eq!(hex_rgb("#4e79a"), None);
    }

    /// The bytes are the CSS string's colour: the same hue, saturation and lightness as
    /// `color_for` writes, and the PD colours' hex.
    #[test]
    fn span_rgb_is_the_css_colour() {
        for (name, dark) in [
            ("sglang_generate", false),
            ("tool_call", true),
            ("x", false),
        ] {
            let css = crate::color_for(name, dark);
            let nums: Vec<f64> = css
                .trim_start_matches("hsl(")
                .trim_end_matches(')')
                .split(' ')
                .map(|p| p.trim_end_matches('%').parse().unwrap())
                .collect();
            assert_eq!(
                span_rgb(name, dark),
                hsl_rgb(nums[0], nums[1], nums[2]),
                "{css}"
            );
        }
        let pd = crate::pd_color("pd_prefill_forward_duration").unwrap();
        assert_eq!(
            Some(span_rgb("pd_prefill_forward_duration", false)),
            hex_rgb(pd)
        );
    }
}
