//! Random operation sequences applied to the C API and to a `HashMap` model;
//! every result and, periodically, the whole content must agree.

mod common;

use std::collections::HashMap;


use common::*;

type Model = HashMap<Vec<u8>, Vec<u8>>;

const OPS_PER_SEED: usize = 4000;

fn run(seed: u64, opts: dm_options) {
    let m = Handle::with(opts);
    let mut model = Model::new();
    let mut rng = Rng(seed);
    // A small key space (including the empty key) makes operations collide.
    let keys: Vec<Vec<u8>> = (0..48).map(|i| if i == 0 { vec![] } else { rng.bytes(24) }).collect();
    for step in 0..OPS_PER_SEED {
        let k = keys[rng.below(keys.len() as u64) as usize].clone();
        let v = rng.bytes(40);
        let ctx = format!("seed {seed} step {step}");
        match rng.below(19) {
            0 | 1 => {
                let st = m.insert(&k, &v);
                let expect = if model.insert(k.clone(), v).is_some() { DM_REPLACED } else { DM_OK };
                assert_eq!(st, expect, "insert {ctx}");
            }
            2 | 3 => assert_eq!(m.get(&k), model.get(&k).cloned(), "get {ctx}"),
            4 => {
                let found = unsafe { dm_contains_key(m.0, k.as_ptr(), k.len()) };
                assert_eq!(found, model.contains_key(&k), "contains {ctx}");
            }
            5 => {
                // Remove into a buffer that is sometimes too small.
                let cap = rng.below(48) as usize;
                let mut buf = vec![0u8; cap];
                let mut len = usize::MAX;
                let st = unsafe { dm_remove(m.0, k.as_ptr(), k.len(), buf.as_mut_ptr(), cap, &mut len) };
                match model.get(&k) {
                    None => assert_eq!(st, DM_NOT_FOUND, "remove {ctx}"),
                    Some(old) if old.len() > cap => {
                        assert_eq!((st, len), (DM_BUFFER_TOO_SMALL, old.len()), "remove small {ctx}");
                    }
                    Some(old) => {
                        assert_eq!((st, &buf[..len]), (DM_OK, &old[..]), "remove {ctx}");
                        model.remove(&k);
                    }
                }
            }
            6 => {
                let st = unsafe { dm_try_insert(m.0, k.as_ptr(), k.len(), v.as_ptr(), v.len()) };
                let expect = if model.contains_key(&k) { DM_EXISTS } else { model.insert(k.clone(), v); DM_OK };
                assert_eq!(st, expect, "try_insert {ctx}");
            }
            7 => {
                let mut buf = vec![0u8; 64];
                let mut len = 0;
                let st = unsafe { dm_get_or_insert(m.0, k.as_ptr(), k.len(), v.as_ptr(), v.len(), buf.as_mut_ptr(), 64, &mut len) };
                match model.get(&k) {
                    Some(old) => assert_eq!((st, &buf[..len]), (DM_EXISTS, &old[..]), "get_or_insert {ctx}"),
                    None => {
                        assert_eq!((st, len), (DM_OK, v.len()), "get_or_insert {ctx}");
                        model.insert(k.clone(), v);
                    }
                }
            }
            8 => {
                // Expect the current value half of the time.
                let expected = match (rng.below(2), model.get(&k)) {
                    (0, Some(cur)) => cur.clone(),
                    _ => rng.bytes(8),
                };
                let st = unsafe { dm_compare_and_swap(m.0, k.as_ptr(), k.len(), expected.as_ptr(), expected.len(), v.as_ptr(), v.len()) };
                let want = match model.get(&k) {
                    None => DM_NOT_FOUND,
                    Some(cur) if *cur == expected => {
                        model.insert(k.clone(), v);
                        DM_OK
                    }
                    Some(_) => DM_MISMATCH,
                };
                assert_eq!(st, want, "cas {ctx}");
            }
            9 => {
                let expected = model.get(&k).cloned().filter(|_| rng.below(2) == 0).unwrap_or_else(|| rng.bytes(4));
                let st = unsafe { dm_compare_and_remove(m.0, k.as_ptr(), k.len(), expected.as_ptr(), expected.len()) };
                let want = match model.get(&k) {
                    None => DM_NOT_FOUND,
                    Some(cur) if *cur == expected => {
                        model.remove(&k);
                        DM_OK
                    }
                    Some(_) => DM_MISMATCH,
                };
                assert_eq!(st, want, "compare_and_remove {ctx}");
            }
            10 => {
                let cap = rng.below(48) as usize;
                let mut buf = vec![0u8; cap];
                let mut len = usize::MAX;
                let st = unsafe { dm_swap(m.0, k.as_ptr(), k.len(), v.as_ptr(), v.len(), buf.as_mut_ptr(), cap, &mut len) };
                match model.get(&k).cloned() {
                    None => {
                        assert_eq!(st, DM_OK, "swap {ctx}");
                        model.insert(k.clone(), v);
                    }
                    Some(old) if old.len() > cap => assert_eq!((st, len), (DM_BUFFER_TOO_SMALL, old.len()), "swap {ctx}"),
                    Some(old) => {
                        assert_eq!((st, &buf[..len]), (DM_REPLACED, &old[..]), "swap {ctx}");
                        model.insert(k.clone(), v);
                    }
                }
            }
            11 => {
                let delta = rng.next() as i64;
                let mut result = 0;
                let st = unsafe { dm_add_i64(m.0, k.as_ptr(), k.len(), delta, &mut result) };
                match model.get(&k) {
                    Some(cur) if cur.len() != 8 => assert_eq!(st, DM_ERR_INVALID, "add {ctx}"),
                    cur => {
                        let base = cur.map_or(0, |c| i64::from_le_bytes(c[..].try_into().unwrap()));
                        let sum = base.wrapping_add(delta);
                        assert_eq!((st, result), (DM_OK, sum), "add {ctx}");
                        model.insert(k.clone(), sum.to_le_bytes().to_vec());
                    }
                }
            }
            12 => {
                // Entry: toggle — remove when present, otherwise set twice (last wins).
                let present = model.contains_key(&k);
                let st = m.update(&k, |e| {
                    if unsafe { dm_entry_occupied(e) } {
                        assert_eq!(unsafe { dm_entry_remove(e) }, DM_OK);
                        assert!(!unsafe { dm_entry_occupied(e) });
                    } else {
                        assert_eq!(unsafe { dm_entry_set(e, b"tmp".as_ptr(), 3) }, DM_OK);
                        assert_eq!(unsafe { dm_entry_set(e, v.as_ptr(), v.len()) }, DM_OK);
                    }
                });
                assert_eq!(st, DM_OK, "update {ctx}");
                if present {
                    model.remove(&k);
                } else {
                    model.insert(k.clone(), v);
                }
            }
            13 => {
                let n = rng.below(8) as usize;
                let ks: Vec<Vec<u8>> = (0..n).map(|_| keys[rng.below(keys.len() as u64) as usize].clone()).collect();
                let vs: Vec<Vec<u8>> = (0..n).map(|_| rng.bytes(16)).collect();
                let kr: Vec<&[u8]> = ks.iter().map(|x| &x[..]).collect();
                let vr: Vec<&[u8]> = vs.iter().map(|x| &x[..]).collect();
                let (ksl, vsl) = (slices(&kr), slices(&vr));
                assert_eq!(unsafe { dm_extend(m.0, ksl.as_ptr(), vsl.as_ptr(), n) }, DM_OK, "extend {ctx}");
                for (k, v) in ks.into_iter().zip(vs) {
                    model.insert(k, v);
                }
            }
            14 => {
                let n = rng.below(8) as usize;
                let ks: Vec<Vec<u8>> = (0..n).map(|_| keys[rng.below(keys.len() as u64) as usize].clone()).collect();
                let kr: Vec<&[u8]> = ks.iter().map(|x| &x[..]).collect();
                let ksl = slices(&kr);
                let mut lens = vec![0usize; n];
                let mut used = 0;
                let mut buf = vec![0u8; 512];
                let st = unsafe { dm_get_many(m.0, ksl.as_ptr(), n, buf.as_mut_ptr(), buf.len(), lens.as_mut_ptr(), &mut used) };
                assert_eq!(st, DM_OK, "get_many {ctx}");
                let mut at = 0;
                for (i, k) in ks.iter().enumerate() {
                    match model.get(k) {
                        None => assert_eq!(lens[i], usize::MAX, "get_many missing {ctx}"),
                        Some(v) => {
                            assert_eq!(&buf[at..at + lens[i]], &v[..], "get_many {ctx}");
                            at += lens[i];
                        }
                    }
                }
                assert_eq!(used, at, "get_many used {ctx}");
            }
            15 => {
                let n = rng.below(4) as usize;
                let ks: Vec<Vec<u8>> = (0..n).map(|_| keys[rng.below(keys.len() as u64) as usize].clone()).collect();
                let kr: Vec<&[u8]> = ks.iter().map(|x| &x[..]).collect();
                let ksl = slices(&kr);
                let mut removed = 0;
                assert_eq!(unsafe { dm_remove_many(m.0, ksl.as_ptr(), n, &mut removed) }, DM_OK);
                let want = ks.iter().filter(|k| model.remove(*k).is_some()).count();
                assert_eq!(removed, want, "remove_many {ctx}");
            }
            16 => {
                // Retain entries whose value has an even length.
                assert_eq!(m.retain(|_, v| v.len() % 2 == 0), DM_OK);
                model.retain(|_, v| v.len() % 2 == 0);
            }
            17 => {
                if rng.below(20) == 0 {
                    assert_eq!(unsafe { dm_clear(m.0) }, DM_OK);
                    model.clear();
                }
            }
            _ => {
                let mut st = dm_stats::default();
                assert_eq!(unsafe { dm_stats_get(m.0, &mut st) }, DM_OK);
                assert_eq!(st.len, model.len(), "stats len {ctx}");
                assert_eq!(st.key_bytes, model.keys().map(Vec::len).sum::<usize>(), "key bytes {ctx}");
                assert_eq!(st.value_bytes, model.values().map(Vec::len).sum::<usize>(), "value bytes {ctx}");
            }
        }
        assert_eq!(m.len(), model.len(), "len {ctx}");
        if step % 500 == 0 {
            let mut want: Vec<_> = model.clone().into_iter().collect();
            want.sort();
            assert_eq!(m.entries(), want, "content {ctx}");
        }
    }
    let mut want: Vec<_> = model.into_iter().collect();
    want.sort();
    assert_eq!(m.entries(), want, "final content, seed {seed}");
}

#[test]
fn model_siphash_default_shards() {
    for seed in 1..=5 {
        run(seed * 7919, dm_options_default());
    }
}

#[test]
fn model_fast_hasher_two_shards() {
    for seed in 1..=5 {
        run(seed * 104_729, dm_options { shards: 2, hasher: DM_HASHER_FAST, seed: 99, ..dm_options_default() });
    }
}

#[test]
fn model_many_shards_presized() {
    run(31337, dm_options { shards: 256, capacity: 1000, ..dm_options_default() });
}
