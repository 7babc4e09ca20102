//! Train dumps (slime's `train_data/{id}.pt`) that cost little to write and much to read:
//! tensors whose shape far exceeds their storage (stride 0), named again and again through
//! the pickle memo.

use crate::{zip_entries, Entry, Method, Pickle};

/// Writes a `torch.Tensor` (float32, storage "0") of `shape` and `stride`.
pub fn tensor(p: &mut Pickle, shape: &[i64], stride: &[i64]) {
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark()
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .int(1)
        .tuple();
    p.op(b'Q'); // BINPERSID
    p.int(0).mark();
    for &d in shape {
        p.int(d);
    }
    p.tuple().mark();
    for &s in stride {
        p.int(s);
    }
    p.tuple().bool(false);
    p.global("collections", "OrderedDict")
        .empty_tuple()
        .reduce();
    p.tuple().reduce();
}

/// `samples` dicts, each naming one memoised tensor under every per-token key.
pub fn train_zip(samples: usize, shape: &[i64], stride: &[i64]) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().mark();
    for i in 0..samples {
        p.empty_dict().mark();
        p.str("rollout_position").int(i as i64);
        for (k, key) in [
            "advantages",
            "returns",
            "kl",
            "log_probs",
            "rollout_log_probs",
            "loss_masks",
        ]
        .iter()
        .enumerate()
        {
            p.str(key);
            if i == 0 && k == 0 {
                tensor(&mut p, shape, stride);
                p.put(1);
            } else {
                p.get(1);
            }
        }
        p.setitems();
    }
    p.appends().setitem();
    let pkl = p.stop();
    let storage = 1.0f32.to_le_bytes();
    zip_entries(&[
        Entry {
            name: "archive/data.pkl",
            data: &pkl,
            method: Method::Stored,
        },
        Entry {
            name: "archive/data/0",
            data: &storage,
            method: Method::Stored,
        },
    ])
}
