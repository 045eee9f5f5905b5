//! Time-to-live and the map's clock.
//!
//! Deadlines are milliseconds on the map's clock: the monotonic clock, or a
//! manual one (`dm_options.manual_clock`) moved only by `dm_clock_set`. An
//! entry expires when the clock reaches its deadline (not before): from then
//! on every read, walk, cursor and atomic treats it as absent (lazy expiry),
//! a write that meets it removes it, and `dm_purge_expired` sweeps it.
//! `dm_len` and `dm_stats_get` count what is stored, so they include expired
//! entries until those are removed.

use super::*;

/// `dm_ttl_remaining`'s answer for an entry without a time-to-live.
pub const DM_TTL_NONE: u64 = u64::MAX;

/// The deadline for a TTL argument: 0 means none.
fn deadline(map: &crate::map::Map, ttl_ms: u64) -> Option<u64> {
    (ttl_ms > 0).then(|| map.deadline_in(ttl_ms))
}

/// Like `dm_insert`, and the entry expires `ttl_ms` milliseconds from now
/// (0 = never). Replacing an entry replaces its TTL too.
///
/// Returns `DM_OK` (new key), `DM_REPLACED`; `DM_ERR_NULL`, `DM_ERR_INVALID`,
/// `DM_ERR_NO_MEMORY`, `DM_ERR_FULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_insert_ttl(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    val: *const u8,
    val_len: usize,
    ttl_ms: u64,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(val, val_len));
        // SAFETY (all argument conversions in this file): each pointer passed
        // `check_args!`, and the caller guarantees the documented sizes.
        let (map, key, val) = unsafe { (live(map)?, bytes(key, key_len), bytes(val, val_len)) };
        let replaced = map.insert(key, val, deadline(map, ttl_ms)).map_err(map_error)?;
        Ok(if replaced { DM_REPLACED } else { DM_OK })
    })
}

/// Like `dm_try_insert`, and a newly inserted entry expires `ttl_ms`
/// milliseconds from now (0 = never). An existing live entry is untouched.
///
/// Returns `DM_OK` (inserted), `DM_EXISTS`; `DM_ERR_NULL`, `DM_ERR_INVALID`,
/// `DM_ERR_NO_MEMORY`, `DM_ERR_FULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_try_insert_ttl(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    val: *const u8,
    val_len: usize,
    ttl_ms: u64,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(val, val_len));
        let (map, key, val) = unsafe { (live(map)?, bytes(key, key_len), bytes(val, val_len)) };
        let inserted = map.get_or_insert(key, val, deadline(map, ttl_ms), |_| ()).map_err(map_error)?;
        Ok(if inserted { DM_OK } else { DM_EXISTS })
    })
}

/// Like `dm_add_i64`; when the counter is created (absent or expired) it
/// expires `ttl_ms` milliseconds from now (0 = never), and later adds keep
/// that deadline. One call per request is a fixed-window rate limiter: the
/// result is the count in the current window.
///
/// Returns `DM_OK`; `DM_ERR_INVALID` (existing value not 8 bytes; nothing
/// changed); `DM_ERR_NULL`, `DM_ERR_NO_MEMORY`, `DM_ERR_FULL`,
/// `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_add_i64_ttl(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    delta: i64,
    ttl_ms: u64,
    result: *mut i64,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len));
        let (map, key) = unsafe { (live(map)?, bytes(key, key_len)) };
        let sum = map.add_i64(key, delta, deadline(map, ttl_ms)).map_err(map_error)?;
        if !result.is_null() {
            // SAFETY: non-NULL and writable (caller's contract).
            unsafe { *result = sum };
        }
        Ok(DM_OK)
    })
}

/// Sets the TTL of an existing entry to `ttl_ms` from now, or with
/// `ttl_ms == 0` removes its TTL (it never expires).
///
/// Returns `DM_OK`, `DM_NOT_FOUND` (absent or expired), `DM_ERR_NULL`,
/// `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_expire(map: *mut dm_map, key: *const u8, key_len: usize, ttl_ms: u64) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len));
        let (map, key) = unsafe { (live(map)?, bytes(key, key_len)) };
        let found = map.set_deadline(key, deadline(map, ttl_ms)).map_err(map_error)?;
        Ok(if found { DM_OK } else { DM_NOT_FOUND })
    })
}

/// Pushes an existing entry's expiry to `ttl_ms` (> 0) from now: a sliding
/// timeout, e.g. for a session on each request.
///
/// Returns `DM_OK`, `DM_NOT_FOUND` (absent or already expired),
/// `DM_ERR_INVALID` (`ttl_ms == 0`; use `dm_expire` to clear a TTL),
/// `DM_ERR_NULL`, `DM_ERR_NO_MEMORY`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_touch(map: *mut dm_map, key: *const u8, key_len: usize, ttl_ms: u64) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), if ttl_ms == 0 { DM_ERR_INVALID } else { DM_OK });
        // SAFETY: same contract as `dm_expire`.
        Ok(unsafe { dm_expire(map, key, key_len, ttl_ms) })
    })
}

/// Stores in `*ms` how many milliseconds `key` has left (at least 1), or
/// `DM_TTL_NONE` when it never expires.
///
/// Returns `DM_OK`, `DM_NOT_FOUND` (absent or expired; `*ms` untouched),
/// `DM_ERR_NULL`, `DM_ERR_INVALID`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_ttl_remaining(map: *const dm_map, key: *const u8, key_len: usize, ms: *mut u64) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_ptr(ms));
        let (map, key) = unsafe { (live(map)?, bytes(key, key_len)) };
        let Some(left) = map.ttl_remaining(key) else { return Ok(DM_NOT_FOUND) };
        unsafe { *ms = left.unwrap_or(DM_TTL_NONE) };
        Ok(DM_OK)
    })
}

/// Removes every expired entry, one shard lock at a time, and stores how
/// many in `*removed` (optional: may be NULL). Call it periodically (or
/// before `dm_len` when an exact live count matters); reads never need it.
///
/// Returns `DM_OK`, `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_purge_expired(map: *mut dm_map, removed: *mut usize) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map));
        let count = unsafe { live(map)? }.purge_expired();
        if !removed.is_null() {
            // SAFETY: non-NULL and writable (caller's contract).
            unsafe { *removed = count };
        }
        Ok(DM_OK)
    })
}

/// Sets a manual clock (`dm_options.manual_clock`) to `now_ms`. Entries whose
/// deadline is <= `now_ms` are expired from then on. Moving it backwards is
/// allowed (entries not yet removed become live again).
///
/// Returns `DM_OK`; `DM_ERR_INVALID` when the map follows real time;
/// `DM_ERR_NULL`, `DM_ERR_PANIC`. Takes no lock (allowed inside callbacks).
#[no_mangle]
pub unsafe extern "C" fn dm_clock_set(map: *mut dm_map, now_ms: u64) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map));
        // SAFETY: non-NULL live handle; no lock is taken, so no reentrancy check.
        let map = unsafe { &(*map).map };
        Ok(if map.set_clock(now_ms) { DM_OK } else { DM_ERR_INVALID })
    })
}

/// The map's current time in milliseconds (the manual clock, or the
/// monotonic clock since the library's first use). 0 for NULL. Takes no lock.
#[no_mangle]
pub unsafe extern "C" fn dm_clock_now(map: *const dm_map) -> u64 {
    ffi_boundary!(|_status| 0, {
        check_args!(check_ptr(map));
        // SAFETY: non-NULL live handle.
        Ok(unsafe { &(*map).map }.now())
    })
}
