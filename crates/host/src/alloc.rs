//! The binary's allocator settings. `rollscope` allocates through mimalloc (`main.rs`);
//! mimalloc 3 keeps freed memory for a second before returning it to the OS, so `rollscope
//! run --jobs 2` over twenty dumps peaked at three dumps' worth of memory (each job's freed
//! pages still held while the next dump was read). Returning it after 10 ms (mimalloc 2's
//! page delay; its arenas waited ten times that) holds a run at about one dump per job, and
//! costs `rollscope cache` nothing measurable.

/// mimalloc's `mi_option_purge_delay` (its index in `mi_option_e`, `mimalloc.h`; the Rust
/// bindings name no constant for it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds freed memory is kept before it is returned to the OS.
pub const PURGE_DELAY_MS: i64 = 10;

/// Makes [`PURGE_DELAY_MS`] the purge delay's default: a delay the user chose in the
/// environment still wins, as mimalloc reads it (`MIMALLOC_PURGE_DELAY` in any case, or the
/// older `MIMALLOC_RESET_DELAY`). Call first thing in `main`.
pub fn tune() {
    // SAFETY: sets one integer option's default (a no-op when the environment set it);
    // mimalloc reads it when it next schedules a purge. No other thread runs yet.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, PURGE_DELAY_MS as _) };
}

/// The purge delay in force, in milliseconds.
#[allow(clippy::useless_conversion)] // `c_long` is 32 bits on Windows
pub fn purge_delay_ms() -> i64 {
    // SAFETY: reads one integer option.
    i64::from(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index names the purge delay: before [`tune`] it reads mimalloc 3's default, 1000 ms
    /// (the only option whose default is 1000), after it [`PURGE_DELAY_MS`].
    #[test]
    fn tune_sets_the_purge_delay() {
        // mimalloc's own names, any case (its lookup ignores case).
        if std::env::vars_os().any(|(k, _)| {
            k.to_str().is_some_and(|k| {
                k.eq_ignore_ascii_case("MIMALLOC_PURGE_DELAY")
                    || k.eq_ignore_ascii_case("MIMALLOC_RESET_DELAY")
            })
        }) {
            return;
        }
        assert_eq!(purge_delay_ms(), 1000);
        tune();
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
    }
}
