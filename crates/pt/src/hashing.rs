//! Keyed hashing for text that comes from a dump (dict keys here, interned texts in `trace`):
//! one home for the hasher and its seed.
//!
//! A file cannot choose texts that collide when it cannot know the seed. Natively the seed
//! comes from std's per-process random keys (the OS's random numbers). In a browser's wasm
//! those keys, and foldhash's own, are the same on every run, so the viewer's worker adds
//! entropy from `crypto.getRandomValues` at start ([`add_entropy`]) before it reads a file.
//! foldhash claims speed, not resistance to a caller who knows the seed; with the seed
//! unknown, a file's texts land in buckets it cannot predict.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub use foldhash::fast::SeedableRandomState as State;

static ENTROPY: AtomicU64 = AtomicU64::new(0);
static COUNT: AtomicU64 = AtomicU64::new(0);

/// Mixes `seed` into every hasher made from now on (the viewer's worker: 64 random bits).
pub fn add_entropy(seed: u64) {
    ENTROPY.fetch_xor(seed, Ordering::Relaxed);
}

/// A fresh hasher state: std's per-process random keys, the entropy added, and a count, so
/// that no two tables share a seed.
pub fn state() -> State {
    static BASE: OnceLock<u64> = OnceLock::new();
    let base =
        *BASE.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64));
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let seed = base ^ ENTROPY.load(Ordering::Relaxed) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    State::with_seed(seed, foldhash::SharedSeed::global_random())
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
