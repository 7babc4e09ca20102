//! The slime-shaped part of a generated dump: the samples, their traces, events and
//! attributes.

use super::{Gen, Kind, ATTR_KEYS, NAMES, STATUSES};

impl Gen<'_> {
    pub(super) fn dump(&mut self) {
        let as_list = self.chance(4);
        if !as_list {
            self.p.empty_dict();
            self.remember(Kind::Container);
            self.p.mark();
            self.key("rollout_id");
            self.p.int(0);
            self.key("samples");
        }
        self.p.empty_list();
        self.remember(Kind::Container);
        let n = self.count();
        self.p.mark();
        for _ in 0..n {
            if self.full() {
                break;
            }
            // Shared samples: the same sample listed again (class 2).
            if self.chance(6) && self.recall(Some(Kind::Sample)) {
                continue;
            }
            self.sample();
        }
        self.p.appends();
        if !as_list {
            if self.chance(8) {
                // A key that refers back to the dump itself.
                self.key("self");
                self.recall(Some(Kind::Container));
                if self.memo.iter().all(|(_, k)| *k != Kind::Container) {
                    self.p.none();
                }
            }
            self.p.setitems();
        }
        if self.chance(64) {
            // A GET of a key never stored.
            self.p.get(self.next_memo + 7).pop();
        }
    }

    pub(super) fn sample(&mut self) {
        let as_object = self.chance(3);
        if as_object {
            self.p.new_object("slime.utils.types", "Sample");
            self.remember(Kind::Sample);
            if self.chance(4) {
                // BUILD state as (dict, slots), as for classes with __slots__.
                self.sample_fields();
                self.p.none().tuple_n(2);
            } else {
                self.sample_fields();
            }
            self.p.build();
        } else {
            self.sample_fields();
        }
    }

    /// The sample's fields as a dict (left on the stack).
    pub(super) fn sample_fields(&mut self) {
        self.p.empty_dict();
        self.remember(Kind::Sample);
        self.p.mark();
        self.key("index");
        let i = self.below(1000) as i64 - 2;
        self.p.int(i);
        self.key("group_index");
        let g = self.below(8) as i64;
        self.p.int(g);
        self.key("status");
        self.status();
        self.key("reward");
        self.scalar();
        self.key("response_length");
        let len = self.below(5000) as i64;
        self.p.int(len);
        if self.chance(2) {
            self.key("tokens");
            self.number_list();
        }
        if self.chance(3) {
            self.key("rollout_log_probs");
            self.number_list();
        }
        if self.chance(3) {
            self.key("metadata");
            self.value(2);
        }
        if self.chance(4) {
            self.key("label");
            self.value(1);
        }
        if self.chance(4) {
            // Cycle: a field that refers back to a sample (possibly this unfinished one).
            self.key("parent");
            if !self.recall(Some(Kind::Sample)) {
                self.p.none();
            }
        }
        if !self.chance(10) {
            self.key("trace");
            self.trace();
        }
        self.p.setitems();
    }

    pub(super) fn status(&mut self) {
        match self.below(4) {
            0 => {
                let s = self.pick(STATUSES);
                self.p.str(s);
            }
            1 => {
                // Sample.Status("completed"): getattr(Sample, "Status") called with the value.
                self.p
                    .global("builtins", "getattr")
                    .global("slime.utils.types", "Sample")
                    .str("Status")
                    .tuple_n(2)
                    .reduce();
                let s = self.pick(STATUSES);
                self.p.str(s).tuple_n(1).reduce();
            }
            2 => {
                // getattr(getattr(…getattr(Sample, "Status")…, "Status"), "Status")(value):
                // names built from names, longer at each level (class 3). The n getattr
                // callables go first (one GLOBAL, then GETs), then each level is
                // (below, name) TUPLE2 REDUCE.
                let n = self.count().max(1);
                self.p.global("builtins", "getattr");
                let k = self.next_memo;
                self.p.put(k);
                self.next_memo += 1;
                self.memo.push((k, Kind::Scalar));
                self.p.repeat(n as usize - 1, |p| {
                    p.get(k);
                });
                self.p.global("slime.utils.types", "Sample");
                self.p.repeat(n as usize, |p| {
                    p.str("Status").tuple_n(2).reduce();
                });
                let s = self.pick(STATUSES);
                self.p.str(s).tuple_n(1).reduce();
            }
            _ => self.scalar(),
        }
    }

    pub(super) fn trace(&mut self) {
        self.p.empty_dict();
        self.remember(Kind::Container);
        self.p.mark();
        self.key("trace_id");
        self.p.str("t0");
        self.key("attempt");
        self.scalar();
        self.key("events");
        self.events();
        self.p.setitems();
    }

    pub(super) fn events(&mut self) {
        self.p.empty_list();
        self.remember(Kind::Container);
        let n = self.count();
        let shape = self.below(6);
        let base = 1.7e9 + f64::from(self.below(1000));
        self.p.mark();
        for i in 0..n {
            if self.full() {
                break;
            }
            if self.chance(8) && self.recall(Some(Kind::Event)) {
                continue;
            }
            let t = base + f64::from(i) * 0.001;
            match shape {
                // Nested spans that never close.
                0 => self.event("span_start", Some(i), i.checked_sub(1), t),
                // Started in one order, ended in the same order (not nested).
                1 if i < n / 2 => self.event("span_start", Some(i), None, t),
                1 => self.event("span_end", Some(i - n / 2), None, t),
                // Open siblings with one parent and one start.
                2 => self.event("span_start", Some(i + 1), Some(0), base),
                // Closed spans with PD attributes (one [P]/[D] lane each).
                3 => {
                    self.event("span_start", Some(i), None, t);
                    self.event("span_end", Some(i), None, t + 0.0005);
                }
                // Random events over a small id pool: reused ids, parent cycles, orphans.
                _ => {
                    let ty = self.pick(&["span_start", "span_end", "event", "other"]);
                    let id = self.below(6);
                    let parent = self.below(7).checked_sub(1);
                    let t = self.ts(t);
                    self.event(ty, Some(id), parent, t);
                }
            }
        }
        self.p.appends();
    }

    /// One event dict. `span` and `parent` are ids from a pool (written as hex-ish strings).
    pub(super) fn event(
        &mut self,
        ty: &'static str,
        span: Option<u32>,
        parent: Option<u32>,
        ts: f64,
    ) {
        self.p.empty_dict();
        self.maybe_remember(Kind::Event);
        self.p.mark();
        self.key("type");
        self.key(ty);
        self.key("name");
        if self.chance(16) {
            self.value(1);
        } else {
            let name = self.pick(NAMES);
            self.key(name);
        }
        self.key("ts");
        self.p.float(ts);
        if let Some(s) = span {
            self.key("span_id");
            self.p.str(&format!("{s:04x}"));
        }
        if let Some(s) = parent {
            self.key("parent_span_id");
            self.p.str(&format!("{s:04x}"));
        }
        if self.chance(4) {
            self.key("attempt");
            self.scalar();
        }
        self.key("attrs");
        self.attrs();
        self.p.setitems();
    }

    pub(super) fn attrs(&mut self) {
        // Shared attrs dicts (class 2): one dict named by many events.
        if self.chance(3) && self.recall(Some(Kind::Attrs)) {
            return;
        }
        self.p.empty_dict();
        self.maybe_remember(Kind::Attrs);
        let n = self.below(5);
        self.p.mark();
        for _ in 0..n {
            let k = self.pick(ATTR_KEYS);
            self.key(k);
            match self.below(4) {
                0 => {
                    let v = f64::from(self.below(1000)) / 100.0;
                    self.p.float(v);
                }
                1 => self.number_list(),
                _ => self.value(3),
            }
        }
        self.p.setitems();
    }

    /// A time: the given one, or in a quarter of the dumps sometimes an edge (class 7). Not
    /// more often: edges would then be in nearly every file and hide every other finding.
    pub(super) fn ts(&mut self, t: f64) -> f64 {
        if !self.odd_floats {
            return t;
        }
        match self.below(24) {
            0 => 1e308,
            1 => -1e308,
            2 => f64::NAN,
            3 => f64::INFINITY,
            4 => 0.0,
            5 => -0.0,
            6 => 5e-324,
            _ => t,
        }
    }
}
