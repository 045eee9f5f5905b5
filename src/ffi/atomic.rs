//! Callback-free atomic operations: each is one step under one shard lock, so
//! Go, Node and Zig callers get atomicity without crossing back into their runtime.

use super::*;
use crate::map::SwapResult;

/// Inserts `key` -> `val` only if `key` is absent (an expired entry counts
/// as absent).
///
/// Returns `DM_OK` (inserted), `DM_EXISTS` (present; nothing changed),
/// `DM_ERR_NULL`, `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY`, `DM_ERR_FULL`,
/// `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_try_insert(map: *mut dm_map, key: *const u8, key_len: usize, val: *const u8, val_len: usize) -> dm_status {
    // SAFETY: same contract; a TTL of 0 means none.
    unsafe { dm_try_insert_ttl(map, key, key_len, val, val_len, 0) }
}

/// Returns the existing value of `key`, or inserts `val` if absent ("or_insert").
///
/// Returns `DM_OK`: `val` was inserted, nothing copied, `*out_len = val_len`.
/// `DM_EXISTS`: the existing value was copied into `buf`, its length in `*out_len`.
/// `DM_BUFFER_TOO_SMALL`: the existing value does not fit; `*out_len` = its
/// length; nothing changed. Errors: `DM_ERR_NULL`, `DM_ERR_INVALID`,
/// `DM_ERR_NO_MEMORY`, `DM_ERR_FULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_get_or_insert(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    val: *const u8,
    val_len: usize,
    buf: *mut u8,
    buf_cap: usize,
    out_len: *mut usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(val, val_len), check_bytes(buf, buf_cap), check_ptr(out_len));
        let (map, key, val, buf, out_len) =
            unsafe { (live(map)?, bytes(key, key_len), bytes(val, val_len), bytes_mut(buf, buf_cap), &mut *out_len) };
        let mut status = DM_EXISTS;
        let inserted = map
            .get_or_insert(key, val, None, |existing| {
                if copy_out(existing, buf, out_len) != DM_OK {
                    status = DM_BUFFER_TOO_SMALL;
                }
            })
            .map_err(map_error)?;
        if inserted {
            *out_len = val_len;
            status = DM_OK;
        }
        Ok(status)
    })
}

/// Replaces the value of `key` with `val` only if it currently equals
/// `expected` (byte for byte). The entry keeps its TTL, if any.
///
/// Returns `DM_OK` (swapped), `DM_MISMATCH`, `DM_NOT_FOUND`, `DM_ERR_NULL`,
/// `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_compare_and_swap(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    expected: *const u8,
    expected_len: usize,
    val: *const u8,
    val_len: usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(expected, expected_len), check_bytes(val, val_len));
        let (map, key, expected, val) =
            unsafe { (live(map)?, bytes(key, key_len), bytes(expected, expected_len), bytes(val, val_len)) };
        Ok(match map.compare_and_swap(key, expected, val).map_err(map_error)? {
            None => DM_NOT_FOUND,
            Some(false) => DM_MISMATCH,
            Some(true) => DM_OK,
        })
    })
}

/// Removes `key` only if its value equals `expected`.
///
/// Returns `DM_OK` (removed), `DM_MISMATCH`, `DM_NOT_FOUND`, `DM_ERR_NULL`,
/// `DM_ERR_INVALID`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_compare_and_remove(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    expected: *const u8,
    expected_len: usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(expected, expected_len));
        let (map, key, expected) = unsafe { (live(map)?, bytes(key, key_len), bytes(expected, expected_len)) };
        Ok(match map.remove_if(key, |v| v == expected) {
            crate::map::Removal::Absent => DM_NOT_FOUND,
            crate::map::Removal::Kept => DM_MISMATCH,
            crate::map::Removal::Removed => DM_OK,
        })
    })
}

/// Stores `val` under `key` (as a whole new entry: any TTL is dropped) and
/// hands back the previous value.
///
/// Returns `DM_OK` (the key was absent; nothing copied), `DM_REPLACED` (the old
/// value was copied into `old_buf`, its length in `*old_len`),
/// `DM_BUFFER_TOO_SMALL` (the old value does not fit: `*old_len` = its length,
/// nothing changed), `DM_ERR_NULL`, `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY`,
/// `DM_ERR_FULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_swap(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    val: *const u8,
    val_len: usize,
    old_buf: *mut u8,
    old_cap: usize,
    old_len: *mut usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(val, val_len), check_bytes(old_buf, old_cap), check_ptr(old_len));
        let (map, key, val, old_buf, old_len) =
            unsafe { (live(map)?, bytes(key, key_len), bytes(val, val_len), bytes_mut(old_buf, old_cap), &mut *old_len) };
        let mut needed = 0;
        let result = map.swap(key, val, |old| copy_out(old, old_buf, &mut needed) == DM_OK).map_err(map_error)?;
        Ok(match result {
            SwapResult::Inserted => DM_OK,
            SwapResult::Replaced => {
                *old_len = needed;
                DM_REPLACED
            }
            SwapResult::Declined => {
                *old_len = needed;
                DM_BUFFER_TOO_SMALL
            }
        })
    })
}

/// Adds `delta` to the counter at `key` and stores the new value in `*result`
/// (optional: may be NULL). A counter is an 8-byte little-endian `int64_t`
/// value; an absent key counts as 0 and is created. Overflow wraps.
///
/// Returns `DM_OK`; `DM_ERR_INVALID` if the existing value is not 8 bytes
/// (nothing changed); `DM_ERR_NULL`, `DM_ERR_NO_MEMORY`, `DM_ERR_FULL`,
/// `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe; concurrent adds never
/// lose an update.
#[no_mangle]
pub unsafe extern "C" fn dm_add_i64(map: *mut dm_map, key: *const u8, key_len: usize, delta: i64, result: *mut i64) -> dm_status {
    // SAFETY: same contract; a TTL of 0 means none.
    unsafe { dm_add_i64_ttl(map, key, key_len, delta, 0, result) }
}
