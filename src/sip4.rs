//! SipHash-1-3 of four keys at once, for batches.
//!
//! A batch call hashes every key before it touches a table, and SipHash is a
//! third of a lookup's instructions. Its rounds are a chain of 64-bit adds,
//! rotates and xors with no parallelism inside one hash, but four hashes fit
//! the four 64-bit lanes of an AVX2 register: one vector round costs about
//! what 1.5 scalar rounds do. Used for groups of four keys of one length
//! (fixed-size keys, the common case) on CPUs with AVX2; everything else
//! goes through the scalar hasher. The tests check it against `siphasher`
//! bit for bit.

/// Calls `out(i, hash)` for every `i < n`, the hash of `key(i)` under the
/// SipHash-1-3 key (`k0`, `k1`), four keys at a time where possible.
pub fn hash_all<'k>(k0: u64, k1: u64, n: usize, key: impl Fn(usize) -> &'k [u8], mut out: impl FnMut(usize, u64)) {
    let done = by_fours(k0, k1, n, &key, &mut out);
    for i in done..n {
        out(i, scalar(k0, k1, key(i)));
    }
}

/// Hashes whole groups of four keys (vector code where they have one length);
/// returns how many keys it hashed: none without AVX2.
#[cfg(target_arch = "x86_64")]
fn by_fours<'k>(k0: u64, k1: u64, n: usize, key: &impl Fn(usize) -> &'k [u8], out: &mut impl FnMut(usize, u64)) -> usize {
    if n < 4 || !std::is_x86_feature_detected!("avx2") {
        return 0;
    }
    for i in (0..n - n % 4).step_by(4) {
        let keys = [key(i), key(i + 1), key(i + 2), key(i + 3)];
        let len = keys[0].len();
        if keys.iter().all(|k| k.len() == len) {
            // SAFETY: AVX2 was detected above; the keys have one length.
            let hashes = unsafe { avx2::sip13_x4(k0, k1, keys) };
            for (j, h) in hashes.into_iter().enumerate() {
                out(i + j, h);
            }
        } else {
            for (j, k) in keys.into_iter().enumerate() {
                out(i + j, scalar(k0, k1, k));
            }
        }
    }
    n - n % 4
}

#[cfg(not(target_arch = "x86_64"))]
fn by_fours<'k>(_: u64, _: u64, _: usize, _: &impl Fn(usize) -> &'k [u8], _: &mut impl FnMut(usize, u64)) -> usize {
    0
}

/// The one-key hash, shared with single calls (one copy of the code: a
/// second call site made the compiler stop specialising it).
#[inline]
fn scalar(k0: u64, k1: u64, key: &[u8]) -> u64 {
    crate::hasher::sip_hash(k0, k1, key)
}

/// The key's last `len % 8` bytes (`tail`, < 8) as a little-endian word,
/// without a `memcpy` call.
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

    /// SipHash's initial state constants ("somepseudorandomlygeneratedbytes").
    const C: [u64; 4] = [0x736f_6d65_7073_6575, 0x646f_7261_6e64_6f6d, 0x6c79_6765_6e65_7261, 0x7465_6462_7974_6573];

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
        let word = |k: &[u8], at: usize| u64::from_le_bytes(k[at..at + 8].try_into().unwrap_or_default());
        let full = len / 8 * 8;
        for at in (0..full).step_by(8) {
            compress(&mut v, lanes(keys.map(|k| word(k, at))));
        }
        let last = (len as u64) << 56;
        compress(&mut v, lanes(keys.map(|k| last | super::tail_word(&k[full..]))));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_scalar_siphash_for_equal_and_mixed_lengths() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut checked = 0;
        for len in 0..80 {
            for mixed in [false, true] {
                let (k0, k1) = (next(), next());
                // 11 keys: two groups of four and a remainder of three.
                let keys: Vec<Vec<u8>> =
                    (0..11).map(|i| (0..if mixed { len + i % 3 } else { len }).map(|_| next() as u8).collect()).collect();
                let mut got = vec![0u64; keys.len()];
                hash_all(k0, k1, keys.len(), |i| &keys[i], |i, h| got[i] = h);
                for (i, k) in keys.iter().enumerate() {
                    assert_eq!(got[i], scalar(k0, k1, k), "len {} key {i} mixed {mixed}", k.len());
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 80 * 2 * 11);
        #[cfg(target_arch = "x86_64")]
        println!("sip4: {checked} hashes equal the scalar ones (AVX2: {})", std::is_x86_feature_detected!("avx2"));
    }
}
