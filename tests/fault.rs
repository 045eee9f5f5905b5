//! Fault injection (`--features fault-injection`): a panic deep inside the
//! library, while a shard lock is held, becomes DM_ERR_PANIC, releases the
//! lock, and leaves the map consistent and usable.
#![cfg(feature = "fault-injection")]

mod common;

use std::ptr::null_mut;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use dashmap::testing::inject_panic_at;

/// Runs `f` on another thread and fails (instead of hanging) after 10 s.
fn within_deadline(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("a lock stayed held: the map hung after an injected panic");
}

#[test]
fn fault_in_insert_under_write_lock() {
    let m = Handle(dm_with_shards(2));
    m.insert(b"keep", b"1");
    inject_panic_at("insert_absent");
    assert_eq!(m.insert(b"new", b"x"), DM_ERR_PANIC);
    assert_eq!(m.get(b"new"), None, "the failed insert changed nothing");
    let h = Handle(unsafe { dm_ref(m.0) });
    within_deadline(move || {
        assert_eq!(h.insert(b"new", b"y"), DM_OK);
        for i in 0..100u32 {
            h.insert(&i.to_le_bytes(), b"z"); // touches both shards
        }
    });
    assert_eq!(m.len(), 102);
}

#[test]
fn fault_in_walk_under_read_lock() {
    let m = Handle::new();
    for i in 0..10u32 {
        m.insert(&i.to_le_bytes(), b"v");
    }
    inject_panic_at("for_each");
    assert_eq!(m.for_each(|_, _| true), DM_ERR_PANIC);
    let h = Handle(unsafe { dm_ref(m.0) });
    within_deadline(move || {
        let h = h;
        unsafe { dm_clear(h.0) }; // needs every write lock
    });
    assert_eq!(m.len(), 0);
    assert_eq!(m.for_each(|_, _| true), DM_OK, "not left marked as inside a callback");
}

#[test]
fn fault_while_applying_an_entry_update() {
    let m = Handle::new();
    m.insert(b"k", b"old");
    inject_panic_at("entry_apply");
    let st = m.update(b"k", |e| {
        unsafe { dm_entry_set(e, b"new".as_ptr(), 3) };
    });
    assert_eq!(st, DM_ERR_PANIC);
    assert_eq!(m.get(b"k").unwrap(), b"old");
    let h = Handle(unsafe { dm_ref(m.0) });
    within_deadline(move || {
        let h = h;
        assert_eq!(unsafe { dm_add_i64(h.0, b"c".as_ptr(), 1, 2, null_mut()) }, DM_OK);
        h.update(b"k", |e| unsafe {
            dm_entry_remove(e);
        });
    });
    assert_eq!(m.get(b"k"), None);
}
