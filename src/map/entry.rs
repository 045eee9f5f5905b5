//! The entry API: one key, examined and changed by a caller-supplied function
//! while its shard's write lock is held, so any sequence of reads, sets and
//! removes is one atomic step for every other thread.

use dashmap_rs::SharedValue;
use hashbrown::raw::Bucket;

use super::{holds, Error, Map, Record, Result, Slot, Table};

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
    /// The entry that existed when the callback started.
    found: Option<Bucket<Slot>>,
    pending: Pending,
    /// Table room for one more slot was reserved (by a set on a vacant entry).
    reserved: bool,
}

impl Map {
    /// Runs `f` on the entry for `key` under the shard's write lock and applies
    /// what it asked for. Returns what `f` returned.
    pub fn update<R>(&self, key: &[u8], f: impl FnOnce(&mut Entry<'_>) -> R) -> R {
        let (hash, shard) = self.locate(key);
        let mut guard = shard.write();
        let table: &mut Table = &mut guard;
        let found = table.find(hash, holds(key));
        let mut entry = Entry { map: self, table, hash, key, found, pending: Pending::Unchanged, reserved: false };
        let result = f(&mut entry);
        let freed = entry.apply();
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

    /// Inserts or replaces the value (copied now). On `Err` nothing changed.
    pub fn set(&mut self, val: &[u8]) -> Result<()> {
        let record = Record::new(self.key, val)?;
        if self.found.is_none() && !self.reserved {
            // No bucket is held for a vacant entry, so growing the table here is safe.
            self.table.try_reserve(1, self.map.rehasher()).map_err(|_| Error::NoMemory)?;
            self.reserved = true;
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
    fn apply(self) -> Option<Record> {
        crate::fault::point("entry_apply");
        match (self.pending, self.found) {
            (Pending::Unchanged, _) | (Pending::Removed, None) => None,
            (Pending::Set(record), Some(bucket)) => {
                // SAFETY: `bucket` is still a full bucket of the locked table.
                let slot = unsafe { bucket.as_mut() };
                Some(std::mem::replace(&mut slot.0, record))
            }
            // Room was reserved by `set`, so this does not allocate or fail.
            (Pending::Set(record), None) => self.table.try_insert_no_grow(self.hash, (record, SharedValue::new(()))).err().map(|s| s.0),
            // SAFETY: as above; removing it is the last use of `bucket`.
            (Pending::Removed, Some(bucket)) => Some(unsafe { self.table.remove(bucket) }.0 .0),
        }
    }
}
