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

pub mod ffi;

pub use ffi::*;
