//! Small-block free lists in front of the wasm allocator (Talc). The worker's pickle VM and
//! row builder make and drop millions of small values (JSON values, strings, map nodes); a
//! profile of a 427 MB dump spent about 1.5 s of 12.5 s in Talc's allocate and free.
//! [`Slab`] keeps each freed block of at most [`MAX`] bytes (align ≤ 16) on a LIFO list per
//! 16-byte size class and hands it out again; a block is taken from the inner allocator at its
//! class's full size, so any request of the class fits. Each list holds at most [`CAP`]
//! bytes, beyond which frees go to the inner allocator, so the heap's high water grows by at
//! most `CLASSES × CAP`. Not thread-safe: used only on wasm32 without atomics (one thread).
//!
//! The classes end 4 bytes short of a multiple of 16: a Talc chunk is its request plus a
//! 4-byte tail, rounded up to 16, so a class's full size costs Talc no more than its smallest
//! size. (Classes of whole multiples of 16 cost a 427 MB dump ≈ 90 MB more peak and were no
//! faster.)

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, null_mut};

/// Size-class step, and the alignment of every cached block.
const STEP: usize = 16;
/// The number of size classes.
const CLASSES: usize = 16;
/// Talc's per-chunk tail (a `usize`).
const TAIL: usize = 4;
/// The largest size served from the lists.
pub const MAX: usize = STEP * CLASSES - TAIL;
/// The most bytes a class's list holds.
pub const CAP: usize = 1 << 20;

/// A [`GlobalAlloc`] that caches small freed blocks of `A` (see the module docs).
pub struct Slab<A> {
    inner: A,
    /// Per class: the list's head (each free block's first word is the next) and its bytes.
    lists: UnsafeCell<[(*mut u8, usize); CLASSES]>,
}

// SAFETY: only one thread exists (wasm32 without atomics).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<A> Sync for Slab<A> {}

/// `layout`'s class, if the lists serve it.
fn class(layout: Layout) -> Option<usize> {
    (layout.size() <= MAX && layout.align() <= STEP).then(|| (layout.size() + TAIL - 1) / STEP)
}

/// The layout every block of class `c` is taken from the inner allocator with.
fn block(c: usize) -> Layout {
    // SAFETY: STEP is a power of two and the size is small.
    unsafe { Layout::from_size_align_unchecked((c + 1) * STEP - TAIL, STEP) }
}

impl<A> Slab<A> {
    pub const fn new(inner: A) -> Self {
        Slab {
            inner,
            lists: UnsafeCell::new([(null_mut(), 0); CLASSES]),
        }
    }

    /// The bytes cached for class `c` (tests).
    #[cfg(test)]
    fn cached(&self, c: usize) -> usize {
        // SAFETY: single-threaded; no other borrow is live.
        unsafe { (*self.lists.get())[c].1 }
    }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Slab<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class(layout) else {
            return unsafe { self.inner.alloc(layout) };
        };
        // SAFETY: single-threaded; the borrow ends before the inner allocator is called.
        let (head, bytes) = unsafe { &mut (*self.lists.get())[c] };
        if head.is_null() {
            return unsafe { self.inner.alloc(block(c)) };
        }
        let p = *head;
        // SAFETY: a cached block's first word holds the next block.
        *head = unsafe { p.cast::<*mut u8>().read() };
        *bytes -= block(c).size();
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(c) = class(layout) else {
            return unsafe { self.inner.dealloc(p, layout) };
        };
        // SAFETY: as in `alloc`.
        let (head, bytes) = unsafe { &mut (*self.lists.get())[c] };
        if *bytes + block(c).size() > CAP {
            return unsafe { self.inner.dealloc(p, block(c)) };
        }
        // SAFETY: the block is ours now, word-sized at least and STEP-aligned.
        unsafe { p.cast::<*mut u8>().write(*head) };
        *head = p;
        *bytes += block(c).size();
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new)) {
            (Some(a), Some(b)) if a == b => p,
            (None, None) => unsafe { self.inner.realloc(p, layout, new_size) },
            _ => unsafe {
                let q = self.alloc(new);
                if !q.is_null() {
                    ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                    self.dealloc(p, layout);
                }
                q
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;
    use std::cell::Cell;

    /// The system allocator, counting the bytes it has out.
    #[derive(Default)]
    struct Counting(Cell<usize>);

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            self.0.set(self.0.get() + l.size());
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            self.0.set(self.0.get() - l.size());
            unsafe { System.dealloc(p, l) }
        }
    }

    fn lay(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    /// Fills `n` bytes at `p` with a pattern from `seed`, or checks them.
    unsafe fn fill(p: *mut u8, n: usize, seed: usize) {
        (0..n).for_each(|i| unsafe { p.add(i).write((seed * 31 + i) as u8) });
    }
    unsafe fn check(p: *const u8, n: usize, seed: usize) {
        (0..n).for_each(|i| assert_eq!(unsafe { p.add(i).read() }, (seed * 31 + i) as u8));
    }

    #[test]
    fn mixed_alloc_free_realloc_keeps_data() {
        let s = Slab::new(Counting::default());
        let mut live: Vec<(*mut u8, Layout, usize)> = Vec::new();
        let mut x = 12345usize;
        for i in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = x >> 33;
            let size = 1 + r % if r.is_multiple_of(7) { 1000 } else { 300 };
            let align = [1, 2, 4, 8, 16, 32][r % 6];
            match r % 4 {
                0 | 1 => unsafe {
                    let l = lay(size, align);
                    let p = s.alloc(l);
                    assert_eq!(p as usize % align, 0);
                    fill(p, size, i);
                    live.push((p, l, i));
                },
                2 if !live.is_empty() => unsafe {
                    let (p, l, seed) = live.swap_remove(r % live.len());
                    check(p, l.size(), seed);
                    s.dealloc(p, l);
                },
                _ if !live.is_empty() => unsafe {
                    let k = r % live.len();
                    let (p, l, seed) = live[k];
                    let q = s.realloc(p, l, size);
                    assert_eq!(q as usize % l.align(), 0);
                    check(q, l.size().min(size), seed);
                    fill(q, size, i);
                    live[k] = (q, lay(size, l.align()), i);
                },
                _ => {}
            }
        }
        for (p, l, seed) in live {
            unsafe { check(p, l.size(), seed) };
            unsafe { s.dealloc(p, l) };
        }
        // Everything the inner allocator still has out is cached, within the caps.
        let cached: usize = (0..CLASSES).map(|c| s.cached(c)).sum();
        assert_eq!(s.inner.0.get(), cached);
        assert!((0..CLASSES).all(|c| s.cached(c) <= CAP));
    }

    #[test]
    fn same_class_realloc_keeps_the_block_and_freed_blocks_are_reused() {
        let s = Slab::new(Counting::default());
        unsafe {
            let p = s.alloc(lay(13, 8));
            assert_eq!(s.realloc(p, lay(13, 8), 28), p);
            s.dealloc(p, lay(28, 8));
            assert_eq!(s.cached(1), 28);
            assert_eq!(s.alloc(lay(20, 4)), p);
            assert_eq!(s.cached(1), 0);
            s.dealloc(p, lay(20, 4));
        }
    }

    #[test]
    fn the_cap_holds() {
        let s = Slab::new(Counting::default());
        let n = CAP / 60 + 100;
        let ps: Vec<_> = (0..n).map(|_| unsafe { s.alloc(lay(50, 8)) }).collect();
        assert_eq!(s.inner.0.get(), n * 60);
        ps.into_iter()
            .for_each(|p| unsafe { s.dealloc(p, lay(50, 8)) });
        assert_eq!(s.cached(3), CAP / 60 * 60);
        assert_eq!(s.inner.0.get(), CAP / 60 * 60);
    }
}
