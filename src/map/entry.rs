//! The entry API: one key, examined and changed by a caller-supplied function
//! while its shard's write lock is held, so any sequence of reads, sets and
//! removes is one atomic step for every other thread.

use dashmap_rs::SharedValue;
use hashbrown::raw::Bucket;

use super::{Error, Map, Record, Result, Slot, Table};

/// What the callback asked for, applied when it returns. A set is staged as
/// a complete record, so applying it cannot fail.
enum Pending {
    Unchanged,
    Set(Record),
    Removed,
}

pub struct Entry<'a> {
    map: &'a Map,
    table: &'a mut Table,
    hash: u64,
    key: &'a [u8],
    /// The live entry that existed when the callback started.
    found: Option<Bucket<Slot>>,
    pending: Pending,
    /// A set on the vacant entry reserved table room and counted one entry
    /// against the size bound; undone if that set is not applied.
    admitted: bool,
}

impl Map {
    /// Runs `f` on the entry for `key` under the shard's write lock and applies
    /// what it asked for. Returns what `f` returned. If `f` panics, nothing
    /// it staged is applied (in-place edits through `value_mut` remain).
    pub fn update<R>(&self, key: &[u8], f: impl FnOnce(&mut Entry<'_>) -> R) -> R {
        let (hash, shard) = self.locate(key);
        let mut guard = shard.write();
        let table: &mut Table = &mut guard;
        let found = self.live_bucket(table, hash, key);
        let mut entry = Entry { map: self, table, hash, key, found, pending: Pending::Unchanged, admitted: false };
        let result = f(&mut entry);
        let freed = entry.apply();
        drop(entry);
        drop(guard);
        drop(freed);
        result
    }
}

impl Entry<'_> {
    pub fn key(&self) -> &[u8] {
        self.key
    }

    pub fn is_occupied(&self) -> bool {
        self.value().is_some()
    }

    /// The value as the callback currently sees it (its own sets and removes included).
    pub fn value(&self) -> Option<&[u8]> {
        match &self.pending {
            Pending::Set(record) => Some(record.value()),
            Pending::Removed => None,
            // SAFETY: `found` came from `self.table`, which we hold exclusively
            // and have not modified since (changes wait for `apply`).
            Pending::Unchanged => self.found.as_ref().map(|b| unsafe { b.as_ref() }.0.value()),
        }
    }

    /// The value's bytes, writable in place.
    pub fn value_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.pending {
            Pending::Set(record) => Some(record.value_mut()),
            Pending::Removed => None,
            // SAFETY: as in `value`; `&mut self` makes this the only reference.
            Pending::Unchanged => self.found.as_ref().map(|b| unsafe { b.as_mut() }.0.value_mut()),
        }
    }

    /// Inserts or replaces the value (copied now; an existing entry keeps
    /// its deadline). On `Err` nothing changed.
    pub fn set(&mut self, val: &[u8]) -> Result<()> {
        // SAFETY: as in `value`.
        let deadline = self.found.as_ref().and_then(|b| unsafe { b.as_ref() }.0.deadline());
        let record = Record::with_deadline(self.key, val, deadline)?;
        if self.found.is_none() && !self.admitted {
            // No bucket is held for a vacant entry, so growing the table here is safe.
            self.map.admit(self.table)?;
            if self.map.reserve(self.table, self.map.shard_index(self.hash), 1).is_err() {
                self.map.release(1);
                return Err(Error::NoMemory);
            }
            self.admitted = true;
        }
        self.pending = Pending::Set(record);
        Ok(())
    }

    /// Removes the entry; `false` when there is nothing to remove.
    pub fn remove(&mut self) -> bool {
        let had = self.is_occupied();
        self.pending = Pending::Removed;
        had
    }

    /// Applies the pending change; returns what must be freed (after unlocking).
    fn apply(&mut self) -> Option<Record> {
        crate::fault::point("entry_apply");
        match (std::mem::replace(&mut self.pending, Pending::Unchanged), self.found.take()) {
            (Pending::Unchanged, _) | (Pending::Removed, None) => None,
            (Pending::Set(record), Some(bucket)) => {
                // SAFETY: `bucket` is still a full bucket of the locked table.
                let slot = unsafe { bucket.as_mut() };
                Some(std::mem::replace(&mut slot.0, record))
            }
            (Pending::Set(record), None) => {
                // The admission and the reserved room are used up here.
                self.admitted = false;
                self.table.try_insert_no_grow(self.hash, (record, SharedValue::new(()))).err().map(|s| s.0)
            }
            (Pending::Removed, Some(bucket)) => {
                self.map.release(1);
                // SAFETY: as above; removing it is the last use of `bucket`.
                Some(unsafe { self.table.remove(bucket) }.0 .0)
            }
        }
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if self.admitted {
            self.map.release(1); // a vacant set that was never applied
        }
    }
}
