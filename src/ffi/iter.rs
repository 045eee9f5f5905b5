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
        // SAFETY: checked non-NULL live handle. The cursor outlives this
        // call, so it holds a reference of its own.
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
        let Some((k, v)) = it.peek()? else { return Ok(DM_NOT_FOUND) };
        // SAFETY: all four out-pointers are non-NULL and writable (contract).
        unsafe {
            (*key, *key_len) = (k.as_ptr(), k.len());
            (*val, *val_len) = (v.as_ptr(), v.len());
        }
        it.pos += 1;
        Ok(DM_OK)
    })
}

/// Advances the cursor by up to `max` entries in one call (for bindings,
/// where each call is costly). Entry i's key and then its value are copied
/// back to back into `buf`; `lens[2*i]` and `lens[2*i + 1]` get their
/// lengths (so `lens` has room for `2 * max` values); `*count` gets the
/// number of entries and `*used` the bytes written.
///
/// Returns `DM_OK` (`*count >= 1`); `DM_NOT_FOUND` at the end (`*count = 0`);
/// `DM_BUFFER_TOO_SMALL` when not even the next entry fits (`*used` = the
/// bytes it needs, `*count = 0`, the cursor stays put); `DM_ERR_NULL`
/// (`it`, `count`, `used`, `lens` with `max > 0`, `buf` NULL with
/// `buf_cap > 0`), `DM_ERR_INVALID` (`max == 0` or a capacity over
/// `PTRDIFF_MAX`), `DM_ERR_NO_MEMORY`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_iter_next_many(
    it: *mut dm_iter,
    buf: *mut u8,
    buf_cap: usize,
    lens: *mut usize,
    max: usize,
    count: *mut usize,
    used: *mut usize,
) -> dm_status {
    ffi_boundary!({
        let max_ok = match max.checked_mul(2) {
            Some(n) if max > 0 && n <= isize::MAX as usize / std::mem::size_of::<usize>() => DM_OK,
            _ => DM_ERR_INVALID,
        };
        check_args!(
            check_ptr(it),
            check_bytes(buf, buf_cap),
            if max > 0 { check_ptr(lens) } else { DM_OK },
            check_ptr(count),
            check_ptr(used),
            max_ok
        );
        // SAFETY: checked above; sizes are the caller's contract.
        let (it, buf, lens) = unsafe { (&mut *it, bytes_mut(buf, buf_cap), std::slice::from_raw_parts_mut(lens, 2 * max)) };
        let (mut n, mut at) = (0, 0);
        while n < max {
            let (k, v) = match it.peek() {
                Ok(Some(entry)) => entry,
                Ok(None) => break,
                Err(_) if n > 0 => break, // hand over what was copied; the error comes back next call
                Err(status) => return Err(status),
            };
            let Some(dst) = buf.get_mut(at..at + k.len() + v.len()) else {
                if n == 0 {
                    unsafe { (*count, *used) = (0, k.len() + v.len()) };
                    return Ok(DM_BUFFER_TOO_SMALL);
                }
                break;
            };
            dst[..k.len()].copy_from_slice(k);
            dst[k.len()..].copy_from_slice(v);
            (lens[2 * n], lens[2 * n + 1]) = (k.len(), v.len());
            at += k.len() + v.len();
            n += 1;
            it.pos += 1;
        }
        // SAFETY: non-NULL and writable (contract).
        unsafe { (*count, *used) = (n, at) };
        Ok(if n == 0 { DM_NOT_FOUND } else { DM_OK })
    })
}

impl dm_iter {
    /// The entry at the cursor, copying the next shard(s) when the current
    /// copy is used up; `None` at the end. Does not advance.
    fn peek(&mut self) -> Result<Option<(&[u8], &[u8])>, dm_status> {
        // SAFETY: the cursor holds a reference, so the map is alive.
        let map = unsafe { live(Arc::as_ptr(&self.map))? };
        while self.pos >= self.snapshot.len() {
            let Some(next) = map.snapshot_shard(self.next_shard) else {
                self.snapshot = Snapshot::default();
                self.pos = 0;
                return Ok(None);
            };
            self.snapshot = next.map_err(map_error)?;
            self.next_shard += 1;
            self.pos = 0;
        }
        self.snapshot.get(self.pos).ok_or(DM_ERR_PANIC).map(Some)
    }
}

/// Frees a cursor and drops its reference to the map. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn dm_iter_free(it: *mut dm_iter) {
    if !it.is_null() {
        // SAFETY: `it` came from `dm_iter_new` and is given up by the caller.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(unsafe { Box::from_raw(it) })));
    }
}
