//! The two hash functions a map can use, behind one `BuildHasher`.
//!
//! SipHash-1-3 (the default) keeps hostile keys from forcing collisions when
//! its keys are secret; foldhash is several times faster on short keys but
//! offers no such protection once its seed is known.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::{FixedState, FoldHasher};
use siphasher::sip::SipHasher13;

/// Which hash function a map uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HasherKind {
    SipHash,
    Fast,
}

/// Builds the per-operation hasher; cloned into every map, so it stays small.
#[derive(Clone, Debug)]
pub enum State {
    Sip { k0: u64, k1: u64 },
    Fast(FixedState),
}

impl State {
    /// `seed == 0` draws fresh random keys; any other seed makes hashing (and
    /// so shard placement) reproducible across runs.
    pub fn new(kind: HasherKind, seed: u64) -> State {
        let (k0, k1) = if seed == 0 { random_keys() } else { (seed, seed.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15) };
        match kind {
            HasherKind::SipHash => State::Sip { k0, k1 },
            HasherKind::Fast => State::Fast(FixedState::with_seed(k0)),
        }
    }

    /// The hash of a key: its bytes alone through the map's hasher (no
    /// length prefix: SipHash puts the length in its final block, foldhash
    /// rotates its state by it), with the hasher chosen once per key.
    /// `Record`'s `Hash` impl feeds a `Hasher` the same bytes, so dashmap's
    /// own hashing of stored records agrees.
    #[inline(always)]
    pub fn hash_key(&self, key: &[u8]) -> u64 {
        match self {
            State::Fast(state) => {
                let mut h = state.build_hasher();
                h.write(key);
                h.finish()
            }
            State::Sip { k0, k1 } => sip_hash(*k0, *k1, key),
        }
    }

    /// Calls `out(i, hash_key(key(i)))` for every `i < n`, in order: a
    /// batch's keys, hashed with SipHash 8 or 4 at a time where the CPU
    /// allows (`sip4`).
    pub fn hash_keys<'k>(&self, n: usize, key: impl Fn(usize) -> &'k [u8], mut out: impl FnMut(usize, u64)) {
        match self {
            State::Sip { k0, k1 } => crate::sip4::hash_all(*k0, *k1, n, key, out),
            State::Fast(_) => (0..n).for_each(|i| out(i, self.hash_key(key(i)))),
        }
    }
}

/// SipHash-1-3 of a key. Out of line: inlined into every entry point it
/// costs more in register spills than the call.
#[inline(never)]
pub(crate) fn sip_hash(k0: u64, k1: u64, key: &[u8]) -> u64 {
    SipHasher13::new_with_keys(k0, k1).hash(key)
}

/// Two secret 64-bit keys. std's `RandomState` is seeded from the OS once per
/// thread and perturbed per instance, so hashing a constant with two fresh
/// instances yields independent, unpredictable values.
fn random_keys() -> (u64, u64) {
    (RandomState::new().hash_one(0x5eed_u64), RandomState::new().hash_one(0xfeed_u64))
}

impl BuildHasher for State {
    type Hasher = AnyHasher;

    #[inline]
    fn build_hasher(&self) -> AnyHasher {
        match self {
            State::Sip { k0, k1 } => AnyHasher::Sip(SipHasher13::new_with_keys(*k0, *k1)),
            State::Fast(state) => AnyHasher::Fast(state.build_hasher()),
        }
    }
}

pub enum AnyHasher {
    Sip(SipHasher13),
    Fast(FoldHasher<'static>),
}

impl Hasher for AnyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        match self {
            AnyHasher::Sip(h) => h.write(bytes),
            AnyHasher::Fast(h) => h.write(bytes),
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        match self {
            AnyHasher::Sip(h) => h.write_usize(n),
            AnyHasher::Fast(h) => h.write_usize(n),
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        match self {
            AnyHasher::Sip(h) => h.finish(),
            AnyHasher::Fast(h) => h.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_key_equals_the_build_hasher() {
        // dashmap hashes stored keys through `BuildHasher` and a `Hasher`
        // that is given the key's bytes (`Record`'s `Hash`); lookups use
        // `hash_key`: they must agree for every kind, seed and length.
        for kind in [HasherKind::SipHash, HasherKind::Fast] {
            for seed in [0, 1, 42] {
                let state = State::new(kind, seed);
                for len in 0..70 {
                    let key: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(31)).collect();
                    let mut h = state.build_hasher();
                    h.write(&key);
                    assert_eq!(state.hash_key(&key), h.finish(), "{kind:?} seed {seed} len {len}");
                }
            }
        }
    }

    #[test]
    fn seeded_hashing_is_reproducible_and_random_is_not() {
        for kind in [HasherKind::SipHash, HasherKind::Fast] {
            let a = State::new(kind, 42).hash_key(b"key");
            let b = State::new(kind, 42).hash_key(b"key");
            assert_eq!(a, b, "{kind:?}");
            let c = State::new(kind, 43).hash_key(b"key");
            assert_ne!(a, c, "{kind:?}");
            let r1 = State::new(kind, 0).hash_key(b"key");
            let r2 = State::new(kind, 0).hash_key(b"key");
            assert_ne!(r1, r2, "{kind:?}: seed 0 must draw fresh keys");
        }
    }
}
