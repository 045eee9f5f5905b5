//! Test-only fault injection (cargo feature `fault-injection`).
//!
//! `testing::inject_panic_at(name)` (only with the feature) makes the calling
//! thread's next pass through `point(name)` panic, to prove that a panic inside the library
//! becomes `DM_ERR_PANIC`, releases every lock and leaves the map usable.
//! Without the feature `point` compiles to nothing.

#[cfg(feature = "fault-injection")]
mod imp {
    use std::cell::RefCell;

    thread_local! {
        // Per thread, so tests running in parallel cannot trip each other's faults.
        static ARMED: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    pub fn arm(name: &str) {
        ARMED.with(|a| *a.borrow_mut() = Some(name.to_owned()));
    }

    pub fn point(name: &str) {
        if ARMED.with(|a| a.borrow().as_deref() == Some(name)) {
            ARMED.with(|a| *a.borrow_mut() = None);
            panic!("injected fault at {name}");
        }
    }
}

#[cfg(feature = "fault-injection")]
pub use imp::{arm, point};

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_name: &str) {}
