//! The C ABI. Everything C sees is declared in this module and its children;
//! the map logic behind it (`crate::map`) knows nothing about C.
//!
//! Every entry point has the same shape:
//!   1. `ffi_boundary!` catches any panic and maps `Err(status)` to the
//!      function's error return,
//!   2. `check_args!` validates every pointer/length pair (all NULL errors
//!      before any INVALID one) before anything happens,
//!   3. `live()` refuses a map whose callback is running on this thread,
//!   4. the body calls the map logic and translates the result.

#![allow(non_camel_case_types)]

use std::ffi::c_void;
use std::sync::Arc;

use crate::map::Map;
use crate::reentrancy;

/// Runs an entry point's body (a block evaluating to `Result<T, dm_status>`).
/// A panic becomes `DM_ERR_PANIC`; `Err(status)` becomes `status` or, with the
/// `|status| expr` form, whatever that function returns on error.
macro_rules! ffi_boundary {
    ($body:block) => {
        ffi_boundary!(|status| status, $body)
    };
    (|$status:ident| $on_error:expr, $body:block) => {{
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> ::std::result::Result<_, $crate::ffi::dm_status> { $body },
        ));
        match outcome {
            Ok(Ok(value)) => value,
            Ok(Err($status)) => $on_error,
            Err(_) => {
                let $status = $crate::ffi::DM_ERR_PANIC;
                $on_error
            }
        }
    }};
}

/// Validates arguments: returns `Err(DM_ERR_NULL)` if any check found a NULL,
/// else the first other failure.
macro_rules! check_args {
    ($($check:expr),+ $(,)?) => {
        $crate::ffi::first_error(&[$($check),+])?
    };
}

// Declared in the order the header presents them.
mod status;
mod create;
mod basic;
mod atomic;
mod ttl;
mod entry;
mod iter;
mod bulk;

pub use atomic::*;
pub use basic::*;
pub use bulk::*;
pub use create::*;
pub use entry::*;
pub use iter::*;
pub use status::*;
pub use ttl::*;

/// A status code. Non-negative values are outcomes, negative values are errors.
/// Declared as a plain `int32_t` so any value can cross the boundary safely.
pub type dm_status = i32;

/// Which hash function a map uses (`DM_HASHER_*`); a plain `int32_t`.
pub type dm_hasher = i32;

/// A map handle. Opaque; create with `dm_new` and friends, release with `dm_free`.
// Aligned to 128 bytes (a pair of cache lines, what the adjacent-line
// prefetcher moves) so that the `Arc` reference counts in front of it, which
// `dm_ref`, `dm_free` and iterators write, never share a line with the map's
// fields that every call reads.
#[repr(align(128))]
pub struct dm_map {
    pub(crate) map: Map,
}

/// A borrowed byte string: `len` bytes at `ptr` (`ptr` may be NULL when `len` is 0).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct dm_slice {
    pub ptr: *const u8,
    pub len: usize,
}

/// Called by `dm_get_with` with the value, under the shard's read lock.
pub type dm_read_fn = Option<unsafe extern "C-unwind" fn(val: *const u8, val_len: usize, ctx: *mut c_void)>;

/// Called for each entry by `dm_for_each`, `dm_retain_cb` and as the
/// predicate of `dm_remove_if` (with the entry's key and value). Return `true`
/// to continue (`dm_for_each`), keep (`dm_retain_cb`) or remove (`dm_remove_if`).
pub type dm_visit_fn =
    Option<unsafe extern "C-unwind" fn(key: *const u8, key_len: usize, val: *const u8, val_len: usize, ctx: *mut c_void) -> bool>;

/// Like `dm_visit_fn` with writable value bytes (`dm_for_each_mut`).
pub type dm_visit_mut_fn =
    Option<unsafe extern "C-unwind" fn(key: *const u8, key_len: usize, val: *mut u8, val_len: usize, ctx: *mut c_void) -> bool>;

/// Status of a single argument check; `DM_OK` when it passed.
#[inline]
pub(crate) fn first_error(checks: &[dm_status]) -> Result<(), dm_status> {
    if checks.iter().all(|&c| c == DM_OK) {
        return Ok(()); // the common case, decided without a second pass
    }
    if checks.contains(&DM_ERR_NULL) {
        return Err(DM_ERR_NULL);
    }
    match checks.iter().find(|&&c| c != DM_OK) {
        Some(&err) => Err(err),
        None => Ok(()),
    }
}

/// A required pointer.
pub(crate) fn check_ptr<T>(p: *const T) -> dm_status {
    if p.is_null() {
        DM_ERR_NULL
    } else {
        DM_OK
    }
}

/// A required callback.
pub(crate) fn check_fn<F>(f: &Option<F>) -> dm_status {
    if f.is_none() {
        DM_ERR_NULL
    } else {
        DM_OK
    }
}

/// A byte range: `(NULL, 0)` is empty; `(NULL, n > 0)` is NULL; a length
/// over `isize::MAX` can never describe real memory.
pub(crate) fn check_bytes(p: *const u8, len: usize) -> dm_status {
    if p.is_null() && len > 0 {
        DM_ERR_NULL
    } else if len > isize::MAX as usize {
        DM_ERR_INVALID
    } else {
        DM_OK
    }
}

/// The bytes of a range that passed `check_bytes`.
///
/// # Safety
/// `p` must point to `len` readable bytes that stay valid and unmodified for `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: non-NULL (checked) and readable for `len` bytes (caller's contract).
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

/// The writable buffer of a range that passed `check_bytes`.
///
/// # Safety
/// `p` must point to `len` writable bytes, not aliased during `'a`.
pub(crate) unsafe fn bytes_mut<'a>(p: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        &mut []
    } else {
        // SAFETY: non-NULL (checked) and writable for `len` bytes (caller's contract).
        unsafe { std::slice::from_raw_parts_mut(p, len) }
    }
}

/// Copies `src` into `buf` if it fits. Always reports the length in `*len_out`;
/// `DM_BUFFER_TOO_SMALL` (nothing copied) when it does not fit.
pub(crate) fn copy_out(src: &[u8], buf: &mut [u8], len_out: &mut usize) -> dm_status {
    *len_out = src.len();
    match buf.get_mut(..src.len()) {
        Some(dst) => {
            dst.copy_from_slice(src);
            DM_OK
        }
        None => DM_BUFFER_TOO_SMALL,
    }
}

/// The status for a map-logic error.
pub(crate) fn map_error(e: crate::map::Error) -> dm_status {
    match e {
        crate::map::Error::NoMemory => DM_ERR_NO_MEMORY,
        crate::map::Error::Invalid => DM_ERR_INVALID,
        crate::map::Error::Full => DM_ERR_FULL,
    }
}

/// A map's identity for reentrancy tracking.
fn id(map: *const dm_map) -> usize {
    map as usize
}

/// The map behind a non-NULL handle, unless this thread is inside one of its
/// callbacks (`DM_ERR_REENTRANT`).
///
/// # Safety
/// `map` must be a live handle from this library.
#[inline(always)]
pub(crate) unsafe fn live<'a>(map: *const dm_map) -> Result<&'a Map, dm_status> {
    if reentrancy::is_active(id(map)) {
        return Err(DM_ERR_REENTRANT);
    }
    // SAFETY: a live handle points to an `Arc<dm_map>` payload (caller's contract).
    Ok(unsafe { &(*map).map })
}

/// For calls that run callbacks: the mark that makes calls on this map from
/// inside the callback return `DM_ERR_REENTRANT`, and that defers a release
/// of this map by the callback (`dm_free`) until the call is over, so the
/// caller's reference stays valid throughout. Taking an extra `Arc`
/// reference instead would write the shared reference count on every call.
pub(crate) struct InCallback {
    scope: Option<reentrancy::CallbackScope>,
    map: *const dm_map,
}

impl InCallback {
    /// # Safety
    /// `map` must be a live handle from this library, and the caller's
    /// reference must not be released by another thread during the call.
    #[inline(always)]
    pub(crate) unsafe fn enter(map: *const dm_map) -> Result<InCallback, dm_status> {
        // SAFETY: forwarded contract.
        unsafe { live(map) }?;
        Ok(InCallback { scope: Some(reentrancy::CallbackScope::enter(id(map))), map })
    }

    pub(crate) fn map(&self) -> &Map {
        // SAFETY: the caller's reference is live for the whole call (`enter`'s
        // contract), and this thread's releases of it wait for `drop`.
        unsafe { &(*self.map).map }
    }
}

impl Drop for InCallback {
    #[inline(always)]
    fn drop(&mut self) {
        // The mark goes first, so that dropping the map (below) sees no
        // callback running.
        let deferred = self.scope.take().map_or(0, reentrancy::CallbackScope::exit);
        for _ in 0..deferred {
            // SAFETY: each deferred release stands for one reference that
            // `dm_free` was given and did not release.
            unsafe { Arc::decrement_strong_count(self.map) };
        }
    }
}
