//! The time that entry deadlines are measured against: milliseconds on the
//! process's monotonic clock, or a manual clock the owner advances (for
//! deterministic tests and simulations).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

pub enum Clock {
    Monotonic,
    Manual(AtomicU64),
}

impl Clock {
    #[inline]
    pub fn now(&self) -> u64 {
        match self {
            Clock::Monotonic => monotonic_ms(),
            Clock::Manual(t) => t.load(Ordering::Acquire),
        }
    }

    /// Sets a manual clock; `false` for the monotonic one.
    pub fn set(&self, now_ms: u64) -> bool {
        match self {
            Clock::Monotonic => false,
            Clock::Manual(t) => {
                t.store(now_ms, Ordering::Release);
                true
            }
        }
    }
}

/// Milliseconds since the first use in this process (never goes backwards).
fn monotonic_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}
