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

/// A value that checks itself: its length and every byte follow from its
/// first byte, so a read that overlaps a write (or a freed table) shows.
fn pattern(tag: u8) -> Vec<u8> {
    let len = 8 + (tag as usize % 7) * 16;
    (0..len).map(|i| tag.wrapping_add(i as u8)).collect()
}

fn is_pattern(v: &[u8]) -> bool {
    !v.is_empty() && v == pattern(v[0]).as_slice()
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i}").into_bytes()
}

/// A map of `shards` shards with `keys` keys, `key(i)` -> `pattern(i)`.
fn patterned_map(shards: usize, keys: u32) -> Arc<Handle> {
    let m = Arc::new(Handle(dm_with_shards(shards)));
    for i in 0..keys {
        m.insert(&key(i), &pattern(i as u8));
    }
    m
}

/// Readers mostly skip the shard locks (`map::gate`); this drives them
/// against writers that overwrite values in place, remove and re-add keys
/// and grow and shrink tables, in bursts with quiet spells so that gates
/// keep reopening, and checks every value read. Runs until the writers have
/// done `WRITES` (not for a fixed time: a slow or sanitizer build checks as much).
#[test]
fn reads_never_see_a_partial_write_while_gates_open_and_shut() {
    const KEYS: u32 = 256;
    const WRITES: u64 = 3_000;
    let m = patterned_map(4, KEYS);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let m = m.clone();
            thread::spawn(move || {
                let mut rng = Rng(w + 1);
                let mut writes = 0u64;
                while writes < WRITES / 2 {
                    for _ in 0..1 + rng.below(64) {
                        let k = key(rng.below(KEYS as u64) as u32);
                        match rng.below(8) {
                            0 => unsafe { assert!(dm_remove(m.0, k.as_ptr(), k.len(), null_mut(), 0, null_mut()) <= DM_NOT_FOUND) },
                            1 => {
                                // Growth and shrinking move every entry of a table.
                                for j in 0..64 {
                                    m.insert(format!("tmp{w}-{j}").as_bytes(), &pattern(j));
                                }
                                for j in 0..64 {
                                    let t = format!("tmp{w}-{j}");
                                    unsafe { dm_remove(m.0, t.as_ptr(), t.len(), null_mut(), 0, null_mut()) };
                                }
                                unsafe { dm_shrink_to_fit(m.0) };
                            }
                            _ => assert!(matches!(m.insert(&k, &pattern(rng.next() as u8)), DM_OK | DM_REPLACED)),
                        }
                        writes += 1;
                    }
                    // A quiet spell: readers alone reopen the gates.
                    for _ in 0..rng.below(500) {
                        std::hint::spin_loop();
                    }
                }
                writes
            })
        })
        .collect();
    // More readers than a 2- or 4-CPU machine has stripes to own, so reads
    // count on owned and on shared stripes.
    let readers: Vec<_> = (0..5)
        .map(|r| {
            let (m, stop) = (m.clone(), stop.clone());
            thread::spawn(move || {
                let mut rng = Rng(100 + r);
                let (mut checked, mut buf) = (0u64, vec![0u8; 256]);
                let batch: Vec<Vec<u8>> = (0..16).map(key).collect();
                let batch_slices: Vec<dm_slice> = batch.iter().map(|k| dm_slice { ptr: k.as_ptr(), len: k.len() }).collect();
                let mut lens = [0usize; 16];
                let mut many = vec![0u8; 16 * 128];
                while !stop.load(Ordering::Relaxed) {
                    let k = key(rng.below(KEYS as u64) as u32);
                    let mut len = 0;
                    let st = unsafe { dm_get_copy(m.0, k.as_ptr(), k.len(), buf.as_mut_ptr(), buf.len(), &mut len) };
                    if st == DM_OK {
                        assert!(is_pattern(&buf[..len]), "torn value {:?}", &buf[..len]);
                        checked += 1;
                    } else {
                        assert_eq!(st, DM_NOT_FOUND);
                    }
                    if rng.below(16) == 0 {
                        let mut used = 0;
                        let st = unsafe { dm_get_many(m.0, batch_slices.as_ptr(), 16, many.as_mut_ptr(), many.len(), lens.as_mut_ptr(), &mut used) };
                        assert_eq!(st, DM_OK);
                        let mut at = 0;
                        for &l in lens.iter().filter(|&&l| l != usize::MAX) {
                            assert!(is_pattern(&many[at..at + l]), "torn value in a batch");
                            at += l;
                            checked += 1;
                        }
                    }
                }
                checked
            })
        })
        .collect();
    let writes: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    let checked: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    // Readers ran throughout: far more than this on any machine.
    assert!(checked > 1000, "only {checked} reads during {writes} writes");
    println!("gate stress: {checked} values read whole during {writes} writes");
    for i in 0..KEYS {
        if let Some(v) = m.get(&key(i)) {
            assert!(is_pattern(&v));
        }
    }
}

/// A writer that rewrites values in place slowly (a byte at a time, inside
/// `dm_entry_update`, holding the shard's write lock throughout) while
/// readers read the same keys through open gates: a read that slipped past a
/// writer holding the lock would see a half-rewritten value.
#[test]
fn reads_wait_for_a_slow_writer_holding_the_lock() {
    const KEYS: u32 = 8;
    const UPDATES: u32 = 2_000;
    let m = patterned_map(2, KEYS);
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3u32)
        .map(|r| {
            let (m, stop) = (m.clone(), stop.clone());
            thread::spawn(move || {
                let (mut checked, mut buf, mut i) = (0u64, [0u8; 256], r);
                while !stop.load(Ordering::Relaxed) {
                    let k = key(i % KEYS);
                    i += 1;
                    let mut len = 0;
                    let st = unsafe { dm_get_copy(m.0, k.as_ptr(), k.len(), buf.as_mut_ptr(), buf.len(), &mut len) };
                    assert_eq!(st, DM_OK);
                    assert!(is_pattern(&buf[..len]), "torn value {:?}", &buf[..len]);
                    checked += 1;
                }
                checked
            })
        })
        .collect();
    for u in 0..UPDATES {
        let st = m.update(&key(u % KEYS), |e| {
            let mut len = 0;
            // SAFETY: the entry's value, `len` bytes, writable for the callback.
            let value = unsafe { std::slice::from_raw_parts_mut(dm_entry_value_mut(e, &mut len), len) };
            // The next tag with the same pattern length (lengths repeat every 7 tags).
            let tag = value[0];
            let next = pattern(if tag < 249 { tag + 7 } else { tag - 245 });
            assert_eq!(next.len(), len);
            for (dst, &b) in value.iter_mut().zip(&next) {
                // SAFETY: `dst` is a byte of the value; volatile, so every
                // byte is stored on its own, with a pause after it.
                unsafe { std::ptr::write_volatile(dst, b) };
                (0..20).for_each(|_| std::hint::spin_loop());
            }
        });
        assert_eq!(st, DM_OK);
        // Readers alone for a while: the gates stay (or become) open.
        (0..2_000).for_each(|_| std::hint::spin_loop());
    }
    stop.store(true, Ordering::Relaxed);
    let checked: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(checked > 1000, "only {checked} reads during {UPDATES} rewrites");
    println!("slow writer: {checked} values read whole during {UPDATES} in-place rewrites");
}
