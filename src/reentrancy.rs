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
//!
//! Every call reads this state, so the common cases touch only `Fast`, a few
//! words of thread-local storage reached in two instructions (see `crate::tls`):
//! no callback running (one load), and one callback running with nothing
//! deferred (a couple of loads and stores on entry and exit). Nested
//! callbacks of different maps and deferred releases use `SLOW`.

use std::cell::RefCell;

/// This thread's `Fast`.
#[inline(always)]
fn fast_state() -> *mut Fast {
    // SAFETY: `tls::state` points to this thread's block for the thread's life.
    unsafe { std::ptr::addr_of_mut!((*crate::tls::state()).reentrancy) }
}

/// The per-thread state every call reads (in `crate::tls`).
#[repr(C)]
pub(crate) struct Fast {
    /// Callback scopes open on this thread.
    depth: usize,
    /// The map of the outermost open scope (valid when `depth > 0`).
    outer: usize,
    /// Releases deferred and not yet handed back (entries of `Slow::deferred`).
    deferred: usize,
}

/// The rest, in an ordinary thread-local.
struct Slow {
    /// Maps of the open scopes inside the outermost one, innermost last.
    inner: Vec<usize>,
    /// One entry per deferred release: the map it belongs to.
    deferred: Vec<usize>,
}

thread_local! {
    static SLOW: RefCell<Slow> = const { RefCell::new(Slow { inner: Vec::new(), deferred: Vec::new() }) };
}

/// True when this thread is inside a callback of the map at `id`.
#[inline(always)]
pub fn is_active(id: usize) -> bool {
    // SAFETY: this thread's own `Fast` (see `crate::tls`), not borrowed elsewhere.
    let f = unsafe { &*fast_state() };
    f.depth > 0 && (f.outer == id || (f.depth > 1 && in_inner_scope(id)))
}

#[cold]
fn in_inner_scope(id: usize) -> bool {
    SLOW.try_with(|s| s.borrow().inner.contains(&id)).unwrap_or(false)
}

/// When the map at `id` is running a callback on this thread, records one
/// release of a reference to it, handed back by that scope's `exit`, and
/// returns true: the caller must then not release it now. False otherwise.
pub fn defer_release(id: usize) -> bool {
    if !is_active(id) || SLOW.try_with(|s| s.borrow_mut().deferred.push(id)).is_err() {
        return false;
    }
    // SAFETY: as in `is_active`.
    unsafe { (*fast_state()).deferred += 1 };
    true
}

/// Marks the map at `id` as running a callback on this thread until `exit`
/// (or, when unwinding, until dropped: a panic never leaves a map marked).
/// Scopes nest: each ends before the one it was opened in.
pub struct CallbackScope(usize);

impl CallbackScope {
    #[inline(always)]
    pub fn enter(id: usize) -> CallbackScope {
        // SAFETY: as in `is_active`.
        let f = unsafe { &mut *fast_state() };
        if f.depth == 0 {
            f.outer = id;
        } else {
            enter_inner(id);
        }
        f.depth += 1;
        CallbackScope(id)
    }

    /// Ends the scope; returns how many releases of the map were deferred
    /// during it, which the caller must now carry out.
    #[inline(always)]
    pub fn exit(self) -> usize {
        let id = self.0;
        std::mem::forget(self);
        end(id)
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        // Only reached without `exit`: releases deferred meanwhile, if any,
        // are dropped (leaking those references, never freeing too early).
        end(self.0);
    }
}

/// A scope opened inside another one (another map's callback calling this
/// map, which then runs a callback of its own).
#[cold]
fn enter_inner(id: usize) {
    // Fails only while the thread's locals are being destroyed.
    let _ = SLOW.try_with(|s| s.borrow_mut().inner.push(id));
}

/// Closes the innermost scope (that of `id`); once no scope of `id` is
/// left, takes its deferred releases and returns their number.
#[inline(always)]
fn end(id: usize) -> usize {
    // SAFETY: as in `is_active`.
    let f = unsafe { &mut *fast_state() };
    // The common case, inline: the only scope, nothing deferred.
    if f.depth == 1 && f.deferred == 0 {
        f.depth = 0;
        return 0;
    }
    end_nested_or_deferred(id)
}

#[cold]
fn end_nested_or_deferred(id: usize) -> usize {
    // SAFETY: as in `is_active`.
    let f = unsafe { &mut *fast_state() };
    match f.depth {
        0 => return 0,
        1 => f.depth = 0,
        _ => {
            let _ = SLOW.try_with(|s| s.borrow_mut().inner.pop());
            f.depth -= 1;
        }
    }
    if f.deferred == 0 || is_active(id) {
        return 0;
    }
    take_deferred(id)
}

#[cold]
fn take_deferred(id: usize) -> usize {
    let taken = SLOW
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let before = s.deferred.len();
            s.deferred.retain(|&x| x != id);
            before - s.deferred.len()
        })
        .unwrap_or(0);
    // SAFETY: as in `is_active`.
    unsafe { (*fast_state()).deferred -= taken };
    taken
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
            let _c = CallbackScope::enter(3);
            assert!(is_active(1) && is_active(2) && is_active(3) && !is_active(4));
        }
        assert!(!is_active(1) && !is_active(2) && !is_active(3));
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
        let a = CallbackScope::enter(7);
        let b = CallbackScope::enter(8);
        assert!(defer_release(7) && defer_release(7) && defer_release(8));
        assert!(!defer_release(9));
        assert_eq!(b.exit(), 1);
        assert_eq!(a.exit(), 2);
        assert!(!is_active(7) && !defer_release(7));
        let c = CallbackScope::enter(9);
        assert_eq!(c.exit(), 0, "nothing left over from earlier scopes");
    }
}
