//! Test-only fault injection (cargo feature `fault-injection`).
//!
//! `dm_test_fail_at(name)` (exported only with the feature) makes the next
//! pass through `point(name)` panic, to prove that a panic inside the library
//! becomes `DM_ERR_PANIC`, releases every lock and leaves the map usable.
//! Without the feature `point` compiles to nothing.

#[cfg(feature = "fault-injection")]
mod imp {
    use std::sync::Mutex;

    static ARMED: Mutex<Option<String>> = Mutex::new(None);

    pub fn arm(name: &str) {
        *ARMED.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_owned());
    }

    pub fn point(name: &str) {
        let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
        if armed.as_deref() == Some(name) {
            *armed = None;
            drop(armed);
            panic!("injected fault at {name}");
        }
    }
}

#[cfg(feature = "fault-injection")]
pub use imp::{arm, point};

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_name: &str) {}
