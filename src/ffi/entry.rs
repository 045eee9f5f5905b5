//! The entry API: read-modify-write of one key under its shard's write lock.

use std::ffi::c_void;

use super::*;
use crate::map::Entry;

/// The entry a `dm_entry_fn` works on. Opaque; valid only during that callback.
pub struct dm_entry {
    _opaque: [u8; 0],
}

/// Called by `dm_entry_update` with the entry for its key.
pub type dm_entry_fn = Option<unsafe extern "C-unwind" fn(entry: *mut dm_entry, ctx: *mut c_void)>;

/// Runs `f(entry, ctx)` on the entry for `key` while holding the key's shard
/// write lock, then applies whatever `f` did with `dm_entry_set` /
/// `dm_entry_remove` / `dm_entry_value_mut`, all as one atomic step. This is
/// the general form of or_insert, or_insert_with, and_modify, or_default and
/// alter. `f` must not call functions on this map (they return
/// `DM_ERR_REENTRANT`); calls on other maps are fine.
///
/// Returns `DM_OK` whatever `f` did; `DM_ERR_NULL` (`map`, `f`, or a NULL `key`
/// with a non-zero length), `DM_ERR_INVALID`, `DM_ERR_REENTRANT`, `DM_ERR_PANIC`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_update(map: *mut dm_map, key: *const u8, key_len: usize, f: dm_entry_fn, ctx: *mut c_void) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(map), check_bytes(key, key_len), check_fn(&f));
        // SAFETY: the arguments passed `check_args!`; the caller guarantees sizes.
        let (call, key) = unsafe { (InCallback::enter(map)?, bytes(key, key_len)) };
        let Some(f) = f else { return Err(DM_ERR_NULL) };
        call.map().update(key, |entry| {
            let handle = (entry as *mut Entry<'_>).cast::<dm_entry>();
            // SAFETY: the caller's valid callback; `handle` lives for the call.
            unsafe { f(handle, ctx) }
        });
        Ok(DM_OK)
    })
}

/// The entry behind a handle passed to a `dm_entry_fn`.
///
/// # Safety
/// `e` must be the non-NULL handle of a callback that is still running.
unsafe fn entry<'a>(e: *const dm_entry) -> &'a mut Entry<'a> {
    // SAFETY: handles are `&mut Entry` cast in `dm_entry_update`, alive for the callback.
    unsafe { &mut *e.cast::<Entry<'a>>().cast_mut() }
}

/// True when the entry holds a value (after the callback's own sets/removes).
/// False for NULL.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_occupied(e: *const dm_entry) -> bool {
    // SAFETY: checked non-NULL; valid during the callback (contract).
    ffi_boundary!(|_status| false, {
        check_args!(check_ptr(e));
        Ok(unsafe { entry(e) }.is_occupied())
    })
}

/// The entry's key (never NULL for a non-NULL entry; `*len` gets its length
/// when `len` is not NULL). Valid until the callback returns. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_key(e: *const dm_entry, len: *mut usize) -> *const u8 {
    ffi_boundary!(|_status| std::ptr::null(), {
        check_args!(check_ptr(e));
        // SAFETY: checked non-NULL; valid during the callback (contract).
        let key = unsafe { entry(e) }.key();
        if !len.is_null() {
            unsafe { *len = key.len() };
        }
        Ok(key.as_ptr())
    })
}

/// The entry's current value and (when `len` is not NULL) its length, or NULL
/// when vacant. Valid until the callback returns or changes the entry.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_value(e: *const dm_entry, len: *mut usize) -> *const u8 {
    ffi_boundary!(|_status| std::ptr::null(), {
        check_args!(check_ptr(e));
        // SAFETY: checked non-NULL; valid during the callback (contract).
        let Some(v) = unsafe { entry(e) }.value() else { return Ok(std::ptr::null()) };
        if !len.is_null() {
            unsafe { *len = v.len() };
        }
        Ok(v.as_ptr())
    })
}

/// Like `dm_entry_value`, but the bytes may be modified in place (the length
/// is fixed; use `dm_entry_set` to change it). NULL when vacant.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_value_mut(e: *mut dm_entry, len: *mut usize) -> *mut u8 {
    ffi_boundary!(|_status| std::ptr::null_mut(), {
        check_args!(check_ptr(e));
        // SAFETY: checked non-NULL; valid during the callback (contract).
        let Some(v) = unsafe { entry(e) }.value_mut() else { return Ok(std::ptr::null_mut()) };
        if !len.is_null() {
            unsafe { *len = v.len() };
        }
        Ok(v.as_mut_ptr())
    })
}

/// Sets the entry's value (inserting the key if vacant), copying `val` now.
/// An existing entry keeps its TTL. Pointers from earlier `dm_entry_value*`
/// calls become invalid.
///
/// Returns `DM_OK`; `DM_ERR_NULL`, `DM_ERR_INVALID`, `DM_ERR_NO_MEMORY` (entry
/// unchanged), `DM_ERR_FULL` (vacant entry of a full bounded map; unchanged),
/// `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_set(e: *mut dm_entry, val: *const u8, val_len: usize) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(e), check_bytes(val, val_len));
        // SAFETY: checked; valid during the callback (contract).
        let (e, val) = unsafe { (entry(e), bytes(val, val_len)) };
        e.set(val).map_err(map_error)?;
        Ok(DM_OK)
    })
}

/// Removes the entry (applied when the callback returns).
/// Returns `DM_OK`, `DM_NOT_FOUND` (already vacant), `DM_ERR_NULL`, `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_entry_remove(e: *mut dm_entry) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(e));
        // SAFETY: checked non-NULL; valid during the callback (contract).
        Ok(if unsafe { entry(e) }.remove() { DM_OK } else { DM_NOT_FOUND })
    })
}
