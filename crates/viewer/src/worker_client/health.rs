//! The worker's health: a worker that panics, traps, throws or stops answering is replaced
//! and the page says what happened; plus the test hook that makes it fail on purpose.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::Client;
use crate::dom::window;
use crate::state::Phase;

/// The watchdog: a loading worker silent this long is pinged (ms).
const SILENCE_MS: f64 = 10_000.0;
/// A pinged worker that still says nothing this long is stopped and replaced (ms). Work
/// between two messages is bounded (reading posts per chunk, building per sample), so a
/// minute of silence after a ping means the worker is stuck, not busy.
const STALL_MS: f64 = 60_000.0;

pub(super) fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Watchdog times: the defaults, or `window.__rs_watchdog = {silence_ms, stall_ms}` (the
/// browser tests shorten them).
fn watchdog_ms() -> (f64, f64) {
    let cfg = js_sys::Reflect::get(&window(), &"__rs_watchdog".into()).ok();
    let get = |k: &str, default: f64| {
        cfg.as_ref()
            .and_then(|c| js_sys::Reflect::get(c, &k.into()).ok())
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(default)
    };
    (get("silence_ms", SILENCE_MS), get("stall_ms", STALL_MS))
}

/// How the message about a stopped worker starts when no file was being opened (the status
/// banner then says so instead of "Could not open").
pub const WORKER_STOPPED: &str = "the parsing worker stopped";

impl Client {
    /// The worker ended (a panic, an abort, an exception, or no answer): replace it for the
    /// next file and say what happened. The view shown before, if any, stays.
    ///
    /// A loader started ahead of a file and never given anything goes quietly, and is not
    /// replaced: nothing was lost, the view stays as it was, and one that can never start
    /// (its script or wasm missing, blocked) is not started again and again. The next file
    /// starts a new one, and its death is then said.
    pub(super) fn died(&self, reason: &str) {
        let st = self.st;
        self.stop();
        if !self.asked.get_value() {
            web_sys::console::warn_1(
                &format!("rollscope: the idle parsing worker stopped ({reason})").into(),
            );
            return;
        }
        let name = self.current.get_value();
        // A script that could not be loaded would fail again: no replacement is promised.
        let replaced = reason != crate::worker_handle::NO_SCRIPT && self.start().is_some();
        let what = if replaced {
            "a new one is ready — try again or use the rollscope CLI"
        } else {
            "a new one could not be started — reload the page or use the rollscope CLI"
        };
        let prefix = if name.is_empty() {
            String::new()
        } else {
            format!("{name}: ")
        };
        st.error
            .set(Some(format!("{prefix}{WORKER_STOPPED} ({reason}); {what}")));
        st.progress.set(None);
        st.phase.set(Phase::Error);
    }

    /// Checks a loading worker once: pings it after `SILENCE_MS` of silence, and replaces it
    /// if the ping stays unanswered for `STALL_MS`.
    fn watch(&self) {
        if self.st.phase.get_untracked() != Phase::Loading || self.worker.get_value().is_none() {
            self.pinged.set_value(None);
            return;
        }
        let (silence, stall) = watchdog_ms();
        let now = now_ms();
        match self.pinged.get_value() {
            Some(at) if now - at > stall => {
                let secs = (now - self.heard.get_value()) / 1000.0;
                self.died(&format!("no answer for {secs:.0} s"));
            }
            Some(_) => {}
            None if now - self.heard.get_value() > silence => {
                self.pinged.set_value(Some(now));
                if let Some(w) = self.worker.get_value() {
                    let msg = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&msg, &"ping".into(), &true.into());
                    let _ = w.post_message(&msg);
                }
            }
            None => {}
        }
    }

    /// Starts the watchdog (one timer for the page's life; it does nothing unless loading).
    pub fn install_watchdog(&self) {
        let this = *self;
        let cb = Closure::<dyn FnMut()>::new(move || this.watch());
        let _ = window().set_interval_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            500,
        );
        cb.forget();
    }

    /// Test hook (tests/browser/worker.test.js): `window.__rs_worker_test(kind)` asks the
    /// worker to fail as a bug would (`panic`, `abort`, `throw`, `hang`, `bad-rows`; see
    /// the worker's `test_hook`).
    pub fn install_test_hook(&self) {
        let this = *self;
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |kind: JsValue| {
            if this.start().is_some() {
                this.post_test(kind.as_string().unwrap_or_default());
            }
        });
        let _ = js_sys::Reflect::set(&window(), &"__rs_worker_test".into(), cb.as_ref());
        cb.forget();
    }

    /// Sends a test-hook message, once the worker listens (like [`Client::post`]).
    pub(super) fn post_test(&self, kind: String) {
        let Some(w) = self.worker.get_value() else {
            return;
        };
        self.asked.set_value(true);
        if !self.ready.get_value() {
            self.pending_test.set_value(Some(kind));
            return;
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"test".into(), &kind.into());
        let _ = w.post_message(&msg);
    }
}
