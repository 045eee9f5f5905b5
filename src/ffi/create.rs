//! Creating, sharing and releasing maps.

use std::sync::Arc;

use super::*;
use crate::hasher::HasherKind;
use crate::map::{Map, Options};

/// SipHash-1-3 with secret random keys (or keys derived from `seed`):
/// resistant to HashDoS, the default.
pub const DM_HASHER_SIPHASH: dm_hasher = 0;
/// foldhash: several times faster on short keys, but an attacker who can
/// choose keys may force collisions. Use for trusted keys.
pub const DM_HASHER_FAST: dm_hasher = 1;

/// The largest shard count a map accepts.
pub const DM_MAX_SHARDS: usize = 65536;

/// How to build a map (`dm_new_with_options`). Start from `dm_options_default()`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct dm_options {
    /// Entries to pre-allocate room for; 0 = start empty.
    pub capacity: usize,
    /// Number of shards (independent locks): a power of two in [2, DM_MAX_SHARDS],
    /// or 0 for the default: 4 x CPUs rounded up to a power of two, at least 64
    /// (an empty map then takes about 15 KiB on 2 CPUs, 36 KiB on 16; choose
    /// fewer for many tiny maps).
    pub shards: usize,
    /// `DM_HASHER_SIPHASH` (default) or `DM_HASHER_FAST`.
    pub hasher: dm_hasher,
    /// 0 = random keys per map. Non-zero: hashing and shard placement are
    /// the same in every run and process of this library version
    /// (reproducible, but predictable).
    pub seed: u64,
    /// 0 = unbounded. Otherwise inserting a new key while the map holds this
    /// many entries returns `DM_ERR_FULL` (expired entries in the key's shard
    /// are swept first); updates of existing keys always work.
    pub max_entries: usize,
    /// false = deadlines follow the monotonic clock. true = they follow a
    /// clock that only `dm_clock_set` moves (starts at 0): deterministic
    /// tests and simulations.
    pub manual_clock: bool,
}

/// The default options: capacity 0, shards 0 (default), SipHash, random
/// seed, unbounded, real-time clock.
#[no_mangle]
pub extern "C" fn dm_options_default() -> dm_options {
    dm_options { capacity: 0, shards: 0, hasher: DM_HASHER_SIPHASH, seed: 0, max_entries: 0, manual_clock: false }
}

fn build(opts: &dm_options) -> Result<*mut dm_map, dm_status> {
    let hasher = match opts.hasher {
        DM_HASHER_SIPHASH => HasherKind::SipHash,
        DM_HASHER_FAST => HasherKind::Fast,
        _ => return Err(DM_ERR_INVALID),
    };
    let map = Map::new(Options {
        capacity: opts.capacity,
        shards: opts.shards,
        hasher,
        seed: opts.seed,
        max_entries: opts.max_entries,
        manual_clock: opts.manual_clock,
    })
    .map_err(map_error)?;
    Ok(Arc::into_raw(Arc::new(dm_map { map })).cast_mut())
}

/// Creates a map from `*opts` and stores it in `*out` (written only on success).
/// The caller owns one reference and releases it with `dm_free`.
///
/// Returns `DM_OK`; `DM_ERR_NULL` if `opts` or `out` is NULL; `DM_ERR_INVALID`
/// for a bad shard count or unknown hasher; `DM_ERR_NO_MEMORY` if the requested
/// capacity cannot be allocated; `DM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn dm_new_with_options(opts: *const dm_options, out: *mut *mut dm_map) -> dm_status {
    ffi_boundary!({
        check_args!(check_ptr(opts), check_ptr(out));
        // SAFETY: both non-NULL; the caller provides a readable options struct
        // and a writable out-pointer.
        let opts = unsafe { *opts };
        let map = build(&opts)?;
        unsafe { *out = map };
        Ok(DM_OK)
    })
}

fn new_or_null(opts: dm_options) -> *mut dm_map {
    ffi_boundary!(|_status| std::ptr::null_mut(), { build(&opts) })
}

/// Creates an empty map with default options (SipHash, default shard count).
/// Returns NULL only if memory is exhausted. Release with `dm_free`.
#[no_mangle]
pub extern "C" fn dm_new() -> *mut dm_map {
    new_or_null(dm_options_default())
}

/// Creates a map with room for `capacity` entries. NULL if that much memory
/// cannot be allocated. Release with `dm_free`.
#[no_mangle]
pub extern "C" fn dm_with_capacity(capacity: usize) -> *mut dm_map {
    new_or_null(dm_options { capacity, ..dm_options_default() })
}

/// Creates a map with `shards` shards: NULL unless `shards` is a power of two
/// in [2, DM_MAX_SHARDS]. More shards mean less contention and a little more memory.
/// Release with `dm_free`.
#[no_mangle]
pub extern "C" fn dm_with_shards(shards: usize) -> *mut dm_map {
    dm_with_capacity_and_shards(0, shards)
}

/// `dm_with_capacity` and `dm_with_shards` together. NULL for a bad shard count
/// or when memory is exhausted. Release with `dm_free`.
#[no_mangle]
pub extern "C" fn dm_with_capacity_and_shards(capacity: usize, shards: usize) -> *mut dm_map {
    if shards == 0 {
        return std::ptr::null_mut(); // 0 means "default" only in dm_options
    }
    new_or_null(dm_options { capacity, shards, ..dm_options_default() })
}

/// Takes another reference to `map` and returns it (NULL for NULL). Each
/// reference is released by its own `dm_free`; the map lives until the last
/// one is gone. Use one reference per thread or component that may outlive
/// the others. Never blocks; allowed inside callbacks.
#[no_mangle]
pub unsafe extern "C" fn dm_ref(map: *mut dm_map) -> *mut dm_map {
    if !map.is_null() {
        // SAFETY: a non-NULL handle came from `Arc::into_raw` and still holds a count.
        unsafe { Arc::increment_strong_count(map.cast_const()) };
    }
    map
}

/// Releases one reference; the last one frees the map and all its entries.
/// `dm_free(NULL)` does nothing. The handle must not be used afterwards.
/// A map stays alive while a `dm_iter` or a call running a callback uses it,
/// so freeing it from inside its own callback is safe.
#[no_mangle]
pub unsafe extern "C" fn dm_free(map: *mut dm_map) {
    if map.is_null() {
        return;
    }
    // From inside a callback of this map (on this thread): released when
    // the call running the callback returns.
    if reentrancy::defer_release(id(map)) {
        return;
    }
    // Dropping entries runs no user code, but keep panics out of C regardless.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the caller gives up this reference, which `Arc::into_raw` produced.
        unsafe { Arc::decrement_strong_count(map.cast_const()) }
    }));
}
