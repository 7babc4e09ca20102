//! Hostile trace shapes (classes 1, 2, 4 and 7 of issue #12, trace side): rollout dumps
//! (`{"rollout_id": 0, "samples": [...]}` in a torch ZIP) with cycles through object state,
//! shared references that would amplify output or work (skipped events, number texts),
//! quadratic span shapes and float edges; and an OTLP/JSON file whose resource would be
//! copied per trace. Expectations are what `rollscope cache FILE` gives (see `trace`'s
//! limits).

use super::{Case, Expect};
use crate::Pickle;

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

/// Memo key (LONG_BINPUT/LONG_BINGET) of the value the shared-work cases name many times.
const SHARED: u32 = 1;

/// One event dict `{"type": "event", "name": "e", "ts": <ts>}` plus `more` pairs.
fn point(w: &mut W, ts: impl FnOnce(&mut W), more: impl FnOnce(&mut W)) {
    w.p.empty_dict().mark();
    w.s("type").s("event").s("name").s("e").s("ts");
    ts(w);
    more(w);
    w.p.setitems();
}

/// A sample `{"index": i, "trace": {<trace pairs>, "events": [<events>]}}`.
fn sample_with(w: &mut W, i: i64, trace: impl FnOnce(&mut W), events: impl FnOnce(&mut W)) {
    w.p.empty_dict().mark();
    w.s("index");
    w.p.int(i);
    w.s("trace");
    w.p.empty_dict().mark();
    trace(w);
    w.s("events");
    w.p.empty_list();
    events(w);
    w.p.setitems().setitems();
}

/// OTLP/JSON: one resource with a 200 KiB attribute nobody reads, and `traces` one-span
/// traces with distinct ids.
fn otlp_wide_resource(traces: usize) -> Vec<u8> {
    let mut spans = Vec::with_capacity(traces);
    for i in 0..traces {
        spans.push(format!(
            "{{\"traceId\":\"{i:032x}\",\"spanId\":\"{i:016x}\",\"name\":\"s\",\
             \"startTimeUnixNano\":\"1790000000000000000\",\
             \"endTimeUnixNano\":\"1790000001000000000\"}}"
        ));
    }
    format!(
        "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\
         \"value\":{{\"stringValue\":\"{}\"}}}}]}},\"scopeSpans\":[{{\"spans\":[{}]}}]}}]}}",
        "x".repeat(200 << 10),
        spans.join(",")
    )
    .into_bytes()
}

pub(super) fn cases() -> Vec<Case> {
    let one_row = Expect::Rows {
        rows: 1,
        warning: "",
    };
    vec![
        Case {
            file: "trace_attrs_cycle.pt",
            class: 1,
            what: "an attrs dict holding a tensor-like object whose BUILD state names the \
                   object itself (dtype) and the attrs dict (shape)",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(1, |w, _| {
                                w.event("event", "e", T0, None, None, |w| {
                                    w.s("attrs");
                                    w.p.empty_dict().put(1).str("obj");
                                    w.p.new_object("torch", "Tensor").put(2);
                                    w.p.empty_dict().mark().str("dtype").get(2);
                                    w.p.str("shape").get(1).setitems().build().setitem();
                                })
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row.clone(),
            browser: true,
        },
        Case {
            file: "trace_object_keys.pt",
            class: 1,
            what: "attrs keyed by a tensor-like object whose dtype is itself and by a list \
                   that contains itself",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(1, |w, _| {
                                w.event("event", "e", T0, None, None, |w| {
                                    w.s("attrs");
                                    w.p.empty_dict().mark();
                                    w.p.new_object("torch", "Tensor").put(1);
                                    w.p.empty_dict().mark().str("dtype").get(1);
                                    w.p.str("shape").empty_list().setitems().build().int(1);
                                    w.p.empty_list().put(2).get(2).append().int(2);
                                    w.p.setitems();
                                })
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row.clone(),
            browser: true,
        },
        Case {
            file: "trace_sample_state_cycle.pt",
            class: 1,
            what: "a sample whose metadata, reward and status are objects whose state refers \
                   back to them, and a Sample object whose state tuple holds itself",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| w.items(1, |w, _| w.event("event", "e", T0, None, None, |_| {})),
                        |w| {
                            w.s("metadata");
                            w.p.new_object("m", "Meta").put(1).get(1).none().tuple_n(2);
                            w.p.build();
                            w.s("reward");
                            w.p.new_object("m", "Reward").put(2).empty_dict().mark();
                            w.p.str("me").get(2).setitems().build();
                            w.s("status");
                            w.p.new_object("m", "Status")
                                .put(3)
                                .get(3)
                                .none()
                                .tuple_n(2);
                            w.p.build();
                        },
                    );
                    w.p.new_object("slime.utils.types", "Sample").put(4);
                    w.p.get(4).none().tuple_n(2).build();
                });
            }),
            expect: Expect::Rows {
                rows: 1,
                warning: "not a dict or a Sample object",
            },
            browser: true,
        },
        Case {
            file: "trace_shared_string.pt",
            class: 2,
            what: "one 1 MiB string named as 4 096 attribute values of one event (4 GiB of \
                   JSON if copied): cut at 64 KiB per value",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(1, |w, _| {
                                w.event("event", "wide", T0, None, None, |w| {
                                    w.s("attrs");
                                    w.p.empty_dict().mark();
                                    w.p.str("k").str(&"x".repeat(1 << 20)).put(1);
                                    for i in 0..4096 {
                                        w.p.str(&format!("k{i}")).get(1);
                                    }
                                    w.p.setitems();
                                })
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: Expect::Rows {
                rows: 1,
                warning: "cut at the limit of 64 KiB",
            },
            browser: true,
        },
        Case {
            file: "trace_shared_attrs.pt",
            class: 2,
            what: "one attrs dict holding a 1 MiB string shared by the events of 256 samples: \
                   each copy cut at 64 KiB, counted against the output limit",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(256, |w, i| {
                    w.sample(
                        i as i64,
                        |w| {
                            w.items(1, |w, _| {
                                w.event("event", "e", T0 + i as f64, None, None, |w| {
                                    w.s("attrs");
                                    if i == 0 {
                                        w.p.empty_dict().mark().str("s");
                                        w.p.str(&"y".repeat(1 << 20)).setitems().put(1);
                                    } else {
                                        w.p.get(1);
                                    }
                                })
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: Expect::Rows {
                rows: 256,
                warning: "256 values were cut",
            },
            browser: true,
        },
        Case {
            file: "trace_shared_sample.pt",
            class: 2,
            what: "one two-span sample referenced 50 000 times: 50 000 rows, linear work",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(50_000, |w, i| {
                    if i > 0 {
                        w.p.get(1);
                        return;
                    }
                    w.sample(
                        0,
                        |w| {
                            w.items(1, |w, _| {
                                w.event("span_start", "a", T0, Some(1), None, |_| {});
                                w.event("span_start", "b", T0 + 1.0, Some(2), None, |_| {});
                                w.event("span_end", "a", T0 + 2.0, Some(1), None, |_| {});
                                w.event("span_end", "b", T0 + 3.0, Some(2), None, |_| {});
                            })
                        },
                        |_| {},
                    );
                    w.p.put(1);
                });
            }),
            expect: Expect::Rows {
                rows: 50_000,
                warning: "",
            },
            browser: true,
        },
        Case {
            file: "trace_shared_skipped_event.pt",
            class: 2,
            what: "one `{\"ts\": None}` event named 4 000 times by a sample named 4 000 times \
                   (16 M skipped events from 40 KB): stops at the file's event limit",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(4001, |w, i| match i {
                    0 => sample_with(
                        w,
                        0,
                        |_| {},
                        |w| w.items(1, |w, _| point(w, |w| _ = w.p.float(T0), |_| {})),
                    ),
                    1 => {
                        sample_with(
                            w,
                            1,
                            |_| {},
                            |w| {
                                w.items(4000, |w, j| {
                                    if j == 0 {
                                        w.p.empty_dict().mark();
                                        w.s("ts");
                                        w.p.none().setitems().put(SHARED);
                                    } else {
                                        w.p.get(SHARED);
                                    }
                                })
                            },
                        );
                        // The sample takes the key after its events: later items name it.
                        w.p.put(SHARED);
                    }
                    _ => _ = w.p.get(SHARED),
                });
            }),
            expect: Expect::Rows {
                rows: 1,
                warning: "trace events (kept or skipped)",
            },
            browser: true,
        },
        Case {
            file: "trace_shared_ts_text.pt",
            class: 2,
            what: "one 1 MiB digit string as the ts of 4 000 events (parsed per event: 79 s): \
                   refused unread",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    sample_with(
                        w,
                        0,
                        |_| {},
                        |w| {
                            w.items(4001, |w, j| match j {
                                0 => point(w, |w| _ = w.p.float(T0), |_| {}),
                                1 => point(
                                    w,
                                    |w| _ = w.p.str(&"1".repeat(1 << 20)).put(SHARED),
                                    |_| {},
                                ),
                                _ => point(w, |w| _ = w.p.get(SHARED), |_| {}),
                            })
                        },
                    )
                });
            }),
            expect: Expect::Rows {
                rows: 1,
                warning: "4000 ts a text over 100 bytes",
            },
            browser: true,
        },
        Case {
            file: "trace_shared_attempt_text.pt",
            class: 2,
            what: "one 1 MiB text as a trace's attempt and as the own attempt of 4 000 events \
                   (trimmed and copied per event): refused unread, attempt 0",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(2, |w, i| {
                    let own = i == 1;
                    sample_with(
                        w,
                        i as i64,
                        |w| {
                            if !own {
                                w.s("attempt");
                                w.p.str(&"7".repeat(1 << 20)).put(SHARED);
                            }
                        },
                        |w| {
                            w.items(4000, |w, j| {
                                point(
                                    w,
                                    |w| _ = w.p.float(T0 + j as f64),
                                    |w| {
                                        if own {
                                            w.s("attempt");
                                            w.p.get(SHARED);
                                        }
                                    },
                                )
                            })
                        },
                    )
                });
            }),
            expect: Expect::Rows {
                rows: 2,
                warning: "longer than the limit of 100",
            },
            browser: true,
        },
        Case {
            file: "otlp_wide_resource.json",
            class: 2,
            what: "OTLP/JSON: a 200 KiB resource attribute and 2 000 trace ids (copied per \
                   trace: 425 MB): read once",
            bytes: otlp_wide_resource(2000),
            expect: Expect::Rows {
                rows: 2000,
                warning: "",
            },
            browser: true,
        },
        Case {
            file: "trace_nested_open.pt",
            class: 4,
            what: "30 000 nested spans that never close (ancestor walks and depths)",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(30_000, |w, i| {
                                w.event(
                                    "span_start",
                                    "s",
                                    T0 + i as f64,
                                    Some(i as i64),
                                    None,
                                    |_| {},
                                )
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row.clone(),
            browser: true,
        },
        Case {
            file: "trace_fifo_ends.pt",
            class: 4,
            what: "30 000 spans ended in the order they started (the span-id stack)",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(60_000, |w, i| {
                                let (kind, id) = if i < 30_000 {
                                    ("span_start", i)
                                } else {
                                    ("span_end", i - 30_000)
                                };
                                w.event(kind, "s", T0 + i as f64, Some(id as i64), None, |_| {})
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row.clone(),
            browser: true,
        },
        Case {
            file: "trace_open_siblings.pt",
            class: 4,
            what: "50 000 open spans with one parent and one start (next_sibling_start)",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(50_001, |w, i| match i {
                                0 => w.event("span_start", "root", T0, Some(0), None, |_| {}),
                                _ => w.event(
                                    "span_start",
                                    "c",
                                    T0 + 1.0,
                                    Some(i as i64),
                                    Some(0),
                                    |_| {},
                                ),
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row.clone(),
            browser: true,
        },
        Case {
            file: "trace_pd_lanes.pt",
            class: 4,
            what: "20 000 sglang_generate spans with flat pd_* end attrs: 40 000 [P]/[D] lanes",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(40_000, |w, i| {
                                let (n, end) = (i / 2, i % 2 == 1);
                                let t = T0 + n as f64;
                                if !end {
                                    w.event(
                                        "span_start",
                                        "sglang_generate",
                                        t,
                                        Some(n as i64),
                                        None,
                                        |_| {},
                                    );
                                    return;
                                }
                                w.event(
                                    "span_end",
                                    "sglang_generate",
                                    t + 0.5,
                                    Some(n as i64),
                                    None,
                                    |w| {
                                        w.s("attrs");
                                        if n == 0 {
                                            w.p.empty_dict().mark();
                                            w.p.str("pd_prefill_forward_duration").float(0.1);
                                            w.p.str("pd_decode_forward_duration").float(0.3);
                                            w.p.setitems().put(1);
                                        } else {
                                            w.p.get(1);
                                        }
                                    },
                                )
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row.clone(),
            browser: true,
        },
        Case {
            file: "trace_far_times.pt",
            class: 7,
            what: "a span from -1e308 to 1e308 with flat pd_* attrs and overflowing metrics: \
                   infinite durations stay strict JSON",
            bytes: dump(|w| {
                w.p.empty_list();
                w.items(1, |w, _| {
                    w.sample(
                        0,
                        |w| {
                            w.items(1, |w, _| {
                                w.event(
                                    "span_start",
                                    "sglang_generate",
                                    -1e308,
                                    Some(1),
                                    None,
                                    |_| {},
                                );
                                w.event("span_end", "sglang_generate", 1e308, Some(1), None, |w| {
                                    w.s("attrs");
                                    w.p.empty_dict().mark();
                                    w.p.str("e2e_latency").float(1.7e308);
                                    w.p.str("completion_tokens").float(1.7e308);
                                    w.p.str("pd_prefill_forward_duration").float(1e308);
                                    w.p.setitems();
                                });
                                w.event(
                                    "span_start",
                                    "sglang_generate",
                                    0.0,
                                    Some(2),
                                    None,
                                    |_| {},
                                );
                                w.event("span_end", "sglang_generate", 1.0, Some(2), None, |w| {
                                    w.s("attrs");
                                    w.p.empty_dict().mark();
                                    w.p.str("e2e_latency").float(1.7e308);
                                    w.p.setitems();
                                });
                            })
                        },
                        |_| {},
                    )
                });
            }),
            expect: one_row,
            browser: true,
        },
    ]
}
