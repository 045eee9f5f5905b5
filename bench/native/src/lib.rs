//! `nd_*`: a minimal C surface over a natively used
//! `DashMap<Box<[u8]>, Box<[u8]>, S>` (dashmap's own get/insert/remove/
//! get_mut/entry API, no raw shard access), with the same two hashers as
//! libdashmap: SipHash-1-3 with random keys, and foldhash.
//!
//! No argument checks, no panic catching, no reentrancy guard: this is the
//! floor that libdashmap's C layer is measured against.

use std::hash::BuildHasher;
use std::os::raw::c_int;

use dashmap::DashMap;
use siphasher::sip::SipHasher13;

#[derive(Clone)]
pub struct Sip13 {
    k0: u64,
    k1: u64,
}

impl BuildHasher for Sip13 {
    type Hasher = SipHasher13;
    #[inline]
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.k0, self.k1)
    }
}

fn random_keys() -> (u64, u64) {
    let s = std::collections::hash_map::RandomState::new();
    (s.hash_one(0x5eed_u64), std::collections::hash_map::RandomState::new().hash_one(0xfeed_u64))
}

type M<S> = DashMap<Box<[u8]>, Box<[u8]>, S>;

pub enum NativeMap {
    Sip(M<Sip13>),
    Fast(M<foldhash::fast::RandomState>),
}

macro_rules! with_map {
    ($m:expr, $inner:ident => $body:expr) => {
        match $m {
            NativeMap::Sip($inner) => $body,
            NativeMap::Fast($inner) => $body,
        }
    };
}

unsafe fn sl<'a>(p: *const u8, n: usize) -> &'a [u8] {
    if n == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

/// hasher: 0 = SipHash-1-3, 1 = foldhash. capacity 0 = empty.
#[no_mangle]
pub extern "C" fn nd_new(hasher: c_int, capacity: usize) -> *mut NativeMap {
    nd_new_sharded(hasher, capacity, 0)
}

/// Like `nd_new` with `shards` shards (a power of two >= 2; 0 = dashmap's
/// default), so the FFI-overhead comparison can use libdashmap's shard count.
#[no_mangle]
pub extern "C" fn nd_new_sharded(hasher: c_int, capacity: usize, shards: usize) -> *mut NativeMap {
    let shards = if shards == 0 { (std::thread::available_parallelism().map_or(1, usize::from) * 4).next_power_of_two() } else { shards };
    let m = if hasher == 0 {
        let (k0, k1) = random_keys();
        NativeMap::Sip(DashMap::with_capacity_and_hasher_and_shard_amount(capacity, Sip13 { k0, k1 }, shards))
    } else {
        NativeMap::Fast(DashMap::with_capacity_and_hasher_and_shard_amount(capacity, foldhash::fast::RandomState::default(), shards))
    };
    Box::into_raw(Box::new(m))
}

#[no_mangle]
pub unsafe extern "C" fn nd_free(m: *mut NativeMap) {
    if !m.is_null() {
        drop(unsafe { Box::from_raw(m) });
    }
}

/// Insert or replace: `DashMap::insert`. Returns 1 when a value was replaced.
#[no_mangle]
pub unsafe extern "C" fn nd_insert(m: *const NativeMap, k: *const u8, kl: usize, v: *const u8, vl: usize) -> c_int {
    let (k, v) = unsafe { (sl(k, kl), sl(v, vl)) };
    with_map!(unsafe { &*m }, map => map.insert(Box::from(k), Box::from(v)).is_some() as c_int)
}

/// `DashMap::get`, value copied into `buf`. Returns 0 found, 1 absent, 5 too small.
#[no_mangle]
pub unsafe extern "C" fn nd_get_copy(m: *const NativeMap, k: *const u8, kl: usize, buf: *mut u8, cap: usize, out_len: *mut usize) -> c_int {
    let k = unsafe { sl(k, kl) };
    with_map!(unsafe { &*m }, map => match map.get(k) {
        None => 1,
        Some(r) => {
            let v: &[u8] = r.value();
            unsafe { *out_len = v.len() };
            if v.len() > cap {
                return 5;
            }
            unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len()) };
            0
        }
    })
}

/// `DashMap::remove`. Returns 0 removed, 1 absent.
#[no_mangle]
pub unsafe extern "C" fn nd_remove(m: *const NativeMap, k: *const u8, kl: usize) -> c_int {
    let k = unsafe { sl(k, kl) };
    with_map!(unsafe { &*m }, map => if map.remove(k).is_some() { 0 } else { 1 })
}

/// In-place update through `DashMap::get_mut`: adds 1 to the value's first
/// 8 bytes (little-endian). Returns 0 updated, 1 absent.
#[no_mangle]
pub unsafe extern "C" fn nd_update(m: *const NativeMap, k: *const u8, kl: usize) -> c_int {
    let k = unsafe { sl(k, kl) };
    with_map!(unsafe { &*m }, map => match map.get_mut(k) {
        None => 1,
        Some(mut r) => {
            bump(r.value_mut());
            0
        }
    })
}

/// Upsert through `DashMap::entry` (needs an owned key): adds 1 to the first
/// 8 bytes of the value, or inserts `v` when absent. Always returns 0.
#[no_mangle]
pub unsafe extern "C" fn nd_entry_update(m: *const NativeMap, k: *const u8, kl: usize, v: *const u8, vl: usize) -> c_int {
    let (k, v) = unsafe { (sl(k, kl), sl(v, vl)) };
    with_map!(unsafe { &*m }, map => {
        map.entry(Box::from(k)).and_modify(|val| bump(val)).or_insert_with(|| Box::from(v));
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn nd_len(m: *const NativeMap) -> usize {
    with_map!(unsafe { &*m }, map => map.len())
}

#[inline]
fn bump(v: &mut [u8]) {
    if v.len() >= 8 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&v[..8]);
        v[..8].copy_from_slice(&u64::from_le_bytes(b).wrapping_add(1).to_le_bytes());
    } else if let Some(x) = v.first_mut() {
        *x = x.wrapping_add(1);
    }
}

