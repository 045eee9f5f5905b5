//! Batch operations: each shard lock is taken once per batch (or per chunk of
//! a large `get_many`), however many keys fall into that shard.

use dashmap_rs::{RwLockReadGuard, SharedValue};

use super::{Error, Map, Record, Result, Table};

/// How many keys `get_many` looks up under one set of read locks: bounds how
/// long a writer can wait behind a large batch.
const GET_MANY_CHUNK: usize = 1024;

/// The keys of a batch, hashed once and ordered by shard. Within a shard the
/// caller's order is kept, so a later duplicate wins as it would one by one.
struct Batch {
    /// (shard, hash, index into the caller's arrays)
    plan: Vec<(usize, u64, usize)>,
}

impl Map {
    fn plan_batch(&self, keys: &[&[u8]]) -> Result<Batch> {
        let shard_count = self.shard_count();
        let mut hashed = Vec::new();
        hashed.try_reserve_exact(keys.len()).map_err(|_| Error::NoMemory)?;
        hashed.extend(keys.iter().map(|k| {
            let hash = self.hash(k);
            (self.shard_index(hash), hash)
        }));
        // A counting sort by shard: O(n), and stable, so each shard's keys
        // keep the caller's order.
        let mut next = vec![0usize; shard_count];
        for &(shard, _) in &hashed {
            next[shard] += 1;
        }
        let mut at = 0;
        for slot in &mut next {
            (*slot, at) = (at, at + *slot);
        }
        let mut plan = Vec::new();
        plan.try_reserve_exact(keys.len()).map_err(|_| Error::NoMemory)?;
        plan.resize(keys.len(), (0, 0, 0));
        for (i, &(shard, hash)) in hashed.iter().enumerate() {
            plan[next[shard]] = (shard, hash, i);
            next[shard] += 1;
        }
        Ok(Batch { plan })
    }

    /// Calls `f(shard, run)` for each run of planned keys that share a shard.
    fn for_each_run(&self, batch: &Batch, mut f: impl FnMut(usize, &[(usize, u64, usize)]) -> Result<()>) -> Result<()> {
        for run in batch.plan.chunk_by(|a, b| a.0 == b.0) {
            f(run[0].0, run)?;
        }
        Ok(())
    }

    /// Inserts or replaces every pair (as whole entries, without deadlines),
    /// one write lock per shard touched. Returns how many keys were new.
    /// Every record is built before any lock is taken, so running out of
    /// memory for a key or value changes nothing; if table growth fails or
    /// the bound is reached midway, the pairs handled before stay written.
    pub fn extend(&self, keys: &[&[u8]], vals: &[&[u8]]) -> Result<usize> {
        let batch = self.plan_batch(keys)?;
        let mut records: Vec<Option<Record>> = Vec::new();
        records.try_reserve_exact(keys.len()).map_err(|_| Error::NoMemory)?;
        for (k, v) in keys.iter().zip(vals) {
            records.push(Some(Record::new(k, v)?));
        }
        let mut inserted = 0;
        self.for_each_run(&batch, |shard, run| {
            let mut table = self.inner.shards()[shard].write();
            table.try_reserve(run.len(), self.rehasher()).map_err(|_| Error::NoMemory)?;
            for &(_, hash, i) in run {
                let Some(record) = records[i].take() else { continue };
                if let Some(slot) = self.live_mut(&mut table, hash, keys[i]) {
                    // The replaced record takes the new one's place in `records`
                    // and is freed after the locks are released.
                    records[i] = Some(std::mem::replace(slot, record));
                    continue;
                }
                self.admit(&mut table)?;
                // Room for the whole run was reserved above.
                let _ = table.try_insert_no_grow(hash, (record, SharedValue::new(())));
                inserted += 1;
            }
            Ok(())
        })?;
        Ok(inserted)
    }

    /// Calls `f(index, value)` for every key, in the caller's order (`None`
    /// for a missing key). Up to `GET_MANY_CHUNK` keys at a time are looked
    /// up with the read locks of all their shards held together, taken in
    /// shard order (so no deadlock with any other operation, which holds at
    /// most one shard lock): those lookups see one consistent state.
    pub fn get_many(&self, keys: &[&[u8]], mut f: impl FnMut(usize, Option<&[u8]>)) -> Result<()> {
        let shards = self.inner.shards();
        let mut hashes: Vec<u64> = Vec::new();
        hashes.try_reserve_exact(keys.len().min(GET_MANY_CHUNK)).map_err(|_| Error::NoMemory)?;
        let mut guards: Vec<Option<RwLockReadGuard<'_, Table>>> = Vec::new();
        guards.try_reserve_exact(shards.len()).map_err(|_| Error::NoMemory)?;
        guards.resize_with(shards.len(), || None);
        for (c, chunk) in keys.chunks(GET_MANY_CHUNK).enumerate() {
            hashes.clear();
            hashes.extend(chunk.iter().map(|k| self.hash(k)));
            let mut needed = vec![false; shards.len()];
            for &h in &hashes {
                needed[self.shard_index(h)] = true;
            }
            for (s, _) in needed.iter().enumerate().filter(|(_, &n)| n) {
                guards[s] = Some(shards[s].read());
            }
            for (j, (key, &hash)) in chunk.iter().zip(&hashes).enumerate() {
                let table = guards[self.shard_index(hash)].as_ref().ok_or(Error::Invalid)?;
                f(c * GET_MANY_CHUNK + j, self.live(table, hash, key).map(Record::value));
            }
            guards.iter_mut().for_each(|g| *g = None);
        }
        Ok(())
    }

    /// Removes every listed key; returns how many were present.
    pub fn remove_many(&self, keys: &[&[u8]]) -> Result<usize> {
        let batch = self.plan_batch(keys)?;
        let mut removed = 0;
        self.for_each_run(&batch, |shard, run| {
            let mut table = self.inner.shards()[shard].write();
            for &(_, hash, i) in run {
                if let Some(bucket) = self.live_bucket(&mut table, hash, keys[i]) {
                    // SAFETY: a full bucket of the locked table, not used again.
                    drop(unsafe { table.remove(bucket) });
                    self.release(1);
                    removed += 1;
                }
            }
            Ok(())
        })?;
        Ok(removed)
    }
}
