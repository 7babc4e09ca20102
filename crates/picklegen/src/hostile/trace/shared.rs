//! Class 2: one value shared by many places, which a reader that copies would amplify into
//! output (strings, attrs, samples) or into work (skipped events, number texts, an OTLP
//! resource copied per trace).

use super::{dump, one_sample, T0, W};
use crate::hostile::{Case, Expect};

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

/// Shared values, then shared work.
pub(super) fn cases() -> Vec<Case> {
    let mut all = values();
    all.extend(work());
    all.push(shared_name());
    all.push(samples_twice());
    all
}

/// A dump dict that sets `samples` twice. The reader hands the first list's samples to the
/// build as it reads them (and the viewer's worker sends their rows to the page at once), but
/// the file's samples are the second list's: the build starts over from those.
fn samples_twice() -> Case {
    let traced = |w: &mut W, i: usize, name: &'static str| {
        let t = T0 + i as f64;
        let events = |w: &mut W| {
            w.items(2, |w, j| {
                let kind = ["span_start", "span_end"][j];
                w.event(kind, name, t + j as f64, Some(1), None, |_| {})
            })
        };
        w.sample(i as i64, events, |_| {});
    };
    Case {
        file: "trace_samples_twice.pt",
        class: 2,
        what: "a dump that sets `samples` twice: 600 samples read and freed, then the 7 it keeps",
        bytes: dump(|w| {
            w.p.empty_list();
            w.items(600, |w, i| traced(w, i, "first"));
            w.s("samples");
            w.p.empty_list();
            w.items(7, |w, i| traced(w, i, "second"));
        }),
        expect: Expect::Rows {
            rows: 7,
            warning: "",
        },
        browser: true,
    }
}

/// Shared values: one value a reader would copy once per reference.
fn values() -> Vec<Case> {
    vec![
        Case {
            file: "trace_shared_string.pt",
            class: 2,
            what: "one 1 MiB string named as 4 096 attribute values of one event (4 GiB of \
                   JSON if copied): cut at 64 KiB per value",
            bytes: one_sample(|w| {
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
    ]
}

/// One span named by a 2 000-entry dict (≈ 30 KB of JSON) and 5 000 point events inside it
/// naming the same dict by reference (the `structured` fuzz target's finding of 2026-12-06):
/// every point holds its own name and a copy of its parent's, ≈ 1.8 GB as values when each
/// was converted whole (64 KiB). Names are cut at 4 KiB.
fn shared_name() -> Case {
    Case {
        file: "trace_shared_name.pt",
        class: 2,
        what: "one 2 000-entry dict as the name of a span and of its 5 000 children, \
               each item copying its parent's name: cut at 4 KiB per name",
        bytes: one_sample(|w| {
            w.items(5001, |w, i| {
                if i == 0 {
                    w.p.empty_dict().mark();
                    w.s("type").s("span_start").s("name");
                    w.p.empty_dict().mark();
                    for k in 0..2000 {
                        w.p.str(&format!("key{k:05}")).int(k);
                    }
                    w.p.setitems().put(2);
                    w.s("ts");
                    w.p.float(T0);
                    w.s("span_id");
                    w.p.int(1);
                    w.p.setitems();
                } else {
                    w.p.empty_dict().mark();
                    w.s("type").s("event").s("name");
                    w.p.get(2);
                    w.s("ts");
                    w.p.float(T0 + i as f64);
                    w.p.setitems();
                }
            })
        }),
        expect: Expect::Rows {
            rows: 1,
            warning: "4 KiB for names and span ids",
        },
        browser: true,
    }
}

/// Shared work: one value a reader would process once per reference.
fn work() -> Vec<Case> {
    vec![
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
    ]
}
