//! The view state kept in the link (`#url=…&q=…&sort=…&desc=1&t0=…&t1=…&sel=row:item`):
//! read once at start, applied when the file arrives, written back (debounced) as it changes.

use leptos::prelude::*;
use timeline::Viewport;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::dom::window;
use crate::state::{Phase, SortKey, State};

/// The view state kept in the URL hash, so that a link reopens the same view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HashState {
    pub url: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub desc: bool,
    pub t0: Option<f64>,
    pub t1: Option<f64>,
    /// (row_id, item index)
    pub sel: Option<(usize, usize)>,
}

impl HashState {
    pub fn read() -> HashState {
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

    pub fn write(&self) {
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

/// The link's view state, between reading it and the file it belongs to arriving.
#[derive(Clone, Copy)]
pub struct Link {
    st: State,
    pending: StoredValue<Option<HashState>>,
}

impl Link {
    pub fn new(st: State) -> Link {
        Link {
            st,
            pending: StoredValue::new(None),
        }
    }

    /// Reads the link: filter and sort apply now, range and selection once the file is
    /// loaded. Returns the URL to open (`#url=`, else `?url=`), if any.
    pub fn restore(&self) -> Option<String> {
        let st = self.st;
        let hash = HashState::read();
        if let Some(q) = &hash.q {
            st.filter.set(q.clone());
        }
        if let Some(k) = hash.sort.as_deref().and_then(SortKey::parse) {
            st.sort.set(k);
        }
        st.descending.set(hash.desc);
        let url = hash
            .url
            .clone()
            .or_else(|| search_param("url"))
            .filter(|u| !u.is_empty());
        self.pending.set_value(Some(hash));
        url
    }

    /// Applies the range and selection read from the link (once, to the first file loaded).
    pub fn apply_pending(&self) {
        let st = self.st;
        let Some(h) = self.pending.get_value() else {
            return;
        };
        self.pending.set_value(None);
        if let (Some(t0), Some(t1)) = (h.t0, h.t1) {
            if t1 > t0 {
                let width = st.plot_width(100.0);
                st.view.set(Some(Viewport { t0, t1, width }));
            }
        }
        if let (Some((row_id, item)), Some(d)) = (h.sel, st.data.get_untracked()) {
            if let Some(ri) = d.heads.iter().position(|r| r.row_id == row_id) {
                if item < d.rows[ri].data.track.len() {
                    st.selected.set(Some((ri, item)));
                }
            }
        }
    }

    /// Keeps the view state in the link, debounced (browsers throttle rapid replaceState).
    pub fn keep_in_link(&self) {
        let st = self.st;
        let hash_timer: StoredValue<Option<i32>> = StoredValue::new(None);
        Effect::new(move |_| {
            let d = st.data.get();
            let state = HashState {
                url: st.source_url.get(),
                q: Some(st.filter.get()).filter(|q| !q.is_empty()),
                sort: Some(st.sort.get().as_str().to_string()).filter(|s| s != "start"),
                desc: st.descending.get(),
                t0: st.view.get().map(|v| v.t0),
                t1: st.view.get().map(|v| v.t1),
                sel: st
                    .selected
                    .get()
                    .and_then(|(ri, ii)| Some((d.as_ref()?.heads.get(ri)?.row_id, ii))),
            };
            if st.phase.get_untracked() != Phase::Ready || st.run_link.get_untracked() {
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
    }
}

/// One `?name=` parameter of the page's own URL.
pub fn search_param(name: &str) -> Option<String> {
    window()
        .location()
        .search()
        .ok()
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get(name))
}

/// Whether the page's URL has `?name` at all.
pub fn has_search_param(name: &str) -> bool {
    window()
        .location()
        .search()
        .ok()
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .is_some_and(|p| p.has(name))
}
