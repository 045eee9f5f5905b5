//! Single-key operations. Each hashes the key once and takes one shard lock;
//! a key is allocated only when it is inserted, and a value of unchanged
//! length is overwritten in place. Expired entries count as absent.

use super::{Error, Map, Record, Result};

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
    /// Inserts or replaces the whole entry (value and deadline); `Ok(true)`
    /// when a live value was replaced.
    pub fn insert(&self, key: &[u8], val: &[u8], deadline: Option<u64>) -> Result<bool> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some(record) = self.live_mut(&mut table, hash, key) {
            let old = record.reset(val, deadline)?;
            drop(table); // free the old block outside the lock
            drop(old);
            return Ok(true);
        }
        self.insert_absent(&mut table, hash, Record::with_deadline(key, val, deadline)?)?;
        Ok(false)
    }

    /// Runs `f` on the value with writers kept out, usually without taking
    /// the lock (`gate`): `f` must be short and must not run caller code.
    #[inline]
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        let table = shard.read();
        self.live(&table, hash, key).map(|record| f(record.value()))
    }

    /// Runs the caller's `f` on the value under the shard's read lock.
    pub fn visit<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        let table = shard.read_locked();
        self.live(&table, hash, key).map(|record| f(record.value()))
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_with(key, |_| ()).is_some()
    }

    /// Removes the entry when `accept(value)` says so; `accept` runs under the
    /// shard's write lock, so the check and the removal are one atomic step.
    pub fn remove_if(&self, key: &[u8], accept: impl FnOnce(&[u8]) -> bool) -> Removal {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some(bucket) = self.live_bucket(&mut table, hash, key) else {
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
        self.release(1);
        drop(table);
        drop(removed);
        Removal::Removed
    }

    /// Inserts `val` (with `deadline`) when the key is absent (`Ok(true)`);
    /// otherwise lets `existing` read the current value under the write lock
    /// (`Ok(false)`, nothing changed).
    pub fn get_or_insert(&self, key: &[u8], val: &[u8], deadline: Option<u64>, existing: impl FnOnce(&[u8])) -> Result<bool> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some(record) = self.live_mut(&mut table, hash, key) {
            existing(record.value());
            return Ok(false);
        }
        self.insert_absent(&mut table, hash, Record::with_deadline(key, val, deadline)?)?;
        Ok(true)
    }

    /// Replaces the value only when it currently equals `expected` (the
    /// deadline is kept). `Ok(None)`: key absent; `Ok(Some(false))`: mismatch.
    pub fn compare_and_swap(&self, key: &[u8], expected: &[u8], val: &[u8]) -> Result<Option<bool>> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some(record) = self.live_mut(&mut table, hash, key) else {
            return Ok(None);
        };
        if record.value() != expected {
            return Ok(Some(false));
        }
        let old = record.replace_value(val, true)?;
        drop(table);
        drop(old);
        Ok(Some(true))
    }

    /// Stores `val` as a new entry (no deadline), first letting `take_old`
    /// see (and accept or decline) the previous value; a declined swap
    /// changes nothing.
    pub fn swap(&self, key: &[u8], val: &[u8], take_old: impl FnOnce(&[u8]) -> bool) -> Result<SwapResult> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some(record) = self.live_mut(&mut table, hash, key) {
            if !take_old(record.value()) {
                return Ok(SwapResult::Declined);
            }
            let old = record.reset(val, None)?;
            drop(table);
            drop(old);
            return Ok(SwapResult::Replaced);
        }
        self.insert_absent(&mut table, hash, Record::new(key, val)?)?;
        Ok(SwapResult::Inserted)
    }

    /// Adds `delta` (wrapping) to an 8-byte little-endian counter, creating it
    /// from 0 (with `deadline`) when absent; an existing counter keeps its
    /// deadline. `Err(Invalid)` when the value is not 8 bytes.
    pub fn add_i64(&self, key: &[u8], delta: i64, deadline: Option<u64>) -> Result<i64> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        if let Some(record) = self.live_mut(&mut table, hash, key) {
            let bytes: &mut [u8; 8] = record.value_mut().try_into().map_err(|_| Error::Invalid)?;
            let sum = i64::from_le_bytes(*bytes).wrapping_add(delta);
            *bytes = sum.to_le_bytes();
            return Ok(sum);
        }
        self.insert_absent(&mut table, hash, Record::with_deadline(key, &delta.to_le_bytes(), deadline)?)?;
        Ok(delta)
    }
}

