//! Where entry blocks (`Record`s) come from.
//!
//! With the `mimalloc` feature (on by default) from a bundled mimalloc, used
//! for entries only; otherwise from Rust's global allocator (the system
//! `malloc`). An insert is mostly its entry's allocation: after a burst of
//! removals glibc hands the freed blocks back in the order they were freed,
//! scattered over the whole heap, reading the link stored in each, so every
//! insert waits for a cold line, one after the other. mimalloc hands out
//! blocks from one small page of same-sized blocks at a time; it measured
//! twice as fast per insert, with 12% less memory per entry (BENCHMARKS.md,
//! "Entry allocator").
//! Sanitizer and valgrind runs build without the feature so that those
//! tools see every block.
//!
//! mimalloc's symbols stay inside `libdashmap.so` (only `dm_*` is exported);
//! in `libdashmap.a`, `make lib` gives them private names
//! (`scripts/rename-bundled-symbols.sh`).

use std::alloc::Layout;

/// Largest block taken from mimalloc. Bigger ones (values of tens of KiB
/// and up) are rare, cost mostly their copy, and the system allocator maps
/// them on their own and unmaps them when freed, returning the memory at
/// once; and `setrlimit(RLIMIT_AS)` still limits them, which mimalloc's
/// address-space reservations (virtual, 1 GiB at a time) would not.
#[cfg(feature = "mimalloc")]
const MIMALLOC_MAX: usize = 64 * 1024;

/// Whether blocks of `layout` come from mimalloc.
#[cfg(feature = "mimalloc")]
#[inline(always)]
fn bundled(layout: Layout) -> bool {
    // mimalloc aligns every block of 16 bytes or more to 16 (its
    // MI_MAX_ALIGN_SIZE); entry blocks are at least 16 bytes, aligned to 8.
    (16..=MIMALLOC_MAX).contains(&layout.size()) && layout.align() <= 16
}

/// A block for `layout` (never zero-sized), or null when memory is exhausted.
/// Free it with `dealloc` and the same layout.
#[inline]
pub fn alloc(layout: Layout) -> *mut u8 {
    debug_assert!(layout.size() > 0);
    #[cfg(feature = "mimalloc")]
    if bundled(layout) {
        // SAFETY: plain C allocation; returns null on failure, never aborts.
        return unsafe { libmimalloc_sys::mi_malloc(layout.size()) }.cast();
    }
    // SAFETY: the layout is not zero-sized (the caller's contract, asserted).
    unsafe { std::alloc::alloc(layout) }
}

/// Frees a block from `alloc`.
///
/// # Safety
/// `block` came from `alloc(layout)` and is not used afterwards.
#[inline]
pub unsafe fn dealloc(block: *mut u8, layout: Layout) {
    #[cfg(feature = "mimalloc")]
    if bundled(layout) {
        // SAFETY: a live mimalloc block (`alloc` chose by the same layout).
        return unsafe { libmimalloc_sys::mi_free(block.cast()) };
    }
    // SAFETY: from `std::alloc::alloc` with this layout (the caller's contract).
    unsafe { std::alloc::dealloc(block, layout) }
}

/// Whether `block` lies in memory that mimalloc manages (tests only).
#[cfg(all(test, feature = "mimalloc"))]
pub fn from_mimalloc(block: *const u8) -> bool {
    extern "C" {
        fn mi_is_in_heap_region(p: *const std::ffi::c_void) -> bool;
    }
    // SAFETY: a mimalloc function (linked with the feature) that only
    // compares the address with mimalloc's regions.
    unsafe { mi_is_in_heap_region(block.cast()) }
}
