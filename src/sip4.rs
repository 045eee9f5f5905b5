//! SipHash-1-3 of four or eight keys at once, for batches.
//!
//! A batch call hashes every key before it touches a table, and SipHash is a
//! third of a lookup's instructions. Its rounds are a chain of 64-bit adds,
//! rotates and xors with no parallelism inside one hash, but independent
//! hashes fit the 64-bit lanes of a vector register: eight per AVX-512
//! register (which rotates in one instruction), four per AVX2 register. Used
//! for groups of keys of one length (fixed-size keys, the common case) on
//! CPUs that have them; everything else goes through the scalar hasher. The
//! tests check every path against `siphasher` bit for bit.

/// Calls `out(i, hash)` for every `i < n`, in order, the hash of `key(i)`
/// under the SipHash-1-3 key (`k0`, `k1`), several keys at a time where possible.
pub fn hash_all<'k>(k0: u64, k1: u64, n: usize, key: impl Fn(usize) -> &'k [u8], mut out: impl FnMut(usize, u64)) {
    let lanes = Lanes::detect();
    let mut i = 0;
    while i < n {
        i += lanes.hash_group(k0, k1, i, n, &key, &mut out);
    }
}

/// The widest vector code this CPU runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lanes {
    One,
    #[cfg(target_arch = "x86_64")]
    Four,
    #[cfg(target_arch = "x86_64")]
    Eight,
}

impl Lanes {
    #[cfg(target_arch = "x86_64")]
    fn detect() -> Lanes {
        if std::is_x86_feature_detected!("avx512f") {
            Lanes::Eight
        } else if std::is_x86_feature_detected!("avx2") {
            Lanes::Four
        } else {
            Lanes::One
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn detect() -> Lanes {
        Lanes::One
    }

    /// Hashes the keys from `i` on that one call handles (a vector's worth
    /// when they have one length, else one); returns how many.
    #[inline]
    fn hash_group<'k>(self, k0: u64, k1: u64, i: usize, n: usize, key: &impl Fn(usize) -> &'k [u8], out: &mut impl FnMut(usize, u64)) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            if self == Lanes::Eight {
                if let Some(keys) = same_length::<8>(i, n, key) {
                    // SAFETY: AVX-512F was detected (`detect`).
                    let hashes = unsafe { avx512::sip13_x8(k0, k1, keys) };
                    hashes.into_iter().enumerate().for_each(|(j, h)| out(i + j, h));
                    return 8;
                }
            }
            if self != Lanes::One {
                if let Some(keys) = same_length::<4>(i, n, key) {
                    // SAFETY: AVX2 was detected (`detect`; AVX-512F CPUs have it).
                    let hashes = unsafe { avx2::sip13_x4(k0, k1, keys) };
                    hashes.into_iter().enumerate().for_each(|(j, h)| out(i + j, h));
                    return 4;
                }
            }
        }
        out(i, scalar(k0, k1, key(i)));
        1
    }
}

/// Keys `i..i + N` when all exist and have one length.
#[cfg(target_arch = "x86_64")] // the vector paths' helpers
#[inline]
fn same_length<'k, const N: usize>(i: usize, n: usize, key: &impl Fn(usize) -> &'k [u8]) -> Option<[&'k [u8]; N]> {
    if i + N > n {
        return None;
    }
    let keys: [&[u8]; N] = std::array::from_fn(|j| key(i + j));
    keys.iter().all(|k| k.len() == keys[0].len()).then_some(keys)
}

/// One 64-bit word of each key: bytes `at..at + 8`.
///
/// # Safety
/// Every key must be at least `at + 8` bytes long.
#[cfg(target_arch = "x86_64")] // the vector paths' helpers
#[inline(always)]
unsafe fn words<const N: usize>(keys: &[&[u8]; N], at: usize) -> [u64; N] {
    // SAFETY: in bounds (the caller's contract); unaligned reads are allowed.
    keys.map(|k| u64::from_le(unsafe { k.as_ptr().add(at).cast::<u64>().read_unaligned() }))
}

/// The final block of each key: its length in the top byte, its last
/// `len % 8` bytes below.
#[cfg(target_arch = "x86_64")] // the vector paths' helpers
#[inline(always)]
fn last_words<const N: usize>(keys: &[&[u8]; N], len: usize) -> [u64; N] {
    keys.map(|k| (len as u64) << 56 | tail_word(&k[len / 8 * 8..]))
}

/// SipHash's initial state constants ("somepseudorandomlygeneratedbytes").
#[cfg(target_arch = "x86_64")]
const C: [u64; 4] = [0x736f_6d65_7073_6575, 0x646f_7261_6e64_6f6d, 0x6c79_6765_6e65_7261, 0x7465_6462_7974_6573];

/// The one-key hash, shared with single calls (one copy of the code: a
/// second call site made the compiler stop specialising it).
#[inline]
fn scalar(k0: u64, k1: u64, key: &[u8]) -> u64 {
    crate::hasher::sip_hash(k0, k1, key)
}

/// The key's last `len % 8` bytes (`tail`, < 8) as a little-endian word,
/// without a `memcpy` call.
#[cfg(target_arch = "x86_64")] // the vector paths' helpers
#[inline(always)]
fn tail_word(tail: &[u8]) -> u64 {
    let n = tail.len();
    let le32 = |at: usize| u64::from(u32::from_le_bytes([tail[at], tail[at + 1], tail[at + 2], tail[at + 3]]));
    match n {
        0 => 0,
        // Bytes 0, n/2 and n-1 cover every byte of a 1 to 3 byte tail.
        1..=3 => u64::from(tail[0]) | u64::from(tail[n / 2]) << (8 * (n / 2)) | u64::from(tail[n - 1]) << (8 * (n - 1)),
        // Two 4-byte loads that overlap on bytes they agree on.
        _ => le32(0) | le32(n - 4) << (8 * (n - 4)),
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::C;

    macro_rules! rotl {
        ($x:expr, $r:literal) => {
            _mm256_or_si256(_mm256_slli_epi64::<$r>($x), _mm256_srli_epi64::<{ 64 - $r }>($x))
        };
    }

    /// Rotates each 64-bit lane left by 32 bits (swaps its halves).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn rotl32(x: __m256i) -> __m256i {
        _mm256_shuffle_epi32::<0b10_11_00_01>(x)
    }

    /// Rotates each 64-bit lane left by 16 bits (a byte shuffle).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn rotl16(x: __m256i) -> __m256i {
        let m = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13, 6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13);
        _mm256_shuffle_epi8(x, m)
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn round(v: &mut [__m256i; 4]) {
        v[0] = _mm256_add_epi64(v[0], v[1]);
        v[1] = _mm256_xor_si256(rotl!(v[1], 13), v[0]);
        v[0] = rotl32(v[0]);
        v[2] = _mm256_add_epi64(v[2], v[3]);
        v[3] = _mm256_xor_si256(rotl16(v[3]), v[2]);
        v[0] = _mm256_add_epi64(v[0], v[3]);
        v[3] = _mm256_xor_si256(rotl!(v[3], 21), v[0]);
        v[2] = _mm256_add_epi64(v[2], v[1]);
        v[1] = _mm256_xor_si256(rotl!(v[1], 17), v[2]);
        v[2] = rotl32(v[2]);
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn compress(v: &mut [__m256i; 4], m: __m256i) {
        v[3] = _mm256_xor_si256(v[3], m);
        round(v);
        v[0] = _mm256_xor_si256(v[0], m);
    }

    /// One 64-bit word per key, lane i from `words[i]`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn lanes(words: [u64; 4]) -> __m256i {
        _mm256_setr_epi64x(words[0] as i64, words[1] as i64, words[2] as i64, words[3] as i64)
    }

    /// # Safety
    /// The CPU must support AVX2. All four keys must have the same length.
    #[target_feature(enable = "avx2")]
    pub unsafe fn sip13_x4(k0: u64, k1: u64, keys: [&[u8]; 4]) -> [u64; 4] {
        let len = keys[0].len();
        debug_assert!(keys.iter().all(|k| k.len() == len));
        let mut v = [
            _mm256_set1_epi64x((k0 ^ C[0]) as i64),
            _mm256_set1_epi64x((k1 ^ C[1]) as i64),
            _mm256_set1_epi64x((k0 ^ C[2]) as i64),
            _mm256_set1_epi64x((k1 ^ C[3]) as i64),
        ];
        for at in (0..len / 8).map(|w| w * 8) {
            // SAFETY: at + 8 <= len, the length of every key.
            compress(&mut v, lanes(unsafe { super::words(&keys, at) }));
        }
        compress(&mut v, lanes(super::last_words(&keys, len)));
        v[2] = _mm256_xor_si256(v[2], _mm256_set1_epi64x(0xff));
        round(&mut v);
        round(&mut v);
        round(&mut v);
        let h = _mm256_xor_si256(_mm256_xor_si256(v[0], v[1]), _mm256_xor_si256(v[2], v[3]));
        let mut out = [0u64; 4];
        // SAFETY: `out` is 32 writable bytes; the store needs no alignment.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), h) };
        out
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::C;

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn round(v: &mut [__m512i; 4]) {
        v[0] = _mm512_add_epi64(v[0], v[1]);
        v[1] = _mm512_xor_si512(_mm512_rol_epi64::<13>(v[1]), v[0]);
        v[0] = _mm512_rol_epi64::<32>(v[0]);
        v[2] = _mm512_add_epi64(v[2], v[3]);
        v[3] = _mm512_xor_si512(_mm512_rol_epi64::<16>(v[3]), v[2]);
        v[0] = _mm512_add_epi64(v[0], v[3]);
        v[3] = _mm512_xor_si512(_mm512_rol_epi64::<21>(v[3]), v[0]);
        v[2] = _mm512_add_epi64(v[2], v[1]);
        v[1] = _mm512_xor_si512(_mm512_rol_epi64::<17>(v[1]), v[2]);
        v[2] = _mm512_rol_epi64::<32>(v[2]);
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn compress(v: &mut [__m512i; 4], m: [u64; 8]) {
        // SAFETY: `m` is 64 readable bytes; the load needs no alignment.
        let m = unsafe { _mm512_loadu_si512(m.as_ptr().cast()) };
        v[3] = _mm512_xor_si512(v[3], m);
        round(v);
        v[0] = _mm512_xor_si512(v[0], m);
    }

    /// # Safety
    /// The CPU must support AVX-512F. All eight keys must have the same length.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn sip13_x8(k0: u64, k1: u64, keys: [&[u8]; 8]) -> [u64; 8] {
        let len = keys[0].len();
        debug_assert!(keys.iter().all(|k| k.len() == len));
        let mut v = [
            _mm512_set1_epi64((k0 ^ C[0]) as i64),
            _mm512_set1_epi64((k1 ^ C[1]) as i64),
            _mm512_set1_epi64((k0 ^ C[2]) as i64),
            _mm512_set1_epi64((k1 ^ C[3]) as i64),
        ];
        for at in (0..len / 8).map(|w| w * 8) {
            // SAFETY: at + 8 <= len, the length of every key.
            compress(&mut v, unsafe { super::words(&keys, at) });
        }
        compress(&mut v, super::last_words(&keys, len));
        v[2] = _mm512_xor_si512(v[2], _mm512_set1_epi64(0xff));
        round(&mut v);
        round(&mut v);
        round(&mut v);
        let h = _mm512_xor_si512(_mm512_xor_si512(v[0], v[1]), _mm512_xor_si512(v[2], v[3]));
        let mut out = [0u64; 8];
        // SAFETY: `out` is 64 writable bytes; the store needs no alignment.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), h) };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> impl FnMut() -> u64 {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Every path this CPU has, forced one at a time, against the scalar hash.
    #[test]
    fn every_lane_width_equals_scalar_siphash_for_equal_and_mixed_lengths() {
        let mut next = rng();
        #[cfg(target_arch = "x86_64")]
        let all = [Lanes::One, Lanes::Four, Lanes::Eight];
        #[cfg(not(target_arch = "x86_64"))]
        let all = [Lanes::One];
        // The detected width and every narrower one (an AVX-512 CPU runs the
        // AVX2 path too).
        let widths: Vec<Lanes> = all.into_iter().filter(|&w| w as u8 <= Lanes::detect() as u8).collect();
        let mut checked = 0;
        for &lanes in &widths {
            for len in 0..80 {
                for mixed in [false, true] {
                    let (k0, k1) = (next(), next());
                    // 21 keys: groups of eight and four, and a remainder.
                    let keys: Vec<Vec<u8>> =
                        (0..21).map(|i| (0..if mixed { len + i % 3 } else { len }).map(|_| next() as u8).collect()).collect();
                    let mut got = vec![None; keys.len()];
                    let mut i = 0;
                    while i < keys.len() {
                        i += lanes.hash_group(k0, k1, i, keys.len(), &|j| &keys[j][..], &mut |j, h| got[j] = Some(h));
                    }
                    for (j, k) in keys.iter().enumerate() {
                        assert_eq!(got[j], Some(scalar(k0, k1, k)), "{lanes:?} len {} key {j} mixed {mixed}", k.len());
                        checked += 1;
                    }
                }
            }
            println!("sip4: {lanes:?}: hashes equal the scalar ones");
        }
        assert_eq!(checked, widths.len() * 80 * 2 * 21);
    }

    #[test]
    fn hash_all_visits_every_key_once_in_order() {
        let keys: Vec<Vec<u8>> = (0..37u8).map(|i| vec![i; 16]).collect();
        let mut seen = Vec::new();
        hash_all(1, 2, keys.len(), |i| &keys[i], |i, h| seen.push((i, h)));
        assert_eq!(seen.iter().map(|&(i, _)| i).collect::<Vec<_>>(), (0..37).collect::<Vec<_>>());
        assert!(seen.iter().all(|&(i, h)| h == scalar(1, 2, &keys[i])));
    }
}
