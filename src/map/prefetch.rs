//! Software prefetching for batches. A lookup in a big table waits on three
//! cache misses in a row: the control bytes, the slot, then the record the
//! slot points to. One call at a time cannot overlap them (its shard lock's
//! atomic instruction orders memory); a batch knows every hash up front, so
//! it asks for item j + 2·AHEAD's control bytes and slot and item j + AHEAD's
//! record while it works on item j, and the misses of many items overlap.

use super::{Result, Table};

/// How many items ahead each stage runs: enough to cover a memory access
/// (~100 ns) with the work of the items in between, few enough that the
/// prefetched lines are still in L1 when their turn comes.
const AHEAD: usize = 8;

/// What `pipeline` asks of an item.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Prefetch the control bytes and first slots (`probe_lines`).
    Probe,
    /// Prefetch the record of the first candidate slot (`candidate_record`).
    Record,
    /// Do the item's real work.
    Work,
}

/// Calls `step(stage, j)` for items 0..n: `Work` in order, each item's
/// `Probe` 2·AHEAD items earlier and its `Record` AHEAD items earlier.
pub fn pipeline(n: usize, mut step: impl FnMut(Stage, usize) -> Result<()>) -> Result<()> {
    for j in 0..n.min(2 * AHEAD) {
        step(Stage::Probe, j)?;
    }
    for j in 0..n.min(AHEAD) {
        step(Stage::Record, j)?;
    }
    for j in 0..n {
        if j + 2 * AHEAD < n {
            step(Stage::Probe, j + 2 * AHEAD)?;
        }
        if j + AHEAD < n {
            step(Stage::Record, j + AHEAD)?;
        }
        step(Stage::Work, j)?;
    }
    Ok(())
}

/// Hints the CPU to fetch the control bytes and the slots that a lookup of
/// `hash` in `table` reads first. Only addresses are computed
/// (hashbrown keeps the control bytes at `data_end` and slot i just below
/// it, at `data_end - (i + 1)`); nothing is read, so a stale guess is harmless.
#[inline(always)]
pub fn probe_lines(table: &Table, hash: u64) {
    let index = hash as usize & (table.buckets() - 1);
    let data_end = table.data_end().as_ptr();
    prefetch(data_end.cast::<u8>().wrapping_add(index));
    // The key is in one of the 16 slots of the first control group, 128
    // bytes below `data_end - index`: two lines.
    prefetch(data_end.wrapping_sub(index + 1));
    prefetch(data_end.wrapping_sub(index + PROBE_GROUP));
}

/// Slots one control-group load covers (SSE2 groups are 16 bytes).
const PROBE_GROUP: usize = 16;

/// Hints the CPU to fetch the record of the first slot whose control byte
/// matches `hash` (the key comparison and the value copy read it next). Reads the control
/// bytes and the slot, so it pays off once `probe_lines` has brought them in.
#[inline(always)]
pub fn candidate_record(table: &Table, hash: u64) {
    // SAFETY: the iterator is used only while `table` is borrowed.
    if let Some(bucket) = unsafe { table.iter_hash(hash) }.next() {
        // SAFETY: `iter_hash` yields full buckets of `table`, which is
        // borrowed (and its shard locked) for this call.
        let record = unsafe { bucket.as_ref() }.0.as_ptr();
        // Two lines: a malloc block is 16-byte aligned, so even a 64-byte
        // record usually straddles a line boundary (header + key, then value).
        prefetch(record);
        prefetch(record.wrapping_add(64));
    }
}

/// Hints the CPU to fetch the line at `p` in exclusive state, ready to be
/// written (`prefetchw`).
#[inline(always)]
pub fn prefetch_for_write<T>(p: *const T) {
    // The intrinsic's ET0 hint becomes a plain prefetch unless the whole
    // crate is built for CPUs with PRFCHW; x86-64 CPUs without it execute
    // the instruction as a no-op, so it is emitted directly.
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults, reads or writes nothing
    // the program can observe, and leaves the flags alone.
    unsafe {
        std::arch::asm!("prefetchw [{p}]", p = in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and reads nothing the
    // program can observe, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
