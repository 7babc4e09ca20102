//! Keyed hashing for text that comes from a dump (dict keys here, interned texts in `trace`):
//! one home for the hasher and its seed.
//!
//! A file cannot choose texts that collide when it cannot know the seed. Both of foldhash's
//! seeds (the one every table shares and each table's own) come from std's per-process random
//! keys natively (the OS's random numbers) and from what [`add_entropy`] adds: in a browser's
//! wasm, std's keys and foldhash's own are the same on every run of a build (a file could
//! then carry keys made to collide), so the viewer's workers add 64 bits of
//! `crypto.getRandomValues` at start, before the first table. foldhash claims speed, not
//! resistance to a caller who knows the seeds; with them unknown, a file's texts land in
//! buckets it cannot predict.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub use foldhash::fast::SeedableRandomState as State;

static ENTROPY: AtomicU64 = AtomicU64::new(0);
static COUNT: AtomicU64 = AtomicU64::new(0);

/// A hash map keyed by text from a dump, each with a fresh [`state`].
pub type HashMap<K, V> = std::collections::HashMap<K, V, State>;

/// An empty [`HashMap`] with room for `n` entries.
pub fn map<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, state())
}

/// Mixes `seed` into the hashing (the viewer's workers: 64 random bits). Call it before the
/// first table is made: the seed all tables share is fixed then.
pub fn add_entropy(seed: u64) {
    ENTROPY.fetch_xor(seed, Ordering::Relaxed);
}

/// A fresh hasher state: both seeds from std's per-process random keys and the entropy
/// added, and a count, so that no two tables share a seed.
pub fn state() -> State {
    static BASE: OnceLock<u64> = OnceLock::new();
    static SHARED: OnceLock<foldhash::SharedSeed> = OnceLock::new();
    let base =
        *BASE.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64));
    let entropy = ENTROPY.load(Ordering::Relaxed);
    let shared = SHARED.get_or_init(|| foldhash::SharedSeed::from_u64(base ^ entropy));
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let seed = base.rotate_left(17) ^ entropy ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    State::with_seed(seed, shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_states_hash_the_same_text_apart() {
        let (a, b) = (state(), state());
        assert_ne!(a.hash_one("trace"), b.hash_one("trace"));
    }
}
