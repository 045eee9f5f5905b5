//! Time-to-live and the size bound, driven by a manual clock so nothing sleeps.

mod common;

use std::collections::HashMap;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use common::*;

fn manual() -> Handle {
    Handle::with(dm_options { manual_clock: true, ..dm_options_default() })
}

fn set_clock(m: &Handle, t: u64) {
    assert_eq!(unsafe { dm_clock_set(m.0, t) }, DM_OK);
}

fn ttl_left(m: &Handle, k: &[u8]) -> Option<u64> {
    let mut ms = 0;
    match unsafe { dm_ttl_remaining(m.0, k.as_ptr(), k.len(), &mut ms) } {
        DM_OK => Some(ms),
        DM_NOT_FOUND => None,
        st => panic!("dm_ttl_remaining: {}", status_name(st)),
    }
}

fn insert_ttl(m: &Handle, k: &[u8], v: &[u8], ttl: u64) -> dm_status {
    unsafe { dm_insert_ttl(m.0, k.as_ptr(), k.len(), v.as_ptr(), v.len(), ttl) }
}

#[test]
fn expiry_happens_exactly_at_the_deadline() {
    let m = manual();
    set_clock(&m, 1000);
    assert_eq!(unsafe { dm_clock_now(m.0) }, 1000);
    assert_eq!(insert_ttl(&m, b"s", b"session", 50), DM_OK);
    set_clock(&m, 1049);
    assert_eq!(m.get(b"s").unwrap(), b"session", "1 ms before the deadline");
    assert_eq!(ttl_left(&m, b"s"), Some(1));
    set_clock(&m, 1050);
    assert_eq!(m.get(b"s"), None, "at the deadline");
    assert!(!unsafe { dm_contains_key(m.0, b"s".as_ptr(), 1) });
    assert_eq!(ttl_left(&m, b"s"), None);
    assert_eq!(m.entries(), vec![], "invisible to the cursor");
    assert_eq!(m.for_each(|_, _| panic!("expired entry visited")), DM_OK);
    assert_eq!(m.len(), 1, "still stored until touched or purged");
    let mut removed = 0;
    assert_eq!(unsafe { dm_purge_expired(m.0, &mut removed) }, DM_OK);
    assert_eq!((removed, m.len()), (1, 0));
}

#[test]
fn ttl_rules_for_each_operation() {
    let m = manual();
    let k = b"k";
    assert_eq!(ttl_left(&m, k), None);
    m.insert(k, b"v");
    assert_eq!(ttl_left(&m, k), Some(DM_TTL_NONE));
    assert_eq!(unsafe { dm_expire(m.0, k.as_ptr(), 1, 100) }, DM_OK);
    assert_eq!(ttl_left(&m, k), Some(100));
    assert_eq!(unsafe { dm_expire(m.0, k.as_ptr(), 1, 0) }, DM_OK, "0 clears");
    assert_eq!(ttl_left(&m, k), Some(DM_TTL_NONE));
    assert_eq!(unsafe { dm_expire(m.0, b"x".as_ptr(), 1, 5) }, DM_NOT_FOUND);
    assert_eq!(unsafe { dm_touch(m.0, k.as_ptr(), 1, 0) }, DM_ERR_INVALID);
    assert_eq!(unsafe { dm_touch(m.0, k.as_ptr(), 1, 30) }, DM_OK);
    set_clock(&m, 20);
    assert_eq!(unsafe { dm_touch(m.0, k.as_ptr(), 1, 30) }, DM_OK, "sliding");
    assert_eq!(ttl_left(&m, k), Some(30));
    // In-place updates keep the TTL; whole-entry writes drop it.
    assert_eq!(unsafe { dm_compare_and_swap(m.0, k.as_ptr(), 1, b"v".as_ptr(), 1, b"w".as_ptr(), 1) }, DM_OK);
    assert_eq!(ttl_left(&m, k), Some(30));
    m.update(k, |e| assert_eq!(unsafe { dm_entry_set(e, b"longer".as_ptr(), 6) }, DM_OK));
    assert_eq!((m.get(k).unwrap(), ttl_left(&m, k)), (b"longer".to_vec(), Some(30)));
    m.insert(k, b"plain");
    assert_eq!(ttl_left(&m, k), Some(DM_TTL_NONE), "dm_insert replaces the whole entry");
    assert_eq!(insert_ttl(&m, k, b"t", 10), DM_REPLACED);
    let (mut buf, mut len) = ([0u8; 8], 0);
    assert_eq!(unsafe { dm_swap(m.0, k.as_ptr(), 1, b"s".as_ptr(), 1, buf.as_mut_ptr(), 8, &mut len) }, DM_REPLACED);
    assert_eq!(ttl_left(&m, k), Some(DM_TTL_NONE), "dm_swap stores a new entry");

    // try_insert treats an expired entry as absent.
    assert_eq!(unsafe { dm_try_insert_ttl(m.0, b"t".as_ptr(), 1, b"1".as_ptr(), 1, 5) }, DM_OK);
    assert_eq!(unsafe { dm_try_insert_ttl(m.0, b"t".as_ptr(), 1, b"2".as_ptr(), 1, 5) }, DM_EXISTS);
    set_clock(&m, 25);
    assert_eq!(unsafe { dm_try_insert(m.0, b"t".as_ptr(), 1, b"3".as_ptr(), 1) }, DM_OK, "expired counts as absent");
    assert_eq!(m.get(b"t").unwrap(), b"3");
    // Removal of an expired key reports NOT_FOUND.
    insert_ttl(&m, b"r", b"x", 1);
    set_clock(&m, 26);
    assert_eq!(unsafe { dm_remove(m.0, b"r".as_ptr(), 1, null_mut(), 0, null_mut()) }, DM_NOT_FOUND);
    // An enormous TTL still reads as a TTL, never as DM_TTL_NONE.
    insert_ttl(&m, b"far", b"x", u64::MAX);
    assert!(ttl_left(&m, b"far").unwrap() < DM_TTL_NONE);
    // Real-time maps refuse a manual clock.
    let rt = Handle::new();
    assert_eq!(unsafe { dm_clock_set(rt.0, 5) }, DM_ERR_INVALID);
    assert_eq!(unsafe { dm_clock_set(null_mut(), 5) }, DM_ERR_NULL);
    assert_eq!(unsafe { dm_ttl_remaining(m.0, k.as_ptr(), 1, null_mut()) }, DM_ERR_NULL);
}

#[test]
fn rate_limit_counter_keeps_its_window() {
    let m = manual();
    let add = |t: u64| {
        set_clock(&m, t);
        let mut r = 0;
        assert_eq!(unsafe { dm_add_i64_ttl(m.0, b"ip".as_ptr(), 2, 1, 1000, &mut r) }, DM_OK);
        r
    };
    assert_eq!([add(0), add(10), add(999)], [1, 2, 3], "window [0, 1000)");
    assert_eq!([add(1000), add(1500), add(1999)], [1, 2, 3], "a new window starts at the deadline");
    assert_eq!(add(2000), 1);
}

/// Random operations against a model that knows every deadline.
#[test]
fn model_with_fake_clock() {
    let m = manual();
    let mut model: HashMap<Vec<u8>, (Vec<u8>, Option<u64>)> = HashMap::new();
    let mut rng = Rng(2024);
    let mut now = 0u64;
    let keys: Vec<Vec<u8>> = (0..24u8).map(|i| vec![i]).collect();
    for step in 0..20_000 {
        let k = &keys[rng.below(keys.len() as u64) as usize];
        let ttl = rng.below(4) * 7; // 0 (none), 7, 14, 21
        let live = |model: &HashMap<Vec<u8>, (Vec<u8>, Option<u64>)>, now: u64| {
            model.get(k).filter(|(_, d)| d.is_none_or(|d| now < d)).cloned()
        };
        match rng.below(8) {
            0 => {
                now += rng.below(6);
                set_clock(&m, now);
            }
            1 => {
                let v = rng.bytes(6);
                let st = insert_ttl(&m, k, &v, ttl);
                assert_eq!(st, if live(&model, now).is_some() { DM_REPLACED } else { DM_OK }, "step {step}");
                model.insert(k.clone(), (v, (ttl > 0).then_some(now + ttl)));
            }
            2 => assert_eq!(m.get(k), live(&model, now).map(|e| e.0), "get step {step}"),
            3 => {
                let mut r = 0;
                let st = unsafe { dm_add_i64_ttl(m.0, k.as_ptr(), 1, 1, ttl, &mut r) };
                match live(&model, now) {
                    Some((v, _)) if v.len() != 8 => assert_eq!(st, DM_ERR_INVALID, "step {step}"),
                    Some((v, d)) => {
                        let n = i64::from_le_bytes(v[..].try_into().unwrap()) + 1;
                        assert_eq!(r, n, "step {step}");
                        model.insert(k.clone(), (n.to_le_bytes().to_vec(), d));
                    }
                    None => {
                        assert_eq!(r, 1, "step {step}");
                        model.insert(k.clone(), (1i64.to_le_bytes().to_vec(), (ttl > 0).then_some(now + ttl)));
                    }
                }
            }
            4 => {
                let st = unsafe { dm_expire(m.0, k.as_ptr(), 1, ttl) };
                match live(&model, now) {
                    Some((v, _)) => {
                        assert_eq!(st, DM_OK, "step {step}");
                        model.insert(k.clone(), (v, (ttl > 0).then_some(now + ttl)));
                    }
                    None => {
                        assert_eq!(st, DM_NOT_FOUND, "step {step}");
                        model.remove(k); // a writer that meets an expired entry removes it
                    }
                }
            }
            5 => {
                let want = live(&model, now).map(|(_, d)| d.map_or(DM_TTL_NONE, |d| d - now));
                assert_eq!(ttl_left(&m, k), want, "ttl step {step}");
            }
            6 => {
                let mut removed = 0;
                unsafe { dm_purge_expired(m.0, &mut removed) };
                let before = model.len();
                model.retain(|_, (_, d)| d.is_none_or(|d| now < d));
                assert_eq!(removed, before - model.len(), "purge step {step}");
                assert_eq!(m.len(), model.len(), "len after purge, step {step}");
            }
            _ => {
                let mut want: Vec<_> = model.iter().filter(|(_, (_, d))| d.is_none_or(|d| now < d)).map(|(k, (v, _))| (k.clone(), v.clone())).collect();
                want.sort();
                assert_eq!(m.entries(), want, "content step {step}");
            }
        }
    }
}

#[test]
fn concurrent_adds_across_window_edges_count_exactly() {
    const THREADS: usize = 4;
    const ADDS: usize = 20_000;
    let m = Arc::new(manual());
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (m, done) = (m.clone(), done.clone());
            thread::spawn(move || {
                let mut seen = Vec::with_capacity(ADDS);
                for _ in 0..ADDS {
                    let mut r = 0;
                    assert_eq!(unsafe { dm_add_i64_ttl(m.0, b"client".as_ptr(), 6, 1, 10, &mut r) }, DM_OK);
                    seen.push(r);
                }
                done.fetch_add(1, Ordering::Release);
                seen
            })
        })
        .collect();
    // Move the clock past window edges while the workers add.
    let mut t = 0;
    while done.load(Ordering::Acquire) < THREADS {
        t += 5;
        set_clock(&m, t);
        thread::yield_now();
    }
    let mut count: HashMap<i64, usize> = HashMap::new();
    for w in workers {
        for r in w.join().unwrap() {
            *count.entry(r).or_default() += 1;
        }
    }
    // Each window hands out 1, 2, ..., n exactly once: so value v occurs once
    // per window that reached v, never more often than v - 1 does.
    let windows = count[&1];
    let max = *count.keys().max().unwrap();
    for v in 2..=max {
        assert!(count.get(&v).copied().unwrap_or(0) <= count.get(&(v - 1)).copied().unwrap_or(0), "value {v}");
    }
    assert!(count.values().all(|&c| c <= windows));
    assert_eq!(count.values().sum::<usize>(), THREADS * ADDS);
    println!("rate limiter: {} adds over {windows} windows, largest window {max}", THREADS * ADDS);
}

#[test]
fn purge_under_concurrent_writes_loses_no_live_entry() {
    let m = Arc::new(manual());
    for i in 0..5000u32 {
        insert_ttl(&m, format!("old{i}").as_bytes(), b"x", 10);
    }
    set_clock(&m, 10); // all "old" entries expire
    let stop = Arc::new(AtomicBool::new(false));
    let purger = {
        let (m, stop) = (m.clone(), stop.clone());
        thread::spawn(move || {
            let mut total = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut n = 0;
                unsafe { dm_purge_expired(m.0, &mut n) };
                total += n;
            }
            total
        })
    };
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let m = m.clone();
            thread::spawn(move || {
                for i in 0..5000u32 {
                    m.insert(format!("live{w}-{i}").as_bytes(), b"y");
                    insert_ttl(&m, format!("ttl{w}-{i}").as_bytes(), b"z", 1_000_000);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let purged = purger.join().unwrap();
    let mut removed = 0;
    unsafe { dm_purge_expired(m.0, &mut removed) };
    assert_eq!(purged + removed, 5000, "exactly the expired entries were purged");
    assert_eq!(m.len(), 30_000, "every live entry survived");
    for w in 0..3 {
        for i in (0..5000u32).step_by(97) {
            assert!(m.get(format!("live{w}-{i}").as_bytes()).is_some());
            assert!(m.get(format!("ttl{w}-{i}").as_bytes()).is_some());
        }
    }
}

#[test]
fn max_entries_is_never_exceeded() {
    const MAX: usize = 1000;
    let m = Arc::new(Handle::with(dm_options { max_entries: MAX, shards: 8, manual_clock: true, ..dm_options_default() }));
    let ok = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let hs: Vec<_> = (0..8)
        .map(|t| {
            let (m, ok, barrier) = (m.clone(), ok.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                for i in 0..500u32 {
                    match m.insert(format!("{t}-{i}").as_bytes(), b"v") {
                        DM_OK => drop(ok.fetch_add(1, Ordering::Relaxed)),
                        DM_ERR_FULL => {}
                        st => panic!("{}", status_name(st)),
                    }
                    assert!(m.len() <= MAX);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!((ok.load(Ordering::Relaxed), m.len()), (MAX, MAX));
    // Full: new keys are refused everywhere, existing keys still update.
    assert_eq!(m.insert(b"new", b"v"), DM_ERR_FULL);
    assert_eq!(unsafe { dm_try_insert(m.0, b"new".as_ptr(), 3, b"v".as_ptr(), 1) }, DM_ERR_FULL);
    assert_eq!(unsafe { dm_add_i64(m.0, b"new".as_ptr(), 3, 1, null_mut()) }, DM_ERR_FULL);
    m.update(b"new", |e| assert_eq!(unsafe { dm_entry_set(e, b"v".as_ptr(), 1) }, DM_ERR_FULL));
    let (k, v) = (slices(&[b"new"]), slices(&[b"v"]));
    assert_eq!(unsafe { dm_extend(m.0, k.as_ptr(), v.as_ptr(), 1) }, DM_ERR_FULL);
    let (some_key, _) = m.entries().swap_remove(0);
    assert_eq!(m.insert(&some_key, b"updated"), DM_REPLACED);
    assert_eq!(m.len(), MAX);
    // Removing makes room; an entry update that sets then removes gives it back.
    assert_eq!(unsafe { dm_remove(m.0, some_key.as_ptr(), some_key.len(), null_mut(), 0, null_mut()) }, DM_OK);
    m.update(b"tmp", |e| unsafe {
        assert_eq!(dm_entry_set(e, b"v".as_ptr(), 1), DM_OK);
        dm_entry_remove(e);
    });
    assert_eq!(m.insert(b"new", b"v"), DM_OK);
    assert_eq!(m.insert(b"newer", b"v"), DM_ERR_FULL);
    // Expired entries are swept to make room for a new key in their shard.
    assert_eq!(unsafe { dm_clear(m.0) }, DM_OK);
    for i in 0..MAX as u32 {
        assert_eq!(insert_ttl(&m, &i.to_le_bytes(), b"t", 5), DM_OK);
    }
    set_clock(&m, 5);
    let mut admitted = 0;
    for i in 0..100u32 {
        if m.insert(format!("fresh{i}").as_bytes(), b"v") == DM_OK {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 100, "expired entries made room");
}
