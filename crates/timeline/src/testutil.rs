//! Rows and items for tests, built field by field.

use trace::{Item, PointItem, Row, SpanAttrs, SpanItem, State};

/// A closed span; `role` makes it a `[P]`/`[D]` virtual span (`"prefill"`/`"decode"`).
pub fn span(name: &str, start: f64, end: f64, lane: u32, role: Option<&str>) -> Item {
    let end_attrs = match role {
        Some(r) => serde_json::json!({ trace::PD_VIRTUAL_ROLE: r }),
        None => serde_json::json!({}),
    };
    Item::Span(SpanItem {
        state: State::ClosedSpan,
        name: name.into(),
        start_ts: start,
        end_ts: Some(end),
        display_end_ts: end,
        attempt: 0,
        span_id: serde_json::Value::Null,
        parent_span_id: serde_json::Value::Null,
        parent_span_name: serde_json::Value::Null,
        lane,
        depth: lane,
        attrs: SpanAttrs {
            start_attrs: serde_json::json!({}),
            end_attrs,
        },
    })
}

/// A point event.
pub fn point(name: &str, ts: f64, lane: u32) -> Item {
    Item::Event(PointItem {
        state: State::PointEvent,
        name: name.into(),
        ts,
        attempt: 0,
        span_id: serde_json::Value::Null,
        parent_span_id: serde_json::Value::Null,
        parent_span_name: serde_json::Value::Null,
        lane,
        depth: lane,
        attrs: serde_json::json!({}),
    })
}

/// A row around `items` (summary fields filled from them, `lane_count` as slime counts).
pub fn row(items: Vec<Item>) -> Row {
    let start = items.iter().map(Item::start).fold(f64::INFINITY, f64::min);
    let end = items
        .iter()
        .map(Item::display_end)
        .fold(f64::NEG_INFINITY, f64::max);
    Row {
        row_id: 0,
        sample_index: 0.into(),
        group_index: serde_json::Value::Null,
        source: serde_json::Value::Null,
        status: serde_json::Value::Null,
        label: serde_json::Value::Null,
        reward: serde_json::Value::Null,
        trace_id: serde_json::Value::Null,
        attempt: 0,
        start,
        end,
        duration: end - start,
        lane_count: items
            .iter()
            .map(|i| i.lane().saturating_add(1))
            .max()
            .unwrap_or(1),
        item_count: items.len(),
        closed_span_count: items.len(),
        open_span_count: 0,
        point_event_count: 0,
        orphan_count: 0,
        total_response_length: 0,
        max_response_length: 0,
        items,
    }
}

/// One trace event for [`dump`]: `(type, name, ts, span_id, parent_span_id, attrs)`.
pub type Ev<'a> = (
    &'a str,
    &'a str,
    f64,
    &'a str,
    &'a str,
    &'a [(&'a str, f64)],
);

/// A `torch.save`-shaped dump (written opcode by opcode) with one sample whose trace holds
/// `events`, so a test row goes through the real row builder, lanes and all.
pub fn dump(events: &[Ev<'_>]) -> Vec<u8> {
    use picklegen::Pickle;
    type W<'a> = Box<dyn FnOnce(&mut Pickle) + 'a>;
    let mut p = Pickle::proto(2);
    p.str_dict([(
        "samples",
        Box::new(|p: &mut Pickle| {
            p.empty_list().mark();
            p.str_dict([
                (
                    "index",
                    Box::new(|p: &mut Pickle| {
                        p.int(0);
                    }) as W,
                ),
                (
                    "trace",
                    Box::new(|p: &mut Pickle| {
                        p.str_dict([(
                            "events",
                            Box::new(|p: &mut Pickle| {
                                p.empty_list().mark();
                                for &(ty, name, ts, id, parent, attrs) in events {
                                    p.str_dict([
                                        (
                                            "type",
                                            Box::new(move |p: &mut Pickle| {
                                                p.str(ty);
                                            }) as W,
                                        ),
                                        (
                                            "name",
                                            Box::new(move |p: &mut Pickle| {
                                                p.str(name);
                                            }),
                                        ),
                                        (
                                            "ts",
                                            Box::new(move |p: &mut Pickle| {
                                                p.float(ts);
                                            }),
                                        ),
                                        (
                                            "span_id",
                                            Box::new(move |p: &mut Pickle| {
                                                p.str(id);
                                            }),
                                        ),
                                        (
                                            "parent_span_id",
                                            Box::new(move |p: &mut Pickle| {
                                                p.str(parent);
                                            }),
                                        ),
                                        (
                                            "attrs",
                                            Box::new(move |p: &mut Pickle| {
                                                p.empty_dict().mark();
                                                for &(k, v) in attrs {
                                                    p.str(k).float(v);
                                                }
                                                p.setitems();
                                            }),
                                        ),
                                    ]);
                                }
                                p.appends();
                            }) as W,
                        )]);
                    }),
                ),
            ]);
            p.appends();
        }) as W,
    )]);
    picklegen::torch_zip("rollout_0", &p.stop())
}

/// A small deterministic generator (xorshift64) for randomised tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random row: nested and overlapping spans over a few lanes, points, and `[P]`/`[D]`
/// virtual spans, at times offset by `origin` (epoch-like offsets stress rounding).
pub fn random_row(rng: &mut Rng, n: usize, origin: f64) -> Row {
    let mut items = Vec::with_capacity(n + 1);
    // A root span over everything: the long span every window must still find.
    items.push(span("root", origin, origin + 100.0, 0, None));
    for k in 0..n {
        let s = origin + rng.unit() * 100.0;
        let len = match rng.below(4) {
            0 => 0.0,
            1 => rng.unit() * 0.01,
            2 => rng.unit() * 5.0,
            _ => rng.unit() * 60.0,
        };
        let lane = rng.below(4) as u32;
        let name = ["gen", "tool", "reward", "x"][rng.below(4) as usize];
        items.push(match rng.below(10) {
            0 | 1 => point(name, s, lane),
            2 => span(
                &format!("{name} [P]"),
                s,
                s + len,
                5 + k as u32,
                Some("prefill"),
            ),
            3 => span(
                &format!("{name} [D]"),
                s,
                s + len,
                5 + k as u32,
                Some("decode"),
            ),
            _ => span(name, s, s + len, lane, None),
        });
    }
    row(items)
}
