//! Class 4: span shapes that are quadratic for a naive pairing (nested and sibling open
//! spans, FIFO ends, PD lanes); class 7: float edges (times at ±1e308, overflowing metrics).

use super::{one_row, one_sample, T0};
use crate::hostile::Case;

/// Class 4.
pub(super) fn span_shapes() -> Vec<Case> {
    vec![
        Case {
            file: "trace_nested_open.pt",
            class: 4,
            what: "30 000 nested spans that never close (ancestor walks and depths)",
            bytes: one_sample(|w| {
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
            }),
            expect: one_row(),
            browser: true,
        },
        Case {
            file: "trace_fifo_ends.pt",
            class: 4,
            what: "30 000 spans ended in the order they started (the span-id stack)",
            bytes: one_sample(|w| {
                w.items(60_000, |w, i| {
                    let (kind, id) = if i < 30_000 {
                        ("span_start", i)
                    } else {
                        ("span_end", i - 30_000)
                    };
                    w.event(kind, "s", T0 + i as f64, Some(id as i64), None, |_| {})
                })
            }),
            expect: one_row(),
            browser: true,
        },
        Case {
            file: "trace_open_siblings.pt",
            class: 4,
            what: "50 000 open spans with one parent and one start (next_sibling_start)",
            bytes: one_sample(|w| {
                w.items(50_001, |w, i| match i {
                    0 => w.event("span_start", "root", T0, Some(0), None, |_| {}),
                    _ => w.event("span_start", "c", T0 + 1.0, Some(i as i64), Some(0), |_| {}),
                })
            }),
            expect: one_row(),
            browser: true,
        },
        Case {
            file: "trace_pd_lanes.pt",
            class: 4,
            what: "20 000 sglang_generate spans with flat pd_* end attrs: 40 000 [P]/[D] lanes",
            bytes: one_sample(|w| {
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
            }),
            expect: one_row(),
            browser: true,
        },
    ]
}

/// Class 7.
pub(super) fn float_edges() -> Vec<Case> {
    vec![Case {
        file: "trace_far_times.pt",
        class: 7,
        what: "a span from -1e308 to 1e308 with flat pd_* attrs and overflowing metrics: \
                   infinite durations stay strict JSON",
        bytes: one_sample(|w| {
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
                w.event("span_start", "sglang_generate", 0.0, Some(2), None, |_| {});
                w.event("span_end", "sglang_generate", 1.0, Some(2), None, |w| {
                    w.s("attrs");
                    w.p.empty_dict().mark();
                    w.p.str("e2e_latency").float(1.7e308);
                    w.p.setitems();
                });
            })
        }),
        expect: one_row(),
        browser: true,
    }]
}
