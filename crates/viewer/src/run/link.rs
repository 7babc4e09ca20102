//! The run's view in the link: `#step=<dump>&sample=<position>&cmp=<dump>,<dump>&evalnames=a,b`,
//! where a dump is `2` (rollout 2) or `eval_5` (its eval), or a dump's path, and `evalnames`
//! the user's names for unnamed eval sets. Read once at start and
//! applied when the run's dumps are known (for `?run=` at once; for a folder, when it is opened
//! again), written back as the user navigates. While a run is open (or a run link waits), the
//! timeline page does not write the link (its `State::run_link`, set by `handoff`).

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::client::RunClient;
use super::math::dump_key;
use crate::dom::window;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunHash {
    pub step: Option<String>,
    pub sample: Option<usize>,
    pub cmp: Option<(String, String)>,
    pub eval_names: Vec<String>,
}

impl RunHash {
    fn read() -> RunHash {
        let hash = window().location().hash().unwrap_or_default();
        let Ok(p) = web_sys::UrlSearchParams::new_with_str(hash.trim_start_matches('#')) else {
            return RunHash::default();
        };
        RunHash {
            step: p.get("step").filter(|s| !s.is_empty()),
            sample: p.get("sample").and_then(|s| s.parse().ok()),
            cmp: p.get("cmp").and_then(|c| {
                let (a, b) = c.split_once(',')?;
                Some((a.to_string(), b.to_string()))
            }),
            eval_names: p
                .get("evalnames")
                .map(|s| trace::run::parse_eval_names(&s))
                .unwrap_or_default(),
        }
    }

    fn text(&self) -> String {
        let Ok(p) = web_sys::UrlSearchParams::new() else {
            return String::new();
        };
        if let Some(s) = &self.step {
            p.append("step", s);
        }
        if let Some(s) = self.sample {
            p.append("sample", &s.to_string());
        }
        if let Some((a, b)) = &self.cmp {
            p.append("cmp", &format!("{a},{b}"));
        }
        if !self.eval_names.is_empty() {
            p.append("evalnames", &self.eval_names.join(","));
        }
        String::from(p.to_string())
    }
}

/// Reads the link at start (the run app starts when a run is opened, so a link's step
/// waits for that run's dumps); applies it once they are known; keeps it current.
pub fn install(run: RunClient) {
    let rs = run.state();
    let read = RunHash::read();
    // Names apply at once: they relabel the charts as summaries arrive.
    if !read.eval_names.is_empty() {
        rs.eval_names.set(read.eval_names.clone());
    }
    let waiting = read.step.is_some() || read.cmp.is_some();
    let pending = StoredValue::new(waiting.then_some(read));
    // Apply when a run's dumps arrive.
    Effect::new(move |_| {
        let dumps = rs.dumps.get();
        if dumps.is_empty() {
            return;
        }
        let Some(h) = pending.get_value() else { return };
        pending.set_value(None);
        let find = |k: &str| dumps.iter().position(|d| dump_key(d) == k || d.file == k);
        if let Some((a, b)) = &h.cmp {
            rs.compare.set((find(a), find(b)));
        }
        if let Some(i) = h.step.as_deref().and_then(find) {
            super::open_step(run, i);
            if let Some(p) = h.sample {
                run.select_sample(Some(p));
            }
        }
    });
    // Write back as the user navigates.
    Effect::new(move |_| {
        if rs.name.get().is_none() {
            return;
        }
        let dumps = rs.dumps.get();
        let key = |i: Option<usize>| i.and_then(|i| dumps.get(i)).map(dump_key);
        let (a, b) = rs.compare.get();
        let h = RunHash {
            step: key(rs.open_step.get()),
            sample: rs.sample.get(),
            cmp: key(a).zip(key(b)),
            eval_names: rs.eval_names.get(),
        };
        let hash = format!("#{}", h.text());
        if window().location().hash().ok().as_deref() != Some(hash.as_str()) {
            if let Ok(hist) = window().history() {
                let _ = hist.replace_state_with_url(&JsValue::NULL, "", Some(&hash));
            }
        }
    });
}
