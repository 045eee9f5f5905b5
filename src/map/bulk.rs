//! Batch operations: keys are grouped by shard so each shard lock is taken
//! once per batch, however many keys fall into it.

use dashmap_rs::SharedValue;

use super::{try_copy, Bytes, Error, Map, Result};

/// The keys of a batch, hashed once and ordered by shard. Within a shard the
/// caller's order is kept, so a later duplicate wins as it would one by one.
pub struct Batch {
    /// (shard, hash, index into the caller's arrays)
    plan: Vec<(usize, u64, usize)>,
}

impl Map {
    pub fn plan_batch(&self, keys: &[&[u8]]) -> Result<Batch> {
        let mut plan = Vec::new();
        plan.try_reserve_exact(keys.len()).map_err(|_| Error::NoMemory)?;
        plan.extend(keys.iter().enumerate().map(|(i, k)| {
            let hash = self.hash(k);
            (self.shard_index(hash), hash, i)
        }));
        plan.sort_unstable_by_key(|&(shard, _, i)| (shard, i));
        Ok(Batch { plan })
    }

    /// Calls `f(shard, run)` for each run of planned keys that share a shard.
    fn for_each_run(&self, batch: &Batch, mut f: impl FnMut(usize, &[(usize, u64, usize)]) -> Result<()>) -> Result<()> {
        for run in batch.plan.chunk_by(|a, b| a.0 == b.0) {
            f(run[0].0, run)?;
        }
        Ok(())
    }

    /// Inserts or replaces every pair. Returns how many keys were new.
    /// Values are copied before any lock is taken; on `Err(NoMemory)` from
    /// table growth, the shards before the failing one have been written.
    pub fn extend(&self, keys: &[&[u8]], vals: &[&[u8]]) -> Result<usize> {
        let batch = self.plan_batch(keys)?;
        let mut copies: Vec<Option<Bytes>> = Vec::new();
        copies.try_reserve_exact(vals.len()).map_err(|_| Error::NoMemory)?;
        for v in vals {
            copies.push(Some(try_copy(v)?));
        }
        let mut inserted = 0;
        self.for_each_run(&batch, |shard, run| {
            let mut table = self.inner.shards()[shard].write();
            table.try_reserve(run.len(), self.rehasher()).map_err(|_| Error::NoMemory)?;
            for &(_, hash, i) in run {
                let key = keys[i];
                let value = copies[i].take().unwrap_or_default();
                if let Some((_, slot)) = table.get_mut(hash, |(k, _)| **k == *key) {
                    *slot.get_mut() = value;
                } else {
                    let key = try_copy(key)?;
                    // Room for the whole run was reserved above.
                    let _ = table.try_insert_no_grow(hash, (key, SharedValue::new(value)));
                    inserted += 1;
                }
            }
            Ok(())
        })?;
        Ok(inserted)
    }

    /// Calls `f(index, value)` for every key of the batch (in shard order),
    /// under each shard's read lock; `None` for a missing key.
    pub fn get_many(&self, keys: &[&[u8]], batch: &Batch, mut f: impl FnMut(usize, Option<&[u8]>)) {
        let _ = self.for_each_run(batch, |shard, run| {
            let table = self.inner.shards()[shard].read();
            for &(_, hash, i) in run {
                let key = keys[i];
                f(i, table.get(hash, |(k, _)| **k == *key).map(|(_, v)| &**v.get()));
            }
            Ok(())
        });
    }

    /// Removes every listed key; returns how many were present.
    pub fn remove_many(&self, keys: &[&[u8]]) -> Result<usize> {
        let batch = self.plan_batch(keys)?;
        let mut removed = 0;
        self.for_each_run(&batch, |shard, run| {
            let mut table = self.inner.shards()[shard].write();
            for &(_, hash, i) in run {
                let key = keys[i];
                if table.remove_entry(hash, |(k, _)| **k == *key).is_some() {
                    removed += 1;
                }
            }
            Ok(())
        })?;
        Ok(removed)
    }
}
