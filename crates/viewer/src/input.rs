//! Pointer, wheel, keyboard and file drop: hit tests and gestures turned into state changes.

use leptos::prelude::*;
use timeline::{hit_track, Layout, Viewport};
use wasm_bindgen::JsCast;

use crate::dom::window;
use crate::draw::LABEL_W;
use crate::panels::details::tooltip;
use crate::rows::Same;
use crate::state::{SideTab, State};
use crate::worker_client::Client;

#[derive(Clone, Copy)]
pub struct Input {
    st: State,
    client: Client,
    /// Where the button went down, and whether the pointer has moved enough to be a drag.
    drag: StoredValue<Option<(f64, f64, bool)>>,
    /// The rows' layout when zooming in ended the overview, and the time axis's span before
    /// that zoom. While it is still the layout (no toggle, filter, sort, lane height, file or
    /// mode changed it since), zooming out as far as that span shrinks the rows back into
    /// the overview: zooming out undoes zooming in, step for step.
    zoomed_out_of: StoredValue<Option<(Same<Layout>, f64)>>,
}

impl Input {
    pub fn new(st: State, client: Client) -> Input {
        Input {
            st,
            client,
            drag: StoredValue::new(None),
            zoomed_out_of: StoredValue::new(None),
        }
    }

    fn local_xy(&self, ev: &web_sys::MouseEvent) -> (f64, f64) {
        let Some(c) = self.st.canvas_ref.get_untracked() else {
            return (0.0, 0.0);
        };
        let r = c.get_bounding_client_rect();
        (
            ev.client_x() as f64 - r.left(),
            ev.client_y() as f64 - r.top(),
        )
    }

    /// The shown row at canvas y, as (display index, data index, content y).
    fn row_at(&self, y: f64) -> Option<(usize, usize, f64)> {
        let st = self.st;
        let content_y = y - st.rows_top_now() + st.scroll_y.get_untracked();
        let vi = st.row_layout.with_untracked(|l| l.row_at(content_y))?;
        let ri = st.shown.with_untracked(|s| s.get(vi).copied())?;
        Some((vi, ri, content_y))
    }

    /// The (row, item) under canvas point (x, y), if any (none on an overview strip).
    fn pick(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let st = self.st;
        let d = st.data.get_untracked()?;
        let mut v = st.view.get_untracked()?;
        v.width = st.plot_width(1.0);
        let (vi, ri, content_y) = self.row_at(y)?;
        let row = d.rows.get(ri)?;
        let ex = st
            .row_expanded
            .with_untracked(|f| f.get(vi).copied().unwrap_or(true));
        if st.overview.get_untracked().is_some() && !ex {
            return None;
        }
        let top = st.row_layout.with_untracked(|l| l.tops[vi]);
        let ii = hit_track(
            &row.data.track,
            row.lane_index(ex),
            &v,
            x - LABEL_W,
            content_y - top,
            st.lane_h.get_untracked(),
        )?;
        // In "filter" mode other attempts are hidden: nothing there to pick.
        let hidden = st.attempt_filter.get_untracked()
            && st
                .attempt
                .get_untracked()
                .is_some_and(|a| d.tables.attempts.get(row.data.attempt[ii] as usize) != Some(&a));
        (!hidden).then_some((ri, ii))
    }

    /// In the overview, zooming in grows the strips (about the pointer's row) until they are
    /// rows of their own: then the overview ends and the rows show (collapsed, unless the
    /// toolbar expanded them). Zooming out from there shrinks them back into the overview.
    fn grow_overview(&self, y: f64, factor: f64) {
        let st = self.st;
        let lane_h = st.lane_h.get_untracked();
        let n = st.shown.with_untracked(|s| s.len());
        let fit = st.overview_fit(n);
        let span = st.view.with_untracked(|v| v.map_or(0.0, |v| v.span()));
        let h = match st.overview.get_untracked() {
            Some(h) => h,
            // Back from rows a lane high (the height the overview ended at), once the time
            // axis is back where the zoom that ended it started (`span` is after this zoom;
            // times may be epoch seconds, hence the tolerance), if rows a lane high do not
            // fit already.
            None if factor < 1.0
                && fit < lane_h
                && self.zoomed_out_of.with_value(|o| {
                    o.as_ref().is_some_and(|(l, before)| {
                        span >= before * (1.0 - 1e-6)
                            && st.row_layout.with_untracked(|now| l.is(now))
                    })
                }) =>
            {
                lane_h
            }
            None => return,
        };
        let grown = (h * factor).max(fit);
        let band_y = y - st.rows_top_now();
        let total = st.row_layout.with_untracked(|l| l.total_height).max(1.0);
        let share = (band_y + st.scroll_y.get_untracked()) / total;
        let ended = grown >= lane_h;
        st.overview.set((!ended).then_some(grown));
        // (Ended by zooming in; not by zooming out when rows a lane high fit.) The memo
        // makes a new layout whenever what it is made of changes: holding this one's
        // allocation (not its rows) keeps another from being taken for it.
        self.zoomed_out_of
            .set_value((ended && factor > 1.0).then(|| {
                let mut same = Same::default();
                same.set(&st.row_layout.get_untracked());
                (same, span * factor)
            }));
        let total = st.row_layout.with_untracked(|l| l.total_height);
        // When every row fits, every row is shown (from the top).
        let scroll = if total <= st.band_height() {
            0.0
        } else {
            share * total - band_y
        };
        st.scroll_y.set(scroll.clamp(0.0, st.max_scroll()));
    }

    pub fn wheel(&self, ev: web_sys::WheelEvent) {
        let st = self.st;
        ev.prevent_default();
        let (x, _) = self.local_xy(&ev);
        if ev.shift_key() {
            st.scroll_y
                .update(|s| *s = (*s + ev.delta_y()).clamp(0.0, st.max_scroll()));
            return;
        }
        st.view.update(|v| {
            if let Some(v) = v {
                if ev.delta_x().abs() > ev.delta_y().abs() {
                    v.pan_px(-ev.delta_x());
                } else {
                    v.zoom_at(x - LABEL_W, (-ev.delta_y() * 0.002).exp());
                }
            }
        });
        if ev.delta_y().abs() >= ev.delta_x().abs() {
            let (_, y) = self.local_xy(&ev);
            self.grow_overview(y, (-ev.delta_y() * 0.002).exp());
        }
    }

    pub fn down(&self, ev: web_sys::MouseEvent) {
        let (x, y) = self.local_xy(&ev);
        self.drag.set_value(Some((x, y, false)));
    }

    pub fn moved(&self, ev: web_sys::MouseEvent) {
        let st = self.st;
        let (x, y) = self.local_xy(&ev);
        if let Some((px, py, _)) = self.drag.get_value() {
            if ev.buttons() & 1 == 1 {
                let (dx, dy) = (x - px, y - py);
                if dx.abs() + dy.abs() > 2.0 {
                    self.drag.set_value(Some((x, y, true)));
                    st.view.update(|v| {
                        if let Some(v) = v {
                            v.pan_px(dx);
                        }
                    });
                    st.scroll_y
                        .update(|s| *s = (*s - dy).clamp(0.0, st.max_scroll()));
                }
                return;
            }
        }
        st.hover.set(self.pick(x, y).and_then(|(ri, ii)| {
            let d = st.data.get_untracked()?;
            Some((x, y, tooltip(&d, ri, ii)?))
        }));
    }

    pub fn up(&self, ev: web_sys::MouseEvent) {
        let st = self.st;
        let (x, y) = self.local_xy(&ev);
        let dragged = self.drag.get_value().is_some_and(|d| d.2);
        self.drag.set_value(None);
        if dragged {
            return;
        }
        // A click on an overview strip opens that row.
        let on_strip = st.overview.get_untracked().is_some()
            && self.row_at(y).is_some_and(|(vi, _, _)| {
                !st.row_expanded
                    .with_untracked(|f| f.get(vi).copied().unwrap_or(false))
            });
        if x > LABEL_W && !on_strip {
            if let Some(v) = st.view.get_untracked() {
                let mut v = v;
                v.width = st.plot_width(1.0);
                st.cursor.set(Some(v.t(x - LABEL_W)));
            }
            st.selected.set(self.pick(x, y));
        } else {
            // Clicking a row label (or an overview strip) toggles that row between collapsed
            // and expanded view.
            if let Some((_, ri, _)) = self.row_at(y) {
                st.toggled.update(|t| {
                    if !t.remove(&ri) {
                        t.insert(ri);
                    }
                });
            }
        }
    }

    /// Fits the time axis to every row, or to the rows the filter shows.
    pub fn fit(&self, only_shown: bool) {
        let st = self.st;
        if let Some(d) = st.data.get_untracked() {
            let span = |i: usize| (d.heads[i].start, d.heads[i].end);
            let (a, b) = if only_shown {
                st.shown.with_untracked(|s| {
                    s.iter()
                        .map(|&i| span(i))
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (s, e)| {
                            (a.min(s), b.max(e))
                        })
                })
            } else {
                (0..d.heads.len())
                    .map(span)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (s, e)| {
                        (a.min(s), b.max(e))
                    })
            };
            if a.is_finite() && b.is_finite() {
                st.view.set(Some(Viewport::fit(a, b, st.plot_width(100.0))));
            }
        }
    }

    /// Selects a row's first item and scrolls it into view (clearing a filter that hides it).
    pub fn reveal(&self, ri: usize) {
        let st = self.st;
        if !st.shown.with_untracked(|s| s.contains(&ri)) {
            st.filter.set(String::new());
            st.attempt_filter.set(false);
        }
        let Some(vi) = st.shown.with_untracked(|s| s.iter().position(|&i| i == ri)) else {
            return;
        };
        // An overview strip has no items to select: open it.
        if st.overview.get_untracked().is_some() {
            st.toggled.update(|t| {
                t.insert(ri);
            });
        }
        st.selected.set(Some((ri, 0)));
        st.side_tab.set(SideTab::Details);
        let top = st.row_layout.with_untracked(|l| l.tops[vi]);
        let band = st.band_height();
        st.scroll_y
            .set((top - band / 3.0).clamp(0.0, st.max_scroll()));
    }

    /// W/S/A/D zoom and pan, ↑/↓ move the selection, Enter shows details, Esc clears.
    pub fn listen_keys(&self) {
        let st = self.st;
        let this = *self;
        let _keys =
            window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
                let tag = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .map(|e| e.tag_name())
                    .unwrap_or_default();
                if tag == "INPUT" || tag == "SELECT" || tag == "TEXTAREA" {
                    return;
                }
                let w = st.plot_width(1.0);
                match ev.key().as_str() {
                    "w" | "W" | "s" | "S" => {
                        let factor = if ev.key().eq_ignore_ascii_case("w") {
                            1.25
                        } else {
                            0.8
                        };
                        st.view.update(|v| {
                            if let Some(v) = v {
                                v.zoom_at(w / 2.0, factor)
                            }
                        });
                        this.grow_overview(st.rows_top_now() + st.band_height() / 2.0, factor);
                    }
                    "a" | "A" => st.view.update(|v| {
                        if let Some(v) = v {
                            v.pan_px(w * 0.1)
                        }
                    }),
                    "d" | "D" => st.view.update(|v| {
                        if let Some(v) = v {
                            v.pan_px(-w * 0.1)
                        }
                    }),
                    "Escape" => {
                        st.selected.set(None);
                        st.cursor.set(None);
                    }
                    "Enter" => {
                        if st.selected.get_untracked().is_none() {
                            if let Some(ri) = st.shown.with_untracked(|s| s.first().copied()) {
                                st.selected.set(Some((ri, 0)));
                            }
                        }
                        st.compact.set(false);
                        if let Some(el) = window()
                            .document()
                            .and_then(|d| d.query_selector("[data-testid=details]").ok().flatten())
                        {
                            el.scroll_into_view();
                        }
                    }
                    "ArrowDown" | "ArrowUp" => {
                        ev.prevent_default();
                        let idx = st.shown.get_untracked();
                        let idx = idx.as_slice();
                        let n = idx.len();
                        if n > 0 {
                            let cur = st
                                .selected
                                .get_untracked()
                                .and_then(|(ri, _)| idx.iter().position(|&i| i == ri));
                            let next = match (cur, ev.key().as_str()) {
                                (None, _) => 0,
                                (Some(i), "ArrowDown") => (i + 1).min(n - 1),
                                (Some(i), _) => i.saturating_sub(1),
                            };
                            st.selected.set(Some((idx[next], 0)));
                            let lay = st.row_layout.get_untracked();
                            let top = lay.tops[next];
                            let band = st.band_height();
                            let s = st.scroll_y.get_untracked();
                            if top < s || top + lay.heights[next] > s + band {
                                st.scroll_y
                                    .set((top - band / 3.0).clamp(0.0, st.max_scroll()));
                            }
                        }
                    }
                    _ => {}
                }
            });
    }

    /// A file dropped anywhere on the page.
    pub fn drop_file(&self, ev: web_sys::DragEvent) {
        ev.prevent_default();
        self.st.dragging_file.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|dt| dt.files())
            .and_then(|f| f.get(0))
        {
            crate::run::handoff::show_timeline(self.st);
            self.client.open_file(file);
        }
    }

    /// A file chosen with the Open… button.
    pub fn pick_file(&self, ev: leptos::ev::Event) {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            crate::run::handoff::show_timeline(self.st);
            self.client.open_file(file);
        }
        input.set_value("");
    }
}
