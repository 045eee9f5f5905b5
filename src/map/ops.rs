//! Single-key operations. Each hashes the key once and takes one shard lock;
//! a key is allocated only when it is inserted, and a value of unchanged
//! length is overwritten in place.

use super::{holds, Error, Map, Record, Result};

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
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((record, _)) = table.get_mut(hash, holds(key)) {
            let old = record.replace_value(val)?;
            drop(table); // free the old block outside the lock
            drop(old);
            return Ok(true);
        }
        self.insert_absent(&mut table, hash, Record::new(key, val)?)?;
        Ok(false)
    }

    /// Runs `f` on the value under the shard's read lock.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        let table = shard.read();
        table.get(hash, holds(key)).map(|(record, _)| f(record.value()))
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_with(key, |_| ()).is_some()
    }

    /// Removes the entry when `accept(value)` says so; `accept` runs under the
    /// shard's write lock, so the check and the removal are one atomic step.
    pub fn remove_if(&self, key: &[u8], accept: impl FnOnce(&[u8]) -> bool) -> Removal {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some(bucket) = table.find(hash, holds(key)) else {
            return Removal::Absent;
        };
        // SAFETY: `bucket` was just found in `table`, which stays locked and
        // unmodified until the removal below.
        let (record, _) = unsafe { bucket.as_ref() };
        if !accept(record.value()) {
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
    /// `existing` read the current value under the write lock (`Ok(false)`).
    pub fn get_or_insert(&self, key: &[u8], val: &[u8], existing: impl FnOnce(&[u8])) -> Result<bool> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((record, _)) = table.get(hash, holds(key)) {
            existing(record.value());
            return Ok(false);
        }
        self.insert_absent(&mut table, hash, Record::new(key, val)?)?;
        Ok(true)
    }

    /// Replaces the value only when it currently equals `expected`.
    /// `Ok(None)`: key absent; `Ok(Some(false))`: mismatch; `Ok(Some(true))`: swapped.
    pub fn compare_and_swap(&self, key: &[u8], expected: &[u8], val: &[u8]) -> Result<Option<bool>> {
        self.replace_if(key, val, |cur| cur == expected)
    }

    /// Stores `val`, first letting `take_old` see (and accept or decline) the
    /// previous value; a declined swap changes nothing.
    pub fn swap(&self, key: &[u8], val: &[u8], take_old: impl FnOnce(&[u8]) -> bool) -> Result<SwapResult> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((record, _)) = table.get_mut(hash, holds(key)) {
            if !take_old(record.value()) {
                return Ok(SwapResult::Declined);
            }
            let old = record.replace_value(val)?;
            drop(table);
            drop(old);
            return Ok(SwapResult::Replaced);
        }
        self.insert_absent(&mut table, hash, Record::new(key, val)?)?;
        Ok(SwapResult::Inserted)
    }

    /// Replaces the value when `accept(current)` agrees (one write lock).
    /// `Ok(None)` when the key is absent, `Ok(Some(accepted))` otherwise.
    fn replace_if(&self, key: &[u8], val: &[u8], accept: impl FnOnce(&[u8]) -> bool) -> Result<Option<bool>> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some((record, _)) = table.get_mut(hash, holds(key)) else {
            return Ok(None);
        };
        if !accept(record.value()) {
            return Ok(Some(false));
        }
        let old = record.replace_value(val)?;
        drop(table);
        drop(old);
        Ok(Some(true))
    }

    /// Adds `delta` (wrapping) to an 8-byte little-endian counter, creating it
    /// from 0 when absent. `Err(Invalid)` when the value is not 8 bytes.
    pub fn add_i64(&self, key: &[u8], delta: i64) -> Result<i64> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some((record, _)) = table.get_mut(hash, holds(key)) {
            let bytes: &mut [u8; 8] = record.value_mut().try_into().map_err(|_| Error::Invalid)?;
            let sum = i64::from_le_bytes(*bytes).wrapping_add(delta);
            *bytes = sum.to_le_bytes();
            return Ok(sum);
        }
        self.insert_absent(&mut table, hash, Record::new(key, &delta.to_le_bytes())?)?;
        Ok(delta)
    }
}
