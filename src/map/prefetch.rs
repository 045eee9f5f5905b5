//! Software prefetching for batches, and the first-control-group check
//! (`first_group`) that both batches and single lookups start with.
//!
//! A lookup in a big table waits on three cache misses in a row: the
//! control bytes, the slot, then the record the slot points to. A single
//! call overlaps the first two with each other and with taking its gate or
//! lock (`probe_at`, from where the shard's table was last seen); a batch
//! knows every hash up front, so it asks for item j + 2·AHEAD's control
//! bytes and slot and item j + AHEAD's record while it works on item j, and
//! the misses of many items overlap.

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
/// `hash` in `table` reads first.
#[inline(always)]
pub fn probe_lines(table: &Table, hash: u64) {
    probe_at(table.data_end().as_ptr().cast(), table.buckets() - 1, hash);
}

/// Hints the CPU to fetch the 16 slots of `hash`'s first control group,
/// so that their line arrives alongside the control bytes instead of after.
/// Single lookups ask again here, under the gate or lock, although
/// `Gates::prefetch_probe` usually asked already: the hint may be stale or
/// unset, and dropping the repeat measured 0-4% slower.
#[inline(always)]
pub fn probe_slots(table: &Table, hash: u64) {
    slots_at(table.data_end().as_ptr().cast(), table.buckets() - 1, hash);
}

/// `probe_lines` for a table whose control bytes start at `ctrl` and whose
/// bucket mask is `mask`. Only addresses are computed (hashbrown keeps the
/// control bytes at `data_end` and slot i just below it, at `data_end - (i +
/// 1)`); nothing is read, so a stale guess (`Gates::prefetch_probe`) is harmless.
#[inline(always)]
pub fn probe_at(ctrl: *const u8, mask: usize, hash: u64) {
    prefetch(ctrl.wrapping_add(hash as usize & mask));
    slots_at(ctrl, mask, hash);
}

#[inline(always)]
fn slots_at(ctrl: *const u8, mask: usize, hash: u64) {
    let index = hash as usize & mask;
    let slots = ctrl.cast::<super::Slot>();
    // The key is in one of the 16 slots of the first control group, 128
    // bytes below `data_end - index`: two lines.
    prefetch(slots.wrapping_sub(index + 1));
    prefetch(slots.wrapping_sub(index + PROBE_GROUP));
}

/// Slots one control-group load covers (SSE2 groups are 16 bytes).
const PROBE_GROUP: usize = 16;

/// Hints the CPU to fetch the record of the first slot whose control byte
/// matches `hash` (the key comparison and the value copy read it next). Reads the control
/// bytes and the slot, so it pays off once `probe_lines` has brought them in.
#[inline(always)]
pub fn candidate_record(table: &Table, hash: u64) {
    if let FirstGroup::Candidate(index) = first_group(table, hash) {
        // SAFETY: `first_group` returns full buckets of `table`, borrowed here.
        let record = unsafe { table.bucket(index).as_ref() }.0.as_ptr();
        // Two lines: a malloc block is 16-byte aligned, so even a 64-byte
        // record usually straddles a line boundary (header + key, then value).
        prefetch(record);
        prefetch(record.wrapping_add(64));
    }
}

/// What the first control group of a key's probe sequence says.
pub enum FirstGroup {
    /// The first full slot whose control byte matches the hash's: the key's
    /// slot unless control bytes collide (1 in 128 per full slot), so the
    /// caller compares keys and does a full lookup when they differ.
    Candidate(usize),
    /// No slot matches and the group has an empty slot: hashbrown's own
    /// lookup would stop here, so the key is not in the table.
    Absent,
    /// No slot matches and the group is full: the probe goes on.
    Unsure,
}

/// Reads the first control group of `hash`'s probe sequence: one 16-byte
/// load and two compares, inline, where hashbrown's lookup is an iterator
/// that the compiler leaves out of line in the batch loops.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn first_group(table: &Table, hash: u64) -> FirstGroup {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mask = table.buckets() - 1;
    let pos = hash as usize & mask;
    let ctrl = table.data_end().as_ptr().cast::<u8>();
    // hashbrown 0.14's `h1` is the hash, its `h2` the top 7 bits. Full slots
    // hold their h2; empty (0xFF) and deleted (0x80) ones have the top bit
    // set, so a match is a full slot.
    let h2 = (hash >> 57) as i8;
    // SAFETY: the layout of hashbrown 0.14.5, pinned in Cargo.toml: the
    // control bytes start at `data_end` and run for `buckets + 16` bytes
    // (the last 16 mirror the first; the empty singleton table is 16 static
    // bytes), so 16 bytes from any position up to `mask` are readable. SSE2
    // is part of x86-64.
    let (matches, empty) = unsafe {
        let group = _mm_loadu_si128(ctrl.add(pos).cast::<__m128i>());
        (
            _mm_movemask_epi8(_mm_cmpeq_epi8(group, _mm_set1_epi8(h2))) as u32,
            _mm_movemask_epi8(_mm_cmpeq_epi8(group, _mm_set1_epi8(-1))) as u32,
        )
    };
    if matches != 0 {
        // Positions past the last bucket are the mirrored bytes: wrap.
        FirstGroup::Candidate((pos + matches.trailing_zeros() as usize) & mask)
    } else if empty != 0 {
        FirstGroup::Absent
    } else {
        FirstGroup::Unsure
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn first_group(_table: &Table, _hash: u64) -> FirstGroup {
    FirstGroup::Unsure
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
