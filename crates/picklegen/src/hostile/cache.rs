//! Hostile cases: see `mod.rs`.

use super::Case;

pub(super) fn cases() -> Vec<Case> {
    Vec::new()
}
