//! Detects a thread calling back into a map whose callback it is running.
//!
//! Callbacks run while a shard lock is held; a call on the same map from
//! inside one could need that lock again and deadlock. Every entry point asks
//! `is_active` first and answers `DM_ERR_REENTRANT` instead.
//!
//! It also keeps such a map alive: a callback may release the very reference
//! its caller is using (`dm_free` from inside the callback); the release is
//! deferred until the callback's call returns. Only this thread can release
//! the caller's reference during the call, so this needs no shared counter.

use std::cell::{Cell, RefCell};

thread_local! {
    /// Maps (by address) whose callbacks are running on this thread, innermost last.
    static ACTIVE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// `ACTIVE.len()`, readable with one load: the hot path of every call.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Releases of active maps' references asked for on this thread, one
    /// entry per release, carried out when the map's callback scope ends.
    static DEFERRED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// True when this thread is inside a callback of the map at `id`.
#[inline]
pub fn is_active(id: usize) -> bool {
    DEPTH.try_with(Cell::get).unwrap_or(0) > 0 && ACTIVE.try_with(|a| a.borrow().contains(&id)).unwrap_or(false)
}

/// When the map at `id` is running a callback on this thread, records one
/// release of a reference to it for `take_deferred` and returns true; the
/// caller must then not release it now. False otherwise.
pub fn defer_release(id: usize) -> bool {
    is_active(id) && DEFERRED.try_with(|d| d.borrow_mut().push(id)).is_ok()
}

/// How many releases of the map at `id` were deferred on this thread, and
/// forgets them: the caller carries them out. Call once its scope has ended.
pub fn take_deferred(id: usize) -> usize {
    DEFERRED
        .try_with(|d| {
            let mut d = d.borrow_mut();
            let before = d.len();
            d.retain(|&x| x != id);
            before - d.len()
        })
        .unwrap_or(0)
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

    #[test]
    fn releases_are_deferred_only_while_active() {
        assert!(!defer_release(7), "not in a callback: release now");
        {
            let _a = CallbackScope::enter(7);
            let _b = CallbackScope::enter(8);
            assert!(defer_release(7) && defer_release(7) && defer_release(8));
            assert!(!defer_release(9));
        }
        assert_eq!(take_deferred(7), 2);
        assert_eq!(take_deferred(7), 0, "taken once");
        assert_eq!(take_deferred(8), 1);
    }
}
