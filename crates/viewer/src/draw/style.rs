//! Colours and the canvas fill state: the two palettes, span and point colours made once
//! per name, and the pen that sets a colour or an alpha only when it changes.

use timeline::{color_for, pd_color, Inks};
use web_sys::CanvasRenderingContext2d as Ctx;

use crate::rows::{Loaded, Same};

pub(super) struct Palette {
    pub(super) bg: &'static str,
    pub(super) stripe: &'static str,
    pub(super) text: &'static str,
    pub(super) muted: &'static str,
    pub(super) grid: &'static str,
    pub(super) cursor: &'static str,
    pub(super) select: &'static str,
}

pub(super) const LIGHT: Palette = Palette {
    bg: "#ffffff",
    stripe: "#f5f7fa",
    text: "#1f2328",
    muted: "#6e7781",
    grid: "#e4e8ee",
    cursor: "#d1242f",
    select: "#0969da",
};
pub(super) const DARK: Palette = Palette {
    bg: "#0d1117",
    stripe: "#151b23",
    text: "#e6edf3",
    muted: "#8d96a0",
    grid: "#262c36",
    cursor: "#ff7b72",
    select: "#58a6ff",
};

/// A span's colour: its PD phase colour, else a stable hue of its name.
pub fn span_color(name: &str, dark: bool) -> String {
    pd_color(name)
        .map(str::to_string)
        .unwrap_or_else(|| color_for(name, dark))
}

/// The fill colour and alpha last set on the context while drawing a lane's spans: a canvas
/// call is made only on a change (a zoomed-out row draws hundreds of spans, mostly at full
/// alpha and in a few colours, and each call crosses into the browser). Colours go to the
/// canvas as JS strings made once each (`inks`): a `&str` argument is decoded from UTF-8 at
/// every call, and the thousands of fill changes of a zoomed-out frame spent more time
/// decoding than drawing.
pub(super) struct Pen {
    /// Where the fill colour is in `inks` (`usize::MAX`: not known).
    fill: usize,
    /// NaN: not known.
    alpha: f64,
    inks: Inks<wasm_bindgen::JsValue>,
}

impl Default for Pen {
    fn default() -> Pen {
        Pen {
            fill: usize::MAX,
            alpha: f64::NAN,
            inks: Inks::default(),
        }
    }
}

impl Pen {
    /// Forgets the state (something else drew meanwhile).
    pub(super) fn reset(&mut self) {
        self.fill = usize::MAX;
        self.alpha = f64::NAN;
    }

    /// Whether the context's fill is already `color` at alpha `a`.
    pub(super) fn holds(&self, color: &str, a: f64) -> bool {
        self.inks.at(self.fill).is_some_and(|(c, _)| c == color) && self.alpha == a
    }

    #[allow(deprecated)] // `set_fill_style(&JsValue)`: the one setter that takes a JS string.
    pub(super) fn fill(&mut self, ctx: &Ctx, color: &str) {
        if self.inks.at(self.fill).is_none_or(|(c, _)| c != color) {
            self.fill = self.inks.find(color, |c| c.into());
            if let Some((_, ink)) = self.inks.at(self.fill) {
                ctx.set_fill_style(ink);
            }
        }
    }

    pub(super) fn alpha(&mut self, ctx: &Ctx, a: f64) {
        if self.alpha != a {
            ctx.set_global_alpha(a);
            self.alpha = a;
        }
    }
}

/// CSS colours of names, made once per name (for a file and a theme) instead of a string
/// formatted per span per frame.
#[derive(Default)]
pub(super) struct Colors {
    /// The file (held weakly: another file cannot take its address) and theme the colours
    /// are for.
    of: Same<Loaded>,
    dark: bool,
    /// By name id: the span colour (`span_color`) and the point colour (`color_for`).
    css: Vec<Option<(String, String)>>,
}

impl Colors {
    pub(super) fn begin(&mut self, d: &std::sync::Arc<Loaded>, dark: bool) {
        if !self.of.is(d) || dark != self.dark {
            self.of.set(d);
            self.dark = dark;
            self.css.clear();
        }
    }

    fn pair(&mut self, d: &Loaded, name: u32) -> &(String, String) {
        let i = name as usize;
        if self.css.len() <= i {
            self.css.resize(i + 1, None);
        }
        let dark = self.dark;
        self.css[i].get_or_insert_with(|| {
            let text = d.name_of(name);
            (span_color(text, dark), color_for(text, dark))
        })
    }

    /// A span of name `name`.
    pub(super) fn span(&mut self, d: &Loaded, name: u32) -> &str {
        &self.pair(d, name).0
    }

    /// A point event of name `name`.
    pub(super) fn point(&mut self, d: &Loaded, name: u32) -> &str {
        &self.pair(d, name).1
    }
}
