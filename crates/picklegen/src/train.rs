//! Train dumps (slime's `train_data/{id}.pt`) that cost little to write and much to read:
//! tensors whose shape far exceeds their storage (stride 0), named again and again through
//! the pickle memo.

use crate::{tensor, zip_entries, Entry, Method, Pickle};

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
    torch_zip_one_storage(&p.stop(), &1.0f32.to_le_bytes())
}

/// A torch ZIP of `pkl` and one storage `"0"` (what [`crate::tensor`] refers to), both stored.
pub fn torch_zip_one_storage(pkl: &[u8], storage: &[u8]) -> Vec<u8> {
    zip_entries(&[
        Entry {
            name: "archive/data.pkl",
            data: pkl,
            method: Method::Stored,
        },
        Entry {
            name: "archive/data/0",
            data: storage,
            method: Method::Stored,
        },
    ])
}
