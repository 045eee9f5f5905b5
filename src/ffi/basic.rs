//! Insert, look up, remove, size.

use std::ffi::c_void;

use super::*;
use crate::map::Removal;

/// Inserts `key` -> `val`, copying both (the caller keeps its buffers). An
/// existing entry is replaced as a whole: its old value is freed and any TTL
/// it had is dropped (use `dm_insert_ttl` to set one).
///
/// Returns `DM_OK` (the key was new) or `DM_REPLACED`; `DM_ERR_NULL`,
/// `DM_ERR_INVALID` (bad arguments), `DM_ERR_NO_MEMORY` (map unchanged),
/// `DM_ERR_FULL` (bounded map, new key), `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_insert(map: *mut dm_map, key: *const u8, key_len: usize, val: *const u8, val_len: usize) -> dm_status {
    // SAFETY: same contract; a TTL of 0 means none.
    unsafe { dm_insert_ttl(map, key, key_len, val, val_len, 0) }
}

/// Copies the value of `key` into `buf` (capacity `buf_cap`).
///
/// Returns `DM_OK` with the length in `*val_len`; `DM_NOT_FOUND`;
/// `DM_BUFFER_TOO_SMALL` with the needed length in `*val_len` and nothing
/// copied (pass `buf = NULL, buf_cap = 0` to ask the size); `DM_ERR_NULL`
/// (`map`, `val_len`, or a NULL `key`/`buf` with a non-zero length),
/// `DM_ERR_INVALID`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_get_copy(
    map: *const dm_map,
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    buf_cap: usize,
    val_len: *mut usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(buf, buf_cap), check_ptr(val_len));
        let (map, key, buf, val_len) = unsafe { (live(map)?, bytes(key, key_len), bytes_mut(buf, buf_cap), &mut *val_len) };
        Ok(map.get_with(key, |v| copy_out(v, buf, val_len)).unwrap_or(DM_NOT_FOUND))
    })
}

/// Zero-copy read: calls `f(val, val_len, ctx)` with the stored value while
/// the shard's read lock is held. `val` is valid only during the call; `f`
/// must be quick and must not call functions on this map (they return
/// `DM_ERR_REENTRANT`). `f` is not called when the key is absent.
///
/// Returns `DM_OK` (f was called), `DM_NOT_FOUND`, `DM_ERR_NULL` (`map`, `f`,
/// or a NULL `key` with a non-zero length), `DM_ERR_INVALID`,
/// `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_get_with(map: *const dm_map, key: *const u8, key_len: usize, f: dm_read_fn, ctx: *mut c_void) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_fn(&f));
        let (call, key) = unsafe { (InCallback::enter(map)?, bytes(key, key_len)) };
        let Some(f) = f else { return Err(DM_ERR_NULL) };
        // SAFETY: `f` is the caller's valid callback; the value outlives the call.
        let found = call.map().visit(key, |v| unsafe { f(v.as_ptr(), v.len(), ctx) });
        Ok(if found.is_some() { DM_OK } else { DM_NOT_FOUND })
    })
}

/// Copies the value of `key` into new memory: `*out` (free it with
/// `dm_bytes_free(*out, *out_len)`) and `*out_len`, both written only on
/// `DM_OK`. An empty value gives `*out = NULL, *out_len = 0`.
///
/// Returns `DM_OK`, `DM_NOT_FOUND`, `DM_ERR_NULL`, `DM_ERR_INVALID`,
/// `DM_ERR_NO_MEMORY`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_get_alloc(
    map: *const dm_map,
    key: *const u8,
    key_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_ptr(out), check_ptr(out_len));
        let (map, key) = unsafe { (live(map)?, bytes(key, key_len)) };
        let Some(copy) = map.get_with(key, crate::map::try_copy) else {
            return Ok(DM_NOT_FOUND);
        };
        let copy = copy.map_err(map_error)?;
        let len = copy.len();
        let ptr = if len == 0 { std::ptr::null_mut() } else { Box::into_raw(copy).cast::<u8>() };
        unsafe { (*out, *out_len) = (ptr, len) };
        Ok(DM_OK)
    })
}

/// Frees memory returned by `dm_get_alloc`; `len` must be the length it
/// reported. `dm_bytes_free(NULL, 0)` does nothing.
#[no_mangle]
pub unsafe extern "C" fn dm_bytes_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() || len == 0 {
        return;
    }
    // SAFETY: `ptr`/`len` describe a `Box<[u8]>` leaked by `dm_get_alloc`.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// True when `key` is present. False for a NULL map, invalid arguments, and
/// when called from inside a callback on the same map. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_contains_key(map: *const dm_map, key: *const u8, key_len: usize) -> bool {
    ffi_boundary!(|_status| false, {
        check_args!(check_ptr(map), check_bytes(key, key_len));
        let (map, key) = unsafe { (live(map)?, bytes(key, key_len)) };
        Ok(map.contains_key(key))
    })
}

/// Removes `key`. With `val_len == NULL` the value is discarded (`buf` is
/// ignored). Otherwise the removed value is copied into `buf` and its length
/// stored in `*val_len`; if it does not fit, returns `DM_BUFFER_TOO_SMALL` with
/// the needed length in `*val_len` and the entry is left in place.
///
/// Returns `DM_OK`, `DM_NOT_FOUND`, `DM_BUFFER_TOO_SMALL`, `DM_ERR_NULL`,
/// `DM_ERR_INVALID`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_remove(
    map: *mut dm_map,
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    buf_cap: usize,
    val_len: *mut usize,
) -> dm_status {
    ffi_boundary!({
        let want_value = !val_len.is_null();
        let (buf, buf_cap) = if want_value { (buf, buf_cap) } else { (std::ptr::null_mut(), 0) };
        check_args!(check_ptr(map), check_bytes(key, key_len), check_bytes(buf, buf_cap));
        let (map, key, buf) = unsafe { (live(map)?, bytes(key, key_len), bytes_mut(buf, buf_cap)) };
        let mut status = DM_OK;
        let removal = map.remove_if(key, |v| {
            if want_value {
                // SAFETY: non-NULL, writable (caller's contract).
                status = copy_out(v, buf, unsafe { &mut *val_len });
            }
            status == DM_OK
        });
        Ok(match removal {
            Removal::Absent => DM_NOT_FOUND,
            Removal::Kept | Removal::Removed => status,
        })
    })
}

/// Removes `key` if `pred(key, key_len, val, val_len, ctx)` returns true; the
/// predicate runs under the shard's write lock, so check and removal are atomic.
///
/// Returns `DM_OK` (removed), `DM_NOT_FOUND`, `DM_MISMATCH` (pred said no),
/// `DM_ERR_NULL`, `DM_ERR_INVALID`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_remove_if(map: *mut dm_map, key: *const u8, key_len: usize, pred: dm_visit_fn, ctx: *mut c_void) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_fn(&pred));
        let (call, key) = unsafe { (InCallback::enter(map)?, bytes(key, key_len)) };
        let Some(pred) = pred else { return Err(DM_ERR_NULL) };
        // SAFETY: the caller's valid callback; key and value outlive the call.
        let removal = call.map().remove_if(key, |v| unsafe { pred(key.as_ptr(), key.len(), v.as_ptr(), v.len(), ctx) });
        Ok(match removal {
            Removal::Absent => DM_NOT_FOUND,
            Removal::Kept => DM_MISMATCH,
            Removal::Removed => DM_OK,
        })
    })
}

/// What a count-returning function answers instead of a status: 0 for a NULL
/// map, `SIZE_MAX` for a reentrant call (or a caught panic).
fn count_on_error(status: dm_status) -> usize {
    if status == DM_ERR_NULL {
        0
    } else {
        usize::MAX
    }
}

/// Number of entries stored (a moment's count; others may change it
/// concurrently), including expired entries not yet removed (see
/// `dm_purge_expired`). 0 for NULL; `SIZE_MAX` when called from inside a
/// callback on the same map.
#[no_mangle]
pub unsafe extern "C" fn dm_len(map: *const dm_map) -> usize {
    ffi_boundary!(|status| count_on_error(status), {
        check_args!(check_ptr(map));
        Ok(unsafe { live(map)? }.len())
    })
}

/// True when the map has no entries. False for NULL and from inside a
/// callback on the same map.
#[no_mangle]
pub unsafe extern "C" fn dm_is_empty(map: *const dm_map) -> bool {
    ffi_boundary!(|_status| false, {
        check_args!(check_ptr(map));
        Ok(unsafe { live(map)? }.len() == 0)
    })
}

/// Number of entries the map can hold without growing (it may dip after
/// removals, whose slots are reclaimed at the next growth). 0 for NULL;
/// `SIZE_MAX` from inside a callback on the same map.
#[no_mangle]
pub unsafe extern "C" fn dm_capacity(map: *const dm_map) -> usize {
    ffi_boundary!(|status| count_on_error(status), {
        check_args!(check_ptr(map));
        Ok(unsafe { live(map)? }.capacity())
    })
}

/// Removes every entry, one shard at a time (entries inserted concurrently may
/// survive). Keeps the allocated capacity.
/// Returns `DM_OK`, `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_clear(map: *mut dm_map) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map));
        unsafe { live(map)? }.clear();
        Ok(DM_OK)
    })
}

/// Releases unused capacity, one shard at a time.
/// Returns `DM_OK`, `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_shrink_to_fit(map: *mut dm_map) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map));
        unsafe { live(map)? }.shrink_to_fit();
        Ok(DM_OK)
    })
}
