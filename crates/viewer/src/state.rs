//! The app's state: every signal in one `Copy` struct, and what is derived from it (the
//! shown rows, their order and layout, legends). Parts receive a `State` and read or set it;
//! nothing here touches the DOM.

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use timeline::{layout, Viewport};
use trace::json::py_str;
use trace::{Item, Row};

use crate::draw::{name_text, rows_top, Track, LABEL_W};

/// A file whose rows are on screen.
pub struct Loaded {
    pub name: String,
    pub cache: trace::Cache,
    pub warnings: Vec<trace::Warning>,
    pub analysis: trace::metrics::Analysis,
    /// Counter tracks drawn above the rows.
    pub tracks: Vec<Track>,
}

/// The counters a rollout always has: requests in flight and completed tokens per second.
pub fn counter_tracks(a: &trace::metrics::Analysis) -> Vec<Track> {
    let mut out = Vec::new();
    if !a.in_flight.is_empty() {
        out.push(Track {
            name: "in-flight requests".into(),
            points: a.in_flight.iter().map(|&(t, n)| (t, n as f64)).collect(),
            color: "#0969da",
        });
    }
    if a.tokens_rate.iter().any(|p| p.1 > 0.0) {
        out.push(Track {
            name: "completed tokens/s".into(),
            points: a.tokens_rate.clone(),
            color: "#1a7f37",
        });
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    Idle,
    Loading,
    Ready,
    Error,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Loading => "loading",
            Phase::Ready => "ready",
            Phase::Error => "error",
        }
    }
}

/// What is loading, the detail line, and (done, total) when a determinate bar can be shown.
pub type ProgressLine = (String, String, Option<(f64, f64)>);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SideTab {
    Details,
    Metrics,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Start,
    Duration,
    Reward,
    Lanes,
    Open,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Start => "start",
            SortKey::Duration => "duration",
            SortKey::Reward => "reward",
            SortKey::Lanes => "lanes",
            SortKey::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        Some(match s {
            "start" => SortKey::Start,
            "duration" => SortKey::Duration,
            "reward" => SortKey::Reward,
            "lanes" => SortKey::Lanes,
            "open" => SortKey::Open,
            _ => return None,
        })
    }
}

pub fn row_matches(r: &Row, needle: &str) -> bool {
    [&r.sample_index, &r.source, &r.status, &r.label, &r.trace_id]
        .iter()
        .any(|v| py_str(v).to_lowercase().contains(needle))
}

/// Every signal of the app, and the memos derived from them. All fields are handles
/// (arena ids), so the struct is `Copy` and each closure can hold its own.
#[derive(Clone, Copy)]
pub struct State {
    pub phase: RwSignal<Phase>,
    pub data: RwSignal<Option<Arc<Loaded>>>,
    pub error: RwSignal<Option<String>>,
    pub progress: RwSignal<Option<ProgressLine>>,
    /// The URL the shown file came from (kept in the link), if it came from one.
    pub source_url: RwSignal<Option<String>>,
    pub compact: RwSignal<bool>,
    pub show_counters: RwSignal<bool>,
    pub side_tab: RwSignal<SideTab>,
    /// Rows whose expansion differs from the global collapsed/expanded mode (data indices).
    pub toggled: RwSignal<HashSet<usize>>,
    pub notice: RwSignal<Option<String>>,
    /// Whether the current file's first frame was drawn (see `dom::bench_hooks`).
    pub painted: StoredValue<bool>,
    pub warnings_open: RwSignal<bool>,
    pub filter: RwSignal<String>,
    pub sort: RwSignal<SortKey>,
    pub descending: RwSignal<bool>,
    pub expanded: RwSignal<bool>,
    pub lane_h: RwSignal<f64>,
    pub show_events: RwSignal<bool>,
    pub show_open: RwSignal<bool>,
    pub show_orphans: RwSignal<bool>,
    pub attempt: RwSignal<Option<i64>>,
    pub attempt_filter: RwSignal<bool>,
    pub view: RwSignal<Option<Viewport>>,
    pub scroll_y: RwSignal<f64>,
    /// (index into cache.rows, index into that row's items)
    pub selected: RwSignal<Option<(usize, usize)>>,
    pub cursor: RwSignal<Option<f64>>,
    pub hover: RwSignal<Option<(f64, f64, String)>>,
    pub size: RwSignal<(f64, f64)>,
    pub dark: RwSignal<bool>,
    pub dragging_file: RwSignal<bool>,
    pub canvas_ref: NodeRef<leptos::html::Canvas>,
    pub wrap_ref: NodeRef<leptos::html::Div>,
    // ---- derived ----
    /// Data indices of the rows shown, filtered and in display order.
    pub shown: Memo<Vec<usize>>,
    pub span_count: Memo<usize>,
    pub attempts: Memo<Vec<i64>>,
    pub legend: Memo<Vec<(String, usize)>>,
    /// Per shown row: expanded or not (global mode, flipped for rows toggled by their label).
    pub row_expanded: Memo<Vec<bool>>,
    /// The PD phases that occur in this file (as `[P]`/`[D]` attrs or `sglang_pd_*` spans).
    pub pd_legend: Memo<Vec<(&'static str, &'static str, &'static str)>>,
    /// Display lanes of every row ([P]/[D] lanes packed), computed once per file.
    pub all_lanes: Memo<Arc<Vec<timeline::RowLanes>>>,
    pub row_layout: Memo<timeline::Layout>,
}

impl State {
    pub fn new(dark: bool) -> State {
        let data: RwSignal<Option<Arc<Loaded>>> = RwSignal::new(None);
        let filter = RwSignal::new(String::new());
        let sort = RwSignal::new(SortKey::Start);
        let descending = RwSignal::new(false);
        let expanded = RwSignal::new(true);
        let toggled: RwSignal<HashSet<usize>> = RwSignal::new(Default::default());
        let lane_h = RwSignal::new(16.0f64);
        let attempt: RwSignal<Option<i64>> = RwSignal::new(None);
        let attempt_filter = RwSignal::new(false);
        let shown = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Vec::<usize>::new();
            };
            let needle = filter.get().to_lowercase();
            let att = attempt.get();
            let only_att = attempt_filter.get();
            let mut idx: Vec<usize> = d
                .cache
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| needle.is_empty() || row_matches(r, &needle))
                .filter(|(_, r)| {
                    !only_att || att.is_none_or(|a| r.items.iter().any(|i| i.attempt() == a))
                })
                .map(|(i, _)| i)
                .collect();
            let key = sort.get();
            let rows = &d.cache.rows;
            let value = |r: &Row| -> f64 {
                match key {
                    SortKey::Start => r.start,
                    SortKey::Duration => r.duration,
                    SortKey::Reward => r.reward.as_f64().unwrap_or(f64::NEG_INFINITY),
                    SortKey::Lanes => r.lane_count as f64,
                    SortKey::Open => r.open_span_count as f64,
                }
            };
            idx.sort_by(|&a, &b| value(&rows[a]).total_cmp(&value(&rows[b])).then(a.cmp(&b)));
            if descending.get() {
                idx.reverse();
            }
            idx
        });
        let span_count = Memo::new(move |_| {
            let Some(d) = data.get() else { return 0usize };
            shown
                .get()
                .iter()
                .map(|&i| d.cache.rows[i].closed_span_count + d.cache.rows[i].open_span_count)
                .sum()
        });
        let attempts = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Vec::<i64>::new();
            };
            let mut v: Vec<i64> = d
                .cache
                .rows
                .iter()
                .flat_map(|r| r.items.iter().map(Item::attempt))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        });
        let legend = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Vec::<(String, usize)>::new();
            };
            let mut counts: std::collections::HashMap<String, usize> = Default::default();
            for r in &d.cache.rows {
                for it in &r.items {
                    if matches!(it, Item::Span(_)) {
                        *counts.entry(name_text(it)).or_default() += 1;
                    }
                }
            }
            let mut v: Vec<(String, usize)> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(14);
            v
        });
        let row_expanded = Memo::new(move |_| {
            let ex = expanded.get();
            let t = toggled.get();
            shown
                .get()
                .iter()
                .map(|i| ex != t.contains(i))
                .collect::<Vec<bool>>()
        });
        let pd_legend = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Vec::new();
            };
            pd_phases_seen(&d.cache.rows)
        });
        let all_lanes = Memo::new(move |_| {
            data.get()
                .map(|d| {
                    Arc::new(
                        d.cache
                            .rows
                            .iter()
                            .map(timeline::row_lanes)
                            .collect::<Vec<_>>(),
                    )
                })
                .unwrap_or_default()
        });
        let row_layout = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return timeline::Layout::default();
            };
            let flags = row_expanded.get();
            let lanes = all_lanes.get();
            layout(
                shown.get().iter().zip(&flags).map(|(&i, &ex)| {
                    if ex {
                        // A row needs at most one lane per item: a lane count claimed by
                        // a crafted cache beyond that only makes an empty, endless row.
                        let row = &d.cache.rows[i];
                        let cap = u32::try_from(row.items.len().max(1)).unwrap_or(u32::MAX);
                        lanes.get(i).map_or(row.lane_count, |l| l.count).min(cap)
                    } else {
                        1
                    }
                }),
                lane_h.get(),
                3.0,
            )
        });
        State {
            phase: RwSignal::new(Phase::Idle),
            data,
            error: RwSignal::new(None),
            progress: RwSignal::new(None),
            source_url: RwSignal::new(None),
            compact: RwSignal::new(false),
            show_counters: RwSignal::new(true),
            side_tab: RwSignal::new(SideTab::Details),
            toggled,
            notice: RwSignal::new(None),
            painted: StoredValue::new(false),
            warnings_open: RwSignal::new(true),
            filter,
            sort,
            descending,
            expanded,
            lane_h,
            show_events: RwSignal::new(true),
            show_open: RwSignal::new(true),
            show_orphans: RwSignal::new(true),
            attempt,
            attempt_filter,
            view: RwSignal::new(None),
            scroll_y: RwSignal::new(0.0),
            selected: RwSignal::new(None),
            cursor: RwSignal::new(None),
            hover: RwSignal::new(None),
            size: RwSignal::new((800.0, 400.0)),
            dark: RwSignal::new(dark),
            dragging_file: RwSignal::new(false),
            canvas_ref: NodeRef::new(),
            wrap_ref: NodeRef::new(),
            shown,
            span_count,
            attempts,
            legend,
            row_expanded,
            pd_legend,
            all_lanes,
            row_layout,
        }
    }

    /// Tracks shown above the rows (none when switched off); tracked.
    pub fn track_count(&self) -> usize {
        if self.show_counters.get() {
            self.data.get().map(|d| d.tracks.len()).unwrap_or(0)
        } else {
            0
        }
    }

    /// Where rows begin on the canvas now (untracked).
    pub fn rows_top_now(&self) -> f64 {
        rows_top(if self.show_counters.get_untracked() {
            self.data
                .get_untracked()
                .map(|d| d.tracks.len())
                .unwrap_or(0)
        } else {
            0
        })
    }

    /// How far the rows can scroll (untracked).
    pub fn max_scroll(&self) -> f64 {
        (self.row_layout.get_untracked().total_height
            - (self.size.get_untracked().1 - self.rows_top_now())
            + 20.0)
            .max(0.0)
    }

    /// Width of the time axis in CSS pixels, at least `min` (untracked).
    pub fn plot_width(&self, min: f64) -> f64 {
        (self.size.get_untracked().0 - LABEL_W).max(min)
    }
}

/// The PD phases named by any span of `rows` (as end-attr keys or span names), in legend order.
fn pd_phases_seen(rows: &[Row]) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut seen = [false; timeline::PD_PHASES.len()];
    for r in rows {
        for it in &r.items {
            if let Item::Span(sp) = it {
                let keys = sp
                    .attrs
                    .end_attrs
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys());
                for k in keys
                    .map(String::as_str)
                    .chain(std::iter::once(name_text(it).as_str()))
                {
                    if let Some(p) = timeline::pd_phase(k) {
                        if let Some(i) = timeline::PD_PHASES.iter().position(|x| x.0 == p.0) {
                            seen[i] = true;
                        }
                    }
                }
            }
        }
    }
    timeline::PD_PHASES
        .iter()
        .zip(seen)
        .filter(|(_, s)| *s)
        .map(|(p, _)| *p)
        .collect()
}
