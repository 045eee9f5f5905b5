//! Single-key operations. Each hashes the key once, takes one shard lock, and
//! copies bytes (fallibly) before the lock where it can.

use std::mem;

use super::{try_copy, Error, Map, Result};

/// Outcome of a conditional removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Absent,
    /// The predicate declined; the entry is still there.
    Kept,
    Removed,
}

/// Outcome of `swap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwapResult {
    Inserted,
    Replaced,
    /// `take_old` declined the old value; nothing changed.
    Declined,
}

impl Map {
    /// Inserts or replaces; `Ok(true)` when a value was replaced.
    pub fn insert(&self, key: &[u8], val: &[u8]) -> Result<bool> {
        let value = try_copy(val)?;
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((_, slot)) = table.get_mut(hash, |(k, _)| **k == *key) {
            let old = mem::replace(slot.get_mut(), value);
            drop(table); // free the old value outside the lock
            drop(old);
            return Ok(true);
        }
        self.insert_absent(&mut table, hash, key, value)?;
        Ok(false)
    }

    /// Runs `f` on the value under the shard's read lock.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        let table = shard.read();
        table.get(hash, |(k, _)| **k == *key).map(|(_, v)| f(v.get()))
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_with(key, |_| ()).is_some()
    }

    /// Removes the entry when `accept(value)` says so; `accept` runs under the
    /// shard's write lock, so the check and the removal are one atomic step.
    pub fn remove_if(&self, key: &[u8], accept: impl FnOnce(&[u8]) -> bool) -> Removal {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some(bucket) = table.find(hash, |(k, _)| **k == *key) else {
            return Removal::Absent;
        };
        // SAFETY: `bucket` was just found in `table`, which stays locked and
        // unmodified until the removal below.
        let (_, value) = unsafe { bucket.as_ref() };
        if !accept(value.get()) {
            return Removal::Kept;
        }
        // SAFETY: as above; the bucket is still full and belongs to `table`.
        let (removed, _) = unsafe { table.remove(bucket) };
        drop(table);
        drop(removed);
        Removal::Removed
    }

    /// Inserts only when the key is absent; `Ok(false)` when it existed
    /// (the map is unchanged then).
    pub fn try_insert(&self, key: &[u8], val: &[u8]) -> Result<bool> {
        self.get_or_insert(key, val, |_| ())
    }

    /// Inserts `val` when the key is absent (`Ok(true)`); otherwise lets
    /// `existing` read the current value under the read-write lock (`Ok(false)`).
    pub fn get_or_insert(&self, key: &[u8], val: &[u8], existing: impl FnOnce(&[u8])) -> Result<bool> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((_, v)) = table.get(hash, |(k, _)| **k == *key) {
            existing(v.get());
            return Ok(false);
        }
        let value = try_copy(val)?;
        self.insert_absent(&mut table, hash, key, value)?;
        Ok(true)
    }

    /// Replaces the value only when it currently equals `expected`.
    /// `Ok(None)`: key absent; `Ok(Some(false))`: mismatch; `Ok(Some(true))`: swapped.
    pub fn compare_and_swap(&self, key: &[u8], expected: &[u8], val: &[u8]) -> Result<Option<bool>> {
        let value = try_copy(val)?;
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some((_, slot)) = table.get_mut(hash, |(k, _)| **k == *key) else {
            return Ok(None);
        };
        if **slot.get() != *expected {
            return Ok(Some(false));
        }
        let old = mem::replace(slot.get_mut(), value);
        drop(table);
        drop(old);
        Ok(Some(true))
    }

    /// Stores `val`, first letting `take_old` see (and accept or decline) the
    /// previous value; a declined swap changes nothing.
    pub fn swap(&self, key: &[u8], val: &[u8], take_old: impl FnOnce(&[u8]) -> bool) -> Result<SwapResult> {
        let value = try_copy(val)?;
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((_, slot)) = table.get_mut(hash, |(k, _)| **k == *key) {
            if !take_old(slot.get()) {
                return Ok(SwapResult::Declined);
            }
            let old = mem::replace(slot.get_mut(), value);
            drop(table);
            drop(old);
            return Ok(SwapResult::Replaced);
        }
        self.insert_absent(&mut table, hash, key, value)?;
        Ok(SwapResult::Inserted)
    }

    /// Adds `delta` (wrapping) to an 8-byte little-endian counter, creating it
    /// from 0 when absent. `Err(Invalid)` when the value is not 8 bytes.
    pub fn add_i64(&self, key: &[u8], delta: i64) -> Result<i64> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((_, slot)) = table.get_mut(hash, |(k, _)| **k == *key) {
            let bytes: &mut [u8; 8] = (&mut **slot.get_mut()).try_into().map_err(|_| Error::Invalid)?;
            let sum = i64::from_le_bytes(*bytes).wrapping_add(delta);
            *bytes = sum.to_le_bytes();
            return Ok(sum);
        }
        self.insert_absent(&mut table, hash, key, try_copy(&delta.to_le_bytes())?)?;
        Ok(delta)
    }
}
