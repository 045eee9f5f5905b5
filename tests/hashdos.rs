//! HashDoS: keys crafted to collide under the fast hasher with a known seed
//! slow that configuration down, while the default SipHash map (secret random
//! keys) inserts the very same keys about as fast as random ones.
//!
//! A timing test, so it only runs optimised (`cargo test --release --test
//! hashdos`) and compares ratios measured side by side (best of several runs).

mod common;

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use common::*;

const SEED: u64 = 42;
const KEYS: usize = 20_000;
/// Crafted keys share these low hash bits, so they all start probing at the
/// same bucket of each shard's table (which stays below 2^14 buckets here).
const MASK: u64 = (1 << 14) - 1;

/// Keys whose fast-hasher hash (as the library computes it for `seed`) has
/// identical low bits. Relies on the documented seed rule: a non-zero seed
/// keys foldhash's fixed state with that seed.
fn crafted_keys() -> Vec<[u8; 8]> {
    let state = foldhash::fast::FixedState::with_seed(SEED);
    let hash = |k: &[u8]| {
        let mut h = state.build_hasher();
        h.write(k);
        h.finish()
    };
    (0u64..).map(u64::to_le_bytes).filter(|k| hash(&k[..]) & MASK == 0).take(KEYS).collect()
}

fn random_keys() -> Vec<[u8; 8]> {
    let mut rng = Rng(0x1234_5678);
    (0..KEYS).map(|_| rng.next().to_le_bytes()).collect()
}

/// Best-of-5 time to insert all keys into a fresh map (two shards).
fn insert_time(opts: dm_options, keys: &[[u8; 8]]) -> Duration {
    (0..5)
        .map(|_| {
            let m = Handle::with(opts);
            let start = Instant::now();
            for k in keys {
                m.insert(k, b"v");
            }
            let t = start.elapsed();
            assert_eq!(m.len(), keys.len());
            t
        })
        .min()
        .unwrap()
}

#[test]
#[cfg_attr(debug_assertions, ignore = "timing test: run with --release")]
fn crafted_collisions_hurt_only_the_seeded_fast_hasher() {
    let crafted = crafted_keys();
    let random = random_keys();
    let fast = dm_options { shards: 2, hasher: DM_HASHER_FAST, seed: SEED, ..dm_options_default() };
    let sip = dm_options { shards: 2, ..dm_options_default() };

    let fast_ratio = insert_time(fast, &crafted).as_secs_f64() / insert_time(fast, &random).as_secs_f64();
    let sip_ratio = insert_time(sip, &crafted).as_secs_f64() / insert_time(sip, &random).as_secs_f64();
    println!("hashdos: {KEYS} crafted vs random keys: fast(seed {SEED}) {fast_ratio:.1}x slower, siphash {sip_ratio:.2}x");
    assert!(fast_ratio > 3.0, "crafted keys should degrade the seeded fast hasher (got {fast_ratio:.2}x)");
    assert!(sip_ratio < 2.0, "SipHash must stay within 2x of random keys (got {sip_ratio:.2}x)");
}
