//! Walking the map: callbacks under shard locks, and a cursor that holds none.

use std::ffi::c_void;
use std::sync::Arc;

use super::*;
use crate::map::Snapshot;

/// Calls `f(key, key_len, val, val_len, ctx)` for every entry, one shard at a
/// time under that shard's read lock, until `f` returns false. Entries
/// inserted or removed concurrently in shards not yet visited may or may not
/// be seen; every entry present throughout is seen exactly once. `f` must not
/// call functions on this map (`DM_ERR_REENTRANT`); use `dm_iter_*` for that.
///
/// Returns `DM_OK` (all visited), `DM_STOPPED`, `DM_ERR_NULL`,
/// `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_for_each(map: *const dm_map, f: dm_visit_fn, ctx: *mut c_void) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_fn(&f));
        // SAFETY: checked non-NULL live handle.
        let call = unsafe { InCallback::enter(map)? };
        let Some(f) = f else { return Err(DM_ERR_NULL) };
        // SAFETY: the caller's valid callback; the bytes outlive each call.
        let done = call.map().for_each(|k, v| unsafe { f(k.as_ptr(), k.len(), v.as_ptr(), v.len(), ctx) });
        Ok(if done { DM_OK } else { DM_STOPPED })
    })
}

/// Like `dm_for_each` under each shard's write lock; `f` may modify the value
/// bytes in place (not their length).
/// Returns `DM_OK`, `DM_STOPPED`, `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_for_each_mut(map: *mut dm_map, f: dm_visit_mut_fn, ctx: *mut c_void) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_fn(&f));
        // SAFETY: checked non-NULL live handle.
        let call = unsafe { InCallback::enter(map)? };
        let Some(f) = f else { return Err(DM_ERR_NULL) };
        // SAFETY: the caller's valid callback; the bytes outlive each call.
        let done = call.map().for_each_mut(|k, v| unsafe { f(k.as_ptr(), k.len(), v.as_mut_ptr(), v.len(), ctx) });
        Ok(if done { DM_OK } else { DM_STOPPED })
    })
}

/// Keeps only the entries for which `keep(key, key_len, val, val_len, ctx)`
/// returns true, one shard at a time under its write lock.
/// Returns `DM_OK`, `DM_ERR_NULL`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_retain_cb(map: *mut dm_map, keep: dm_visit_fn, ctx: *mut c_void) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_fn(&keep));
        // SAFETY: checked non-NULL live handle.
        let call = unsafe { InCallback::enter(map)? };
        let Some(keep) = keep else { return Err(DM_ERR_NULL) };
        // SAFETY: the caller's valid callback; the bytes outlive each call.
        call.map().retain(|k, v| unsafe { keep(k.as_ptr(), k.len(), v.as_ptr(), v.len(), ctx) });
        Ok(DM_OK)
    })
}

/// A cursor over a map. Opaque; see `dm_iter_new`.
pub struct dm_iter {
    map: Arc<dm_map>,
    next_shard: usize,
    snapshot: Snapshot,
    pos: usize,
}

/// Starts a cursor over `map`. The cursor holds its own reference to the map
/// and no lock between calls: it copies one shard at a time, so the caller
/// may do anything (including calling this map) while iterating. Guarantee:
/// every entry present for the whole iteration is returned exactly once;
/// entries added or removed meanwhile may or may not appear.
/// Returns NULL for a NULL map, from inside a callback on the same map, or when
/// out of memory. Free with `dm_iter_free`. Use from one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn dm_iter_new(map: *const dm_map) -> *mut dm_iter {
    ffi_boundary!(|_status| std::ptr::null_mut(), {
        check_args!(check_ptr(map));
        // SAFETY: checked non-NULL live handle; `InCallback::enter` is not
        // used because no callback runs, but the reference is taken the same way.
        unsafe { live(map)? };
        let map = unsafe {
            Arc::increment_strong_count(map);
            Arc::from_raw(map)
        };
        Ok(Box::into_raw(Box::new(dm_iter { map, next_shard: 0, snapshot: Snapshot::default(), pos: 0 })))
    })
}

/// Advances the cursor: on `DM_OK` stores the next key and value in
/// `*key, *key_len, *val, *val_len`; the pointers stay valid until the next
/// `dm_iter_next` or `dm_iter_free` on this cursor.
///
/// Returns `DM_OK`, `DM_NOT_FOUND` (no more entries; stays at the end),
/// `DM_ERR_NULL` (any argument NULL), `DM_ERR_NO_MEMORY` (could not copy the
/// next shard; retrying may succeed), `DM_ERR_REENTRANT` (from inside a
/// callback on the same map), `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_iter_next(
    it: *mut dm_iter,
    key: *mut *const u8,
    key_len: *mut usize,
    val: *mut *const u8,
    val_len: *mut usize,
) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(it), check_ptr(key), check_ptr(key_len), check_ptr(val), check_ptr(val_len));
        // SAFETY: checked non-NULL; a live cursor used from one thread (contract).
        let it = unsafe { &mut *it };
        let map = unsafe { live(Arc::as_ptr(&it.map))? };
        while it.pos >= it.snapshot.len() {
            let Some(next) = map.snapshot_shard(it.next_shard) else {
                it.snapshot = Snapshot::default();
                it.pos = 0;
                return Ok(DM_NOT_FOUND);
            };
            it.snapshot = next.map_err(map_error)?;
            it.next_shard += 1;
            it.pos = 0;
        }
        let (k, v) = it.snapshot.get(it.pos).ok_or(DM_ERR_PANIC)?;
        it.pos += 1;
        // SAFETY: all four out-pointers are non-NULL and writable (contract).
        unsafe {
            (*key, *key_len) = (k.as_ptr(), k.len());
            (*val, *val_len) = (v.as_ptr(), v.len());
        }
        Ok(DM_OK)
    })
}

/// Frees a cursor and drops its reference to the map. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn dm_iter_free(it: *mut dm_iter) {
    if !it.is_null() {
        // SAFETY: `it` came from `dm_iter_new` and is given up by the caller.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(unsafe { Box::from_raw(it) })));
    }
}
