//! Whole-map walks. Each visits one shard at a time under that shard's lock,
//! so a walk never blocks the whole map, and every key that is present for
//! the whole walk is seen exactly once (a key never changes shard).

use super::{Error, Map, Result};
use crate::fault;

impl Map {
    /// Calls `f(key, value)` under each shard's read lock until it returns
    /// `false`. Returns `false` when stopped early.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8]) -> bool) -> bool {
        let now = self.clock.now();
        for shard in self.shards() {
            let table = shard.read_locked();
            // SAFETY: the read guard is held for the whole walk of this shard.
            for bucket in unsafe { table.iter() } {
                let (record, _) = unsafe { bucket.as_ref() };
                fault::point("for_each");
                if record.expired_at(now) {
                    continue;
                }
                if !f(record.key(), record.value()) {
                    return false;
                }
            }
        }
        true
    }

    /// Like `for_each`, under each shard's write lock, with writable values.
    pub fn for_each_mut(&self, mut f: impl FnMut(&[u8], &mut [u8]) -> bool) -> bool {
        let now = self.clock.now();
        for shard in self.shards() {
            let table = shard.write();
            // SAFETY: the write guard gives exclusive access for the whole walk.
            for bucket in unsafe { table.iter() } {
                let record = &mut unsafe { bucket.as_mut() }.0;
                if record.expired_at(now) {
                    continue;
                }
                let (key, value) = record.key_value_mut();
                if !f(key, value) {
                    return false;
                }
            }
        }
        true
    }

    /// Keeps the entries for which `keep(key, value)` is true, one shard at a
    /// time; expired entries are removed without being shown to `keep`.
    pub fn retain(&self, mut keep: impl FnMut(&[u8], &[u8]) -> bool) {
        let now = self.clock.now();
        for shard in self.shards() {
            let mut table = shard.write();
            // SAFETY: exclusive access; erasing the bucket just yielded is
            // allowed while a `RawIter` walks the table (hashbrown's own
            // `retain` does the same).
            let mut removed = 0;
            unsafe {
                for bucket in table.iter() {
                    let (record, _) = bucket.as_ref();
                    if record.expired_at(now) || !keep(record.key(), record.value()) {
                        table.erase(bucket);
                        removed += 1;
                    }
                }
            }
            self.release(removed);
        }
    }

    /// Copies shard `idx` out under its read lock (one allocation per shard).
    /// `None` when `idx` is past the last shard.
    pub fn snapshot_shard(&self, idx: usize) -> Option<Result<Snapshot>> {
        let shard = (idx < self.shard_count()).then(|| self.shard(idx))?;
        let now = self.clock.now();
        let table = shard.read_locked();
        // SAFETY (all three walks): the read guard is held throughout.
        let live = || unsafe { table.iter() }.map(|b| &unsafe { b.as_ref() }.0).filter(|r| !r.expired_at(now));
        let bytes: usize = live().map(|r| r.key().len() + r.value().len()).sum();
        let mut snap = Snapshot::default();
        if snap.data.try_reserve_exact(bytes).is_err() || snap.spans.try_reserve_exact(table.len()).is_err() {
            return Some(Err(Error::NoMemory));
        }
        for record in live() {
            snap.spans.push((snap.data.len(), record.key().len(), record.value().len()));
            snap.data.extend_from_slice(record.key());
            snap.data.extend_from_slice(record.value());
        }
        Some(Ok(snap))
    }
}

/// A copy of one shard's entries, packed into one buffer.
#[derive(Default)]
pub struct Snapshot {
    data: Vec<u8>,
    /// (offset of the key, key length, value length); the value follows the key.
    spans: Vec<(usize, usize, usize)>,
}

impl Snapshot {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let &(at, klen, vlen) = self.spans.get(i)?;
        Some((&self.data[at..at + klen], &self.data[at + klen..at + klen + vlen]))
    }
}
