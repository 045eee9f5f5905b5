//! Time-to-live: deadlines on single entries, sweeping, and the map's clock.
//! Expiry is lazy: an expired entry is invisible at once and removed when a
//! writer touches it or `purge_expired` sweeps its shard.

use super::{Map, Result};

impl Map {
    /// Now, in milliseconds on this map's clock.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The deadline for a time-to-live of `ttl_ms` from now. Capped below
    /// `u64::MAX` so that no remaining time can read as `DM_TTL_NONE`.
    pub fn deadline_in(&self, ttl_ms: u64) -> u64 {
        self.now().saturating_add(ttl_ms).min(u64::MAX - 1)
    }

    /// Sets a manual clock; `false` when the map follows real time.
    pub fn set_clock(&self, now_ms: u64) -> bool {
        self.clock.set(now_ms)
    }

    /// Sets (`Some`) or clears (`None`) the deadline of a live entry.
    /// `Ok(false)` when the key is absent.
    pub fn set_deadline(&self, key: &[u8], deadline: Option<u64>) -> Result<bool> {
        let (hash, shard) = self.locate(key);
        let mut table = shard.write();
        let Some(record) = self.live_mut(&mut table, hash, key) else {
            return Ok(false);
        };
        let old = record.set_deadline(deadline)?;
        drop(table);
        drop(old);
        Ok(true)
    }

    /// `None` when the key is absent; `Some(None)` when it has no deadline;
    /// `Some(Some(ms))` with the milliseconds left (always > 0).
    pub fn ttl_remaining(&self, key: &[u8]) -> Option<Option<u64>> {
        let (hash, shard) = self.locate(key);
        let table = shard.read();
        let record = self.live(&table, hash, key)?;
        Some(record.deadline().map(|d| d.saturating_sub(self.now()).max(1)))
    }

    /// Removes every expired entry, one shard lock at a time; returns how many.
    pub fn purge_expired(&self) -> usize {
        self.shards().map(|shard| self.purge_table(&mut shard.write())).sum()
    }
}
