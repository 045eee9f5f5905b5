//! Batch operations: each shard lock is taken once per batch (or per chunk of
//! a large `get_many`), however many keys fall into that shard.

use std::cell::Cell;

use dashmap_rs::SharedValue;

use super::prefetch::{candidate_record, pipeline, probe_lines, Stage};
use super::gate::ReadGuard;
use super::{Error, Map, Record, Result};

/// How many keys `get_many` looks up under one set of read locks: bounds how
/// long a writer can wait behind a large batch.
const GET_MANY_CHUNK: usize = 1024;

/// Shards whose read guards `get_many` keeps on the stack (24 bytes each).
const INLINE_GUARDS: usize = 64;

/// The keys (or values) of a batch, read by index: a Rust slice of byte
/// slices, or the C caller's `dm_slice` array read in place.
pub trait ByteList {
    fn count(&self) -> usize;
    fn at(&self, i: usize) -> &[u8];
}

impl ByteList for [&[u8]] {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> &[u8] {
        self[i]
    }
}

/// The working buffers of a batch call, kept per thread from one call to the
/// next: allocating them each time cost more than the batching saved (glibc
/// consolidates its free lists whenever a block over 1 KiB is requested, and
/// a batch had five such blocks).
#[derive(Default)]
struct Scratch {
    /// (shard, hash) of each key (of a `get_many` chunk), in the caller's order.
    hashed: Vec<(usize, u64)>,
    /// Counting-sort cursor per shard.
    next: Vec<usize>,
    /// (shard, hash, index into the caller's arrays), grouped by shard.
    plan: Vec<(usize, u64, usize)>,
    /// `extend`'s records, built before any lock is taken; afterwards the
    /// records it replaced, freed once no lock is held.
    records: Vec<Option<Record>>,
    /// `get_many`: which shards a chunk needs.
    needed: Vec<bool>,
}

/// What a thread keeps of its buffers between calls (in entries, about
/// 200 KiB in all): after a larger batch they are shrunk to this size rather
/// than freed, so a large batch does not pin memory for the thread's
/// lifetime, and the next small one allocates nothing. (Allocating them again
/// cost more than memory: any glibc request over 1 KiB first consolidates all
/// of the arena's small free blocks, the records a removal or clear just
/// freed, while the batch is running.)
const KEEP_ENTRIES: usize = 1 << 12;

impl Scratch {
    const fn new() -> Scratch {
        Scratch { hashed: Vec::new(), next: Vec::new(), plan: Vec::new(), records: Vec::new(), needed: Vec::new() }
    }

    /// Empties the buffers, freeing the records they still hold, and caps
    /// their memory at `KEEP_ENTRIES` entries each for the next call.
    fn recycle(&mut self) {
        fn cap<T>(v: &mut Vec<T>) {
            v.clear();
            v.shrink_to(KEEP_ENTRIES);
        }
        cap(&mut self.hashed);
        cap(&mut self.next);
        cap(&mut self.plan);
        cap(&mut self.records);
        cap(&mut self.needed);
    }
}

thread_local! {
    static SCRATCH: Cell<Scratch> = const { Cell::new(Scratch::new()) };
}

/// Runs `f` with this thread's scratch buffers. A nested call (there is
/// none today) would get fresh buffers, never the ones in use.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH.try_with(Cell::take).unwrap_or_default();
    let result = f(&mut scratch);
    scratch.recycle();
    let _ = SCRATCH.try_with(|c| c.set(scratch));
    result
}

/// `v` cleared and able to hold `n` items without allocating; `Err(NoMemory)`
/// when that allocation fails.
fn reset<T>(v: &mut Vec<T>, n: usize) -> Result<()> {
    v.clear();
    v.try_reserve(n).map_err(|_| Error::NoMemory)
}

impl Map {
    /// Hashes the keys once and groups them by shard into `s.plan`. Within a
    /// shard the caller's order is kept, so a later duplicate wins as it
    /// would one by one.
    fn plan_batch(&self, keys: &(impl ByteList + ?Sized), s: &mut Scratch) -> Result<()> {
        let n = keys.count();
        reset(&mut s.hashed, n)?;
        reset(&mut s.next, self.shard_count())?;
        reset(&mut s.plan, n)?;
        let hashed = &mut s.hashed;
        self.inner.hasher().hash_keys(n, |i| keys.at(i), |_, hash| hashed.push((self.shard_index(hash), hash)));
        // A counting sort by shard: O(n), and stable.
        s.next.resize(self.shard_count(), 0);
        for &(shard, _) in &s.hashed {
            s.next[shard] += 1;
        }
        let mut at = 0;
        for slot in &mut s.next {
            (*slot, at) = (at, at + *slot);
        }
        s.plan.resize(n, (0, 0, 0));
        for (i, &(shard, hash)) in s.hashed.iter().enumerate() {
            s.plan[s.next[shard]] = (shard, hash, i);
            s.next[shard] += 1;
        }
        Ok(())
    }

    /// Calls `f(shard, run)` for each run of planned keys that share a shard.
    fn for_each_run(plan: &[(usize, u64, usize)], mut f: impl FnMut(usize, &[(usize, u64, usize)]) -> Result<()>) -> Result<()> {
        for run in plan.chunk_by(|a, b| a.0 == b.0) {
            f(run[0].0, run)?;
        }
        Ok(())
    }

    /// Inserts or replaces every pair (as whole entries, without deadlines),
    /// one write lock per shard touched. Returns how many keys were new.
    /// Every record is built before any lock is taken, so running out of
    /// memory for a key or value changes nothing; if table growth fails or
    /// the bound is reached midway, the pairs handled before stay written.
    pub fn extend(&self, keys: &(impl ByteList + ?Sized), vals: &(impl ByteList + ?Sized)) -> Result<usize> {
        with_scratch(|s| {
            self.plan_batch(keys, s)?;
            reset(&mut s.records, keys.count())?;
            for i in 0..keys.count() {
                s.records.push(Some(Record::new(keys.at(i), vals.at(i))?));
            }
            let mut inserted = 0;
            let records = &mut s.records;
            Self::for_each_run(&s.plan, |shard, run| {
                let mut table = self.shard(shard).write();
                self.reserve(&mut table, shard, run.len())?;
                pipeline(run.len(), |stage, j| {
                    let (_, hash, i) = run[j];
                    match stage {
                        Stage::Probe => probe_lines(&table, hash),
                        // Batches mostly add keys, whose probes find no
                        // record to fetch: measured ~10% faster without.
                        Stage::Record => {}
                        Stage::Work => {
                            let Some(record) = records[i].take() else { return Ok(()) };
                            if let Some(slot) = self.live_mut(&mut table, hash, keys.at(i)) {
                                // The replaced record takes the new one's place in
                                // `records` and is freed after the locks are released.
                                records[i] = Some(std::mem::replace(slot, record));
                                return Ok(());
                            }
                            self.admit(&mut table)?;
                            // Room for the whole run was reserved above.
                            let _ = table.try_insert_no_grow(hash, (record, SharedValue::new(())));
                            inserted += 1;
                        }
                    }
                    Ok(())
                })
            })?;
            Ok(inserted)
        })
    }

    /// Calls `f(index, value)` for every key, in the caller's order (`None`
    /// for a missing key). Up to `GET_MANY_CHUNK` keys at a time are looked
    /// up with the read locks of all their shards held together, taken in
    /// shard order (so no deadlock with any other operation, which holds at
    /// most one shard lock): those lookups see one consistent state.
    pub fn get_many(&self, keys: &(impl ByteList + ?Sized), mut f: impl FnMut(usize, Option<&[u8]>)) -> Result<()> {
        let shard_count = self.shard_count();
        // The default shard counts (up to 16 CPUs) fit on the stack: a heap
        // block this size (over 1 KiB) would make glibc consolidate its
        // free lists on every call.
        let mut inline: [Option<ReadGuard<'_>>; INLINE_GUARDS] = std::array::from_fn(|_| None);
        let mut heap: Vec<Option<ReadGuard<'_>>> = Vec::new();
        let guards: &mut [Option<ReadGuard<'_>>] = if shard_count <= INLINE_GUARDS {
            &mut inline[..shard_count]
        } else {
            heap.try_reserve_exact(shard_count).map_err(|_| Error::NoMemory)?;
            heap.resize_with(shard_count, || None);
            &mut heap
        };
        with_scratch(|s| {
            reset(&mut s.hashed, keys.count().min(GET_MANY_CHUNK))?;
            reset(&mut s.needed, shard_count)?;
            for start in (0..keys.count()).step_by(GET_MANY_CHUNK) {
                let end = keys.count().min(start + GET_MANY_CHUNK);
                s.hashed.clear();
                let hashed = &mut s.hashed;
                self.inner.hasher().hash_keys(end - start, |j| keys.at(start + j), |_, hash| {
                    hashed.push((self.shard_index(hash), hash));
                });
                s.needed.clear();
                s.needed.resize(shard_count, false);
                for &(shard, _) in &s.hashed {
                    s.needed[shard] = true;
                }
                for (shard, _) in s.needed.iter().enumerate().filter(|(_, &n)| n) {
                    guards[shard] = Some(self.shard(shard).read());
                }
                pipeline(end - start, |stage, j| {
                    let (shard, hash) = s.hashed[j];
                    let table = guards[shard].as_deref().ok_or(Error::Invalid)?;
                    match stage {
                        Stage::Probe => probe_lines(table, hash),
                        Stage::Record => candidate_record(table, hash),
                        Stage::Work => f(start + j, self.live(table, hash, keys.at(start + j)).map(Record::value)),
                    }
                    Ok(())
                })?;
                guards.iter_mut().for_each(|g| *g = None);
            }
            Ok(())
        })
    }

    /// Removes every listed key; returns how many were present.
    pub fn remove_many(&self, keys: &(impl ByteList + ?Sized)) -> Result<usize> {
        with_scratch(|s| {
            self.plan_batch(keys, s)?;
            let mut removed = 0;
            Self::for_each_run(&s.plan, |shard, run| {
                let mut table = self.shard(shard).write();
                pipeline(run.len(), |stage, j| {
                    let (_, hash, i) = run[j];
                    match stage {
                        Stage::Probe => probe_lines(&table, hash),
                        Stage::Record => candidate_record(&table, hash),
                        Stage::Work => {
                            if let Some(bucket) = self.live_bucket(&mut table, hash, keys.at(i)) {
                                // SAFETY: a full bucket of the locked table, not used again.
                                drop(unsafe { table.remove(bucket) });
                                self.release(1);
                                removed += 1;
                            }
                        }
                    }
                    Ok(())
                })
            })?;
            Ok(removed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Options;
    use super::*;

    fn key(i: usize) -> Vec<u8> {
        format!("key-{i}").into_bytes()
    }

    fn kept_capacity() -> usize {
        let s = SCRATCH.with(Cell::take);
        let cap = s.plan.capacity();
        SCRATCH.with(|c| c.set(s));
        cap
    }

    /// Batches larger than the kept size, then small ones, on one thread:
    /// the reused buffers never leak state from one call into the next, and
    /// a huge batch's buffers are not kept.
    #[test]
    fn scratch_is_reused_and_bounded() {
        let map = Map::new(Options { shards: 4, ..Options::default() }).unwrap();
        let n = KEEP_ENTRIES + 10;
        let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
        let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        assert_eq!(map.extend(&key_refs[..], &key_refs[..]).unwrap(), n);
        assert_eq!(kept_capacity(), KEEP_ENTRIES, "buffers of a huge batch are shrunk to the kept size");

        assert_eq!(map.extend(&key_refs[..3], &key_refs[10..13]).unwrap(), 0, "all three replaced");
        assert!(kept_capacity() >= 3, "small buffers are kept");
        let mut seen = Vec::new();
        // Spans several GET_MANY_CHUNKs; each value equals its key except the three replaced.
        map.get_many(&key_refs[..], |i, v| seen.push((i, v.map(<[u8]>::to_vec)))).unwrap();
        assert_eq!(seen.len(), n);
        for (i, v) in seen {
            let want = if i < 3 { key(i + 10) } else { key(i) };
            assert_eq!(v.as_deref(), Some(&want[..]), "key {i}");
        }
        assert_eq!(map.remove_many(&key_refs[..5]).unwrap(), 5);
        assert_eq!(map.remove_many(&key_refs[..5]).unwrap(), 0);
        assert_eq!(map.len(), n - 5);
    }
}
