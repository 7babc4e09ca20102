//! Text cut to a width with "…" (row labels), remembered: measuring text is slow enough in a
//! software canvas that measuring every visible label every frame doubled the 295 MB dump's
//! own draw time.

use std::collections::HashMap;

use web_sys::CanvasRenderingContext2d as Ctx;

/// Texts already cut, by their full text: all at one font and width (the caller's). Cleared
/// past [`MAX_KEPT`], so scrolling through a million rows keeps it small.
#[derive(Default)]
pub(super) struct Fitted {
    cut: HashMap<String, String>,
}

/// Texts kept at most (a few screens of rows).
const MAX_KEPT: usize = 4096;

impl Fitted {
    /// `text` cut to `max_w` pixels (measured the first time it is asked for).
    pub(super) fn get<'a>(&'a mut self, ctx: &Ctx, text: &'a str, max_w: f64) -> &'a str {
        if !self.cut.contains_key(text) {
            if self.cut.len() >= MAX_KEPT {
                self.cut.clear();
            }
            let fitted = fit(ctx, text, max_w).into_owned();
            self.cut.insert(text.to_string(), fitted);
        }
        self.cut.get(text).map_or(text, String::as_str)
    }
}

/// `text`, cut with "…" to at most `max_w` pixels wide in the context's font.
fn fit<'a>(ctx: &Ctx, text: &'a str, max_w: f64) -> std::borrow::Cow<'a, str> {
    let width = |t: &str| ctx.measure_text(t).map_or(0.0, |m| m.width());
    if width(text) <= max_w {
        return text.into();
    }
    let cut = |n: usize| {
        let head: String = text.chars().take(n).collect();
        format!("{head}…")
    };
    // The most characters that fit before the "…".
    let (mut lo, mut hi) = (0, text.chars().count());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if width(&cut(mid)) <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    cut(lo).into()
}
