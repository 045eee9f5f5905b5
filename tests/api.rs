//! Every `dm_` function: its statuses, its argument checks, and its rules
//! about references and reentrancy.

mod common;

use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};

use common::*;

const BIG: usize = isize::MAX as usize + 1;

#[test]
fn version_and_status_strings() {
    let v = unsafe { CStr::from_ptr(dm_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/dashmap.h")).unwrap();
    let number: u32 = header.lines().find_map(|l| l.strip_prefix("#define DM_VERSION_NUMBER ")).unwrap().trim().parse().unwrap();
    assert_eq!(dm_version_number(), number, "header macro vs runtime");
    assert!(header.contains(&format!("#define DM_VERSION_STRING \"{v}\"")));
    let all = [
        DM_OK, DM_NOT_FOUND, DM_REPLACED, DM_EXISTS, DM_MISMATCH, DM_BUFFER_TOO_SMALL, DM_STOPPED, DM_ERR_NULL, DM_ERR_INVALID,
        DM_ERR_NO_MEMORY, DM_ERR_REENTRANT, DM_ERR_PANIC, DM_ERR_FULL,
    ];
    let names: std::collections::HashSet<String> = all.iter().map(|&s| status_name(s)).collect();
    assert_eq!(names.len(), all.len(), "every status has its own text");
    assert!(!names.contains("unknown status"));
    assert_eq!(status_name(12345), "unknown status");
    assert_eq!(status_name(i32::MIN), "unknown status");
}

#[test]
fn constructors_validate_shards_and_options() {
    for bad in [0usize, 1, 3, 6, 100, DM_MAX_SHARDS * 2] {
        assert!(dm_with_shards(bad).is_null(), "shards {bad}");
        assert!(dm_with_capacity_and_shards(10, bad).is_null(), "shards {bad}");
    }
    for good in [2usize, 4, 64, DM_MAX_SHARDS] {
        let m = Handle(dm_with_shards(good));
        assert!(!m.0.is_null());
        assert_eq!(unsafe { dm_shard_count(m.0) }, good);
    }
    let m = Handle(dm_with_capacity(1000));
    assert!(unsafe { dm_capacity(m.0) } >= 1000);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let default = unsafe { dm_shard_count(m.0) };
    assert!(default.is_power_of_two() && default >= 64 && default >= 4 * cpus, "default shards {default}");
    assert!(dm_with_capacity(usize::MAX / 2).is_null(), "absurd capacity is NULL, not an abort");

    let d = dm_options_default();
    assert_eq!((d.capacity, d.shards, d.hasher, d.seed), (0, 0, DM_HASHER_SIPHASH, 0));
    let mut out = 0x1 as *mut dm_map;
    let bad_hasher = dm_options { hasher: 7, ..d };
    assert_eq!(unsafe { dm_new_with_options(&bad_hasher, &mut out) }, DM_ERR_INVALID);
    assert_eq!(unsafe { dm_new_with_options(&dm_options { shards: 3, ..d }, &mut out) }, DM_ERR_INVALID);
    assert_eq!(unsafe { dm_new_with_options(&dm_options { capacity: usize::MAX / 4, ..d }, &mut out) }, DM_ERR_NO_MEMORY);
    assert_eq!(out, 0x1 as *mut dm_map, "out written only on success");
    assert_eq!(unsafe { dm_new_with_options(null(), &mut out) }, DM_ERR_NULL);
    assert_eq!(unsafe { dm_new_with_options(&d, null_mut()) }, DM_ERR_NULL);
}

#[test]
fn fixed_seed_gives_identical_placement() {
    let opts = dm_options { shards: 16, hasher: DM_HASHER_FAST, seed: 42, ..dm_options_default() };
    let (a, b) = (Handle::with(opts), Handle::with(opts));
    for i in 0..500u32 {
        a.insert(&i.to_le_bytes(), b"");
        b.insert(&i.to_le_bytes(), b"");
    }
    for s in 0..16 {
        let (mut la, mut lb) = (0, 0);
        assert_eq!(unsafe { dm_shard_len(a.0, s, &mut la) }, DM_OK);
        assert_eq!(unsafe { dm_shard_len(b.0, s, &mut lb) }, DM_OK);
        assert_eq!(la, lb, "shard {s}");
    }
    let mut l = 7;
    assert_eq!(unsafe { dm_shard_len(a.0, 16, &mut l) }, DM_ERR_INVALID);
    assert_eq!(l, 7);
}

#[test]
fn insert_get_remove_statuses_and_empty_bytes() {
    let m = Handle::new();
    assert_eq!(unsafe { dm_insert(m.0, null(), 0, null(), 0) }, DM_OK, "(NULL, 0) is the empty key/value");
    assert_eq!(m.get(b""), Some(vec![]));
    let mut len = 99;
    assert_eq!(unsafe { dm_get_copy(m.0, null(), 0, null_mut(), 0, &mut len) }, DM_OK, "empty value fits a 0-byte buffer");
    assert_eq!(len, 0);
    assert_eq!(m.insert(b"k", b"v1"), DM_OK);
    assert_eq!(m.insert(b"k", b"value2"), DM_REPLACED);
    let mut buf = [0u8; 3];
    assert_eq!(unsafe { dm_get_copy(m.0, b"k".as_ptr(), 1, buf.as_mut_ptr(), 3, &mut len) }, DM_BUFFER_TOO_SMALL);
    assert_eq!((len, buf), (6, [0; 3]), "needed size reported, nothing copied");
    assert_eq!(unsafe { dm_get_copy(m.0, b"x".as_ptr(), 1, buf.as_mut_ptr(), 3, &mut len) }, DM_NOT_FOUND);

    let (mut out, mut out_len) = (null_mut(), 0);
    assert_eq!(unsafe { dm_get_alloc(m.0, b"k".as_ptr(), 1, &mut out, &mut out_len) }, DM_OK);
    assert_eq!(to_vec(out, out_len), b"value2");
    unsafe { dm_bytes_free(out, out_len) };
    assert_eq!(unsafe { dm_get_alloc(m.0, null(), 0, &mut out, &mut out_len) }, DM_OK);
    assert_eq!((out, out_len), (null_mut(), 0), "empty value: NULL, 0");
    unsafe { dm_bytes_free(null_mut(), 0) };
    assert_eq!(unsafe { dm_get_alloc(m.0, b"x".as_ptr(), 1, &mut out, &mut out_len) }, DM_NOT_FOUND);

    unsafe extern "C-unwind" fn read(v: *const u8, l: usize, ctx: *mut c_void) {
        unsafe { *(ctx as *mut Vec<u8>) = to_vec(v, l) };
    }
    let mut seen: Vec<u8> = Vec::new();
    assert_eq!(unsafe { dm_get_with(m.0, b"k".as_ptr(), 1, Some(read), &mut seen as *mut _ as *mut c_void) }, DM_OK);
    assert_eq!(seen, b"value2");
    assert_eq!(unsafe { dm_get_with(m.0, b"x".as_ptr(), 1, Some(read), null_mut()) }, DM_NOT_FOUND);

    assert!(unsafe { dm_contains_key(m.0, b"k".as_ptr(), 1) });
    assert!(!unsafe { dm_contains_key(m.0, b"x".as_ptr(), 1) });
    assert!(!unsafe { dm_is_empty(m.0) });
    assert_eq!(m.len(), 2);

    let mut small = [0u8; 2];
    assert_eq!(unsafe { dm_remove(m.0, b"k".as_ptr(), 1, small.as_mut_ptr(), 2, &mut len) }, DM_BUFFER_TOO_SMALL);
    assert_eq!(len, 6);
    assert_eq!(m.get(b"k").as_deref(), Some(&b"value2"[..]), "entry left in place");
    let mut big = [0u8; 16];
    assert_eq!(unsafe { dm_remove(m.0, b"k".as_ptr(), 1, big.as_mut_ptr(), 16, &mut len) }, DM_OK);
    assert_eq!(&big[..len], b"value2");
    assert_eq!(unsafe { dm_remove(m.0, b"k".as_ptr(), 1, null_mut(), 0, null_mut()) }, DM_NOT_FOUND);
    assert_eq!(unsafe { dm_remove(m.0, null(), 0, null_mut(), 0, null_mut()) }, DM_OK, "NULL val_len discards");

    unsafe extern "C-unwind" fn starts_with_a(_: *const u8, _: usize, v: *const u8, l: usize, _: *mut c_void) -> bool {
        l > 0 && unsafe { *v } == b'a'
    }
    m.insert(b"p", b"apple");
    m.insert(b"q", b"banana");
    assert_eq!(unsafe { dm_remove_if(m.0, b"q".as_ptr(), 1, Some(starts_with_a), null_mut()) }, DM_MISMATCH);
    assert_eq!(unsafe { dm_remove_if(m.0, b"p".as_ptr(), 1, Some(starts_with_a), null_mut()) }, DM_OK);
    assert_eq!(unsafe { dm_remove_if(m.0, b"p".as_ptr(), 1, Some(starts_with_a), null_mut()) }, DM_NOT_FOUND);

    assert_eq!(unsafe { dm_clear(m.0) }, DM_OK);
    assert!(unsafe { dm_is_empty(m.0) });
    assert_eq!(unsafe { dm_shrink_to_fit(m.0) }, DM_OK);
}

#[test]
fn callback_free_atomics() {
    let m = Handle::new();
    assert_eq!(unsafe { dm_try_insert(m.0, b"k".as_ptr(), 1, b"one".as_ptr(), 3) }, DM_OK);
    assert_eq!(unsafe { dm_try_insert(m.0, b"k".as_ptr(), 1, b"two".as_ptr(), 3) }, DM_EXISTS);
    assert_eq!(m.get(b"k").unwrap(), b"one");

    let (mut buf, mut len) = ([0u8; 8], 0);
    assert_eq!(unsafe { dm_get_or_insert(m.0, b"n".as_ptr(), 1, b"new".as_ptr(), 3, buf.as_mut_ptr(), 8, &mut len) }, DM_OK);
    assert_eq!(len, 3);
    assert_eq!(unsafe { dm_get_or_insert(m.0, b"k".as_ptr(), 1, b"zz".as_ptr(), 2, buf.as_mut_ptr(), 8, &mut len) }, DM_EXISTS);
    assert_eq!(&buf[..len], b"one");
    assert_eq!(unsafe { dm_get_or_insert(m.0, b"k".as_ptr(), 1, b"zz".as_ptr(), 2, buf.as_mut_ptr(), 2, &mut len) }, DM_BUFFER_TOO_SMALL);
    assert_eq!((len, m.get(b"k").unwrap()), (3, b"one".to_vec()));

    assert_eq!(unsafe { dm_compare_and_swap(m.0, b"k".as_ptr(), 1, b"two".as_ptr(), 3, b"x".as_ptr(), 1) }, DM_MISMATCH);
    assert_eq!(unsafe { dm_compare_and_swap(m.0, b"k".as_ptr(), 1, b"one".as_ptr(), 3, b"x".as_ptr(), 1) }, DM_OK);
    assert_eq!(unsafe { dm_compare_and_swap(m.0, b"z".as_ptr(), 1, b"one".as_ptr(), 3, b"x".as_ptr(), 1) }, DM_NOT_FOUND);
    assert_eq!(m.get(b"k").unwrap(), b"x");
    assert_eq!(unsafe { dm_compare_and_remove(m.0, b"k".as_ptr(), 1, b"y".as_ptr(), 1) }, DM_MISMATCH);
    assert_eq!(unsafe { dm_compare_and_remove(m.0, b"k".as_ptr(), 1, b"x".as_ptr(), 1) }, DM_OK);
    assert_eq!(unsafe { dm_compare_and_remove(m.0, b"k".as_ptr(), 1, b"x".as_ptr(), 1) }, DM_NOT_FOUND);

    assert_eq!(unsafe { dm_swap(m.0, b"s".as_ptr(), 1, b"first".as_ptr(), 5, buf.as_mut_ptr(), 8, &mut len) }, DM_OK);
    assert_eq!(unsafe { dm_swap(m.0, b"s".as_ptr(), 1, b"2nd".as_ptr(), 3, buf.as_mut_ptr(), 2, &mut len) }, DM_BUFFER_TOO_SMALL);
    assert_eq!((len, m.get(b"s").unwrap()), (5, b"first".to_vec()), "nothing changed");
    assert_eq!(unsafe { dm_swap(m.0, b"s".as_ptr(), 1, b"2nd".as_ptr(), 3, buf.as_mut_ptr(), 8, &mut len) }, DM_REPLACED);
    assert_eq!(&buf[..len], b"first");

    assert_eq!(m.add(b"c", 5), 5);
    assert_eq!(m.add(b"c", -7), -2);
    assert_eq!(unsafe { dm_add_i64(m.0, b"c".as_ptr(), 1, 1, null_mut()) }, DM_OK, "result is optional");
    assert_eq!(m.add(b"c", 0), -1);
    m.insert(b"max", &i64::MAX.to_le_bytes());
    assert_eq!(m.add(b"max", 1), i64::MIN, "wraps");
    let mut r = 123;
    assert_eq!(unsafe { dm_add_i64(m.0, b"s".as_ptr(), 1, 1, &mut r) }, DM_ERR_INVALID);
    assert_eq!((r, m.get(b"s").unwrap()), (123, b"2nd".to_vec()), "not a counter: unchanged");
}

#[test]
fn entry_api_patterns() {
    let m = Handle::new();
    // or_insert
    m.update(b"k", |e| {
        assert!(!unsafe { dm_entry_occupied(e) });
        assert!(entry_value(e).is_none());
        let mut kl = 0;
        let kp = unsafe { dm_entry_key(e, &mut kl) };
        assert_eq!(to_vec(kp, kl), b"k");
        assert_eq!(unsafe { dm_entry_remove(e) }, DM_NOT_FOUND);
        assert_eq!(unsafe { dm_entry_set(e, b"1".as_ptr(), 1) }, DM_OK);
        assert_eq!(entry_value(e).unwrap(), b"1", "sees its own set");
    });
    assert_eq!(m.get(b"k").unwrap(), b"1");
    // and_modify in place
    m.update(b"k", |e| {
        let mut len = 0;
        let p = unsafe { dm_entry_value_mut(e, &mut len) };
        assert_eq!(len, 1);
        unsafe { *p = b'9' };
    });
    assert_eq!(m.get(b"k").unwrap(), b"9");
    // set then remove then set: only the final state applies
    m.update(b"k", |e| unsafe {
        dm_entry_set(e, b"a".as_ptr(), 1);
        dm_entry_remove(e);
        assert!(dm_entry_value_mut(e, null_mut()).is_null());
        dm_entry_set(e, b"final".as_ptr(), 5);
    });
    assert_eq!(m.get(b"k").unwrap(), b"final");
    // remove
    m.update(b"k", |e| assert_eq!(unsafe { dm_entry_remove(e) }, DM_OK));
    assert_eq!(m.get(b"k"), None);
    // vacant, set, remove: nothing inserted
    m.update(b"v", |e| unsafe {
        dm_entry_set(e, b"x".as_ptr(), 1);
        dm_entry_remove(e);
    });
    assert_eq!(m.len(), 0);
    // NULL handles
    assert!(!unsafe { dm_entry_occupied(null()) });
    assert!(unsafe { dm_entry_key(null(), null_mut()) }.is_null());
    assert!(unsafe { dm_entry_value(null(), null_mut()) }.is_null());
    assert_eq!(unsafe { dm_entry_set(null_mut(), null(), 0) }, DM_ERR_NULL);
    assert_eq!(unsafe { dm_entry_remove(null_mut()) }, DM_ERR_NULL);
    assert_eq!(unsafe { dm_entry_update(m.0, b"k".as_ptr(), 1, None, null_mut()) }, DM_ERR_NULL);
}

#[test]
fn walks_and_cursor() {
    let m = Handle::new();
    for i in 0..100u32 {
        m.insert(&i.to_le_bytes(), b"v");
    }
    let mut n = 0;
    assert_eq!(m.for_each(|_, _| { n += 1; true }), DM_OK);
    assert_eq!(n, 100);
    let mut n = 0;
    assert_eq!(m.for_each(|_, _| { n += 1; n < 10 }), DM_STOPPED);
    assert_eq!(n, 10);

    unsafe extern "C-unwind" fn upper(_: *const u8, _: usize, v: *mut u8, l: usize, _: *mut c_void) -> bool {
        for i in 0..l {
            unsafe { *v.add(i) = (*v.add(i)).to_ascii_uppercase() };
        }
        true
    }
    assert_eq!(unsafe { dm_for_each_mut(m.0, Some(upper), null_mut()) }, DM_OK);
    assert!(m.entries().iter().all(|(_, v)| v == b"V"));

    assert_eq!(m.retain(|k, _| u32::from_le_bytes(k.try_into().unwrap()) % 2 == 0), DM_OK);
    assert_eq!(m.len(), 50);
    assert_eq!(m.entries().len(), 50);

    assert!(unsafe { dm_iter_new(null()) }.is_null());
    let it = unsafe { dm_iter_new(m.0) };
    let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
    assert_eq!(unsafe { dm_iter_next(it, null_mut(), &mut kl, &mut v, &mut vl) }, DM_ERR_NULL);
    let mut count = 0;
    while unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) } == DM_OK {
        count += 1;
    }
    assert_eq!(count, 50);
    assert_eq!(unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) }, DM_NOT_FOUND, "stays at the end");
    unsafe { dm_iter_free(it) };
    unsafe { dm_iter_free(null_mut()) };

    // Batched cursor: the same 50 entries, a few per call, never split.
    let it = unsafe { dm_iter_new(m.0) };
    let (mut buf, mut lens) = ([0u8; 64], [0usize; 16]);
    let (mut n, mut used) = (0, 0);
    assert_eq!(unsafe { dm_iter_next_many(it, buf.as_mut_ptr(), 4, lens.as_mut_ptr(), 8, &mut n, &mut used) }, DM_BUFFER_TOO_SMALL);
    assert_eq!((n, used), (0, 5), "a 4-byte key and a 1-byte value need 5 bytes");
    assert_eq!(unsafe { dm_iter_next_many(it, buf.as_mut_ptr(), 64, lens.as_mut_ptr(), 0, &mut n, &mut used) }, DM_ERR_INVALID);
    let mut seen = Vec::new();
    loop {
        let st = unsafe { dm_iter_next_many(it, buf.as_mut_ptr(), 64, lens.as_mut_ptr(), 8, &mut n, &mut used) };
        if st == DM_NOT_FOUND {
            assert_eq!(n, 0);
            break;
        }
        assert_eq!(st, DM_OK);
        assert!((1..=8).contains(&n) && used <= 64);
        let mut at = 0;
        for i in 0..n {
            let (kl, vl) = (lens[2 * i], lens[2 * i + 1]);
            seen.push((buf[at..at + kl].to_vec(), buf[at + kl..at + kl + vl].to_vec()));
            at += kl + vl;
        }
        assert_eq!(at, used);
    }
    unsafe { dm_iter_free(it) };
    seen.sort();
    assert_eq!(seen, m.entries());
}

#[test]
fn batches_and_stats() {
    let m = Handle(dm_with_shards(4));
    let ks: [&[u8]; 4] = [b"a", b"bb", b"a", b""];
    let vs: [&[u8]; 4] = [b"1", b"22", b"333", b"e"];
    let (ksl, vsl) = (slices(&ks), slices(&vs));
    assert_eq!(unsafe { dm_extend(m.0, ksl.as_ptr(), vsl.as_ptr(), 4) }, DM_OK);
    assert_eq!(m.get(b"a").unwrap(), b"333", "the later duplicate wins");
    assert_eq!(m.len(), 3);

    let q: [&[u8]; 4] = [b"bb", b"missing", b"a", b""];
    let qs = slices(&q);
    let (mut lens, mut used) = ([0usize; 4], 0);
    let st = unsafe { dm_get_many(m.0, qs.as_ptr(), 4, null_mut(), 0, lens.as_mut_ptr(), &mut used) };
    assert_eq!((st, used, lens), (DM_BUFFER_TOO_SMALL, 6, [2, usize::MAX, 3, 1]));
    let mut buf = [0u8; 6];
    assert_eq!(unsafe { dm_get_many(m.0, qs.as_ptr(), 4, buf.as_mut_ptr(), 6, lens.as_mut_ptr(), &mut used) }, DM_OK);
    assert_eq!(&buf, b"22333e", "values packed in key order");
    assert_eq!(unsafe { dm_get_many(m.0, null(), 0, null_mut(), 0, null_mut(), &mut used) }, DM_OK);
    assert_eq!(used, 0);

    let mut st = dm_stats::default();
    assert_eq!(unsafe { dm_stats_get(m.0, &mut st) }, DM_OK);
    assert_eq!((st.len, st.shards, st.key_bytes, st.value_bytes), (3, 4, 3, 6));
    assert!(st.min_shard_len <= st.max_shard_len && st.capacity >= 3);
    let total: usize = (0..4).map(|s| { let mut l = 0; unsafe { dm_shard_len(m.0, s, &mut l) }; l }).sum();
    assert_eq!(total, 3);

    let mut removed = 0;
    assert_eq!(unsafe { dm_remove_many(m.0, qs.as_ptr(), 4, &mut removed) }, DM_OK);
    assert_eq!((removed, m.len()), (3, 0));
    assert_eq!(unsafe { dm_remove_many(m.0, qs.as_ptr(), 4, null_mut()) }, DM_OK, "count is optional");
}

#[test]
fn bad_arguments_are_reported_in_order_and_change_nothing() {
    let m = Handle::new();
    m.insert(b"k", b"v");
    let k = b"k".as_ptr();
    let mut len = 0usize;
    let mut buf = [0u8; 4];
    unsafe {
        assert_eq!(dm_insert(null_mut(), k, 1, k, 1), DM_ERR_NULL);
        assert_eq!(dm_insert(m.0, null(), 1, k, 1), DM_ERR_NULL);
        assert_eq!(dm_insert(m.0, k, BIG, k, 1), DM_ERR_INVALID);
        assert_eq!(dm_insert(m.0, k, BIG, null(), 1), DM_ERR_NULL, "NULL before INVALID, across arguments");
        assert_eq!(dm_get_copy(m.0, k, 1, null_mut(), 4, &mut len), DM_ERR_NULL);
        assert_eq!(dm_get_copy(m.0, k, 1, buf.as_mut_ptr(), 4, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_get_copy(null(), k, 1, buf.as_mut_ptr(), 4, &mut len), DM_ERR_NULL);
        assert_eq!(dm_get_copy(m.0, k, 1, buf.as_mut_ptr(), BIG, &mut len), DM_ERR_INVALID);
        assert_eq!(dm_get_with(m.0, k, 1, None, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_get_alloc(m.0, k, 1, null_mut(), &mut len), DM_ERR_NULL);
        assert!(!dm_contains_key(null(), k, 1));
        assert!(!dm_contains_key(m.0, null(), 1));
        assert_eq!(dm_remove(m.0, k, BIG, null_mut(), 0, null_mut()), DM_ERR_INVALID);
        assert_eq!(dm_remove(m.0, k, 1, null_mut(), 4, &mut len), DM_ERR_NULL);
        assert_eq!(dm_remove_if(m.0, k, 1, None, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_try_insert(m.0, k, 1, null(), 2), DM_ERR_NULL);
        assert_eq!(dm_get_or_insert(m.0, k, 1, k, 1, buf.as_mut_ptr(), 4, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_compare_and_swap(m.0, k, 1, null(), 1, k, 1), DM_ERR_NULL);
        assert_eq!(dm_compare_and_remove(m.0, k, 1, k, BIG), DM_ERR_INVALID);
        assert_eq!(dm_swap(m.0, k, 1, k, 1, buf.as_mut_ptr(), 4, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_add_i64(m.0, null(), 3, 1, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_for_each(m.0, None, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_for_each_mut(null_mut(), None, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_retain_cb(m.0, None, null_mut()), DM_ERR_NULL);
        let bad = [dm_slice { ptr: null(), len: 3 }];
        let good = slices(&[b"x"]);
        assert_eq!(dm_extend(m.0, bad.as_ptr(), good.as_ptr(), 1), DM_ERR_NULL);
        assert_eq!(dm_extend(m.0, null(), good.as_ptr(), 1), DM_ERR_NULL);
        let huge = [dm_slice { ptr: k, len: BIG }];
        assert_eq!(dm_extend(m.0, huge.as_ptr(), good.as_ptr(), 1), DM_ERR_INVALID);
        assert_eq!(dm_get_many(m.0, good.as_ptr(), 1, buf.as_mut_ptr(), 4, null_mut(), &mut len), DM_ERR_NULL);
        // NULL before INVALID also across slice arrays and other arguments.
        assert_eq!(dm_extend(m.0, huge.as_ptr(), bad.as_ptr(), 1), DM_ERR_NULL);
        let mut lens = [0usize; 1];
        assert_eq!(dm_get_many(m.0, bad.as_ptr(), 1, buf.as_mut_ptr(), BIG, lens.as_mut_ptr(), &mut len), DM_ERR_NULL);
        assert_eq!(dm_remove_many(m.0, bad.as_ptr(), 1, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_stats_get(m.0, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_shard_len(m.0, 0, null_mut()), DM_ERR_NULL);
        assert_eq!(dm_clear(null_mut()), DM_ERR_NULL);
        assert_eq!(dm_shrink_to_fit(null_mut()), DM_ERR_NULL);
        assert_eq!((dm_len(null()), dm_capacity(null()), dm_shard_count(null())), (0, 0, 0));
        assert!(!dm_is_empty(null()));
        assert!(dm_ref(null_mut()).is_null());
        dm_free(null_mut());
    }
    assert_eq!(m.entries(), vec![(b"k".to_vec(), b"v".to_vec())], "no error changed the map");
}

#[test]
fn references_keep_the_map_alive() {
    let a = dm_new();
    let b = unsafe { dm_ref(a) };
    assert_eq!(a, b);
    unsafe { dm_free(a) };
    let m = Handle(b);
    assert_eq!(m.insert(b"k", b"v"), DM_OK, "usable through the other reference");
    // A cursor holds its own reference.
    let it = unsafe { dm_iter_new(m.0) };
    drop(m);
    let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
    assert_eq!(unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) }, DM_OK);
    assert_eq!((to_vec(k, kl), to_vec(v, vl)), (b"k".to_vec(), b"v".to_vec()));
    unsafe { dm_iter_free(it) };
}

#[test]
fn freeing_the_last_reference_inside_a_callback_is_safe() {
    let raw = dm_new();
    let m = Handle(raw);
    m.insert(b"k", b"v");
    let st = m.update(b"k", |e| {
        unsafe { dm_free(raw) }; // drops the only user reference
        assert_eq!(unsafe { dm_entry_set(e, b"still alive".as_ptr(), 11) }, DM_OK);
    });
    assert_eq!(st, DM_OK);
    std::mem::forget(m); // already freed
}

#[test]
fn releases_inside_nested_callbacks_wait_for_the_outermost_call() {
    let a = dm_new();
    let extra = unsafe { dm_ref(a) }; // two references to `a`
    let b = Handle::new();
    b.insert(b"x", b"1");
    let ha = Handle(a);
    ha.insert(b"k", b"v");
    let st = ha.update(b"k", |e| {
        // Inside a's callback, walk b; inside b's callback, free both of a's references.
        assert_eq!(b.for_each(|_, _| { unsafe { dm_free(a); dm_free(extra) }; true }), DM_OK);
        // a must still be alive here: its releases wait for this call to return.
        assert_eq!(unsafe { dm_entry_set(e, b"still here".as_ptr(), 10) }, DM_OK);
        assert!(unsafe { dm_shard_count(a) } >= 2);
    });
    assert_eq!(st, DM_OK);
    std::mem::forget(ha); // both references were released when `update` returned
    assert_eq!(b.len(), 1, "the other map is untouched");
}

/// Inside a callback, every call on the same map is refused at once (no
/// deadlock), while other maps and the lock-free calls still work.
fn assert_reentrancy_refused(map: *mut dm_map, other: *mut dm_map) {
    let k = b"k".as_ptr();
    let mut len = 0;
    let mut buf = [0u8; 8];
    unsafe {
        assert_eq!(dm_insert(map, k, 1, k, 1), DM_ERR_REENTRANT);
        assert_eq!(dm_get_copy(map, k, 1, buf.as_mut_ptr(), 8, &mut len), DM_ERR_REENTRANT);
        assert_eq!(dm_remove(map, k, 1, null_mut(), 0, null_mut()), DM_ERR_REENTRANT);
        assert_eq!(dm_add_i64(map, k, 1, 1, null_mut()), DM_ERR_REENTRANT);
        assert_eq!(dm_clear(map), DM_ERR_REENTRANT);
        assert_eq!(dm_for_each(map, Some(visit_tramp), null_mut()), DM_ERR_REENTRANT);
        assert_eq!(dm_len(map), usize::MAX);
        assert_eq!(dm_capacity(map), usize::MAX);
        assert!(!dm_contains_key(map, k, 1));
        assert!(!dm_is_empty(map));
        assert!(dm_iter_new(map).is_null());
        assert_eq!(dm_insert(map, null(), 1, k, 1), DM_ERR_NULL, "argument errors come first");
        assert!(dm_shard_count(map) >= 2);
        assert_eq!(dm_shard_len(map, 1 << 20, &mut len), DM_ERR_INVALID, "a bad shard index is an argument error");
        assert_eq!(dm_shard_len(map, 0, &mut len), DM_ERR_REENTRANT);
        dm_free(dm_ref(map));
        assert!(dm_insert(other, k, 1, k, 1) >= DM_OK, "other maps work");
        assert_eq!(dm_add_i64(other, b"n".as_ptr(), 1, 1, null_mut()), DM_OK);
    }
}

#[test]
fn reentrant_calls_from_every_callback_kind() {
    let m = Handle::new();
    let other = Handle::new();
    m.insert(b"k", b"v");
    let it = unsafe { dm_iter_new(m.0) };

    let mut calls = 0;
    m.update(b"k", |_| {
        assert_reentrancy_refused(m.0, other.0);
        let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
        assert_eq!(unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) }, DM_ERR_REENTRANT);
        let (mut buf, mut lens, mut n, mut used) = ([0u8; 16], [0usize; 2], 0, 0);
        assert_eq!(unsafe { dm_iter_next_many(it, buf.as_mut_ptr(), 16, lens.as_mut_ptr(), 1, &mut n, &mut used) }, DM_ERR_REENTRANT);
        calls += 1;
    });
    m.for_each(|_, _| { assert_reentrancy_refused(m.0, other.0); calls += 1; true });
    m.retain(|_, _| { assert_reentrancy_refused(m.0, other.0); calls += 1; true });

    struct Ctx<'a> { m: &'a Handle, other: &'a Handle, calls: usize }
    let mut ctx = Ctx { m: &m, other: &other, calls: 0 };
    unsafe extern "C-unwind" fn read(_: *const u8, _: usize, ctx: *mut c_void) {
        let c = unsafe { &mut *(ctx as *mut Ctx) };
        assert_reentrancy_refused(c.m.0, c.other.0);
        c.calls += 1;
    }
    unsafe extern "C-unwind" fn visit(_: *const u8, _: usize, _: *const u8, _: usize, ctx: *mut c_void) -> bool {
        unsafe { read(null(), 0, ctx) };
        false
    }
    unsafe extern "C-unwind" fn visit_mut(_: *const u8, _: usize, _: *mut u8, _: usize, ctx: *mut c_void) -> bool {
        unsafe { read(null(), 0, ctx) };
        true
    }
    let p = &mut ctx as *mut Ctx as *mut c_void;
    unsafe {
        assert_eq!(dm_get_with(m.0, b"k".as_ptr(), 1, Some(read), p), DM_OK);
        assert_eq!(dm_remove_if(m.0, b"k".as_ptr(), 1, Some(visit), p), DM_MISMATCH);
        assert_eq!(dm_for_each_mut(m.0, Some(visit_mut), p), DM_OK);
    }
    assert_eq!((calls, ctx.calls), (3, 3));
    let mut n = 0;
    assert_eq!(unsafe { dm_add_i64(other.0, b"n".as_ptr(), 1, 0, &mut n) }, DM_OK);
    assert_eq!(n, 6, "each callback reached the other map");
    // After the callbacks, the map is fully usable again.
    assert_eq!(m.insert(b"k", b"w"), DM_REPLACED);
    let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
    assert_eq!(unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) }, DM_OK);
    unsafe { dm_iter_free(it) };
}

#[test]
fn a_panicking_callback_is_caught_and_releases_the_lock() {
    let m = Handle::new();
    m.insert(b"k", b"v");
    let st = m.update(b"k", |e| {
        unsafe { dm_entry_set(e, b"lost".as_ptr(), 4) };
        panic!("callback bug");
    });
    assert_eq!(st, DM_ERR_PANIC);
    assert_eq!(m.get(b"k").unwrap(), b"v", "a panicking update applies nothing");
    assert_eq!(m.insert(b"k", b"after"), DM_REPLACED, "the shard lock was released");
    assert_eq!(m.for_each(|_, _| panic!("visit bug")), DM_ERR_PANIC);
    assert_eq!(m.add(b"n", 1), 1, "map still usable, thread not marked reentrant");
}
