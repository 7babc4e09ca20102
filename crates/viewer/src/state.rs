//! The app's state: every signal in one `Copy` struct, and what is derived from it (the
//! shown rows, their order and layout, legends). Parts receive a `State` and read or set it;
//! nothing here touches the DOM. Derived lists are `Arc`s: a frame reads them without
//! copying anything per row.

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use timeline::{Layout, Viewport};

use crate::draw::{rows_top, Counter, LABEL_W};
use crate::protocol::ItemDetails;
pub use crate::rows::Loaded;

/// The counters a rollout always has: requests in flight and completed tokens per second.
pub fn counter_tracks(a: &trace::metrics::Analysis) -> Vec<Counter> {
    let mut out = Vec::new();
    if !a.in_flight.is_empty() {
        out.push(Counter::new(
            "in-flight requests".into(),
            a.in_flight.iter().map(|&(t, n)| (t, n as f64)).collect(),
            "#0969da",
        ));
    }
    if a.tokens_rate.iter().any(|p| p.1 > 0.0) {
        out.push(Counter::new(
            "completed tokens/s".into(),
            a.tokens_rate.clone(),
            "#1a7f37",
        ));
    }
    out
}

/// The selected item's details: asked of the worker, shown when they arrive.
#[derive(Clone, Debug, PartialEq)]
pub struct Details {
    /// (row, item) they are about, and the request's id (a later selection's answer wins).
    pub at: (usize, usize),
    pub id: u32,
    pub answer: Option<Result<Arc<ItemDetails>, String>>,
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

/// Every signal of the app, and the memos derived from them. All fields are handles
/// (arena ids), so the struct is `Copy` and each closure can hold its own.
#[derive(Clone, Copy)]
pub struct State {
    pub phase: RwSignal<Phase>,
    pub data: RwSignal<Option<Arc<Loaded>>>,
    /// Counter tracks drawn above the rows: the file's own, then imported series.
    pub counters: RwSignal<Arc<Vec<Counter>>>,
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
    /// The overview: `Some(h)` draws every row not toggled open as a strip `h` pixels high
    /// (coloured by what runs there); zooming in grows the strips until they are rows again.
    pub overview: RwSignal<Option<f64>>,
    pub lane_h: RwSignal<f64>,
    pub show_events: RwSignal<bool>,
    pub show_open: RwSignal<bool>,
    pub show_orphans: RwSignal<bool>,
    pub attempt: RwSignal<Option<i64>>,
    pub attempt_filter: RwSignal<bool>,
    pub view: RwSignal<Option<Viewport>>,
    pub scroll_y: RwSignal<f64>,
    /// (index into the rows, index into that row's items)
    pub selected: RwSignal<Option<(usize, usize)>>,
    pub details: RwSignal<Option<Details>>,
    pub cursor: RwSignal<Option<f64>>,
    pub hover: RwSignal<Option<(f64, f64, String)>>,
    pub size: RwSignal<(f64, f64)>,
    pub dark: RwSignal<bool>,
    pub dragging_file: RwSignal<bool>,
    /// The link belongs to the run explorer (a run is open, or a run link waits for its
    /// folder): the timeline's view state is not written to it (`run::link`).
    pub run_link: RwSignal<bool>,
    /// A run handed to the run app (`run::handoff`): `Some(true)` its view is shown (the
    /// timeline hidden), `Some(false)` the timeline is ("Back to run" returns), `None`: no run.
    pub run_shown: RwSignal<Option<bool>>,
    /// The run app was started (its module loads once; later runs go by event).
    pub run_app: RwSignal<bool>,
    pub canvas_ref: NodeRef<leptos::html::Canvas>,
    pub wrap_ref: NodeRef<leptos::html::Div>,
    // ---- derived ----
    /// Data indices of the rows shown, filtered and in display order.
    pub shown: Memo<Arc<Vec<usize>>>,
    pub span_count: Memo<usize>,
    /// Attempt numbers that occur, sorted.
    pub attempts: Memo<Vec<i64>>,
    /// Per shown row: expanded or not (global mode, flipped for rows toggled by their label;
    /// in the overview only toggled rows are open).
    pub row_expanded: Memo<Arc<Vec<bool>>>,
    pub row_layout: Memo<Arc<Layout>>,
}

impl State {
    pub fn new(dark: bool) -> State {
        let data: RwSignal<Option<Arc<Loaded>>> = RwSignal::new(None);
        let filter = RwSignal::new(String::new());
        let sort = RwSignal::new(SortKey::Start);
        let descending = RwSignal::new(false);
        let expanded = RwSignal::new(true);
        let overview: RwSignal<Option<f64>> = RwSignal::new(None);
        let toggled: RwSignal<HashSet<usize>> = RwSignal::new(Default::default());
        let lane_h = RwSignal::new(16.0f64);
        let attempt: RwSignal<Option<i64>> = RwSignal::new(None);
        let attempt_filter = RwSignal::new(false);
        let shown = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Arc::new(Vec::<usize>::new());
            };
            let only = if attempt_filter.get() {
                attempt.get()
            } else {
                None
            };
            let rows = shown_rows(&d, &filter.get(), only, sort.get(), descending.get());
            Arc::new(rows)
        });
        let span_count = Memo::new(move |_| {
            let Some(d) = data.get() else { return 0usize };
            shown.with(|idx| {
                idx.iter()
                    .map(|&i| d.heads[i].closed_spans + d.heads[i].open_spans)
                    .sum()
            })
        });
        let attempts = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Vec::<i64>::new();
            };
            let mut v = d.tables.attempts.clone();
            v.sort_unstable();
            v
        });
        let row_expanded = Memo::new(move |_| {
            let ex = expanded.get() && overview.get().is_none();
            toggled.with(|t| {
                shown.with(|idx| {
                    Arc::new(
                        idx.iter()
                            .map(|i| ex != t.contains(i))
                            .collect::<Vec<bool>>(),
                    )
                })
            })
        });
        let row_layout = Memo::new(move |_| {
            let Some(d) = data.get() else {
                return Arc::new(Layout::default());
            };
            let flags = row_expanded.get();
            let layout =
                shown.with(|idx| rows_layout(&d, idx, &flags, lane_h.get(), overview.get()));
            Arc::new(layout)
        });
        State {
            phase: RwSignal::new(Phase::Idle),
            data,
            counters: RwSignal::new(Arc::new(Vec::new())),
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
            overview,
            lane_h,
            show_events: RwSignal::new(true),
            show_open: RwSignal::new(true),
            show_orphans: RwSignal::new(true),
            attempt,
            attempt_filter,
            view: RwSignal::new(None),
            scroll_y: RwSignal::new(0.0),
            selected: RwSignal::new(None),
            details: RwSignal::new(None),
            cursor: RwSignal::new(None),
            hover: RwSignal::new(None),
            size: RwSignal::new((800.0, 400.0)),
            dark: RwSignal::new(dark),
            dragging_file: RwSignal::new(false),
            run_link: RwSignal::new(false),
            run_shown: RwSignal::new(None),
            run_app: RwSignal::new(false),
            canvas_ref: NodeRef::new(),
            wrap_ref: NodeRef::new(),
            shown,
            span_count,
            attempts,
            row_expanded,
            row_layout,
        }
    }

    /// Tracks shown above the rows (none when switched off); tracked.
    pub fn track_count(&self) -> usize {
        if self.show_counters.get() {
            self.counters.with(|c| c.len())
        } else {
            0
        }
    }

    /// Where rows begin on the canvas now (untracked).
    pub fn rows_top_now(&self) -> f64 {
        rows_top(if self.show_counters.get_untracked() {
            self.counters.with_untracked(|c| c.len())
        } else {
            0
        })
    }

    /// Height of the rows' band on the canvas now (untracked).
    pub fn band_height(&self) -> f64 {
        (self.size.get_untracked().1 - self.rows_top_now()).max(1.0)
    }

    /// How far the rows can scroll (untracked).
    pub fn max_scroll(&self) -> f64 {
        (self.row_layout.with_untracked(|l| l.total_height) - self.band_height() + 20.0).max(0.0)
    }

    /// Width of the time axis in CSS pixels, at least `min` (untracked).
    pub fn plot_width(&self, min: f64) -> f64 {
        (self.size.get_untracked().0 - LABEL_W).max(min)
    }

    /// The strip height that fits `rows` rows in the band (the overview's starting size).
    pub fn overview_fit(&self, rows: usize) -> f64 {
        (self.band_height() - 4.0).max(1.0) / rows.max(1) as f64
    }
}

/// Data indices of the rows whose head matches `filter` (case-insensitive) and, with
/// `only = Some(attempt)`, that hold that attempt (none if the file has no such attempt), sorted by `key`
/// (ties in data order) and reversed when `descending`.
fn shown_rows(
    d: &Loaded,
    filter: &str,
    only: Option<i64>,
    key: SortKey,
    descending: bool,
) -> Vec<usize> {
    let needle = filter.to_lowercase();
    // The attempt as an index into the file's attempt numbers (rows hold indices).
    let only = only.map(|a| d.tables.attempts.iter().position(|&x| x == a));
    let mut idx: Vec<usize> = (0..d.heads.len())
        .filter(|&i| needle.is_empty() || d.heads[i].matches(&needle))
        .filter(|&i| match only {
            None => true,
            Some(None) => false,
            Some(Some(a)) => d.rows[i].data.attempt.contains(&(a as u32)),
        })
        .collect();
    let heads = &d.heads;
    let value = |i: usize| -> f64 {
        let h = &heads[i];
        match key {
            SortKey::Start => h.start,
            SortKey::Duration => h.duration,
            SortKey::Reward => h.reward.unwrap_or(f64::NEG_INFINITY),
            SortKey::Lanes => h.lane_count as f64,
            SortKey::Open => h.open_spans as f64,
        }
    };
    idx.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
    if descending {
        idx.reverse();
    }
    idx
}

/// Where the shown rows `idx` stand: an expanded row is its lanes tall, a closed one a lane
/// (3 px apart), or in the overview (`Some(strip)`) a strip of `strip` pixels with no gap.
fn rows_layout(
    d: &Loaded,
    idx: &[usize],
    expanded: &[bool],
    lane_h: f64,
    overview: Option<f64>,
) -> Layout {
    let (strip, gap) = match overview {
        Some(h) => (h, 0.0),
        None => (lane_h, 3.0),
    };
    let mut l = Layout::default();
    let mut y = 0.0;
    for (&i, &ex) in idx.iter().zip(expanded.iter()) {
        let h = if ex {
            d.rows[i].lane_count() as f64 * lane_h
        } else {
            strip
        };
        l.tops.push(y);
        l.heights.push(h);
        y += h + gap;
    }
    l.total_height = y;
    l
}
