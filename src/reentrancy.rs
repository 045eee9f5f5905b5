//! Detects a thread calling back into a map whose callback it is running.
//!
//! Callbacks run while a shard lock is held; a call on the same map from
//! inside one could need that lock again and deadlock. Every entry point asks
//! `is_active` first and answers `DM_ERR_REENTRANT` instead.

use std::cell::{Cell, RefCell};

thread_local! {
    /// Maps (by address) whose callbacks are running on this thread, innermost last.
    static ACTIVE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// `ACTIVE.len()`, readable with one load: the hot path of every call.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// True when this thread is inside a callback of the map at `id`.
#[inline]
pub fn is_active(id: usize) -> bool {
    DEPTH.try_with(Cell::get).unwrap_or(0) > 0 && ACTIVE.try_with(|a| a.borrow().contains(&id)).unwrap_or(false)
}

/// Marks the map at `id` as running a callback on this thread until dropped
/// (also during unwinding, so a panic never leaves a map marked).
pub struct CallbackScope(usize);

impl CallbackScope {
    pub fn enter(id: usize) -> CallbackScope {
        let _ = ACTIVE.try_with(|a| {
            let mut a = a.borrow_mut();
            a.push(id);
            let _ = DEPTH.try_with(|d| d.set(a.len()));
        });
        CallbackScope(id)
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        let _ = ACTIVE.try_with(|a| {
            let mut a = a.borrow_mut();
            if let Some(pos) = a.iter().rposition(|&x| x == self.0) {
                a.remove(pos);
            }
            let _ = DEPTH.try_with(|d| d.set(a.len()));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_unwind() {
        assert!(!is_active(1));
        {
            let _a = CallbackScope::enter(1);
            let _b = CallbackScope::enter(2);
            assert!(is_active(1) && is_active(2));
        }
        assert!(!is_active(1) && !is_active(2));
        let r = std::panic::catch_unwind(|| {
            let _a = CallbackScope::enter(3);
            panic!("boom");
        });
        assert!(r.is_err());
        assert!(!is_active(3), "a panic must not leave the map marked");
    }
}
