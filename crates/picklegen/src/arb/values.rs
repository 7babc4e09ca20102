//! Generated values of any shape: scalars, number lists, containers, objects, tensors and
//! deep chains, with memo references to earlier and to unfinished containers.

use super::{Gen, Kind, ATTR_KEYS, CLASSES, MAX_DEPTH, STATUSES};

impl Gen<'_> {
    /// A list of numbers as pickle writes token ids or log probs (batches of 1000), long or
    /// short, with sometimes one `None`, bool, string or float in it (class 5 and 6).
    pub(super) fn number_list(&mut self) {
        let n = match self.below(4) {
            0 => 64 + self.below(3),
            1 => 100,
            _ => self.count(),
        } as usize;
        let odd_at = if self.chance(3) {
            Some(self.below(n as u32 + 1) as usize)
        } else {
            None
        };
        let odd = self.below(5);
        let float = self.chance(2);
        self.p.list_of(n, |p, i| {
            if Some(i) == odd_at {
                match odd {
                    0 => p.none(),
                    1 => p.bool(true),
                    2 => p.str("x"),
                    3 => p.float(f64::NAN),
                    _ => p.int(1 << 40),
                };
            } else if float {
                p.float(-(i as f64) / 7.0);
            } else {
                p.int(i as i64 % 50_000);
            }
        });
        self.maybe_remember(Kind::Container);
    }

    pub(super) fn scalar(&mut self) {
        match self.below(12) {
            0 => self.p.none(),
            1 => self.p.bool(self.u.arbitrary().unwrap_or(false)),
            2 => {
                let v: i64 = self.u.arbitrary().unwrap_or(0);
                self.p.int(v)
            }
            3 => {
                let v = self.ts(1.5);
                self.p.float(v)
            }
            4 => {
                // An int beyond i64 (LONG1 of 9 bytes).
                self.p.op(0x8a).raw(&[9]).raw(&[0xff; 8]).raw(&[0x7f])
            }
            5 => {
                let s = self.pick(STATUSES);
                self.p.str(s)
            }
            6 => {
                // A long string, for output budgets when it is shared.
                let n = self.below(70_000) as usize;
                self.p.str(&"x".repeat(n))
            }
            7 => self.p.bytes(b"\x00\xff"),
            8 => {
                let v = self.below(10) as i64;
                self.p.int(v)
            }
            _ => {
                if !self.recall(Some(Kind::Scalar)) {
                    self.p.str("shared");
                }
                return;
            }
        };
        if self.chance(4) {
            self.remember(Kind::Scalar);
        }
    }

    /// Any value, at most `depth` levels of nesting (by recursion here; loops for chains).
    pub(super) fn value(&mut self, depth: u32) {
        let depth = depth.min(MAX_DEPTH);
        if depth == 0 || self.full() {
            return self.scalar();
        }
        match self.below(12) {
            0 | 1 => self.scalar(),
            2 => {
                // A list, possibly containing itself.
                self.p.empty_list();
                self.remember(Kind::Container);
                let n = self.below(5);
                self.p.mark();
                for _ in 0..n {
                    self.value(depth - 1);
                }
                self.p.appends();
            }
            3 => {
                // A dict with odd keys (ints, floats, tuples, containers by reference).
                self.p.empty_dict();
                self.remember(Kind::Container);
                let n = self.below(5);
                self.p.mark();
                for _ in 0..n {
                    match self.below(4) {
                        0 => {
                            let k = self.pick(ATTR_KEYS);
                            self.key(k)
                        }
                        1 => self.scalar(),
                        2 => {
                            if !self.recall(None) {
                                self.p.none();
                            }
                        }
                        _ => {
                            self.scalar();
                            self.scalar();
                            self.p.tuple_n(2);
                        }
                    }
                    self.value(depth - 1);
                }
                self.p.setitems();
            }
            4 => {
                self.p.mark();
                let n = self.below(4);
                for _ in 0..n {
                    self.value(depth - 1);
                }
                self.p.tuple();
                self.maybe_remember(Kind::Container);
            }
            5 => self.object(depth),
            6 => self.tensor(),
            7 => self.chain(),
            8 => self.number_list(),
            9 => {
                // OrderedDict() then SETITEMS on the object.
                self.p
                    .global("collections", "OrderedDict")
                    .empty_tuple()
                    .reduce();
                self.remember(Kind::Container);
                self.p.mark();
                self.key("a");
                self.value(depth - 1);
                self.p.setitems();
            }
            _ => {
                if !self.recall(None) {
                    self.scalar();
                }
            }
        }
    }

    /// An object whose BUILD state may refer back to the object itself (class 1).
    pub(super) fn object(&mut self, depth: u32) {
        let (module, name) = self.pick(CLASSES);
        self.p.new_object(module, name);
        self.remember(Kind::Container);
        match self.below(4) {
            0 => {
                // State: {"dtype": <the object itself>, …}.
                self.p.empty_dict().mark();
                self.key("dtype");
                self.recall(Some(Kind::Container));
                self.key("x");
                self.value(depth - 1);
                self.p.setitems();
            }
            1 => {
                // State: a tuple holding the object (via its memo key).
                self.recall(Some(Kind::Container));
                self.value(depth - 1);
                self.p.tuple_n(2);
            }
            _ => self.value(depth - 1),
        }
        self.p.build();
    }

    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`
    /// with the storage as a persistent id, as torch writes it.
    pub(super) fn tensor(&mut self) {
        let numel = self.count();
        self.p.global("torch._utils", "_rebuild_tensor_v2").mark();
        self.p.mark().str("storage");
        self.p.global("torch", "FloatStorage");
        self.p.str("0").str("cpu").int(i64::from(numel)).tuple();
        self.p.binpersid();
        self.p.int(0);
        self.p.int(i64::from(numel)).tuple_n(1);
        self.p.int(1).tuple_n(1);
        self.p.bool(false);
        self.p
            .global("collections", "OrderedDict")
            .empty_tuple()
            .reduce();
        self.p.tuple().reduce();
        self.maybe_remember(Kind::Container);
    }

    /// A deep chain of lists or dicts, written by loops (the reader must not recurse on it).
    pub(super) fn chain(&mut self) {
        let n = self.count();
        if self.chance(2) {
            // [[[…]]]: n empty lists, each appended into the one below.
            self.p.repeat(n as usize + 1, |p| {
                p.empty_list();
            });
            self.p.repeat(n as usize, |p| {
                p.append();
            });
        } else {
            // {"a": {"a": …}}: n (dict, key) pairs, then SETITEM n times.
            self.p.repeat(n as usize, |p| {
                p.empty_dict().str("a");
            });
            self.p.none();
            self.p.repeat(n as usize, |p| {
                p.setitem();
            });
        }
        self.maybe_remember(Kind::Container);
    }
}
