//! The app: state, panels, controls and the wiring between them.

use std::sync::Arc;

use leptos::prelude::*;
use timeline::{hit, layout, Viewport};
use trace::json::py_str;
use trace::{Item, Row, State};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::draw::{draw, name_text, rows_top, Scene, Track, LABEL_W};
use crate::protocol::FromWorker;

/// A file whose rows are on screen.
pub struct Loaded {
    pub name: String,
    pub cache: trace::Cache,
    pub warnings: Vec<trace::Warning>,
    pub analysis: trace::metrics::Analysis,
    /// Counter tracks drawn above the rows.
    pub tracks: Vec<Track>,
}

/// Colours for imported series tracks.
const SERIES_COLORS: [&str; 6] = [
    "#8250df", "#bf3989", "#953800", "#0a3069", "#1b7c83", "#6e7781",
];

/// The counters a rollout always has: requests in flight and completed tokens per second.
fn counter_tracks(a: &trace::metrics::Analysis) -> Vec<Track> {
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
enum Phase {
    Idle,
    Loading,
    Ready,
    Error,
}

impl SortKey {
    fn as_str(self) -> &'static str {
        match self {
            SortKey::Start => "start",
            SortKey::Duration => "duration",
            SortKey::Reward => "reward",
            SortKey::Lanes => "lanes",
            SortKey::Open => "open",
        }
    }

    fn parse(s: &str) -> Option<SortKey> {
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

/// The view state kept in the URL hash, so that a link reopens the same view.
#[derive(Clone, Debug, Default, PartialEq)]
struct HashState {
    url: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    desc: bool,
    t0: Option<f64>,
    t1: Option<f64>,
    /// (row_id, item index)
    sel: Option<(usize, usize)>,
}

impl HashState {
    fn read() -> HashState {
        let hash = window().location().hash().unwrap_or_default();
        let Ok(p) = web_sys::UrlSearchParams::new_with_str(hash.trim_start_matches('#')) else {
            return HashState::default();
        };
        let num = |k: &str| {
            p.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|f| f.is_finite())
        };
        HashState {
            url: p.get("url").filter(|u| !u.is_empty()),
            q: p.get("q"),
            sort: p.get("sort"),
            desc: p.get("desc").is_some_and(|v| v == "1"),
            t0: num("t0"),
            t1: num("t1"),
            sel: p.get("sel").and_then(|v| {
                let (a, b) = v.split_once(':')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            }),
        }
    }

    fn write(&self) {
        let Ok(p) = web_sys::UrlSearchParams::new() else {
            return;
        };
        if let Some(u) = &self.url {
            p.append("url", u);
        }
        if let Some(q) = &self.q {
            p.append("q", q);
        }
        if let Some(s) = &self.sort {
            p.append("sort", s);
        }
        if self.desc {
            p.append("desc", "1");
        }
        if let (Some(a), Some(b)) = (self.t0, self.t1) {
            p.append("t0", &format!("{a:.6}"));
            p.append("t1", &format!("{b:.6}"));
        }
        if let Some((r, i)) = self.sel {
            p.append("sel", &format!("{r}:{i}"));
        }
        let hash = format!("#{}", String::from(p.to_string()));
        if window().location().hash().ok().as_deref() != Some(hash.as_str()) {
            if let Ok(h) = window().history() {
                let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&hash));
            }
        }
    }
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Loading => "loading",
            Phase::Ready => "ready",
            Phase::Error => "error",
        }
    }
}

/// What is loading, the detail line, and (done, total) when a determinate bar can be shown.
type ProgressLine = (String, String, Option<(f64, f64)>);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SideTab {
    Details,
    Metrics,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Start,
    Duration,
    Reward,
    Lanes,
    Open,
}

/// The worker and what to do with its answers.
#[derive(Clone)]
struct Loader {
    worker: StoredValue<Option<web_sys::Worker>, LocalStorage>,
    ready: StoredValue<bool>,
    /// A request waiting for the worker to say it is ready.
    pending: StoredValue<Option<Request>, LocalStorage>,
}

/// What the worker is asked to read (see `protocol`).
#[derive(Clone)]
enum Source {
    File(web_sys::File),
    Url(String),
    Buffer(js_sys::ArrayBuffer),
}

#[derive(Clone)]
struct Request {
    name: String,
    source: Source,
}

impl Loader {
    fn post(&self, req: Request) {
        let Some(w) = self.worker.get_value() else {
            return;
        };
        if !self.ready.get_value() {
            self.pending.set_value(Some(req));
            return;
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"name".into(), &req.name.into());
        let _ = match &req.source {
            Source::File(f) => {
                let _ = js_sys::Reflect::set(&msg, &"file".into(), f);
                w.post_message(&msg)
            }
            Source::Url(u) => {
                let _ = js_sys::Reflect::set(&msg, &"url".into(), &u.into());
                w.post_message(&msg)
            }
            Source::Buffer(b) => {
                let _ = js_sys::Reflect::set(&msg, &"buffer".into(), b);
                w.post_message_with_transfer(&msg, &js_sys::Array::of1(b))
            }
        };
    }
}

fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

fn set_body_state(phase: Phase) {
    if let Some(body) = window().document().and_then(|d| d.body()) {
        let _ = body.dataset().set("state", phase.as_str());
    }
}

#[component]
pub fn App() -> impl IntoView {
    let phase = RwSignal::new(Phase::Idle);
    let data: RwSignal<Option<Arc<Loaded>>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let progress: RwSignal<Option<ProgressLine>> = RwSignal::new(None);
    // The URL the shown file came from (kept in the link), if it came from one.
    let source_url: RwSignal<Option<String>> = RwSignal::new(None);
    let compact = RwSignal::new(false);
    let show_counters = RwSignal::new(true);
    let side_tab = RwSignal::new(SideTab::Details);
    // Rows whose expansion differs from the global collapsed/expanded mode (data indices).
    let toggled: RwSignal<std::collections::HashSet<usize>> = RwSignal::new(Default::default());
    let notice: RwSignal<Option<String>> = RwSignal::new(None);
    // Whether the current file's first frame was drawn (see `bench_hooks`).
    let painted: StoredValue<bool> = StoredValue::new(false);
    // Rows received in batches from the worker, until its `Done`.
    let incoming: StoredValue<Vec<Row>> = StoredValue::new(Vec::new());
    let warnings_open = RwSignal::new(true);
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(SortKey::Start);
    let descending = RwSignal::new(false);
    let expanded = RwSignal::new(true);
    let lane_h = RwSignal::new(16.0f64);
    let show_events = RwSignal::new(true);
    let show_open = RwSignal::new(true);
    let show_orphans = RwSignal::new(true);
    let attempt: RwSignal<Option<i64>> = RwSignal::new(None);
    let attempt_filter = RwSignal::new(false);
    let view: RwSignal<Option<Viewport>> = RwSignal::new(None);
    let scroll_y = RwSignal::new(0.0f64);
    // (index into cache.rows, index into that row's items)
    let selected: RwSignal<Option<(usize, usize)>> = RwSignal::new(None);
    let cursor: RwSignal<Option<f64>> = RwSignal::new(None);
    let hover: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);
    let size = RwSignal::new((800.0f64, 400.0f64));
    let dark = RwSignal::new(prefers_dark());
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let wrap_ref = NodeRef::<leptos::html::Div>::new();

    Effect::new(move |_| set_body_state(phase.get()));

    // ---- view state in the link --------------------------------------------------------
    let pending_view: StoredValue<Option<HashState>> = StoredValue::new(None);
    let apply_pending_view = move || {
        let Some(h) = pending_view.get_value() else {
            return;
        };
        pending_view.set_value(None);
        if let (Some(t0), Some(t1)) = (h.t0, h.t1) {
            if t1 > t0 {
                let width = (size.get_untracked().0 - LABEL_W).max(100.0);
                view.set(Some(Viewport { t0, t1, width }));
            }
        }
        if let (Some((row_id, item)), Some(d)) = (h.sel, data.get_untracked()) {
            if let Some(ri) = d.cache.rows.iter().position(|r| r.row_id == row_id) {
                if item < d.cache.rows[ri].items.len() {
                    selected.set(Some((ri, item)));
                }
            }
        }
    };

    // ---- loading ---------------------------------------------------------------------
    let loader = Loader {
        worker: StoredValue::new_local(None),
        ready: StoredValue::new(false),
        pending: StoredValue::new_local(None),
    };
    let handle = {
        let loader = loader.clone();
        move |msg: Result<FromWorker, String>| match msg {
            Ok(FromWorker::Ready) => {
                loader.ready.set_value(true);
                if let Some(req) = loader.pending.get_value() {
                    loader.pending.set_value(None);
                    loader.post(req);
                }
            }
            Ok(FromWorker::Progress { stage, done, total }) => {
                let name = progress.get_untracked().map(|p| p.0).unwrap_or_default();
                if total > 0.0 {
                    let detail = format!("{stage}: {done:.0} of {total:.0}");
                    progress.set(Some((name, detail, Some((done, total)))));
                } else {
                    progress.set(Some((name, stage, None)));
                }
            }
            Ok(FromWorker::Rows { rows }) => {
                incoming.update_value(|v| v.extend(rows));
                let n = incoming.with_value(Vec::len);
                let name = progress.get_untracked().map(|p| p.0).unwrap_or_default();
                progress.set(Some((name, format!("receiving rows: {n}"), None)));
            }
            Ok(FromWorker::Done { built }) => {
                let trace::Built {
                    mut cache,
                    warnings,
                    analysis,
                } = *built;
                let streamed = incoming.with_value(|v| !v.is_empty());
                if streamed {
                    incoming.update_value(|v| cache.rows = std::mem::take(v));
                }
                let name = cache.pt_path.clone();
                let fit = match (cache.global_start, cache.global_end) {
                    (Some(a), Some(b)) => Some(Viewport::fit(
                        a,
                        b,
                        (size.get_untracked().0 - LABEL_W).max(100.0),
                    )),
                    _ => None,
                };
                let tracks = counter_tracks(&analysis);
                painted.set_value(false);
                data.set(Some(Arc::new(Loaded {
                    name,
                    cache,
                    warnings,
                    analysis,
                    tracks,
                })));
                view.set(fit);
                selected.set(None);
                cursor.set(None);
                scroll_y.set(0.0);
                toggled.set(Default::default());
                apply_pending_view();
                error.set(None);
                warnings_open.set(true);
                progress.set(None);
                phase.set(Phase::Ready);
            }
            Ok(FromWorker::Series { series }) => {
                progress.set(None);
                match data.get_untracked() {
                    Some(d) => {
                        let mut tracks = d.tracks.clone();
                        for (i, s) in series.iter().enumerate() {
                            tracks.push(Track {
                                name: s.title(),
                                points: s.points.clone(),
                                color: SERIES_COLORS[i % SERIES_COLORS.len()],
                            });
                        }
                        data.set(Some(Arc::new(Loaded {
                            name: d.name.clone(),
                            cache: d.cache.clone(),
                            warnings: d.warnings.clone(),
                            analysis: d.analysis.clone(),
                            tracks,
                        })));
                        show_counters.set(true);
                        notice.set(Some(format!("added {} Prometheus series", series.len())));
                        phase.set(Phase::Ready);
                    }
                    None => {
                        error.set(Some(
                            "Prometheus data: open a rollout dump first; its series are drawn above that timeline".into(),
                        ));
                        phase.set(Phase::Error);
                    }
                }
            }
            Ok(FromWorker::Error { message }) => {
                error.set(Some(message));
                progress.set(None);
                // The previous view, if any, stays.
                phase.set(Phase::Error);
            }
            Err(e) => {
                error.set(Some(e));
                progress.set(None);
                phase.set(Phase::Error);
            }
        }
    };
    let on_message = {
        let handle = handle.clone();
        move |text: String| {
            handle(
                serde_json::from_str::<FromWorker>(&text)
                    .map_err(|e| format!("internal: bad message from the worker: {e}")),
            )
        }
    };
    let start_worker = {
        let loader = loader.clone();
        move || -> Option<web_sys::Worker> {
            if let Some(w) = loader.worker.get_value() {
                return Some(w);
            }
            let opts = web_sys::WorkerOptions::new();
            opts.set_type(web_sys::WorkerType::Module);
            let w = web_sys::Worker::new_with_options("./worker_loader.js", &opts).ok()?;
            loader.ready.set_value(false);
            let on_message = on_message.clone();
            let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    if let Some(text) = ev.data().as_string() {
                        on_message(text);
                    }
                },
            );
            w.set_onmessage(Some(cb.as_ref().unchecked_ref()));
            cb.forget();
            let onerr =
                Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                    error.set(Some(format!("the parsing worker failed: {}", ev.message())));
                    progress.set(None);
                    phase.set(Phase::Error);
                });
            w.set_onerror(Some(onerr.as_ref().unchecked_ref()));
            onerr.forget();
            loader.worker.set_value(Some(w.clone()));
            Some(w)
        }
    };
    let cancel_worker = {
        let loader = loader.clone();
        move || {
            if let Some(w) = loader.worker.get_value() {
                w.terminate();
            }
            loader.worker.set_value(None);
            loader.pending.set_value(None);
        }
    };
    let send = {
        let start_worker = start_worker.clone();
        let loader = loader.clone();
        move |req: Request| {
            // A second file replaces the first: stop a worker that is still busy.
            if phase.get_untracked() == Phase::Loading {
                cancel_worker();
            }
            if start_worker().is_none() {
                error.set(Some("could not start the parsing worker".into()));
                phase.set(Phase::Error);
                return;
            };
            progress.set(Some((req.name.clone(), "starting".into(), None)));
            phase.set(Phase::Loading);
            incoming.set_value(Vec::new());
            loader.post(req);
        }
    };
    let cancel = {
        move |_| {
            cancel_worker();
            progress.set(None);
            phase.set(if data.get_untracked().is_some() {
                Phase::Ready
            } else {
                Phase::Idle
            });
        }
    };
    let open_file = {
        let send = send.clone();
        move |file: web_sys::File| {
            source_url.set(None);
            send(Request {
                name: file.name(),
                source: Source::File(file),
            });
        }
    };
    let open_url = {
        let send = send.clone();
        move |url: String| {
            source_url.set(Some(url.clone()));
            // The worker resolves URLs against its own script; give it an absolute one.
            let base = window().location().href().unwrap_or_default();
            let absolute = web_sys::Url::new_with_base(&url, &base)
                .map(|u| u.href())
                .unwrap_or_else(|_| url.clone());
            send(Request {
                name: url,
                source: Source::Url(absolute),
            });
        }
    };
    // The link's view state (#url=…&q=…&sort=…&t0=…&t1=…&sel=row:item); then ?url=…; with
    // nothing given, the bundled demo dump.
    {
        let open_url = open_url.clone();
        let hash = HashState::read();
        if let Some(q) = &hash.q {
            filter.set(q.clone());
        }
        if let Some(k) = hash.sort.as_deref().and_then(SortKey::parse) {
            sort.set(k);
        }
        descending.set(hash.desc);
        let params = window()
            .location()
            .search()
            .ok()
            .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok());
        let url = hash
            .url
            .clone()
            .or_else(|| params.and_then(|p| p.get("url")))
            .filter(|u| !u.is_empty());
        pending_view.set_value(Some(hash));
        let embed = window()
            .location()
            .search()
            .ok()
            .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
            .is_some_and(|p| p.has("embed"));
        if let Some((name, bytes)) = take_embedded_data() {
            // A one-file report: the rows are inside the page, already built.
            let msg = serde_json::from_slice::<trace::Built>(&bytes)
                .map(|mut built| {
                    built.cache.pt_path = name;
                    FromWorker::Done {
                        built: Box::new(built),
                    }
                })
                .map_err(|e| format!("this report's data cannot be read: {e}"));
            handle(msg);
        } else if let Some(url) = url {
            open_url(url);
        } else if !embed {
            open_url("./demo.pt".into());
        }
    }
    // Embedding: a parent page sends {type: "open", name, buffer}; we say {type: "ready"}.
    {
        let send = send.clone();
        let _messages =
            window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
                let from_parent = match (ev.source(), window().parent().ok().flatten()) {
                    (Some(src), Some(parent)) => js_sys::Object::is(&src, &parent),
                    _ => false,
                };
                if !from_parent {
                    return;
                }
                let data = ev.data();
                let get = |k: &str| js_sys::Reflect::get(&data, &k.into()).ok();
                if get("type").and_then(|t| t.as_string()).as_deref() != Some("open") {
                    return;
                }
                let name = get("name")
                    .and_then(|n| n.as_string())
                    .unwrap_or_else(|| "file".into());
                match get("buffer").and_then(|b| b.dyn_into::<js_sys::ArrayBuffer>().ok()) {
                    Some(buffer) => {
                        source_url.set(None);
                        send(Request {
                            name,
                            source: Source::Buffer(buffer),
                        })
                    }
                    None => {
                        error.set(Some(format!(
                            "{name}: the message's buffer is not an ArrayBuffer"
                        )));
                        phase.set(Phase::Error);
                    }
                }
            });
        if let Ok(Some(parent)) = window().parent() {
            if !js_sys::Object::is(&parent, &window()) {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"type".into(), &"ready".into());
                let _ = parent.post_message(&msg, "*");
            }
        }
    }

    // ---- derived rows ----------------------------------------------------------------
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
    // Per shown row: expanded or not (global mode, flipped for rows toggled by their label).
    let row_expanded = Memo::new(move |_| {
        let ex = expanded.get();
        let t = toggled.get();
        shown
            .get()
            .iter()
            .map(|i| ex != t.contains(i))
            .collect::<Vec<bool>>()
    });
    // The PD phases that occur in this file (as `[P]`/`[D]` attrs or `sglang_pd_*` spans).
    let pd_legend = Memo::new(move |_| {
        let Some(d) = data.get() else {
            return Vec::new();
        };
        let mut seen = [false; timeline::PD_PHASES.len()];
        for r in &d.cache.rows {
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
            .collect::<Vec<_>>()
    });
    // Display lanes of every row ([P]/[D] lanes packed), computed once per file.
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
                    lanes.get(i).map_or(d.cache.rows[i].lane_count, |l| l.count)
                } else {
                    1
                }
            }),
            lane_h.get(),
            3.0,
        )
    });

    // Tracks shown above the rows (none when switched off).
    let track_count = move || {
        if show_counters.get() {
            data.get().map(|d| d.tracks.len()).unwrap_or(0)
        } else {
            0
        }
    };
    let rows_top_now = move || {
        rows_top(if show_counters.get_untracked() {
            data.get_untracked().map(|d| d.tracks.len()).unwrap_or(0)
        } else {
            0
        })
    };

    // ---- drawing -----------------------------------------------------------------------
    let redraw = move || {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let (w, h) = size.get();
        let dpr = window().device_pixel_ratio();
        let (pw, ph) = ((w * dpr) as u32, (h * dpr) as u32);
        if canvas.width() != pw || canvas.height() != ph {
            canvas.set_width(pw);
            canvas.set_height(ph);
        }
        let Ok(Some(ctx)) = canvas.get_context("2d") else {
            return;
        };
        let ctx: web_sys::CanvasRenderingContext2d = ctx.unchecked_into();
        let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
        let d = data.get();
        let idx = shown.get();
        let lay = row_layout.get();
        let flags = row_expanded.get();
        let sel = selected
            .get()
            .and_then(|(ri, ii)| idx.iter().position(|&i| i == ri).map(|vi| (vi, ii)));
        let lanes_all = all_lanes.get();
        let row_lanes: Vec<&timeline::RowLanes> =
            idx.iter().filter_map(|&i| lanes_all.get(i)).collect();
        let rows: Vec<&Row> = d
            .as_ref()
            .map(|d| idx.iter().map(|&i| &d.cache.rows[i]).collect())
            .unwrap_or_default();
        let mut v = view.get().unwrap_or(Viewport {
            t0: 0.0,
            t1: 1.0,
            width: 1.0,
        });
        v.width = (w - LABEL_W).max(1.0);
        let scene = Scene {
            rows: &rows,
            lanes: &row_lanes,
            layout: &lay,
            view: v,
            scroll_y: scroll_y.get(),
            lane_h: lane_h.get(),
            expanded: &flags,
            selected: sel,
            cursor: cursor.get(),
            origin: d.as_ref().and_then(|d| d.cache.global_start).unwrap_or(0.0),
            dark: dark.get(),
            show_events: show_events.get(),
            show_open: show_open.get(),
            show_orphans: show_orphans.get(),
            highlight_attempt: if attempt_filter.get() {
                None
            } else {
                attempt.get()
            },
            only_attempt: if attempt_filter.get() {
                attempt.get()
            } else {
                None
            },
            tracks: d
                .as_ref()
                .map(|d| &d.tracks[..track_count().min(d.tracks.len())])
                .unwrap_or(&[]),
        };
        let perf = window().performance();
        let t = perf.as_ref().map(|p| p.now()).unwrap_or(0.0);
        draw(&ctx, w, h, &scene);
        if let Some(p) = perf {
            bench_hooks(p.now(), p.now() - t, !rows.is_empty(), painted);
        }
    };
    Effect::new(move |_| redraw());
    // Keep the canvas the size of its box.
    let measure = move || {
        if let Some(el) = wrap_ref.get_untracked() {
            let r = el.get_bounding_client_rect();
            size.set((r.width().max(200.0), r.height().max(120.0)));
            if let Some(mut v) = view.get_untracked() {
                v.width = (r.width() - LABEL_W).max(1.0);
                view.set(Some(v));
            }
        }
    };
    Effect::new(move |_| {
        if wrap_ref.get().is_some() {
            measure();
        }
    });
    let _resize = window_event_listener(leptos::ev::resize, move |_| measure());
    if let Ok(Some(mq)) = window().match_media("(prefers-color-scheme: dark)") {
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| dark.set(prefers_dark()));
        mq.set_onchange(Some(cb.as_ref().unchecked_ref()));
        cb.forget();
    }

    // ---- pointer and keyboard ---------------------------------------------------------
    let drag: StoredValue<Option<(f64, f64, bool)>> = StoredValue::new(None);
    let local_xy = move |ev: &web_sys::MouseEvent| -> (f64, f64) {
        let Some(c) = canvas_ref.get_untracked() else {
            return (0.0, 0.0);
        };
        let r = c.get_bounding_client_rect();
        (
            ev.client_x() as f64 - r.left(),
            ev.client_y() as f64 - r.top(),
        )
    };
    let max_scroll = move || {
        (row_layout.get_untracked().total_height - (size.get_untracked().1 - rows_top_now()) + 20.0)
            .max(0.0)
    };
    let pick = move |x: f64, y: f64| -> Option<(usize, usize)> {
        let d = data.get_untracked()?;
        let v = view.get_untracked()?;
        let lay = row_layout.get_untracked();
        let content_y = y - rows_top_now() + scroll_y.get_untracked();
        let vi = lay.row_at(content_y)?;
        let ri = *shown.get_untracked().get(vi)?;
        let row = &d.cache.rows[ri];
        let mut v = v;
        v.width = (size.get_untracked().0 - LABEL_W).max(1.0);
        let ex = row_expanded
            .get_untracked()
            .get(vi)
            .copied()
            .unwrap_or(true);
        let lanes = all_lanes.get_untracked();
        let ii = hit(
            row,
            lanes.get(ri)?,
            &v,
            x - LABEL_W,
            content_y - lay.tops[vi],
            lane_h.get_untracked(),
            ex,
        )?;
        // In "filter" mode other attempts are hidden: nothing there to pick.
        let hidden = attempt_filter.get_untracked()
            && attempt
                .get_untracked()
                .is_some_and(|a| a != row.items[ii].attempt());
        (!hidden).then_some((ri, ii))
    };
    let on_wheel = move |ev: web_sys::WheelEvent| {
        ev.prevent_default();
        let (x, _) = local_xy(&ev);
        if ev.shift_key() {
            scroll_y.update(|s| *s = (*s + ev.delta_y()).clamp(0.0, max_scroll()));
            return;
        }
        view.update(|v| {
            if let Some(v) = v {
                if ev.delta_x().abs() > ev.delta_y().abs() {
                    v.pan_px(-ev.delta_x());
                } else {
                    v.zoom_at(x - LABEL_W, (-ev.delta_y() * 0.002).exp());
                }
            }
        });
    };
    let on_down = move |ev: web_sys::MouseEvent| {
        let (x, y) = local_xy(&ev);
        drag.set_value(Some((x, y, false)));
    };
    let on_move = move |ev: web_sys::MouseEvent| {
        let (x, y) = local_xy(&ev);
        if let Some((px, py, _)) = drag.get_value() {
            if ev.buttons() & 1 == 1 {
                let (dx, dy) = (x - px, y - py);
                if dx.abs() + dy.abs() > 2.0 {
                    drag.set_value(Some((x, y, true)));
                    view.update(|v| {
                        if let Some(v) = v {
                            v.pan_px(dx);
                        }
                    });
                    scroll_y.update(|s| *s = (*s - dy).clamp(0.0, max_scroll()));
                }
                return;
            }
        }
        hover.set(pick(x, y).and_then(|(ri, ii)| {
            let d = data.get_untracked()?;
            let row = &d.cache.rows[ri];
            let item = row.items.get(ii)?;
            Some((x, y, tooltip(item, d.cache.global_start.unwrap_or(0.0))))
        }));
    };
    let on_up = move |ev: web_sys::MouseEvent| {
        let (x, y) = local_xy(&ev);
        let dragged = drag.get_value().is_some_and(|d| d.2);
        drag.set_value(None);
        if dragged {
            return;
        }
        if x > LABEL_W {
            if let Some(v) = view.get_untracked() {
                let mut v = v;
                v.width = (size.get_untracked().0 - LABEL_W).max(1.0);
                cursor.set(Some(v.t(x - LABEL_W)));
            }
            selected.set(pick(x, y));
        } else {
            // Clicking a row label toggles that row between collapsed and expanded view.
            let content_y = y - rows_top_now() + scroll_y.get_untracked();
            if let Some(vi) = row_layout.get_untracked().row_at(content_y) {
                if let Some(&ri) = shown.get_untracked().get(vi) {
                    toggled.update(|t| {
                        if !t.remove(&ri) {
                            t.insert(ri);
                        }
                    });
                }
            }
        }
    };
    let fit = move |only_shown: bool| {
        if let Some(d) = data.get_untracked() {
            let idx: Vec<usize> = if only_shown {
                shown.get_untracked()
            } else {
                (0..d.cache.rows.len()).collect()
            };
            let rows = idx.iter().map(|&i| &d.cache.rows[i]);
            let (a, b) = rows.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (a.min(r.start), b.max(r.end))
            });
            if a.is_finite() && b.is_finite() {
                view.set(Some(Viewport::fit(
                    a,
                    b,
                    (size.get_untracked().0 - LABEL_W).max(100.0),
                )));
            }
        }
    };
    let _keys = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
        let tag = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|e| e.tag_name())
            .unwrap_or_default();
        if tag == "INPUT" || tag == "SELECT" || tag == "TEXTAREA" {
            return;
        }
        let w = (size.get_untracked().0 - LABEL_W).max(1.0);
        match ev.key().as_str() {
            "w" | "W" => view.update(|v| {
                if let Some(v) = v {
                    v.zoom_at(w / 2.0, 1.25)
                }
            }),
            "s" | "S" => view.update(|v| {
                if let Some(v) = v {
                    v.zoom_at(w / 2.0, 0.8)
                }
            }),
            "a" | "A" => view.update(|v| {
                if let Some(v) = v {
                    v.pan_px(w * 0.1)
                }
            }),
            "d" | "D" => view.update(|v| {
                if let Some(v) = v {
                    v.pan_px(-w * 0.1)
                }
            }),
            "Escape" => {
                selected.set(None);
                cursor.set(None);
            }
            "Enter" => {
                if selected.get_untracked().is_none() {
                    if let Some(&ri) = shown.get_untracked().first() {
                        selected.set(Some((ri, 0)));
                    }
                }
                compact.set(false);
                if let Some(el) = window()
                    .document()
                    .and_then(|d| d.query_selector("[data-testid=details]").ok().flatten())
                {
                    el.scroll_into_view();
                }
            }
            "ArrowDown" | "ArrowUp" => {
                ev.prevent_default();
                let idx = shown.get_untracked();
                let n = idx.len();
                if n > 0 {
                    let cur = selected
                        .get_untracked()
                        .and_then(|(ri, _)| idx.iter().position(|&i| i == ri));
                    let next = match (cur, ev.key().as_str()) {
                        (None, _) => 0,
                        (Some(i), "ArrowDown") => (i + 1).min(n - 1),
                        (Some(i), _) => i.saturating_sub(1),
                    };
                    selected.set(Some((idx[next], 0)));
                    let lay = row_layout.get_untracked();
                    let top = lay.tops[next];
                    let band = size.get_untracked().1 - rows_top_now();
                    let s = scroll_y.get_untracked();
                    if top < s || top + lay.heights[next] > s + band {
                        scroll_y.set((top - band / 3.0).clamp(0.0, max_scroll()));
                    }
                }
            }
            _ => {}
        }
    });

    // ---- drop anywhere ------------------------------------------------------------------
    let dragging_file = RwSignal::new(false);
    let on_drop = {
        let open_file = open_file.clone();
        move |ev: web_sys::DragEvent| {
            ev.prevent_default();
            dragging_file.set(false);
            if let Some(file) = ev
                .data_transfer()
                .and_then(|dt| dt.files())
                .and_then(|f| f.get(0))
            {
                open_file(file);
            }
        }
    };
    let on_pick = {
        let open_file = open_file.clone();
        move |ev: leptos::ev::Event| {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                open_file(file);
            }
            input.set_value("");
        }
    };

    // Select a row's first item and scroll it into view (clearing a filter that hides it).
    let reveal = move |ri: usize| {
        if !shown.get_untracked().contains(&ri) {
            filter.set(String::new());
            attempt_filter.set(false);
        }
        let Some(vi) = shown.get_untracked().iter().position(|&i| i == ri) else {
            return;
        };
        selected.set(Some((ri, 0)));
        side_tab.set(SideTab::Details);
        let lay = row_layout.get_untracked();
        let band = size.get_untracked().1 - rows_top_now();
        scroll_y.set((lay.tops[vi] - band / 3.0).clamp(0.0, max_scroll()));
    };

    // ---- details ------------------------------------------------------------------------
    let details = move || {
        let (ri, ii) = selected.get()?;
        let d = data.get()?;
        let row = d.cache.rows.get(ri)?;
        let item = row.items.get(ii)?;
        Some(details_view(row, item, d.cache.global_start.unwrap_or(0.0)))
    };
    let cursor_stats = move || {
        let t = cursor.get()?;
        let d = data.get()?;
        let (mut not_started, mut running, mut ended) = (0, 0, 0);
        let mut names: std::collections::HashMap<String, usize> = Default::default();
        let idx = shown.get();
        for &i in &idx {
            let r = &d.cache.rows[i];
            if t < r.start {
                not_started += 1;
            } else if t > r.end {
                ended += 1;
            } else {
                running += 1;
            }
            for it in &r.items {
                if let Item::Span(s) = it {
                    if s.start_ts <= t && t <= s.display_end_ts && !name_text(it).ends_with(']') {
                        *names.entry(name_text(it)).or_default() += 1;
                    }
                }
            }
        }
        let mut top: Vec<(String, usize)> = names.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(6);
        let origin = d.cache.global_start.unwrap_or(0.0);
        Some(view! {
            <div class="cursor-stats" data-testid="cursor-stats">
                <b>{format!("at {}", timeline::format_duration(t - origin, 0.001))}</b>
                {format!(" · {} rows: {} not started, {} running, {} ended", idx.len(), not_started, running, ended)}
                <ul>{top.into_iter().map(|(n, c)| view! { <li>{n}" × "{c}</li> }).collect_view()}</ul>
            </div>
        })
    };

    // Keep the view state in the link, debounced (browsers throttle rapid replaceState).
    let hash_timer: StoredValue<Option<i32>> = StoredValue::new(None);
    Effect::new(move |_| {
        let d = data.get();
        let state = HashState {
            url: source_url.get(),
            q: Some(filter.get()).filter(|q| !q.is_empty()),
            sort: Some(sort.get().as_str().to_string()).filter(|s| s != "start"),
            desc: descending.get(),
            t0: view.get().map(|v| v.t0),
            t1: view.get().map(|v| v.t1),
            sel: selected
                .get()
                .and_then(|(ri, ii)| Some((d.as_ref()?.cache.rows.get(ri)?.row_id, ii))),
        };
        if phase.get_untracked() != Phase::Ready {
            return;
        }
        if let Some(t) = hash_timer.get_value() {
            window().clear_timeout_with_handle(t);
        }
        let cb = Closure::once_into_js(move || state.write());
        let t = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 250)
            .ok();
        hash_timer.set_value(t);
    });
    // Export the shown file's traces as a download (computed here, from the rows).
    let download = move |format: &'static str| {
        let Some(d) = data.get_untracked() else {
            return;
        };
        let (value, suffix) = match format {
            "chrome" => (trace::interop::export_chrome(&d.cache), "chrome.json"),
            _ => (trace::interop::export_otlp(&d.cache), "otlp.json"),
        };
        let Ok(text) = serde_json::to_string(&value) else {
            return;
        };
        let stem = d
            .name
            .rsplit('/')
            .next()
            .unwrap_or("rollout")
            .trim_end_matches(".pt")
            .to_string();
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("application/json");
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        if let Some(a) = window()
            .document()
            .and_then(|doc| doc.create_element("a").ok())
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            a.set_download(&format!("{stem}.{suffix}"));
            a.click();
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    };
    let copy_link = move |_| {
        let href = window().location().href().unwrap_or_default();
        let clipboard = window().navigator().clipboard();
        leptos::task::spawn_local(async move {
            let ok = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&href))
                .await
                .is_ok();
            notice.set(Some(if ok {
                "link copied".into()
            } else {
                format!("copy this link: {href}")
            }));
        });
    };

    view! {
        <div class="app" class:dragging=move || dragging_file.get() class:compact=move || compact.get()
            on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging_file.set(true); }
            on:dragleave=move |_| dragging_file.set(false)
            on:drop=on_drop>
            <header class="toolbar">
                <span class="brand">"rollscope"</span>
                <label class="button">
                    "Open…"
                    <input type="file" data-testid="file-input" accept=".pt,.json,application/json" on:change=on_pick />
                </label>
                <span class="file-name">{move || data.get().map(|d| d.name.clone()).unwrap_or_default()}</span>
                <input type="search" data-testid="filter" placeholder="filter: sample, source, status, label, trace id"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
                <label>"sort "
                    <select on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                        "duration" => SortKey::Duration, "reward" => SortKey::Reward,
                        "lanes" => SortKey::Lanes, "open" => SortKey::Open, _ => SortKey::Start })>
                        <option value="start">"start"</option>
                        <option value="duration">"duration"</option>
                        <option value="reward">"reward"</option>
                        <option value="lanes">"lane count"</option>
                        <option value="open">"open spans"</option>
                    </select>
                </label>
                <label><input type="checkbox" prop:checked=move || descending.get() on:change=move |_| descending.update(|d| *d = !*d) />"desc"</label>
                <label>"attempt "
                    <select on:change=move |ev| attempt.set(event_target_value(&ev).parse().ok())>
                        <option value="">"all"</option>
                        {move || attempts.get().into_iter().map(|a| view! { <option value=a.to_string()>{a.to_string()}</option> }).collect_view()}
                    </select>
                    <select on:change=move |ev| attempt_filter.set(event_target_value(&ev) == "filter")>
                        <option value="highlight">"highlight"</option>
                        <option value="filter">"filter"</option>
                    </select>
                </label>
                <button on:click=move |_| fit(false) title="Fit every row">"Fit all"</button>
                <button on:click=move |_| fit(true) title="Fit the rows the filter shows">"Fit filtered"</button>
                <button on:click=move |_| expanded.update(|e| *e = !*e)>{move || if expanded.get() { "Collapse" } else { "Expand" }}</button>
                <label><input type="checkbox" prop:checked=move || show_events.get() on:change=move |_| show_events.update(|v| *v = !*v) />"events"</label>
                <label><input type="checkbox" prop:checked=move || show_open.get() on:change=move |_| show_open.update(|v| *v = !*v) />"open spans"</label>
                <label><input type="checkbox" prop:checked=move || show_orphans.get() on:change=move |_| show_orphans.update(|v| *v = !*v) />"orphan ends"</label>
                <label>"lane "
                    <input type="range" min="8" max="32" prop:value=move || lane_h.get().to_string()
                        on:input=move |ev| lane_h.set(event_target_value(&ev).parse().unwrap_or(16.0)) />
                </label>
                <label><input type="checkbox" prop:checked=move || show_counters.get() on:change=move |_| show_counters.update(|c| *c = !*c) />"counters"</label>
                <label><input type="checkbox" prop:checked=move || compact.get() on:change=move |_| compact.update(|c| *c = !*c) />"compact"</label>
                <button on:click=copy_link title="Copy a link that reopens this view">"Copy link"</button>
                <button data-testid="export-chrome" on:click=move |_| download("chrome") title="Chrome Trace Event JSON, for Perfetto or chrome://tracing">"Export Chrome"</button>
                <button data-testid="export-otlp" on:click=move |_| download("otlp") title="OTLP/JSON, for an OpenTelemetry collector, Tempo or Jaeger">"Export OTLP"</button>
                {move || notice.get().map(|n| view! { <span class="notice">{n}</span> })}
                <span class="counts">
                    <span data-testid="row-count">{move || shown.get().len().to_string()}</span>" rows · "
                    <span data-testid="span-count">{move || span_count.get().to_string()}</span>" spans"
                </span>
            </header>
            <Show when=move || progress.get().is_some()>
                <div class="progress" data-testid="progress">
                    <span>{move || progress.get().map(|(n, d, _)| format!("{n}: {d}")).unwrap_or_default()}</span>
                    {move || match progress.get().and_then(|p| p.2) {
                        Some((done, total)) => view! { <progress max=total.to_string() value=done.to_string()></progress> }.into_any(),
                        None => view! { <progress></progress> }.into_any(),
                    }}
                    <button on:click=cancel>"Cancel"</button>
                </div>
            </Show>
            <Show when=move || error.get().is_some()>
                <div class="load-error" data-testid="load-error" role="alert">
                    <b>"Could not open: "</b>{move || error.get().unwrap_or_default()}
                    <button on:click=move |_| error.set(None)>"Dismiss"</button>
                </div>
            </Show>
            <Show when=move || warnings_open.get() && data.get().is_some_and(|d| !d.warnings.is_empty())>
                <details class="warnings" data-testid="warnings">
                    <summary>{move || format!("{} samples had problems (the rest are shown)", data.get().map(|d| d.warnings.len()).unwrap_or(0))}
                        <button on:click=move |_| warnings_open.set(false)>"Dismiss"</button></summary>
                    <ul>{move || data.get().map(|d| d.warnings.iter().take(500).map(|w| {
                        let text = match w.sample { Some(i) => format!("sample {i}: {}", w.message), None => w.message.clone() };
                        view! { <li>{text}</li> }
                    }).collect_view())}</ul>
                </details>
            </Show>
            <main class="body">
                <div class="canvas-wrap" node_ref=wrap_ref>
                    <canvas data-testid="timeline" node_ref=canvas_ref
                        data-rows-top=move || rows_top(track_count()).to_string()
                        on:wheel=on_wheel on:mousedown=on_down on:mousemove=on_move on:mouseup=on_up
                        on:mouseleave=move |_| hover.set(None)></canvas>
                    {move || hover.get().map(|(x, y, text)| view! {
                        <div class="tooltip" style=format!("left:{}px;top:{}px", x + 14.0, y + 14.0)>{text}</div>
                    })}
                    <Show when=move || phase.get() == Phase::Ready && data.get().is_some_and(|d| d.cache.rows.is_empty())>
                        <div class="empty">"This file has no traced samples."</div>
                    </Show>
                </div>
                <aside class="side">
                    <nav class="tabs">
                        <button class:active=move || side_tab.get() == SideTab::Details on:click=move |_| side_tab.set(SideTab::Details)>"Details"</button>
                        <button class:active=move || side_tab.get() == SideTab::Metrics data-testid="metrics-tab" on:click=move |_| side_tab.set(SideTab::Metrics)>"Metrics"</button>
                    </nav>
                    <Show when=move || side_tab.get() == SideTab::Metrics>
                        <section class="metrics" data-testid="metrics">
                            {move || data.get().map(|d| metrics_view(&d, reveal))}
                        </section>
                    </Show>
                    <section class="details" data-testid="details" class:hidden=move || side_tab.get() != SideTab::Details>
                        <h3>"Details"</h3>
                        {move || details().unwrap_or_else(|| view! { <p class="muted">"Click a span or event."</p> }.into_any())}
                    </section>
                    <section>{cursor_stats}</section>
                    <Show when=move || data.get().is_some_and(|d| !d.tracks.is_empty())>
                        <section class="legend">
                            <h3>"Counters"</h3>
                            <ul data-testid="track-list">
                                {move || data.get().map(|d| d.tracks.iter().map(|t| {
                                    let max = t.points.iter().map(|p| p.1).fold(0.0f64, f64::max);
                                    view! { <li title=t.name.clone()><span class="chip" style=format!("background:{}", t.color)></span>
                                        <span class="track-name">{t.name.clone()}</span><span class="muted">{format!(" max {}", fmt_num(max))}</span></li> }
                                }).collect_view())}
                            </ul>
                        </section>
                    </Show>
                    <section class="legend">
                        <h3>"Legend"</h3>
                        <ul>
                            {move || legend.get().into_iter().map(|(n, c)| {
                                let color = timeline::pd_color(&n).map(str::to_string).unwrap_or_else(|| timeline::color_for(&n, dark.get()));
                                view! { <li><span class="chip" style=format!("background:{color}")></span>{n}<span class="muted">{format!(" {c}")}</span></li> }
                            }).collect_view()}
                            {move || pd_legend.get().into_iter().map(|(_, label, color)| view! {
                                <li><span class="chip" style=format!("background:{color}")></span>{label}</li>
                            }).collect_view()}
                        </ul>
                    </section>
                </aside>
            </main>
            <footer class="footer">
                {move || view.get().map(|v| {
                    let origin = data.get().and_then(|d| d.cache.global_start).unwrap_or(0.0);
                    format!("visible: {} → {} ({})",
                        timeline::format_duration(v.t0 - origin, v.span() / 100.0),
                        timeline::format_duration(v.t1 - origin, v.span() / 100.0),
                        timeline::format_duration(v.span(), v.span() / 100.0))
                }).unwrap_or_else(|| "Drop a rollout dump (.pt) or a slime cache (.json) anywhere.".into())}
                <span class="muted">" · wheel: zoom · shift+wheel: scroll · drag: pan · W/S/A/D · ↑/↓ · Esc"</span>
            </footer>
        </div>
    }
}

/// Hooks for the browser benchmark (tests/bench): `window.__rs_first_paint` is set (to
/// `performance.now()`) at the first frame that shows rows of a newly loaded file, and when
/// `window.__rs_frames` is an array each frame's draw time (ms) is appended to it.
fn bench_hooks(now: f64, draw_ms: f64, has_rows: bool, painted: StoredValue<bool>) {
    let w = window();
    if has_rows && !painted.get_value() {
        painted.set_value(true);
        let _ = js_sys::Reflect::set(&w, &"__rs_first_paint".into(), &now.into());
    }
    if let Ok(frames) = js_sys::Reflect::get(&w, &"__rs_frames".into()) {
        if let Ok(arr) = frames.dyn_into::<js_sys::Array>() {
            arr.push(&draw_ms.into());
        }
    }
}

/// The rows a one-file report carries (`window.__rollscope_data`, set by its loader).
fn take_embedded_data() -> Option<(String, Vec<u8>)> {
    let w = window();
    let data = js_sys::Reflect::get(&w, &"__rollscope_data".into()).ok()?;
    if data.is_undefined() || data.is_null() {
        return None;
    }
    let name = js_sys::Reflect::get(&data, &"name".into())
        .ok()?
        .as_string()?;
    let bytes: js_sys::Uint8Array = js_sys::Reflect::get(&data, &"bytes".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let _ = js_sys::Reflect::set(&w, &"__rollscope_data".into(), &JsValue::UNDEFINED);
    Some((name, bytes.to_vec()))
}

fn prefers_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

fn row_matches(r: &Row, needle: &str) -> bool {
    [&r.sample_index, &r.source, &r.status, &r.label, &r.trace_id]
        .iter()
        .any(|v| py_str(v).to_lowercase().contains(needle))
}

fn tooltip(item: &Item, origin: f64) -> String {
    let name = name_text(item);
    match item {
        Item::Span(s) => format!(
            "{name} · {} · {}{}",
            timeline::format_duration(s.start_ts - origin, 0.001),
            timeline::format_duration(s.display_end_ts - s.start_ts, 0.001),
            if s.state == State::OpenSpan {
                " (open)"
            } else {
                ""
            }
        ),
        Item::Event(p) => format!(
            "{name} · event at {}",
            timeline::format_duration(p.ts - origin, 0.001)
        ),
        Item::OrphanEnd(p) => format!(
            "{name} · end without start at {}",
            timeline::format_duration(p.ts - origin, 0.001)
        ),
    }
}

fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e9 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.3}")
    } else {
        format!("{x:.4}")
    }
}

/// The Metrics panel: health badges, percentile table, key figures, request size buckets,
/// time in spans, slowest samples and groups (clicking those selects them on the timeline).
fn metrics_view(d: &Loaded, reveal: impl Fn(usize) + Copy + 'static) -> AnyView {
    let a = &d.analysis;
    let health = a
        .health
        .iter()
        .map(|h| {
            view! {
                <li class=if h.ok { "badge ok" } else { "badge warn" } title=format!("{} (threshold {})", h.metric, h.threshold)>
                    {if h.ok { "✓ " } else { "⚠ " }}{h.message.clone()}
                </li>
            }
        })
        .collect_view();
    let short = |n: &str| {
        n.trim_start_matches("perf/")
            .trim_start_matches("rollout/")
            .to_string()
    };
    let table = a
        .distributions
        .iter()
        .map(|(name, st)| {
            let id = match name.as_str() {
                "perf/request/e2e_latency" => "metric-e2e",
                "perf/request/queue_time" => "metric-queue",
                "perf/decode/throughput" => "metric-decode",
                _ => "",
            };
            view! {
                <tr data-testid=id title=name.clone()>
                    <th>{short(name)}</th>
                    <td>{st.count.to_string()}</td>
                    <td>{fmt_num(st.p50)}</td>
                    <td>{fmt_num(st.p90)}</td>
                    <td class="p99">{fmt_num(st.p99)}</td>
                    <td>{fmt_num(st.max)}</td>
                </tr>
            }
        })
        .collect_view();
    let mut figures: Vec<(String, String)> = Vec::new();
    figures.push((
        "samples / traced / requests".into(),
        format!("{} / {} / {}", a.samples, d.cache.rows.len(), a.requests),
    ));
    if let Some(t) = a.tokens_per_sec {
        figures.push(("completion tokens/s (step)".into(), fmt_num(t)));
    }
    if let Some(h) = a.prefix_cache_hit_rate {
        figures.push(("prefix cache hit rate".into(), format!("{:.1}%", h * 100.0)));
    }
    if let (Some(t), Some(sh)) = (a.tail_seconds, a.tail_share) {
        figures.push((
            "wait for the last 10%".into(),
            format!(
                "{} ({:.0}% of wall)",
                timeline::format_duration(t, 0.01),
                sh * 100.0
            ),
        ));
    }
    for (k, v) in a
        .slime
        .iter()
        .filter(|(k, _)| k == "rollout/truncated_ratio" || k.starts_with("rollout/zero_std"))
    {
        figures.push((short(k), fmt_num(*v)));
    }
    let figures = figures
        .into_iter()
        .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
        .collect_view();
    let bars = |title: &'static str, items: &[(String, usize)]| {
        let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
        let rows = items
            .iter()
            .map(|(k, n)| {
                let w = *n as f64 / max as f64 * 100.0;
                view! { <li><span class="bar-label">{k.clone()}</span><span class="bar" style=format!("width:{w:.0}%")></span><span class="muted">{n.to_string()}</span></li> }
            })
            .collect_view();
        view! { <h4>{title}</h4><ul class="bars">{rows}</ul> }
    };
    let spans = a
        .time_by_span
        .iter()
        .take(8)
        .map(|(n, secs, share)| view! { <tr><th>{n.clone()}</th><td>{timeline::format_duration(*secs, 0.01)}</td><td>{format!("{:.1}%", share * 100.0)}</td></tr> })
        .collect_view();
    let slow = a
        .slowest
        .iter()
        .take(8)
        .map(|s| {
            let row = s.row;
            view! {
                <li><button class="link" on:click=move |_| reveal(row)>{format!("sample {}", py_str(&s.sample_index))}</button>
                    " "{timeline::format_duration(s.duration, 0.01)}</li>
            }
        })
        .collect_view();
    let groups = a
        .groups
        .iter()
        .take(12)
        .map(|g| {
            let first = g.rows.first().copied();
            view! {
                <tr>
                    <th><button class="link" disabled=first.is_none() on:click=move |_| { if let Some(r) = first { reveal(r) } }>{g.group.clone()}</button></th>
                    <td>{g.samples.to_string()}</td>
                    <td>{timeline::format_duration(g.completion, 0.01)}</td>
                    <td>{g.reward_mean.map(fmt_num).unwrap_or_else(|| "-".into())}</td>
                    <td>{g.reward_std.map(fmt_num).unwrap_or_else(|| "-".into())}</td>
                    <td>{if g.zero_std { "zero std" } else { "" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ul class="badges">{health}</ul>
        <table class="dist">
            <tr><th>"metric"</th><th>"n"</th><th>"p50"</th><th>"p90"</th><th>"p99"</th><th>"max"</th></tr>
            {table}
        </table>
        <table class="facts">{figures}</table>
        {bars("prompt tokens / request", &a.prompt_tokens_hist)}
        {bars("output tokens / request", &a.output_tokens_hist)}
        {bars("finish reason", &a.finish_reasons)}
        {bars("status", &a.statuses)}
        <h4>"time in spans (share of sample time)"</h4>
        <table class="facts">{spans}</table>
        <h4>"slowest samples"</h4>
        <ul class="plain">{slow}</ul>
        <h4>"groups (slowest first)"</h4>
        <table class="facts groups"><tr><th>"group"</th><th>"n"</th><th>"done in"</th><th>"reward"</th><th>"std"</th><th></th></tr>{groups}</table>
    }
    .into_any()
}

/// Attribute values longer than this are cut, with a button to show all.
const ATTR_SHOW: usize = 300;

fn attrs_table(title: &'static str, attrs: &serde_json::Value) -> AnyView {
    let Some(map) = attrs.as_object().filter(|m| !m.is_empty()) else {
        return ().into_any();
    };
    let rows = map
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let long = text.chars().count() > ATTR_SHOW;
            let full = RwSignal::new(false);
            let short: String = text.chars().take(ATTR_SHOW).collect();
            let k = k.clone();
            view! {
                <tr><th>{k}</th><td>
                    {move || if full.get() || !long { text.clone() } else { format!("{short}…") }}
                    {long.then(|| view! { <button class="link" on:click=move |_| full.update(|f| *f = !*f)>{move || if full.get() { "less" } else { "more" }}</button> })}
                </td></tr>
            }
        })
        .collect_view();
    view! { <h4>{title}</h4><table class="attrs">{rows}</table> }.into_any()
}

fn details_view(row: &Row, item: &Item, origin: f64) -> AnyView {
    let name = name_text(item);
    let sample = py_str(&row.sample_index);
    let fmt = |t: f64| timeline::format_duration(t - origin, 0.000_001);
    match item {
        Item::Span(s) => {
            let clip = s.attrs.end_attrs.get("clipped_by").map(py_str);
            view! {
                <div class="detail">
                    <div class="detail-name">{name}</div>
                    <table class="facts">
                        <tr><th>"sample"</th><td>{sample}</td></tr>
                        <tr><th>"state"</th><td>{if s.state == State::OpenSpan { "open (never ended)" } else { "closed" }}</td></tr>
                        <tr><th>"start"</th><td>{fmt(s.start_ts)}</td></tr>
                        <tr><th>"end"</th><td>{match s.end_ts { Some(e) => fmt(e), None => format!("— (drawn to {})", fmt(s.display_end_ts)) }}</td></tr>
                        <tr><th>"duration"</th><td>{timeline::format_duration(s.display_end_ts - s.start_ts, 0.000_001)}</td></tr>
                        <tr><th>"parent"</th><td>{py_str(&s.parent_span_name)}</td></tr>
                        <tr><th>"span id"</th><td>{py_str(&s.span_id)}</td></tr>
                        <tr><th>"attempt"</th><td>{s.attempt.to_string()}</td></tr>
                        {clip.map(|c| view! { <tr><th>"clipped by"</th><td>{c}</td></tr> })}
                    </table>
                    {attrs_table("start attrs", &s.attrs.start_attrs)}
                    {attrs_table("end attrs", &s.attrs.end_attrs)}
                </div>
            }
            .into_any()
        }
        Item::Event(p) | Item::OrphanEnd(p) => view! {
            <div class="detail">
                <div class="detail-name">{name}</div>
                <table class="facts">
                    <tr><th>"sample"</th><td>{sample}</td></tr>
                    <tr><th>"kind"</th><td>{if matches!(item, Item::OrphanEnd(_)) { "end without a start" } else { "event" }}</td></tr>
                    <tr><th>"at"</th><td>{fmt(p.ts)}</td></tr>
                    <tr><th>"parent"</th><td>{py_str(&p.parent_span_name)}</td></tr>
                    <tr><th>"attempt"</th><td>{p.attempt.to_string()}</td></tr>
                </table>
                {attrs_table("attrs", &p.attrs)}
            </div>
        }
        .into_any(),
    }
}
