//! The map logic: a byte-keyed `DashMap` whose shard tables we drive
//! directly (dashmap's `raw-api`), so that each operation hashes its key once,
//! allocates a key only when it inserts one, grows tables fallibly, and batch
//! operations take each shard lock once. Nothing here knows about C.

mod bulk;
mod clock;
mod entry;
mod gate;
mod heap;
mod iter;
mod ops;
mod prefetch;
mod record;
mod ttl;

pub use entry::Entry;
pub use iter::Snapshot;
pub use ops::{Removal, SwapResult};
pub use bulk::ByteList;
pub use record::Record;
pub(crate) use gate::ReaderState;

use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap_rs::{DashMap, SharedValue};
use hashbrown::raw::{Bucket, RawTable};

use clock::Clock;
use gate::{Gates, ShardRef};

use crate::fault;
use crate::hasher::{HasherKind, State};

/// A table slot: the record is the key (value unit), so a slot is one pointer.
type Slot = (Record, SharedValue<()>);
type Table = RawTable<Slot>;
type Shard = dashmap_rs::RwLock<Table>;

/// Largest shard count we accept: beyond this the shard array alone is
/// megabytes and contention is no lower.
pub(crate) const MAX_SHARDS: usize = 1 << 16;

/// Why an operation did not happen. A single-key operation that fails leaves
/// the map unchanged (batches document what a midway failure keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// An allocation (a key or value copy, or table growth) failed.
    NoMemory,
    /// The request cannot be honoured (bad shard count, unknown hasher,
    /// a counter whose value is not 8 bytes).
    Invalid,
    /// The map holds `max_entries` entries; a new key cannot be added.
    Full,
}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// 0: start empty.
    pub capacity: usize,
    /// 0: the default, `default_shard_count()`.
    pub shards: usize,
    pub hasher: HasherKind,
    /// 0: random keys.
    pub seed: u64,
    /// 0: unbounded.
    pub max_entries: usize,
    /// Deadlines follow a clock set with `set_clock` instead of real time.
    pub manual_clock: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { capacity: 0, shards: 0, hasher: HasherKind::SipHash, seed: 0, max_entries: 0, manual_clock: false }
    }
}

/// Per-map counters for `stats()`. Like `len()`, they describe what is
/// stored, including expired entries not yet removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub len: usize,
    pub capacity: usize,
    pub shards: usize,
    pub min_shard_len: usize,
    pub max_shard_len: usize,
    pub key_bytes: usize,
    pub value_bytes: usize,
}

pub struct Map {
    /// dashmap provides the shards, their locks, the hasher and shard
    /// selection; the operations on each shard's table are ours.
    inner: DashMap<Record, (), State>,
    /// One per shard: lets short reads skip the lock word.
    gates: Gates,
    clock: Clock,
    /// Present only for bounded maps, so unbounded ones never touch a
    /// shared counter.
    bound: Option<Bound>,
}

struct Bound {
    max: usize,
    /// Entries stored (expired ones included until removed).
    count: OwnLine<AtomicUsize>,
}

/// A value on cache lines of its own: `Bound::count` is written by every
/// insert and remove of a bounded map, and must not evict the map's
/// read-mostly fields (shard array, hasher keys) from other cores' caches.
#[repr(align(128))]
struct OwnLine<T>(T);

impl<T> std::ops::Deref for OwnLine<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Copies bytes into a new exact-size box, reporting allocation failure
/// instead of aborting.
pub fn try_copy(bytes: &[u8]) -> Result<Box<[u8]>> {
    let mut v = Vec::new();
    v.try_reserve_exact(bytes.len()).map_err(|_| Error::NoMemory)?;
    v.extend_from_slice(bytes);
    Ok(v.into_boxed_slice())
}

/// Key equality without a `memcmp` call for the common 8 to 16 byte keys
/// (two overlapping 8-byte loads per side).
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        // SAFETY: both slices are `n` bytes long and 8 <= n, so the 8 bytes
        // at 0 and at n - 8 are in bounds.
        let word = |s: &[u8], at: usize| unsafe { s.as_ptr().add(at).cast::<u64>().read_unaligned() };
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    a == b
}

/// The key's bucket when the first control group settles it: `Ok` found,
/// `Err` absent; `None` when a full lookup is needed (a full group, or a
/// candidate with another key).
#[inline(always)]
fn candidate(table: &Table, hash: u64, key: &[u8]) -> Option<std::result::Result<Bucket<Slot>, ()>> {
    prefetch::probe_slots(table, hash);
    match prefetch::first_group(table, hash) {
        prefetch::FirstGroup::Candidate(index) => {
            // SAFETY: `first_group` returns the index of a full bucket of `table`.
            let bucket = unsafe { table.bucket(index) };
            // SAFETY: a full bucket holds a valid slot, read while `table` is borrowed.
            same_key(unsafe { bucket.as_ref() }.0.key(), key).then_some(Ok(bucket))
        }
        prefetch::FirstGroup::Absent => Some(Err(())),
        prefetch::FirstGroup::Unsure => None,
    }
}

/// hashbrown's full lookups, out of line: needed only when the first
/// control group does not settle it (`candidate`).
#[inline(never)]
fn find_record<'t>(table: &'t Table, hash: u64, key: &[u8]) -> Option<&'t Record> {
    table.get(hash, holds(key)).map(|(record, _)| record)
}

#[inline(never)]
fn find_bucket(table: &Table, hash: u64, key: &[u8]) -> Option<Bucket<Slot>> {
    table.find(hash, holds(key))
}

/// Matches the slot holding `key` (the same comparison as `candidate`).
#[inline]
fn holds(key: &[u8]) -> impl Fn(&Slot) -> bool + '_ {
    move |(record, _)| same_key(record.key(), key)
}

impl Map {
    pub fn new(opts: Options) -> Result<Map> {
        let shards = match opts.shards {
            0 => default_shard_count(),
            n if n >= 2 && n.is_power_of_two() && n <= MAX_SHARDS => n,
            _ => return Err(Error::Invalid),
        };
        // Build empty, then reserve fallibly: dashmap's own pre-sizing aborts
        // the process when the allocation fails.
        let inner = DashMap::with_capacity_and_hasher_and_shard_amount(0, State::new(opts.hasher, opts.seed), shards);
        let clock = if opts.manual_clock { Clock::Manual(Default::default()) } else { Clock::Monotonic };
        let bound = (opts.max_entries > 0).then(|| Bound { max: opts.max_entries, count: OwnLine(AtomicUsize::new(0)) });
        let map = Map { inner, gates: Gates::new(shards), clock, bound };
        if opts.capacity > 0 {
            let per_shard = opts.capacity.div_ceil(shards);
            for shard in map.shards() {
                map.reserve(&mut shard.write(), shard.index, per_shard)?;
            }
        }
        Ok(map)
    }

    /// The hash of a key; equal to what dashmap itself computes for a stored
    /// `Record` (both hash the key's bytes alone), so its own methods stay valid.
    #[inline(always)]
    fn hash(&self, key: &[u8]) -> u64 {
        self.inner.hasher().hash_key(key)
    }

    /// The key's hash and the shard that holds it (inlined: it is the start
    /// of every operation, and a call costs it a fifth of its instructions).
    /// Also starts fetching the lines the lookup will read, so that they
    /// arrive while the caller takes the gate or the lock (Exchange +11-15%
    /// with two threads).
    #[inline(always)]
    fn locate(&self, key: &[u8]) -> (u64, ShardRef<'_>) {
        let hash = self.hash(key);
        let index = self.shard_index(hash);
        self.gates.prefetch_probe(index, hash);
        (hash, self.shard(index))
    }

    /// Shard `index` (below `shard_count()`).
    #[inline(always)]
    fn shard(&self, index: usize) -> ShardRef<'_> {
        ShardRef { lock: &self.inner.shards()[index], gates: &self.gates, index }
    }

    /// Every shard, in order.
    fn shards(&self) -> impl Iterator<Item = ShardRef<'_>> {
        (0..self.shard_count()).map(|index| self.shard(index))
    }

    #[inline(always)]
    fn shard_index(&self, hash: u64) -> usize {
        self.inner.determine_shard(hash as usize)
    }

    /// What a table needs to move entries when it grows.
    fn rehasher(&self) -> impl Fn(&Slot) -> u64 + '_ {
        move |(record, _)| self.hash(record.key())
    }

    /// Makes room for `additional` more entries in shard `shard`'s
    /// write-locked `table`, fallibly; a table that moved is noted for the
    /// gates' prefetch hint.
    #[inline(always)]
    fn reserve(&self, table: &mut Table, shard: usize, additional: usize) -> Result<()> {
        let buckets = table.buckets();
        table.try_reserve(additional, self.rehasher()).map_err(|_| Error::NoMemory)?;
        if table.buckets() != buckets {
            self.gates.note_table(shard, table);
        }
        Ok(())
    }

    /// Inserts a record whose key is known to be absent, growing the table
    /// fallibly first and respecting the size bound.
    fn insert_absent(&self, table: &mut Table, hash: u64, record: Record) -> Result<()> {
        self.admit(table)?;
        if self.reserve(table, self.shard_index(hash), 1).is_err() {
            self.release(1);
            return Err(Error::NoMemory);
        }
        fault::point("insert_absent");
        // Cannot fail after the reservation above.
        let _ = table.try_insert_no_grow(hash, (record, SharedValue::new(())));
        Ok(())
    }

    /// Counts one more entry against the bound (no-op for unbounded maps).
    /// When full, first sweeps expired entries out of the locked `table`.
    fn admit(&self, table: &mut Table) -> Result<()> {
        let Some(bound) = &self.bound else { return Ok(()) };
        // A compare-and-swap loop, not add-then-undo: the count never
        // overshoots, so a racing insert is never refused spuriously.
        let take = || bound.count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < bound.max).then_some(n + 1)).is_ok();
        if take() || (self.purge_table(table) > 0 && take()) {
            Ok(())
        } else {
            Err(Error::Full)
        }
    }

    /// Uncounts `n` removed entries (no-op for unbounded maps).
    fn release(&self, n: usize) {
        if let Some(bound) = &self.bound {
            bound.count.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// True unless the record's deadline has passed (only records with a
    /// TTL read the clock).
    #[inline(always)]
    fn is_live(&self, record: &Record) -> bool {
        !record.has_deadline() || self.not_expired(record)
    }

    /// The clock check, out of line: only entries with a TTL get here.
    #[cold]
    #[inline(never)]
    fn not_expired(&self, record: &Record) -> bool {
        record.deadline().is_none_or(|d| self.clock.now() < d)
    }

    /// The live record for `key` in a read-locked table: usually the first
    /// candidate slot's (`candidate`), else hashbrown's lookup.
    #[inline(always)]
    fn live<'t>(&self, table: &'t Table, hash: u64, key: &[u8]) -> Option<&'t Record> {
        // SAFETY: the bucket is full and belongs to `table`, borrowed for 't.
        let record = match candidate(table, hash, key) {
            Some(Ok(bucket)) => Some(&unsafe { bucket.as_ref() }.0),
            Some(Err(())) => None,
            None => find_record(table, hash, key),
        };
        record.filter(|r| self.is_live(r))
    }

    /// The bucket of the live record for `key` in a write-locked table; an
    /// expired record found there is removed first (lazy expiry).
    #[inline(always)]
    fn live_bucket(&self, table: &mut Table, hash: u64, key: &[u8]) -> Option<Bucket<Slot>> {
        let bucket = match candidate(table, hash, key) {
            Some(found) => found.ok()?,
            None => find_bucket(table, hash, key)?,
        };
        // SAFETY: `bucket` was just found in the locked table.
        if self.is_live(&unsafe { bucket.as_ref() }.0) {
            return Some(bucket);
        }
        // SAFETY: as above; the bucket is full and not used afterwards.
        drop(unsafe { table.remove(bucket) });
        self.release(1);
        None
    }

    /// The live record for `key` in a write-locked table, writable.
    #[inline]
    fn live_mut<'t>(&self, table: &'t mut Table, hash: u64, key: &[u8]) -> Option<&'t mut Record> {
        let bucket = self.live_bucket(table, hash, key)?;
        // SAFETY: the bucket is full, belongs to `table`, and the returned
        // borrow is tied to the exclusive borrow of `table`.
        Some(&mut unsafe { bucket.as_mut() }.0)
    }

    /// Removes every expired record from a write-locked table.
    fn purge_table(&self, table: &mut Table) -> usize {
        let now = self.clock.now();
        let mut removed = 0;
        // SAFETY: exclusive access; erasing the bucket just yielded while
        // iterating is allowed (hashbrown's own `retain` does the same).
        unsafe {
            for bucket in table.iter() {
                if bucket.as_ref().0.expired_at(now) {
                    table.erase(bucket);
                    removed += 1;
                }
            }
        }
        self.release(removed);
        removed
    }

    pub fn shard_count(&self) -> usize {
        self.inner.shards().len()
    }

    /// Entries stored, including expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.shards().map(|s| s.read().len()).sum()
    }

    pub fn capacity(&self) -> usize {
        self.shards().map(|s| s.read().capacity()).sum()
    }

    pub fn shard_len(&self, shard: usize) -> Option<usize> {
        (shard < self.shard_count()).then(|| self.shard(shard).read().len())
    }

    /// Removes every entry, one shard at a time; keeps the allocated tables.
    pub fn clear(&self) {
        for shard in self.shards() {
            let mut table = shard.write();
            self.release(table.len());
            table.clear();
        }
    }

    pub fn shrink_to_fit(&self) {
        for shard in self.shards() {
            let mut table = shard.write();
            let len = table.len();
            table.shrink_to(len, self.rehasher());
            self.gates.note_table(shard.index, &table);
        }
    }

    pub fn stats(&self) -> Stats {
        let mut st = Stats { shards: self.shard_count(), min_shard_len: usize::MAX, ..Stats::default() };
        for shard in self.shards() {
            let table = shard.read_locked();
            st.len += table.len();
            st.capacity += table.capacity();
            st.min_shard_len = st.min_shard_len.min(table.len());
            st.max_shard_len = st.max_shard_len.max(table.len());
            // SAFETY: the read guard is held for the whole walk, so no bucket
            // is freed or moved while we read it.
            for bucket in unsafe { table.iter() } {
                let (record, _) = unsafe { bucket.as_ref() };
                st.key_bytes += record.key().len();
                st.value_bytes += record.value().len();
            }
        }
        st
    }
}

/// CPUs this process may run on, asked once: `available_parallelism` reads
/// cgroup files, and every map creation needs the answer twice.
fn cpus() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Four shards per CPU (dashmap's default), rounded up to a power of two,
/// and at least 64: two threads on dashmap's 8 shards of a 2-CPU machine
/// contend on the shard locks' cache lines often enough to cost ~25% of
/// ReadHeavy throughput (BENCHMARKS.md, "Shard count"), while 64 shards cost
/// an empty map ~15 KiB on 2 CPUs (with the reader gates) and a single
/// thread nothing measurable.
const MIN_DEFAULT_SHARDS: usize = 64;

fn default_shard_count() -> usize {
    (cpus() * 4).next_power_of_two().clamp(MIN_DEFAULT_SHARDS, MAX_SHARDS)
}
