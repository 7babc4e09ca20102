//! Rollout dumps of hostile trace shapes, written with `picklegen` (shared by the tests and
//! `benches/shapes.rs`). Keys and repeated strings go through the memo, as pickle writes them,
//! so the files stay small.

#![allow(dead_code)]

use std::collections::HashMap;

use picklegen::Pickle;

/// One trace event.
#[derive(Clone, Debug)]
pub struct Ev {
    pub kind: &'static str,
    pub name: String,
    pub ts: f64,
    pub span: Option<String>,
    pub parent: Option<String>,
    /// Flat numeric end attrs (e.g. `pd_*` durations).
    pub attrs: Vec<(&'static str, f64)>,
}

pub fn ev(kind: &'static str, name: &str, ts: f64, span: Option<String>) -> Ev {
    Ev {
        kind,
        name: name.into(),
        ts,
        span,
        parent: None,
        attrs: Vec::new(),
    }
}

/// A pickle writer that memoises strings.
struct Writer {
    p: Pickle,
    memo: HashMap<String, u32>,
}

impl Writer {
    fn str(&mut self, s: &str) {
        if let Some(&k) = self.memo.get(s) {
            self.p.get(k);
        } else {
            let k = self.memo.len() as u32;
            self.p.str(s).put(k);
            self.memo.insert(s.to_string(), k);
        }
    }

    fn event(&mut self, e: &Ev) {
        self.p.empty_dict().mark();
        self.str("type");
        self.str(e.kind);
        self.str("name");
        self.str(&e.name);
        self.str("ts");
        self.p.float(e.ts);
        if let Some(s) = &e.span {
            self.str("span_id");
            self.p.str(s);
        }
        if let Some(s) = &e.parent {
            self.str("parent_span_id");
            self.str(s);
        }
        if !e.attrs.is_empty() {
            self.str("attrs");
            self.p.empty_dict().mark();
            for (k, v) in &e.attrs {
                self.str(k);
                self.p.float(*v);
            }
            self.p.setitems();
        }
        self.p.setitems();
    }
}

/// `{"rollout_id": 0, "samples": [...]}` in a torch ZIP, one sample per event list.
pub fn dump(samples: &[Vec<Ev>]) -> Vec<u8> {
    let mut w = Writer {
        p: Pickle::proto(2),
        memo: HashMap::new(),
    };
    w.p.empty_dict().mark();
    w.str("rollout_id");
    w.p.int(0);
    w.str("samples");
    w.p.empty_list().mark();
    for (i, events) in samples.iter().enumerate() {
        w.p.empty_dict().mark();
        w.str("index");
        w.p.int(i as i64);
        w.str("group_index");
        w.p.int(i as i64 / 8);
        w.str("trace");
        w.p.empty_dict().mark();
        w.str("trace_id");
        w.p.str(&format!("t{i}"));
        w.str("events");
        w.p.empty_list();
        for chunk in events.chunks(1000) {
            w.p.mark();
            for e in chunk {
                w.event(e);
            }
            w.p.appends();
        }
        w.p.setitems(); // trace
        w.p.setitems(); // sample
    }
    w.p.appends();
    w.p.setitems();
    picklegen::torch_zip("rollout_0", &w.p.stop())
}

const T0: f64 = 1_790_000_000.0;

fn id(i: usize) -> Option<String> {
    Some(format!("{i:x}"))
}

/// `n` spans, each started inside the previous one, none closed.
pub fn nested_open(n: usize) -> Vec<Ev> {
    (0..n)
        .map(|i| ev("span_start", "s", T0 + i as f64 * 1e-3, id(i)))
        .collect()
}

/// `n` spans started one after another, then ended in the order they started.
pub fn fifo(n: usize) -> Vec<Ev> {
    let mut v: Vec<Ev> = (0..n)
        .map(|i| ev("span_start", "s", T0 + i as f64 * 1e-3, id(i)))
        .collect();
    v.extend((0..n).map(|i| ev("span_end", "s", T0 + (n + i) as f64 * 1e-3, id(i))));
    v
}

/// An open root and `n` open children of it, all starting at one instant.
pub fn open_siblings(n: usize) -> Vec<Ev> {
    let mut v = vec![ev("span_start", "root", T0, Some("root".into()))];
    v.extend((0..n).map(|i| Ev {
        parent: Some("root".into()),
        ..ev("span_start", "child", T0 + 1.0, id(i))
    }));
    v
}

/// `n` closed `sglang_generate` spans with flat `pd_*` end attrs: 2n `[P]`/`[D]` lanes.
pub fn pd_lanes(n: usize) -> Vec<Ev> {
    let mut v = Vec::new();
    for i in 0..n {
        let t = T0 + i as f64;
        v.push(ev("span_start", "sglang_generate", t, id(i)));
        v.push(Ev {
            attrs: vec![
                ("pd_prefill_forward_duration", 0.1),
                ("pd_decode_forward_duration", 0.5),
                ("e2e_latency", 0.7),
            ],
            ..ev("span_end", "sglang_generate", t + 0.7, id(i))
        });
    }
    v
}

/// The rows of a value tree already read, under exactly `limits`.
pub fn rows_limited(tree: &pt::Tree, limits: trace::BuildLimits) -> trace::Materialized {
    let options = trace::LoadOptions {
        limits: Some(limits),
        ..trace::LoadOptions::new("x", 0.0)
    };
    match trace::build_rows(tree, &options) {
        Ok(loaded) => loaded.materialize(),
        Err(e) => panic!("{e}"),
    }
}
