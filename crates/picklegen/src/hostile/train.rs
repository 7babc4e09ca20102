//! Train dumps (`save_debug_train_data` payloads) that lie: a `rollout_id` that names another
//! rollout, absurd ranks, per-token series whose length is not the loss mask's, NaN values; and
//! rollout samples whose `multimodal_inputs` images are huge or lie about their size. A timeline reader finds no traced
//! sample in a train payload (no rows); the run reader (`trace::run::TrainData`) reads each
//! with a clear note for what does not add up and keeps every other sample.

use super::{Case, Expect};
use crate::{zip_entries, Entry, Method, Pickle};

/// One sample of a train payload: `(key, values)` per float32 tensor, plus ints.
pub struct TrainSampleSpec {
    pub ints: Vec<(&'static str, i64)>,
    pub tensors: Vec<(&'static str, Vec<f32>)>,
}

/// A float32 tensor over storage `key` (a 1-d tensor of `n` values).
fn tensor(p: &mut Pickle, key: &str, n: usize) {
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark()
        .str("storage")
        .global("torch", "FloatStorage")
        .str(key)
        .str("cpu")
        .int(n as i64)
        .tuple();
    p.op(b'Q'); // BINPERSID
    p.int(0).mark().int(n as i64).tuple().mark().int(1).tuple();
    p.bool(false);
    p.global("collections", "OrderedDict")
        .empty_tuple()
        .reduce();
    p.tuple().reduce();
}

/// `{"format_version": 2, "rollout_id": id, "rank": rank, "samples": [...], "dp_shards": [],
/// "raw_reward": [...]}` in a torch ZIP, each tensor in a storage of its own.
pub fn train_payload(rollout_id: i64, rank: i64, samples: &[TrainSampleSpec]) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    let mut storages: Vec<(String, Vec<u8>)> = Vec::new();
    p.empty_dict().mark();
    p.str("format_version").int(2);
    p.str("rollout_id").int(rollout_id);
    p.str("rank").int(rank);
    p.str("samples").empty_list().mark();
    for s in samples {
        p.empty_dict().mark();
        for (k, v) in &s.ints {
            p.str(k).int(*v);
        }
        for (k, values) in &s.tensors {
            let key = storages.len().to_string();
            p.str(k);
            tensor(&mut p, &key, values.len());
            storages.push((key, values.iter().flat_map(|x| x.to_le_bytes()).collect()));
        }
        p.setitems();
    }
    p.appends();
    p.str("raw_reward").empty_list();
    p.str("dp_shards").empty_list();
    p.setitems();
    let pkl = p.stop();
    let names: Vec<String> = storages
        .iter()
        .map(|(k, _)| format!("archive/data/{k}"))
        .collect();
    let mut entries = vec![Entry {
        name: "archive/data.pkl",
        data: &pkl,
        method: Method::Stored,
    }];
    for ((_, data), name) in storages.iter().zip(&names) {
        entries.push(Entry {
            name,
            data,
            method: Method::Stored,
        });
    }
    zip_entries(&entries)
}

/// A sample at `position` of DP rank `rank`: `n` tokens of advantages, log probs and a mask.
pub fn good_sample(position: i64, rank: i64, n: usize) -> TrainSampleSpec {
    TrainSampleSpec {
        ints: vec![
            ("rollout_position", position),
            ("data_parallel_rank", rank),
            ("response_lengths", n as i64),
        ],
        tensors: vec![
            ("advantages", vec![0.5; n]),
            ("log_probs", vec![-0.25; n]),
            ("rollout_log_probs", vec![-0.5; n]),
            ("loss_masks", vec![1.0; n]),
        ],
    }
}

/// A rollout dump of one traced sample whose `multimodal_inputs` is `{"images": [...]}`, the
/// list's items written by `images`.
pub fn image_sample(images: impl FnOnce(&mut Pickle)) -> Vec<u8> {
    crate::rollout_zip(|p| {
        p.empty_list().mark();
        p.empty_dict().mark();
        p.str("index").int(0).str("response").str("ok");
        p.str("trace")
            .empty_dict()
            .mark()
            .str("events")
            .empty_list()
            .mark();
        p.empty_dict().mark();
        p.str("type")
            .str("event")
            .str("name")
            .str("e")
            .str("ts")
            .float(1.0);
        p.setitems();
        p.appends().setitems();
        p.str("multimodal_inputs")
            .empty_dict()
            .mark()
            .str("images")
            .empty_list()
            .mark();
        images(p);
        p.appends().setitems();
        p.setitems();
        p.appends();
    })
}

/// A 4 MiB "image" of raw bytes (no PIL image).
fn huge_image() -> Vec<u8> {
    image_sample(|p| {
        p.bytes(&vec![0xff; 4 << 20]);
    })
}

/// PIL images that are huge or lie: 2048 × 2048 grey (4 MiB of pixels, drawn 160 × 160), one
/// shared by reference (drawn again, charged again), one claiming 2^20 × 2^20 RGB over 3
/// bytes, one whose size overflows u64 when multiplied, and a fifth past the four shown.
fn huge_pil_images() -> Vec<u8> {
    image_sample(|p| {
        p.pil_image("L", (2048, 2048), None, &vec![128; 2048 * 2048])
            .put(900);
        p.get(900);
        p.pil_image("RGB", (1 << 20, 1 << 20), None, &[1, 2, 3]);
        p.pil_image("RGBA", (i64::MAX, i64::MAX), None, &[0; 4]);
        p.pil_image("CMYK", (1, 1), None, &[0; 4]);
    })
}

pub(super) fn cases() -> Vec<Case> {
    let no_rows = Expect::Rows {
        rows: 0,
        warning: "",
    };
    let mut mismatched = good_sample(1, 0, 4);
    mismatched.tensors[0].1 = vec![0.5; 6];
    let mut nan = good_sample(1, 0, 4);
    nan.tensors[1].1[2] = f32::NAN;
    vec![
        Case {
            file: "train_lying_rollout_id.pt",
            class: 0,
            what: "a train dump named for rollout 3 whose payload says rollout 99 (paired by \
                   its payload, it belongs to no rollout)",
            bytes: train_payload(99, 0, &[good_sample(0, 0, 4)]),
            expect: no_rows.clone(),
            browser: true,
        },
        Case {
            file: "train_absurd_ranks.pt",
            class: 0,
            what: "data_parallel_rank 2^62 and -7 and a writer rank of -1",
            bytes: train_payload(0, -1, &[good_sample(0, 1 << 62, 4), good_sample(1, -7, 4)]),
            expect: no_rows.clone(),
            browser: true,
        },
        Case {
            file: "train_mismatched_lengths.pt",
            class: 0,
            what: "a sample whose advantages have 6 values for a 4-token loss mask",
            bytes: train_payload(0, 0, &[good_sample(0, 0, 4), mismatched]),
            expect: no_rows.clone(),
            browser: true,
        },
        Case {
            file: "train_nan.pt",
            class: 7,
            what: "a NaN among a sample's log probs",
            bytes: train_payload(0, 0, &[good_sample(0, 0, 4), nan]),
            expect: no_rows,
            browser: true,
        },
        Case {
            file: "huge_image.pt",
            class: 2,
            what: "a sample whose multimodal_inputs holds a 4 MiB image (never decoded)",
            bytes: huge_image(),
            expect: Expect::Rows {
                rows: 1,
                warning: "",
            },
            browser: true,
        },
        Case {
            file: "huge_pil_images.pt",
            class: 2,
            what:
                "PIL images of 2048 × 2048 (drawn 160 × 160) shared twice, of 2^20 × 2^20 over 3 \
                   bytes, of a size whose product overflows, and a fifth past the four shown",
            bytes: huge_pil_images(),
            expect: Expect::Rows {
                rows: 1,
                warning: "",
            },
            browser: true,
        },
    ]
}
