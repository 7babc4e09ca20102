//! The three amplifiers of issue 24 (class 3: uncharged or amplified VM work), each a few
//! hundred KB at most, built from one DEFLATE block repeated (see `vm::deflated_repeat`):
//! - ADDITEMS of a 16 M-long MARK run onto a set, eight times (once 4–5 GB): a set keeps
//!   one of each repeated item, and the stack counts against the memory limit as it grows;
//! - `getattr` called 10 000 times on a global whose module name is 1 MiB (once 2.35 GB):
//!   a name is at most 64 KiB, and the same call on the same strings gives one shared name;
//! - a GLOBAL line of 512 MiB without a newline (once 1.56 GB held): refused once 64 KiB
//!   have arrived.

use super::vm::{deflated_repeat, good_sample, zip64_single};
use super::{Case, Expect};
use crate::Pickle;

/// `{"rollout_id": 0, "samples": [<one good sample>], "junk": <what follows>` (the dict's
/// SETITEMS and STOP are the caller's suffix).
fn prefix() -> Pickle {
    let mut p = Pickle::proto(2);
    p.empty_dict().mark();
    p.str("rollout_id").int(0);
    p.str("samples").empty_list().mark();
    good_sample(&mut p, |_| {});
    p.appends().str("junk");
    p
}

/// A torch ZIP whose data.pkl is `prefix`, `unit` × `times`, `suffix`.
fn repeated(prefix: &[u8], unit: &[u8], times: usize, suffix: &[u8]) -> Vec<u8> {
    let size = (prefix.len() + unit.len() * times + suffix.len()) as u64;
    zip64_single(
        "rollout_0/data.pkl",
        &deflated_repeat(prefix, unit, times, suffix),
        size,
    )
}

/// ADDITEMS of a `run`-long MARK run of None onto one set, eight times.
pub fn additems_runs(run: usize) -> Vec<u8> {
    let mut p = prefix();
    p.empty_set();
    let mut unit = vec![b'('];
    unit.resize(1 + run, b'N');
    unit.push(0x90); // ADDITEMS
    repeated(&p.bytes, &unit, 8, b"u.")
}

/// `getattr(G, "x")` `calls` times on one memoised global whose module name is `module`
/// bytes long.
pub fn getattr_calls(module: usize, calls: usize) -> Vec<u8> {
    let mut p = prefix();
    p.global(&"m".repeat(module), "C").put(1).pop();
    p.global("builtins", "getattr").put(2).pop();
    p.str("x").put(3).pop();
    p.empty_list();
    let mut unit = Pickle::new();
    unit.mark();
    unit.repeat(1000, |p| {
        p.get(2).get(1).get(3).tuple_n(2).reduce();
    });
    unit.appends();
    let mut suffix = Pickle::new();
    suffix.setitems();
    repeated(&p.bytes, &unit.bytes, calls / 1000, &suffix.stop())
}

pub fn global_without_newline() -> Vec<u8> {
    let mut p = prefix();
    p.op(b'c');
    repeated(&p.bytes, &vec![b'a'; 1 << 20], 512, b"")
}

pub(super) fn cases() -> Vec<Case> {
    let case = |file, what, bytes, expect| Case {
        file,
        class: 3,
        what,
        bytes,
        expect,
        browser: true,
    };
    vec![
        // The file has 16 M-long runs (`additems_runs(16_000_000)`, 125 KB): a
        // debug build takes a minute over its 128 M opcodes, so the catalog holds the same
        // shape at 1 M.
        case(
            "amp_additems_mark_runs.pt",
            "ADDITEMS of a 1 M-long MARK run of None onto one set, eight times (the same \
             shape at 16 M: 125 KB, once 4–5 GB): the set keeps one None per run",
            additems_runs(1_000_000),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "amp_getattr_long_module.pt",
            "getattr called 10 000 times on a global whose module name is 1 MiB (once \
             2.35 GB): refused at the name",
            getattr_calls(1 << 20, 10_000),
            Expect::Error("longer than 64 KiB"),
        ),
        case(
            "amp_getattr_shared_name.pt",
            "getattr called 100 000 times on a global whose module name is 60 KiB (6 GB if \
             each call made its own name): one name, shared",
            getattr_calls(60 << 10, 100_000),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "amp_global_line_no_newline.pt",
            "a GLOBAL line of 512 MiB without a newline (512 KB deflated; once 1.56 GB \
             held): refused after 64 KiB",
            global_without_newline(),
            Expect::Error("longer than 64 KiB"),
        ),
    ]
}
