//! Many threads on one map: no lost updates, and iteration that sees every
//! stable key exactly once while other threads write.

mod common;

use std::collections::HashMap;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use common::*;

const THREADS: usize = 8;
const PER_THREAD: usize = 20_000;

fn run_threads(f: impl Fn(usize) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let hs: Vec<_> = (0..THREADS).map(|t| { let f = f.clone(); thread::spawn(move || f(t)) }).collect();
    for h in hs {
        h.join().unwrap();
    }
}

fn total(m: &Handle, keys: usize) -> i64 {
    (0..keys).map(|k| m.add(format!("k{k}").as_bytes(), 0)).sum()
}

#[test]
fn add_i64_loses_nothing_on_few_and_many_keys() {
    for keys in [1usize, 4, 1000] {
        let m = Arc::new(Handle::new());
        let mm = m.clone();
        run_threads(move |t| {
            for i in 0..PER_THREAD {
                mm.add(format!("k{}", (i * 7 + t) % keys).as_bytes(), 1);
            }
        });
        assert_eq!(total(&m, keys), (THREADS * PER_THREAD) as i64, "{keys} keys");
        println!("dm_add_i64: {THREADS} threads x {PER_THREAD} on {keys} keys = {}", total(&m, keys));
    }
}

#[test]
fn entry_update_and_cas_loops_lose_nothing() {
    let m = Arc::new(Handle::new());
    let mm = m.clone();
    run_threads(move |t| {
        for i in 0..PER_THREAD / 4 {
            let key = format!("k{}", (i + t) % 3);
            if t % 2 == 0 {
                mm.update(key.as_bytes(), |e| {
                    let cur = entry_value(e).map_or(0, |v| i64::from_le_bytes(v[..].try_into().unwrap()));
                    let next = (cur + 1).to_le_bytes();
                    assert_eq!(unsafe { dm_entry_set(e, next.as_ptr(), 8) }, DM_OK);
                });
            } else {
                loop {
                    let k = key.as_bytes();
                    let cur = match mm.get(k) {
                        Some(v) => v,
                        None => {
                            let zero = 0i64.to_le_bytes();
                            unsafe { dm_try_insert(mm.0, k.as_ptr(), k.len(), zero.as_ptr(), 8) };
                            continue;
                        }
                    };
                    let next = (i64::from_le_bytes(cur[..].try_into().unwrap()) + 1).to_le_bytes();
                    let st = unsafe { dm_compare_and_swap(mm.0, k.as_ptr(), k.len(), cur.as_ptr(), 8, next.as_ptr(), 8) };
                    if st == DM_OK {
                        break;
                    }
                    assert_eq!(st, DM_MISMATCH);
                }
            }
        }
    });
    assert_eq!(total(&m, 3), (THREADS * PER_THREAD / 4) as i64);
}

#[test]
fn stable_keys_are_seen_exactly_once_during_concurrent_writes() {
    const STABLE: u32 = 2000;
    let m = Arc::new(Handle(dm_with_shards(16)));
    for i in 0..STABLE {
        m.insert(format!("stable{i}").as_bytes(), b"s");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (m, stop) = (m.clone(), stop.clone());
            thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let k = format!("churn{w}-{}", i % 500);
                    if i % 3 == 0 {
                        unsafe { dm_remove(m.0, k.as_ptr(), k.len(), null_mut(), 0, null_mut()) };
                    } else {
                        m.insert(k.as_bytes(), b"c");
                    }
                    i += 1;
                }
            })
        })
        .collect();
    for round in 0..20 {
        // The lock-free cursor...
        let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
        for (k, _) in m.entries() {
            *seen.entry(k).or_default() += 1;
        }
        // ...and the locked walk.
        let mut walked: HashMap<Vec<u8>, u32> = HashMap::new();
        m.for_each(|k, _| { *walked.entry(k.to_vec()).or_default() += 1; true });
        for counts in [&seen, &walked] {
            for i in 0..STABLE {
                assert_eq!(counts.get(format!("stable{i}").as_bytes()), Some(&1), "round {round} key {i}");
            }
            assert!(counts.values().all(|&c| c == 1), "no key twice, round {round}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }

}
