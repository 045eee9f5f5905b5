//! Batch operations: keys are grouped by shard so each shard lock is taken
//! once per batch, however many keys fall into it.

use dashmap_rs::SharedValue;

use super::{Error, Map, Record, Result};

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

    /// Inserts or replaces every pair (as whole entries, without deadlines).
    /// Returns how many keys were new. Records are built before any lock is
    /// taken; on `Err(NoMemory)` from table growth or `Err(Full)`, the pairs
    /// handled before the failure stay written.
    pub fn extend(&self, keys: &[&[u8]], vals: &[&[u8]]) -> Result<usize> {
        let batch = self.plan_batch(keys)?;
        let mut records: Vec<Option<Record>> = Vec::new();
        records.try_reserve_exact(keys.len()).map_err(|_| Error::NoMemory)?;
        for (k, v) in keys.iter().zip(vals) {
            records.push(Some(Record::new(k, v)?));
        }
        let mut inserted = 0;
        let mut replaced = Vec::new();
        self.for_each_run(&batch, |shard, run| {
            let mut table = self.inner.shards()[shard].write();
            table.try_reserve(run.len(), self.rehasher()).map_err(|_| Error::NoMemory)?;
            for &(_, hash, i) in run {
                let Some(record) = records[i].take() else { continue };
                if let Some(slot) = self.live_mut(&mut table, hash, keys[i]) {
                    replaced.push(std::mem::replace(slot, record));
                } else {
                    self.admit(&mut table)?;
                    // Room for the whole run was reserved above.
                    let _ = table.try_insert_no_grow(hash, (record, SharedValue::new(())));
                    inserted += 1;
                }
            }
            Ok(())
        })?;
        drop(replaced); // freed after every lock is released
        Ok(inserted)
    }

    /// Calls `f(index, value)` for every key of the batch (in shard order),
    /// under each shard's read lock; `None` for a missing key.
    pub fn get_many(&self, keys: &[&[u8]], batch: &Batch, mut f: impl FnMut(usize, Option<&[u8]>)) {
        let _ = self.for_each_run(batch, |shard, run| {
            let table = self.inner.shards()[shard].read();
            for &(_, hash, i) in run {
                f(i, self.live(&table, hash, keys[i]).map(Record::value));
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
