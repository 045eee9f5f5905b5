//! Status codes, their names, and the library version.

use std::ffi::c_char;

use super::dm_status;

/// Success. For inserting calls: the key was new.
pub const DM_OK: dm_status = 0;
/// The key (or, for `dm_iter_next`, any further entry) is not in the map.
pub const DM_NOT_FOUND: dm_status = 1;
/// The key existed; its value was replaced.
pub const DM_REPLACED: dm_status = 2;
/// The key already existed; nothing was inserted.
pub const DM_EXISTS: dm_status = 3;
/// A comparison or predicate did not match; nothing changed.
pub const DM_MISMATCH: dm_status = 4;
/// The output buffer is too small; the needed size was written, nothing else changed.
pub const DM_BUFFER_TOO_SMALL: dm_status = 5;
/// A visit callback returned `false` and the walk stopped early.
pub const DM_STOPPED: dm_status = 6;
/// A required pointer was NULL (or a NULL byte pointer came with a non-zero length).
pub const DM_ERR_NULL: dm_status = -1;
/// An argument is out of range: a length over `PTRDIFF_MAX`, a shard count that
/// is not a power of two >= 2, an unknown hasher, a counter value that is not 8 bytes.
pub const DM_ERR_INVALID: dm_status = -2;
/// Memory could not be allocated; the map is unchanged.
pub const DM_ERR_NO_MEMORY: dm_status = -3;
/// Called on a map from inside one of that map's own callbacks; nothing happened.
pub const DM_ERR_REENTRANT: dm_status = -4;
/// A bug inside libdashmap was caught (a Rust panic); the map is still usable.
pub const DM_ERR_PANIC: dm_status = -5;
/// The map holds `dm_options.max_entries` entries, so a new key was not
/// added (updates of existing keys still work); nothing changed.
pub const DM_ERR_FULL: dm_status = -6;

/// Table of status names, kept beside the constants so they cannot drift.
const STATUS_TEXT: &[(dm_status, &std::ffi::CStr)] = &[
    (DM_OK, c"ok"),
    (DM_NOT_FOUND, c"not found"),
    (DM_REPLACED, c"replaced an existing value"),
    (DM_EXISTS, c"key already exists"),
    (DM_MISMATCH, c"value did not match"),
    (DM_BUFFER_TOO_SMALL, c"buffer too small"),
    (DM_STOPPED, c"stopped by callback"),
    (DM_ERR_NULL, c"NULL pointer argument"),
    (DM_ERR_INVALID, c"invalid argument"),
    (DM_ERR_NO_MEMORY, c"out of memory"),
    (DM_ERR_REENTRANT, c"reentrant call from inside a callback on the same map"),
    (DM_ERR_PANIC, c"internal panic caught (map still usable)"),
    (DM_ERR_FULL, c"map is full (max_entries reached)"),
];

/// A short English description of `status`: static storage, never NULL, never
/// to be freed. Unknown codes give "unknown status". Thread-safe.
#[no_mangle]
pub extern "C" fn dm_status_str(status: dm_status) -> *const c_char {
    STATUS_TEXT.iter().find(|(code, _)| *code == status).map_or(c"unknown status", |(_, text)| text).as_ptr()
}

/// The library version as "MAJOR.MINOR.PATCH": static storage, never NULL.
/// Equals `DM_VERSION_STRING` when the header matches the library. Thread-safe.
#[no_mangle]
pub extern "C" fn dm_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

/// The library version as MAJOR * 10000 + MINOR * 100 + PATCH; compare with
/// `DM_VERSION_NUMBER` to detect a header/library mismatch at run time.
#[no_mangle]
pub extern "C" fn dm_version_number() -> u32 {
    const fn parse(s: &str) -> u32 {
        let b = s.as_bytes();
        let mut i = 0;
        let mut n = 0;
        while i < b.len() {
            n = n * 10 + (b[i] - b'0') as u32;
            i += 1;
        }
        n
    }
    const NUMBER: u32 = parse(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + parse(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + parse(env!("CARGO_PKG_VERSION_PATCH"));
    NUMBER
}
