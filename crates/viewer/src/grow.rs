//! Where the wasm allocator gets memory: `memory.grow`, by a share of what the module holds.
//!
//! Talc's own source grows the memory by just enough for the allocation that ran out: one
//! 64 KiB page at a time for small values, so a worker building rows for a large dump grew
//! its memory thousands of times (each a call into the engine that replaces the memory's
//! `ArrayBuffer`). `Grow` asks for at least an eighth of the memory held, and at least
//! [`MIN_PAGES`]. A grown page that nothing writes costs the browser address space, not
//! memory, so the pages a load touches are the same. Where a large request fails (near
//! the 4 GiB of wasm32), the bare need is asked for again.

use core::alloc::Layout;

/// A wasm page.
const PAGE: usize = 64 * 1024;
/// The least the memory grows by: 4 MiB.
pub const MIN_PAGES: usize = 64;
/// Room asked for beyond a request: talc's chunk tags and its first heap's lists take less.
const SLACK: usize = 1024;

/// A talc memory source growing the wasm memory geometrically (see the module doc).
#[cfg(target_arch = "wasm32")]
#[derive(Debug, Default)]
pub struct Grow {
    /// The end of the heap, when the last growth extended it.
    end: Option<core::ptr::NonNull<u8>>,
}

#[cfg(target_arch = "wasm32")]
impl Grow {
    pub const fn new() -> Self {
        Grow { end: None }
    }
}

/// Pages to ask for: what `layout` needs (with room for talc's chunk tags and alignment),
/// at least an eighth of the `held` pages and at least [`MIN_PAGES`].
pub fn pages_for(layout: Layout, held: usize) -> (usize, usize) {
    let need = layout
        .size()
        .saturating_add(layout.align())
        .saturating_add(SLACK)
        .div_ceil(PAGE);
    (need, need.max(held / 8).max(MIN_PAGES))
}

/// The addresses of `pages` pages grown after the first `prev`: wasm32's, so growing up to
/// the full 4 GiB ends at `u32::MAX` (talc never uses the last bytes), not at 2^32 wrapped
/// to 0, which would add nothing.
pub fn span(prev: usize, pages: usize) -> (u32, u32) {
    let at = |p: usize| u32::try_from(p.saturating_mul(PAGE)).unwrap_or(u32::MAX);
    (at(prev), at(prev.saturating_add(pages)))
}

// SAFETY: `acquire` neither allocates nor touches the allocator it feeds but through `talc`.
#[cfg(target_arch = "wasm32")]
unsafe impl talc::source::Source for Grow {
    fn acquire<B: talc::base::binning::Binning>(
        talc: &mut talc::base::Talc<Self, B>,
        layout: Layout,
    ) -> Result<(), ()> {
        let (need, want) = pages_for(layout, core::arch::wasm32::memory_size::<0>());
        let (prev, pages) = match core::arch::wasm32::memory_grow::<0>(want) {
            usize::MAX if want > need => match core::arch::wasm32::memory_grow::<0>(need) {
                usize::MAX => return Err(()),
                prev => (prev, need),
            },
            usize::MAX => return Err(()),
            prev => (prev, want),
        };
        let (base, end) = span(prev, pages);
        let (base, end) = (base as usize as *mut u8, end as usize as *mut u8);
        let bytes = end as usize - base as usize;
        if let Some(old) = talc.source.end.take() {
            if old.as_ptr() == base {
                // SAFETY: the new pages follow the heap's end; they are ours alone.
                talc.source.end = Some(unsafe { talc.extend(old, end) });
                return Ok(());
            }
        }
        // SAFETY: fresh pages, owned by nobody else.
        talc.source.end = unsafe { talc.claim(base, bytes) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    /// Small requests grow the memory by 4 MiB, then by an eighth of what is held; a request
    /// larger than that gets what it needs, with room for talc's tags.
    #[test]
    fn growth_is_a_share_of_the_memory_held() {
        assert_eq!(pages_for(lay(16), 17), (1, MIN_PAGES));
        assert_eq!(pages_for(lay(16), 8 * 1000), (1, 1000));
        let (need, want) = pages_for(lay(10 * PAGE), 100);
        assert_eq!(need, 11, "the request, its alignment and talc's tags");
        assert_eq!(want, MIN_PAGES);
        let (need, want) = pages_for(lay(200 * PAGE), 100);
        assert_eq!((need, want), (201, 201));
        assert!(
            pages_for(lay(isize::MAX as usize - 8), 0).0 > 0,
            "no overflow"
        );
    }

    /// The last pages of the 4 GiB end at the last address, not at 0.
    #[test]
    fn the_last_pages_end_at_the_top() {
        assert_eq!(span(2, 3), (2 * PAGE as u32, 5 * PAGE as u32));
        assert_eq!(span(65_535, 1), (u32::MAX - PAGE as u32 + 1, u32::MAX));
        assert_eq!(span(60_000, 5_536).1, u32::MAX);
    }
}
