//! The entry API: one key, examined and changed by a caller-supplied function
//! while its shard's write lock is held, so any sequence of reads, sets and
//! removes is one atomic step for every other thread.

use hashbrown::raw::Bucket;

use super::{try_copy, Bytes, Error, Map, Result, Slot, Table};
use dashmap_rs::SharedValue;

/// What the callback asked for, applied when it returns.
enum Pending {
    Unchanged,
    Set(Bytes),
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
    /// A copy of the key, made (with table room reserved) by the first `set`
    /// on a vacant entry, so applying the result can no longer fail.
    key_copy: Option<Bytes>,
}

impl Map {
    /// Runs `f` on the entry for `key` under the shard's write lock and applies
    /// what it asked for. Returns what `f` returned.
    pub fn update<R>(&self, key: &[u8], f: impl FnOnce(&mut Entry<'_>) -> R) -> R {
        let (hash, shard) = self.locate(key);
        let mut guard = shard.write();
        let table: &mut Table = &mut guard;
        let found = table.find(hash, |(k, _)| **k == *key);
        let mut entry = Entry { map: self, table, hash, key, found, pending: Pending::Unchanged, key_copy: None };
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
            Pending::Set(v) => Some(v),
            Pending::Removed => None,
            // SAFETY: `found` came from `self.table`, which we hold exclusively
            // and have not modified since (changes wait for `apply`).
            Pending::Unchanged => self.found.as_ref().map(|b| unsafe { &**b.as_ref().1.get() }),
        }
    }

    /// The value's bytes, writable in place.
    pub fn value_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.pending {
            Pending::Set(v) => Some(v),
            Pending::Removed => None,
            // SAFETY: as in `value`; `&mut self` makes this the only reference.
            Pending::Unchanged => self.found.as_ref().map(|b| unsafe { &mut **b.as_mut().1.get_mut() }),
        }
    }

    /// Inserts or replaces the value (copied now). On `Err` nothing changed.
    pub fn set(&mut self, val: &[u8]) -> Result<()> {
        let value = try_copy(val)?;
        if self.found.is_none() && self.key_copy.is_none() {
            let key = try_copy(self.key)?;
            // No bucket is held for a vacant entry, so growing the table here is safe.
            self.table.try_reserve(1, self.map.rehasher()).map_err(|_| Error::NoMemory)?;
            self.key_copy = Some(key);
        }
        self.pending = Pending::Set(value);
        Ok(())
    }

    /// Removes the entry; `false` when there is nothing to remove.
    pub fn remove(&mut self) -> bool {
        let had = self.is_occupied();
        self.pending = Pending::Removed;
        had
    }

    /// Applies the pending change; returns what must be freed (after unlocking).
    fn apply(self) -> Option<Slot> {
        crate::fault::point("entry_apply");
        match (self.pending, self.found) {
            (Pending::Unchanged, _) | (Pending::Removed, None) => None,
            (Pending::Set(v), Some(bucket)) => {
                // SAFETY: `bucket` is still a full bucket of the locked table.
                let slot = unsafe { bucket.as_mut() };
                let old = std::mem::replace(slot.1.get_mut(), v);
                Some((Bytes::default(), SharedValue::new(old)))
            }
            (Pending::Set(v), None) => {
                let key = self.key_copy.expect("set on a vacant entry copies the key");
                // Room was reserved by `set`, so this does not allocate.
                let _ = self.table.try_insert_no_grow(self.hash, (key, SharedValue::new(v)));
                None
            }
            (Pending::Removed, Some(bucket)) => {
                // SAFETY: as above; removing it is the last use of `bucket`.
                Some(unsafe { self.table.remove(bucket) }.0)
            }
        }
    }
}
