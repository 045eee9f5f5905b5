//! Batches (one shard lock per shard touched) and inspection.

use super::*;
use crate::map::ByteList;

/// A slice array argument: the array pointer (NULL only with `n == 0`) and
/// every element. Reports `DM_ERR_NULL` if any is NULL, so that across all
/// arguments NULL errors still come before `DM_ERR_INVALID`.
///
/// # Safety
/// A non-NULL `slices` must point to `n` readable `dm_slice`s.
unsafe fn check_slices(slices: *const dm_slice, n: usize) -> dm_status {
    if n == 0 {
        return DM_OK;
    }
    if slices.is_null() {
        return DM_ERR_NULL;
    }
    if n > isize::MAX as usize / std::mem::size_of::<dm_slice>() {
        return DM_ERR_INVALID;
    }
    // SAFETY: non-NULL, `n` elements (caller's contract).
    let items = unsafe { std::slice::from_raw_parts(slices, n) };
    let mut worst = DM_OK;
    for s in items {
        match check_bytes(s.ptr, s.len) {
            DM_ERR_NULL => return DM_ERR_NULL,
            DM_OK => {}
            other => worst = other,
        }
    }
    worst
}

/// The caller's `dm_slice` array, every element checked by `check_slices`,
/// read in place (no copy into a Vec of Rust slices).
struct CheckedSlices<'a>(&'a [dm_slice]);

impl CheckedSlices<'_> {
    /// # Safety
    /// `slices`/`n` passed `check_slices`, and the array and every slice's
    /// bytes stay valid and unmodified during the call.
    unsafe fn new<'a>(slices: *const dm_slice, n: usize) -> CheckedSlices<'a> {
        // SAFETY: non-NULL when n > 0 (checked), `n` elements (contract).
        CheckedSlices(if n == 0 { &[] } else { unsafe { std::slice::from_raw_parts(slices, n) } })
    }
}

impl ByteList for CheckedSlices<'_> {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn at(&self, i: usize) -> &[u8] {
        let s = self.0[i];
        // SAFETY: each element passed `check_bytes`, and its bytes stay valid
        // for the call (`CheckedSlices::new`'s contract).
        unsafe { bytes(s.ptr, s.len) }
    }
}

/// Inserts or replaces `n` pairs `keys[i]` -> `vals[i]` (copied), taking each
/// shard's write lock once. A key listed twice ends with its last value.
///
/// Returns `DM_OK`; `DM_ERR_NULL` (`map`, `keys`/`vals` with n > 0, or any
/// slice with a NULL pointer and non-zero length; checked before anything
/// is inserted), `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY` (copying the pairs
/// failed: nothing changed; or, rarely, growing a shard's table failed
/// midway), `DM_ERR_FULL` (the bound was reached midway), `DM_ERR_REENTRANT`,
/// `DM_ERR_PANIC`. After a midway failure the pairs handled before it stay
/// inserted. Thread-safe.
/// Entries are stored whole: an existing entry's TTL is dropped.
#[no_mangle]
pub unsafe extern "C" fn dm_extend(map: *mut dm_map, keys: *const dm_slice, vals: *const dm_slice, n: usize) -> dm_status {
    ffi_boundary!({
        // SAFETY (all slice arrays in this file): sizes are the caller's contract.
        check_args!(check_ptr(map), unsafe { check_slices(keys, n) }, unsafe { check_slices(vals, n) });
        let (keys, vals) = unsafe { (CheckedSlices::new(keys, n), CheckedSlices::new(vals, n)) };
        let map = unsafe { live(map)? };
        map.extend(&keys, &vals).map_err(map_error)?;
        Ok(DM_OK)
    })
}

/// Looks up `n` keys, taking each shard's read lock once. The values are
/// packed back to back into `buf` in key order; `lens[i]` gets the length of
/// the value of `keys[i]`, or `SIZE_MAX` when it is missing; `*used` gets the
/// bytes written. Up to 1024 keys at a time are read with all their shards'
/// read locks held together, so they see one consistent state.
///
/// Returns `DM_OK`; `DM_BUFFER_TOO_SMALL` with `*used` = the bytes needed
/// and `lens` filled (`buf` may be partly written: call again with a buffer
/// of `*used` bytes); `DM_ERR_NULL` (`map`, `used`, `keys`/`lens` with
/// n > 0, `buf` NULL with `buf_cap` > 0, a NULL slice pointer with non-zero
/// length), `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY`, `DM_ERR_REENTRANT`,
/// `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_get_many(
    map: *const dm_map,
    keys: *const dm_slice,
    n: usize,
    buf: *mut u8,
    buf_cap: usize,
    lens: *mut usize,
    used: *mut usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(
            check_ptr(map),
            unsafe { check_slices(keys, n) },
            check_bytes(buf, buf_cap),
            check_ptr(used),
            if n > 0 { check_ptr(lens) } else { DM_OK }
        );
        let keys = unsafe { CheckedSlices::new(keys, n) };
        let (buf, lens, used) = unsafe {
            let lens: &mut [usize] = if n == 0 { &mut [] } else { std::slice::from_raw_parts_mut(lens, n) };
            (bytes_mut(buf, buf_cap), lens, &mut *used)
        };
        let map = unsafe { live(map)? };
        // Keys come back in order, so values are packed straight into `buf`.
        let mut needed = 0usize;
        map.get_many(&keys, |i, v| {
            lens[i] = v.map_or(usize::MAX, <[u8]>::len);
            let Some(v) = v else { return };
            if let Some(dst) = buf.get_mut(needed..needed + v.len()) {
                dst.copy_from_slice(v);
            }
            needed += v.len();
        })
        .map_err(map_error)?;
        *used = needed;
        if needed > buf.len() {
            return Ok(DM_BUFFER_TOO_SMALL);
        }
        Ok(DM_OK)
    })
}

/// Removes `n` keys, taking each shard's write lock once; `*removed` (optional,
/// may be NULL) gets how many were present.
///
/// Returns `DM_OK`; `DM_ERR_NULL`, `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY`,
/// `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_remove_many(map: *mut dm_map, keys: *const dm_slice, n: usize, removed: *mut usize) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), unsafe { check_slices(keys, n) });
        let keys = unsafe { CheckedSlices::new(keys, n) };
        let count = unsafe { live(map)? }.remove_many(&keys).map_err(map_error)?;
        if !removed.is_null() {
            // SAFETY: non-NULL and writable (contract).
            unsafe { *removed = count };
        }
        Ok(DM_OK)
    })
}

/// Number of shards (fixed at creation). 0 for NULL. Takes no lock, so it
/// also works inside callbacks.
#[no_mangle]
pub unsafe extern "C" fn dm_shard_count(map: *const dm_map) -> usize {
    if map.is_null() {
        return 0;
    }
    // SAFETY: non-NULL live handle (contract).
    unsafe { &(*map).map }.shard_count()
}

/// Stores the number of entries in shard `shard` in `*len`.
/// Returns `DM_OK`; `DM_ERR_INVALID` when `shard >= dm_shard_count(map)`;
/// `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_shard_len(map: *const dm_map, shard: usize, len: *mut usize) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_ptr(len));
        // An argument error, so reported before reentrancy: the shard count
        // is fixed and needs no lock.
        // SAFETY: checked non-NULL.
        if shard >= unsafe { dm_shard_count(map) } {
            return Err(DM_ERR_INVALID);
        }
        let n = unsafe { live(map)? }.shard_len(shard).ok_or(DM_ERR_INVALID)?;
        unsafe { *len = n };
        Ok(DM_OK)
    })
}

/// A snapshot of a map's size and layout (`dm_stats_get`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct dm_stats {
    /// Entries.
    pub len: usize,
    /// Entries the tables can hold without growing.
    pub capacity: usize,
    /// Shards.
    pub shards: usize,
    /// Entries in the emptiest and the fullest shard (balance of the hash).
    pub min_shard_len: usize,
    pub max_shard_len: usize,
    /// Total bytes of all keys, and of all values, stored.
    pub key_bytes: usize,
    pub value_bytes: usize,
}

/// Fills `*out` by visiting every shard under its read lock: O(entries), each
/// shard counted atomically, not the whole map.
/// Returns `DM_OK`, `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_stats_get(map: *const dm_map, out: *mut dm_stats) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_ptr(out));
        // SAFETY: checked non-NULL.
        let s = unsafe { live(map)? }.stats();
        let stats = dm_stats {
            len: s.len,
            capacity: s.capacity,
            shards: s.shards,
            min_shard_len: s.min_shard_len,
            max_shard_len: s.max_shard_len,
            key_bytes: s.key_bytes,
            value_bytes: s.value_bytes,
        };
        unsafe { *out = stats };
        Ok(DM_OK)
    })
}
