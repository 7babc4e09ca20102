//! Hostile trace shapes (classes 1, 2, 4 and 7 of issue #12, trace side): rollout dumps
//! (`{"rollout_id": 0, "samples": [...]}` in a torch ZIP) with cycles through object state,
//! shared references that would amplify output or work (skipped events, number texts),
//! quadratic span shapes and float edges; and an OTLP/JSON file whose resource would be
//! copied per trace. Expectations are what `rollscope cache FILE` gives (see `trace`'s
//! limits).
//!
//! Layout: this file (the dump writer the cases share), `cycles.rs` (class 1), `shared.rs`
//! (class 2), `spans.rs` (classes 4 and 7).

mod cycles;
mod shared;
mod spans;

use super::{Case, Expect};
use crate::Pickle;

/// Every trace case, by class.
pub(super) fn cases() -> Vec<Case> {
    let mut all = cycles::cases();
    all.extend(shared::cases());
    all.extend(spans::span_shapes());
    all.extend(spans::float_edges());
    all
}

/// One row and no warning asked for: what a file whose hostile part is dropped still gives.
fn one_row() -> Expect {
    Expect::Rows {
        rows: 1,
        warning: "",
    }
}

/// A dump around `samples`, which must leave the sample list on the stack. Memo keys from
/// 200 on are used here for repeated strings (BINGET/BINPUT: two bytes a reference).
pub(super) fn dump(samples: impl FnOnce(&mut W)) -> Vec<u8> {
    let mut w = W {
        p: Pickle::proto(2),
        memo: Vec::new(),
    };
    w.p.empty_dict()
        .mark()
        .str("rollout_id")
        .int(0)
        .str("samples");
    samples(&mut w);
    w.p.setitems();
    crate::torch_zip("rollout_0", &w.p.stop())
}

/// A dump of one sample (index 0) whose trace's events are what `events` writes.
fn one_sample(events: impl FnOnce(&mut W)) -> Vec<u8> {
    dump(|w| {
        w.p.empty_list().mark();
        w.sample(0, events, |_| {});
        w.p.appends();
    })
}

/// A pickle writer that memoises short strings in memo slots 200..=255 (two-byte references).
pub(super) struct W {
    pub(super) p: Pickle,
    memo: Vec<&'static str>,
}

impl W {
    pub(super) fn s(&mut self, s: &'static str) -> &mut Self {
        if let Some(i) = self.memo.iter().position(|m| *m == s) {
            self.p.op(b'h').raw(&[200 + i as u8]);
        } else if self.memo.len() < 56 {
            self.p.str(s).op(b'q').raw(&[200 + self.memo.len() as u8]);
            self.memo.push(s);
        } else {
            self.p.str(s);
        }
        self
    }

    /// `{"type": kind, "name": name, "ts": ts, "span_id": id?, "parent_span_id": parent?}`
    /// plus whatever `more` adds (key, value pairs) before SETITEMS.
    pub(super) fn event(
        &mut self,
        kind: &'static str,
        name: &'static str,
        ts: f64,
        id: Option<i64>,
        parent: Option<i64>,
        more: impl FnOnce(&mut W),
    ) {
        self.p.empty_dict().mark();
        self.s("type").s(kind).s("name").s(name).s("ts");
        self.p.float(ts);
        if let Some(id) = id {
            self.s("span_id");
            self.p.int(id);
        }
        if let Some(parent) = parent {
            self.s("parent_span_id");
            self.p.int(parent);
        }
        more(self);
        self.p.setitems();
    }

    /// A sample `{"index": i, "trace": {"events": [...]}}` plus `more` pairs.
    fn sample(&mut self, i: i64, events: impl FnOnce(&mut W), more: impl FnOnce(&mut W)) {
        self.p.empty_dict().mark();
        self.s("index");
        self.p.int(i);
        self.s("trace");
        self.p.empty_dict().mark();
        self.s("events");
        self.p.empty_list();
        events(self);
        self.p.setitems();
        more(self);
        self.p.setitems();
    }

    /// MARK … APPENDS in batches of 1000, `f(i)` writing item i.
    pub(super) fn items(&mut self, n: usize, mut f: impl FnMut(&mut W, usize)) {
        let mut i = 0;
        while i < n {
            self.p.mark();
            let end = (i + 1000).min(n);
            for j in i..end {
                f(self, j);
            }
            self.p.appends();
            i = end;
        }
    }
}

pub(super) const T0: f64 = 1_790_000_000.0;
