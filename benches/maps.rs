//! Criterion benchmarks: libdashmap's C API (the `dm_*` extern "C" functions,
//! called from Rust) against dashmap used natively and lock-wrapped std
//! `HashMap`s, on 16-byte keys and 64-byte values, single-threaded and with
//! two threads.
//!
//!   make bench-rust        (or: cargo bench --bench maps)
//!   cargo bench --bench maps -- get/        only the `get` group
//!
//! Every implementation hashes with SipHash-1-3 (std's `RandomState`, which is
//! SipHash-1-3 with random keys, like libdashmap's default) except the `*_fast`
//! variants, which use foldhash (libdashmap's `DM_HASHER_FAST`).
//!
//! Each benchmark reports the time of one operation per thread; with
//! `Throughput::Elements(threads)` criterion also prints the total
//! operations per second. Timing uses `iter_custom`: each thread does
//! `iters` operations and the slowest thread's elapsed time is reported.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::ffi::c_void;
use std::hash::BuildHasher;
use std::sync::{Barrier, Mutex, RwLock};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dashmap::*;
use dashmap_rs::DashMap;

const KEY_LEN: usize = 16;
const VAL_LEN: usize = 64;
/// Keys present in every map (plus as many 8-byte counters for `add_i64`).
const N: usize = 1 << 14;
/// Fresh keys per thread for the `insert` benchmark (inserted, then removed untimed).
const CHUNK: usize = 1024;

type Bytes = Box<[u8]>;

/// The operations measured, over any map.
trait Map: Sync {
    fn get(&self, k: &[u8], buf: &mut [u8]) -> bool;
    fn insert(&self, k: &[u8], v: &[u8]);
    fn remove(&self, k: &[u8]) -> bool;
    /// Upsert: add 1 to the value's first byte, or insert `v` when absent.
    fn entry_update(&self, k: &[u8], v: &[u8]);
    fn add_i64(&self, k: &[u8], delta: i64) -> i64;
}

// ---------------------------------------------------------------- C API ----

struct CApi(*mut dm_map);
// SAFETY: dm_map is documented thread-safe.
unsafe impl Send for CApi {}
unsafe impl Sync for CApi {}

impl CApi {
    fn new(hasher: dm_hasher) -> CApi {
        let mut opts = dm_options_default();
        opts.capacity = 2 * N + 4 * CHUNK;
        opts.hasher = hasher;
        let mut out = std::ptr::null_mut();
        assert_eq!(unsafe { dm_new_with_options(&opts, &mut out) }, DM_OK);
        CApi(out)
    }
}

impl Drop for CApi {
    fn drop(&mut self) {
        unsafe { dm_free(self.0) }
    }
}

struct Upsert<'a> {
    val: &'a [u8],
}

unsafe extern "C-unwind" fn upsert_cb(e: *mut dm_entry, ctx: *mut c_void) {
    let mut len = 0;
    let p = unsafe { dm_entry_value_mut(e, &mut len) };
    if p.is_null() {
        let u = unsafe { &*(ctx as *const Upsert<'_>) };
        unsafe { dm_entry_set(e, u.val.as_ptr(), u.val.len()) };
    } else if len > 0 {
        unsafe { *p = (*p).wrapping_add(1) };
    }
}

impl Map for CApi {
    #[inline]
    fn get(&self, k: &[u8], buf: &mut [u8]) -> bool {
        let mut len = 0;
        unsafe { dm_get_copy(self.0, k.as_ptr(), k.len(), buf.as_mut_ptr(), buf.len(), &mut len) == DM_OK }
    }
    #[inline]
    fn insert(&self, k: &[u8], v: &[u8]) {
        let s = unsafe { dm_insert(self.0, k.as_ptr(), k.len(), v.as_ptr(), v.len()) };
        debug_assert!(s >= 0);
    }
    #[inline]
    fn remove(&self, k: &[u8]) -> bool {
        unsafe { dm_remove(self.0, k.as_ptr(), k.len(), std::ptr::null_mut(), 0, std::ptr::null_mut()) == DM_OK }
    }
    #[inline]
    fn entry_update(&self, k: &[u8], v: &[u8]) {
        let u = Upsert { val: v };
        let s = unsafe { dm_entry_update(self.0, k.as_ptr(), k.len(), Some(upsert_cb), &u as *const Upsert<'_> as *mut c_void) };
        debug_assert_eq!(s, DM_OK);
    }
    #[inline]
    fn add_i64(&self, k: &[u8], delta: i64) -> i64 {
        let mut r = 0;
        let s = unsafe { dm_add_i64(self.0, k.as_ptr(), k.len(), delta, &mut r) };
        debug_assert_eq!(s, DM_OK);
        r
    }
}

// ------------------------------------------------------- native dashmap ----

struct Native<S>(DashMap<Bytes, Bytes, S>);

impl<S: BuildHasher + Clone + Default> Native<S> {
    /// With the C API's default shard count (not dashmap's, which is lower on
    /// small machines), so the comparison measures the FFI layer alone.
    fn new() -> Self {
        Native(DashMap::with_capacity_and_hasher_and_shard_amount(2 * N + 4 * CHUNK, S::default(), capi_default_shards()))
    }
}

fn capi_default_shards() -> usize {
    let m = dm_new();
    let shards = unsafe { dm_shard_count(m) };
    unsafe { dm_free(m) };
    shards
}

fn bump(v: &mut [u8]) {
    if let Some(x) = v.first_mut() {
        *x = x.wrapping_add(1);
    }
}

fn add_le(v: &mut [u8], delta: i64) -> i64 {
    let bytes: &mut [u8; 8] = v.try_into().expect("counter is 8 bytes");
    let sum = i64::from_le_bytes(*bytes).wrapping_add(delta);
    *bytes = sum.to_le_bytes();
    sum
}

impl<S: BuildHasher + Clone + Sync + Send> Map for Native<S> {
    #[inline]
    fn get(&self, k: &[u8], buf: &mut [u8]) -> bool {
        match self.0.get(k) {
            Some(r) => {
                let v: &[u8] = r.value();
                buf[..v.len()].copy_from_slice(v);
                true
            }
            None => false,
        }
    }
    #[inline]
    fn insert(&self, k: &[u8], v: &[u8]) {
        self.0.insert(k.into(), v.into());
    }
    #[inline]
    fn remove(&self, k: &[u8]) -> bool {
        self.0.remove(k).is_some()
    }
    /// dashmap's entry API takes an owned key, so this allocates one per call.
    #[inline]
    fn entry_update(&self, k: &[u8], v: &[u8]) {
        self.0.entry(k.into()).and_modify(|x| bump(x)).or_insert_with(|| v.into());
    }
    /// `get_mut` when present (no key allocation), else `entry`.
    #[inline]
    fn add_i64(&self, k: &[u8], delta: i64) -> i64 {
        if let Some(mut r) = self.0.get_mut(k) {
            return add_le(r.value_mut(), delta);
        }
        let mut e = self.0.entry(k.into()).or_insert_with(|| Box::new([0u8; 8]));
        add_le(e.value_mut(), delta)
    }
}

// ------------------------------------------------ lock-wrapped HashMaps ----

/// `HashMap<Box<[u8]>, Box<[u8]>>` behind one lock. `$read`/`$write` take the lock.
macro_rules! locked_map {
    ($name:ident, $lock:ty, |$l:ident| $read:expr, $write:expr) => {
        struct $name<S>($lock);

        impl<S: BuildHasher + Default> $name<S> {
            fn new() -> Self {
                $name(<$lock>::new(HashMap::with_capacity_and_hasher(2 * N + 4 * CHUNK, S::default())))
            }
        }

        impl<S: BuildHasher + Sync + Send> Map for $name<S> {
            #[inline]
            fn get(&self, k: &[u8], buf: &mut [u8]) -> bool {
                let $l = &self.0;
                let m = $read;
                match m.get(k) {
                    Some(v) => {
                        buf[..v.len()].copy_from_slice(v);
                        true
                    }
                    None => false,
                }
            }
            #[inline]
            fn insert(&self, k: &[u8], v: &[u8]) {
                let (k, v): (Bytes, Bytes) = (k.into(), v.into());
                let $l = &self.0;
                let old = $write.insert(k, v);
                drop(old);
            }
            #[inline]
            fn remove(&self, k: &[u8]) -> bool {
                let $l = &self.0;
                let old = $write.remove(k);
                old.is_some()
            }
            #[inline]
            fn entry_update(&self, k: &[u8], v: &[u8]) {
                let $l = &self.0;
                let mut m = $write;
                match m.get_mut(k) {
                    Some(x) => bump(x),
                    None => {
                        m.insert(k.into(), v.into());
                    }
                }
            }
            #[inline]
            fn add_i64(&self, k: &[u8], delta: i64) -> i64 {
                let $l = &self.0;
                let mut m = $write;
                match m.get_mut(k) {
                    Some(x) => add_le(x, delta),
                    None => {
                        m.insert(k.into(), delta.to_le_bytes().into());
                        delta
                    }
                }
            }
        }
    };
}

type HM<S> = HashMap<Bytes, Bytes, S>;
locked_map!(StdRwLock, RwLock<HM<S>>, |l| l.read().unwrap(), l.write().unwrap());
locked_map!(PlRwLock, parking_lot::RwLock<HM<S>>, |l| l.read(), l.write());
locked_map!(StdMutex, Mutex<HM<S>>, |l| l.lock().unwrap(), l.lock().unwrap());

// -------------------------------------------------------------- dataset ----

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Distinct 16-byte keys: the index, mixed, in the first 8 bytes.
fn key(i: u64) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[..8].copy_from_slice(&splitmix(i).to_le_bytes());
    k[8..].copy_from_slice(&splitmix(i ^ 0xdead_beef).to_le_bytes());
    k
}

struct Data {
    /// Present keys with 64-byte values, in a shuffled order.
    keys: Vec<[u8; KEY_LEN]>,
    /// Present counter keys (8-byte values) for add_i64.
    counters: Vec<[u8; KEY_LEN]>,
    /// Per thread: keys never in the map (for insert).
    fresh: Vec<Vec<[u8; KEY_LEN]>>,
    val: [u8; VAL_LEN],
}

impl Data {
    fn new() -> Data {
        let mut keys: Vec<_> = (0..N as u64).map(key).collect();
        // Fisher-Yates with splitmix: a fixed pseudo-random order.
        for i in (1..keys.len()).rev() {
            let j = (splitmix(i as u64 ^ 0x5151) % (i as u64 + 1)) as usize;
            keys.swap(i, j);
        }
        let counters = (0..N as u64).map(|i| key(i + (1 << 40))).collect();
        let fresh = (0..2u64).map(|t| (0..CHUNK as u64).map(|i| key(i + ((t + 2) << 40))).collect()).collect();
        Data { keys, counters, fresh, val: [0x5a; VAL_LEN] }
    }

    fn fill<M: Map>(&self, m: &M) {
        for k in &self.keys {
            m.insert(k, &self.val);
        }
        for k in &self.counters {
            m.insert(k, &0i64.to_le_bytes());
        }
    }
}

// --------------------------------------------------------------- timing ----

/// Runs `work(thread, iters)` on `threads` threads (the caller's thread when
/// 1); each returns the time it measured; the slowest is the result.
fn run_threads<F>(threads: usize, iters: u64, work: F) -> Duration
where
    F: Fn(usize, u64) -> Duration + Sync,
{
    if threads == 1 {
        return work(0, iters);
    }
    let work = &work;
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t, iters))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).max().unwrap()
    })
}

#[derive(Clone, Copy)]
enum Op {
    Get,
    Insert,
    Remove,
    EntryUpdate,
    AddI64,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Insert => "insert",
            Op::Remove => "remove",
            Op::EntryUpdate => "entry_update",
            Op::AddI64 => "add_i64",
        }
    }
}

/// `iters` operations of `op` per thread on `m`; only the operations are timed.
fn measure<M: Map>(m: &M, d: &Data, op: Op, threads: usize, iters: u64) -> Duration {
    let barrier = Barrier::new(threads);
    run_threads(threads, iters, |t, iters| {
        let mut buf = [0u8; VAL_LEN];
        // Each thread starts at its own offset; removals use the thread's own
        // slice of the keys so threads never remove each other's keys.
        let n = d.keys.len();
        let slice = &d.keys[t * n / threads..(t + 1) * n / threads];
        barrier.wait();
        match op {
            Op::Get | Op::EntryUpdate | Op::AddI64 => {
                let keys = if matches!(op, Op::AddI64) { &d.counters } else { &d.keys };
                let mut i = t * n / threads;
                let start = Instant::now();
                for _ in 0..iters {
                    let k = &keys[i];
                    match op {
                        Op::Get => {
                            black_box(m.get(k, &mut buf));
                        }
                        Op::EntryUpdate => m.entry_update(k, &d.val),
                        _ => {
                            black_box(m.add_i64(k, 1));
                        }
                    }
                    i += 1;
                    if i == n {
                        i = 0;
                    }
                }
                start.elapsed()
            }
            Op::Insert | Op::Remove => {
                let fresh = &d.fresh[t];
                let mut timed = Duration::ZERO;
                let mut left = iters;
                let mut at = 0;
                while left > 0 {
                    let c = (left as usize).min(CHUNK);
                    if let Op::Insert = op {
                        let start = Instant::now();
                        for k in &fresh[..c] {
                            m.insert(k, &d.val);
                        }
                        timed += start.elapsed();
                        for k in &fresh[..c] {
                            m.remove(k);
                        }
                    } else {
                        let c = c.min(slice.len() - at);
                        let keys = &slice[at..at + c];
                        let start = Instant::now();
                        for k in keys {
                            black_box(m.remove(k));
                        }
                        timed += start.elapsed();
                        for k in keys {
                            m.insert(k, &d.val);
                        }
                        at = (at + c) % slice.len();
                        left -= c as u64;
                        continue;
                    }
                    left -= c as u64;
                }
                timed
            }
        }
    })
}

fn bench_impl<M: Map>(c: &mut Criterion, d: &Data, name: &str, make: impl Fn() -> M) {
    let m = make();
    d.fill(&m);
    for op in [Op::Get, Op::Insert, Op::Remove, Op::EntryUpdate, Op::AddI64] {
        for threads in [1usize, 2] {
            let mut g = c.benchmark_group(format!("{}/{}t", op.name(), threads));
            g.throughput(Throughput::Elements(threads as u64));
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| measure(&m, d, op, threads, iters));
            });
            g.finish();
        }
    }
}

type Fast = foldhash::fast::RandomState;

fn maps(c: &mut Criterion) {
    let d = Data::new();
    bench_impl(c, &d, "capi_sip", || CApi::new(DM_HASHER_SIPHASH));
    bench_impl(c, &d, "capi_fast", || CApi::new(DM_HASHER_FAST));
    bench_impl(c, &d, "native_sip", Native::<RandomState>::new);
    bench_impl(c, &d, "native_fast", Native::<Fast>::new);
    bench_impl(c, &d, "std_rwlock", StdRwLock::<RandomState>::new);
    bench_impl(c, &d, "parking_lot_rwlock", PlRwLock::<RandomState>::new);
    bench_impl(c, &d, "std_mutex", StdMutex::<RandomState>::new);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = maps
}
criterion_main!(benches);
