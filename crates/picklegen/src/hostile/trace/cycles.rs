//! Class 1: cycles through object state inside a trace (attrs, keys, sample fields).

use super::{dump, one_row, one_sample, T0};
use crate::hostile::{Case, Expect};

/// A tensor-like attrs value, object keys and sample fields whose state names themselves.
pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            file: "trace_attrs_cycle.pt",
            class: 1,
            what: "an attrs dict holding a tensor-like object whose BUILD state names the \
                   object itself (dtype) and the attrs dict (shape)",
            bytes: one_sample(|w| {
                w.items(1, |w, _| {
                    w.event("event", "e", T0, None, None, |w| {
                        w.s("attrs");
                        w.p.empty_dict().put(1).str("obj");
                        w.p.new_object("torch", "Tensor").put(2);
                        w.p.empty_dict().mark().str("dtype").get(2);
                        w.p.str("shape").get(1).setitems().build().setitem();
                    })
                })
            }),
            expect: one_row(),
            browser: true,
        },
        Case {
            file: "trace_object_keys.pt",
            class: 1,
            what: "attrs keyed by a tensor-like object whose dtype is itself and by a list \
                   that contains itself",
            bytes: one_sample(|w| {
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
            }),
            expect: one_row(),
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
    ]
}
