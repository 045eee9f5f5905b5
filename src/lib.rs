//! libdashmap: a concurrent byte-keyed hash map with a C ABI.
//!
//! `ffi` is the C boundary (every `dm_` function); `map` is the logic over
//! dashmap's shards; `hasher` and `reentrancy` support them. Rust code can
//! call the `dm_` functions directly (tests and benchmarks do).

#![deny(unsafe_op_in_unsafe_fn)]

mod fault;
mod hasher;
mod map;
mod reentrancy;
mod sip4;
mod tls;

pub mod ffi;

pub use ffi::*;

/// Test-only hooks, compiled with the cargo feature `fault-injection`.
#[cfg(feature = "fault-injection")]
pub mod testing {
    /// Makes the next pass through the named internal point panic. Points:
    /// "insert_absent" (under a shard write lock), "for_each" (under a read
    /// lock), "entry_apply" (while applying an entry update).
    pub fn inject_panic_at(point: &str) {
        crate::fault::arm(point)
    }
}
