//! Fuzz target `api_sequence`: decodes the input into a sequence of C API
//! calls on two maps and checks every result against a model
//! (`BTreeMap<Vec<u8>, Vec<u8>>`, deterministic so that coverage is stable).
//!
//! Covered: every `dm_` function (59), good and bad arguments (NULL map, NULL
//! pointer with a length, lengths over PTRDIFF_MAX, NULL callbacks and
//! out-pointers, combinations that test the NULL-before-INVALID-before-
//! REENTRANT order), callbacks that set/remove/mutate entries, walks that
//! stop early, retain predicates, reentrant calls from inside callbacks
//! (DM_ERR_REENTRANT and the documented plain return values), calls on the
//! other map from inside a callback, freeing a handle from inside its own
//! callback, and a cursor kept open across mutations (no key twice, every
//! key present throughout seen exactly once), time-to-live on a manual clock
//! (moved forwards and backwards: lazy expiry, purge, ttl_remaining) and
//! bounded maps (`max_entries`, DM_ERR_FULL). The model stores what the map
//! stores, expired entries included, so dm_len and dm_stats_get are exact;
//! where the outcome depends on shard placement (a full bounded map sweeping
//! one shard), the harness accepts either documented outcome and resyncs the
//! model by dm_purge_expired plus reads.
//!
//! A failed check prints what differed and aborts, which libFuzzer reports
//! as a crash; `abort` (not `panic!`) so that a failure inside a callback
//! cannot be caught by the library and turned into DM_ERR_PANIC.
//!
//! DM_FUZZ_TRACE=1 prints each operation (to read a crash input).

#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_char, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use dashmap::*;
use libfuzzer_sys::fuzz_target;

/// Constructors given an impossible capacity must see the allocation fail
/// (DM_ERR_NO_MEMORY / NULL) instead of ASan reporting allocation-size-too-big.
#[no_mangle]
pub extern "C" fn __asan_default_options() -> *const c_char {
    c"allocator_may_return_null=1".as_ptr()
}

const HUGE: usize = isize::MAX as usize + 1; // > PTRDIFF_MAX
const SENT: usize = 0xDEAD_BEEF_0BAD_F00D; // "not written" sentinel for out-lengths

/// DM_FUZZ_TRACE=1 prints each operation (for reading a crash input).
fn trace() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var("DM_FUZZ_TRACE").is_ok_and(|v| v == "1"))
}

macro_rules! fail {
    ($($fmt:tt)+) => {{
        eprintln!("\n=== api_sequence: CHECK FAILED at {}:{}: {}", file!(), line!(), format!($($fmt)+));
        std::process::abort();
    }};
}

macro_rules! check {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            fail!("{} -- {}", stringify!($cond), format!($($fmt)+));
        }
    };
}

macro_rules! check_eq {
    ($got:expr, $want:expr, $($fmt:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            fail!("{} = {:?}, expected {:?} -- {}", stringify!($got), got, want, format!($($fmt)+));
        }
    }};
}

// ---------------------------------------------------------------------------
// Input decoding

struct In<'a> {
    d: &'a [u8],
    i: usize,
}

impl In<'_> {
    fn done(&self) -> bool {
        self.i >= self.d.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.d.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        b
    }
    fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else {
            (self.u8() as usize | (self.u8() as usize) << 8) % n
        }
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, _| acc << 8 | self.u8() as u64)
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.u8()).collect()
    }
}

const POOL: &[&[u8]] = &[b"", b"a", b"b", b"ab", b"key", b"\0", b"\xff\xff", b"counter", b"0123456789abcdef0123"];

fn pick_key(inp: &mut In, model: &Model) -> Vec<u8> {
    match inp.below(5) {
        0 | 1 => POOL[inp.below(POOL.len())].to_vec(),
        2 | 3 if !model.stored.is_empty() => model.stored.keys().nth(inp.below(model.stored.len())).unwrap().clone(),
        _ => inp.bytes(24),
    }
}

fn pick_value(inp: &mut In) -> Vec<u8> {
    match inp.below(6) {
        0 => Vec::new(),
        1 => (inp.u8() as i64 - 100).to_le_bytes().to_vec(), // a counter
        2 => vec![inp.u8(); 300 + inp.below(3000)],           // a larger value
        _ => inp.bytes(40),
    }
}

fn to_vec(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        Vec::new()
    } else {
        check!(!p.is_null(), "NULL pointer with length {len}");
        unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
    }
}

fn fnv(bytes: &[u8], salt: u8) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64 ^ salt as u64, |h, &b| (h ^ b as u64).wrapping_mul(0x1_0000_0001_b3))
}

// ---------------------------------------------------------------------------
// The model: what a map stores (expired entries included), its clock and bound.

/// An entry's deadline: `At` on a manual clock (exact), `Far(ttl)` on the
/// monotonic clock (a TTL far beyond any run, so it never expires here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dl {
    At(u64),
    Far(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Ent {
    val: Vec<u8>,
    dl: Option<Dl>,
}

#[derive(Default)]
struct Model {
    stored: BTreeMap<Vec<u8>, Ent>,
    now: u64,
    manual: bool,
    max: usize,
}

/// Whether a bounded map admits one more key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Adm {
    Yes,
    No,
    /// Full, but expired entries exist: admitted iff the key's shard holds one.
    Maybe,
}

impl Model {
    fn new(manual: bool, max: usize) -> Model {
        Model { manual, max, ..Model::default() }
    }
    fn alive(&self, e: &Ent) -> bool {
        match e.dl {
            Some(Dl::At(d)) => self.now < d,
            _ => true,
        }
    }
    fn live_ent(&self, k: &[u8]) -> Option<&Ent> {
        self.stored.get(k).filter(|e| self.alive(e))
    }
    fn live(&self, k: &[u8]) -> Option<&Vec<u8>> {
        self.live_ent(k).map(|e| &e.val)
    }
    fn live_map(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.stored.iter().filter(|(_, e)| self.alive(e)).map(|(k, e)| (k.clone(), e.val.clone())).collect()
    }
    fn live_len(&self) -> usize {
        self.stored.values().filter(|e| self.alive(e)).count()
    }
    fn expired(&self) -> usize {
        self.stored.len() - self.live_len()
    }
    fn deadline(&self, ttl: u64) -> Option<Dl> {
        match ttl {
            0 => None,
            // Capped below UINT64_MAX so that no time left reads as DM_TTL_NONE.
            t if self.manual => Some(Dl::At(self.now.saturating_add(t).min(u64::MAX - 1))),
            t => Some(Dl::Far(t)),
        }
    }
    fn admit(&self) -> Adm {
        if self.max == 0 || self.stored.len() < self.max {
            Adm::Yes
        } else if self.expired() > 0 {
            Adm::Maybe
        } else {
            Adm::No
        }
    }
}

// ---------------------------------------------------------------------------
// State: two maps with models, extra references, and one long-lived cursor.

struct Slot {
    h: *mut dm_map,
    model: Model,
    refs: Vec<*mut dm_map>,
    gen: u64,
}

/// A cursor kept open across other operations.
struct OpenIter {
    it: *mut dm_iter,
    gen: u64,
    /// Keys live since the cursor was made; value Some when unchanged since.
    stable: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Every key that was live at some moment during the iteration.
    ever: BTreeSet<Vec<u8>>,
    seen: BTreeSet<Vec<u8>>,
}

struct H<'a> {
    inp: In<'a>,
    maps: [Slot; 2],
    iter: Option<OpenIter>,
    next_gen: u64,
    /// Set by a callback that released the last handle of `maps[i]`.
    dead: [bool; 2],
    depth: u32,
}

fn seeded_map(seed: u64, fast: bool, shards: usize, max_entries: usize) -> *mut dm_map {
    let opts = dm_options {
        capacity: 0,
        shards,
        hasher: if fast { DM_HASHER_FAST } else { DM_HASHER_SIPHASH },
        seed,
        max_entries,
        manual_clock: true,
    };
    let mut out = null_mut();
    let st = unsafe { dm_new_with_options(&opts, &mut out) };
    check_eq!(st, DM_OK, "dm_new_with_options(seed {seed}, shards {shards})");
    check!(!out.is_null(), "map");
    out
}

impl H<'_> {
    fn model(&self, s: usize) -> &Model {
        &self.maps[s].model
    }

    fn key(&mut self, s: usize) -> Vec<u8> {
        pick_key(&mut self.inp, &self.maps[s].model)
    }

    /// A TTL argument that suits the map's clock.
    fn ttl(&mut self, s: usize) -> u64 {
        if self.maps[s].model.manual {
            [0, 0, 1, 2, 3, 5, 10, 100, 1 << 40, u64::MAX][self.inp.below(10)]
        } else {
            [0, 1 << 40, 1 << 50][self.inp.below(3)]
        }
    }

    fn tracking(&mut self, s: usize) -> Option<&mut OpenIter> {
        let gen = self.maps[s].gen;
        self.iter.as_mut().filter(|it| it.gen == gen)
    }

    /// Stores `key -> ent` in the model of slot `s`.
    fn m_put(&mut self, s: usize, key: &[u8], ent: Ent) {
        let val = ent.val.clone();
        let alive = self.maps[s].model.alive(&ent);
        self.maps[s].model.stored.insert(key.to_vec(), ent);
        if let Some(it) = self.tracking(s) {
            if !alive {
                // e.g. a TTL set while the clock is at UINT64_MAX: expired at once
                it.stable.remove(key);
            } else {
                if let Some(v) = it.stable.get_mut(key) {
                    if v.as_deref() != Some(&val[..]) {
                        *v = None;
                    }
                }
                it.ever.insert(key.to_vec());
            }
        }
    }

    /// Replaces a live entry's value, keeping its deadline (in-place updates).
    fn m_update(&mut self, s: usize, key: &[u8], val: &[u8]) {
        let dl = self.model(s).stored.get(key).and_then(|e| e.dl);
        self.m_put(s, key, Ent { val: val.to_vec(), dl });
    }

    /// Records the removal of `key` from slot `s`.
    fn m_del(&mut self, s: usize, key: &[u8]) {
        self.maps[s].model.stored.remove(key);
        if let Some(it) = self.tracking(s) {
            it.stable.remove(key);
        }
    }

    /// A write met `key`: an expired entry stored for it is removed.
    fn m_meet(&mut self, s: usize, key: &[u8]) {
        let m = &self.maps[s].model;
        if m.stored.contains_key(key) && m.live_ent(key).is_none() {
            self.m_del(s, key);
        }
    }

    /// Removes every expired entry; returns how many.
    fn m_purge(&mut self, s: usize) -> usize {
        let m = &self.maps[s].model;
        let dead: Vec<Vec<u8>> = m.stored.iter().filter(|(_, e)| !m.alive(e)).map(|(k, _)| k.clone()).collect();
        for k in &dead {
            self.m_del(s, k);
        }
        dead.len()
    }

    fn m_clear(&mut self, s: usize) {
        let keys: Vec<_> = self.maps[s].model.stored.keys().cloned().collect();
        for k in keys {
            self.m_del(s, &k);
        }
    }

    /// Moves the manual clock of slot `s` in the model.
    fn m_clock(&mut self, s: usize, now: u64) {
        self.maps[s].model.now = now;
        let m = &self.maps[s].model;
        let live: BTreeSet<Vec<u8>> = m.stored.iter().filter(|(_, e)| m.alive(e)).map(|(k, _)| k.clone()).collect();
        if let Some(it) = self.tracking(s) {
            it.stable.retain(|k, _| live.contains(k));
            it.ever.extend(live);
        }
    }

    /// Replaces slot `s` with a new map `h` (already created), releasing the old one.
    fn replace_map(&mut self, s: usize, h: *mut dm_map, model: Model, release_old: bool) {
        let old = std::mem::replace(&mut self.maps[s], Slot { h, model, refs: Vec::new(), gen: self.next_gen });
        self.next_gen += 1;
        if release_old {
            unsafe { dm_free(old.h) };
        }
        for r in old.refs {
            unsafe { dm_free(r) };
        }
    }

    /// A map freed from inside its callback is replaced once the call returned.
    fn reap(&mut self) {
        for s in 0..2 {
            if std::mem::take(&mut self.dead[s]) {
                let h = seeded_map(1000 + self.next_gen, false, 4, 0);
                self.replace_map(s, h, Model::new(true, 0), false);
            }
        }
    }
}

/// Reads one key's live state back from the map (value and TTL).
fn read_back(m: *mut dm_map, key: &[u8], model: &Model) -> Option<Ent> {
    let mut len = 0;
    let st = unsafe { dm_get_copy(m, key.as_ptr(), key.len(), null_mut(), 0, &mut len) };
    if st == DM_NOT_FOUND {
        return None;
    }
    check!(st == DM_OK || st == DM_BUFFER_TOO_SMALL, "dm_get_copy size query = {st}");
    let mut buf = vec![0u8; len];
    check_eq!(unsafe { dm_get_copy(m, key.as_ptr(), key.len(), buf.as_mut_ptr(), len, &mut len) }, DM_OK, "dm_get_copy");
    let mut ms = 0;
    check_eq!(unsafe { dm_ttl_remaining(m, key.as_ptr(), key.len(), &mut ms) }, DM_OK, "dm_ttl_remaining of a live key");
    let dl = match ms {
        DM_TTL_NONE => None,
        ms if model.manual => Some(Dl::At(model.now + ms)),
        ms => Some(Dl::Far(ms)), // real time: at most `ms` left from now on
    };
    Some(Ent { val: buf, dl })
}

/// Where the outcome depended on shard placement: sweeps expired entries
/// from map and model alike, then reads `keys` back into the model.
fn resync(h: &mut H, s: usize, keys: &[Vec<u8>]) {
    let m = h.maps[s].h;
    check_eq!(unsafe { dm_purge_expired(m, null_mut()) }, DM_OK, "dm_purge_expired (resync)");
    h.m_purge(s);
    for k in keys {
        match read_back(m, k, h.model(s)) {
            Some(e) => h.m_put(s, k, e),
            None => h.m_del(s, k),
        }
    }
    check_eq!(unsafe { dm_len(m) }, h.model(s).stored.len(), "dm_len after resync");
}

/// The key is not live (its expired entry already met): `st` came from a call
/// that inserts `ent` as a new key and answers `ok` then. Returns whether it
/// was inserted.
fn absent_insert(h: &mut H, s: usize, key: &[u8], ent: Ent, st: dm_status, ok: dm_status, what: &str) -> bool {
    match h.model(s).admit() {
        Adm::Yes => {
            check_eq!(st, ok, "{what} (new key)");
            h.m_put(s, key, ent);
            true
        }
        Adm::No => {
            check_eq!(st, DM_ERR_FULL, "{what} on a full map");
            false
        }
        Adm::Maybe => {
            check!(st == ok || st == DM_ERR_FULL, "{what} on a full map with expired entries = {st}");
            if st == ok {
                h.m_put(s, key, ent.clone());
            }
            resync(h, s, &[key.to_vec()]);
            if st == ok && h.model(s).alive(&ent) {
                check_eq!(h.model(s).live(key), Some(&ent.val), "{what}: inserted value");
            }
            st == ok
        }
    }
}

// ---------------------------------------------------------------------------
// Whole-map consistency

fn check_whole(h: &mut H, s: usize, what: &str) {
    let m = h.maps[s].h;
    let model = &h.maps[s].model;
    check_eq!(unsafe { dm_len(m) }, model.stored.len(), "dm_len (stored, expired included) after {what}");
    check_eq!(unsafe { dm_is_empty(m) }, model.stored.is_empty(), "dm_is_empty after {what}");
    if model.manual {
        check_eq!(unsafe { dm_clock_now(m) }, model.now, "dm_clock_now after {what}");
    }
    let it = unsafe { dm_iter_new(m) };
    check!(!it.is_null(), "dm_iter_new");
    let mut seen = BTreeMap::new();
    loop {
        let (mut k, mut kl, mut v, mut vl) = (null(), SENT, null(), SENT);
        let st = unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) };
        if st == DM_NOT_FOUND {
            break;
        }
        check_eq!(st, DM_OK, "dm_iter_next after {what}");
        let key = to_vec(k, kl);
        check!(seen.insert(key.clone(), to_vec(v, vl)).is_none(), "key {key:?} returned twice after {what}");
    }
    // Stays at the end.
    let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
    check_eq!(unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) }, DM_NOT_FOUND, "cursor stays at the end");
    unsafe { dm_iter_free(it) };
    let live = model.live_map();
    if seen != live {
        fail!("map contents differ from the model after {what}:\n map   {seen:?}\n model {live:?}");
    }
    for (k, e) in &model.stored {
        if !model.alive(e) {
            continue;
        }
        let mut ms = SENT as u64;
        check_eq!(unsafe { dm_ttl_remaining(m, k.as_ptr(), k.len(), &mut ms) }, DM_OK, "dm_ttl_remaining after {what}");
        check_ttl(model, e, ms, what);
    }
}

fn check_ttl(model: &Model, e: &Ent, ms: u64, what: &str) {
    match e.dl {
        None => check_eq!(ms, DM_TTL_NONE, "no TTL after {what} (now {})", model.now),
        Some(Dl::At(d)) => check_eq!(ms, d.saturating_sub(model.now).max(1), "TTL left after {what} (deadline {d}, now {})", model.now),
        Some(Dl::Far(t)) => check!(ms <= t && ms > t - (1 << 36), "TTL left {ms} of {t} after {what}"),
    }
}
// ---------------------------------------------------------------------------
// Callbacks. Each gets a context with a raw pointer to the harness.

unsafe extern "C-unwind" fn read_noop(_v: *const u8, _l: usize, _c: *mut c_void) {
    fail!("a reentrant dm_get_with ran its callback");
}
unsafe extern "C-unwind" fn visit_noop(_k: *const u8, _kl: usize, _v: *const u8, _vl: usize, _c: *mut c_void) -> bool {
    fail!("a reentrant call ran its visit callback");
}
unsafe extern "C-unwind" fn visit_mut_noop(_k: *const u8, _kl: usize, _v: *mut u8, _vl: usize, _c: *mut c_void) -> bool {
    fail!("a reentrant dm_for_each_mut ran its callback");
}
unsafe extern "C-unwind" fn entry_noop(_e: *mut dm_entry, _c: *mut c_void) {
    fail!("a reentrant dm_entry_update ran its callback");
}

/// Calls one function on map `s` from inside one of its callbacks: nothing
/// may happen, and the documented "reentrant" result must come back.
/// Argument errors must still win over DM_ERR_REENTRANT.
fn probe_reentrant(h: &mut H, s: usize) {
    let m = h.maps[s].h;
    let sel = h.inp.below(43);
    let k = b"key";
    let (kp, kl) = (k.as_ptr(), k.len());
    let mut buf = [0u8; 16];
    let mut len = SENT;
    let mut ms = SENT as u64;
    let sl = [dm_slice { ptr: kp, len: kl }];
    let what = format!("reentrant probe {sel}");
    unsafe {
        let st = match sel {
            0 => dm_insert(m, kp, kl, kp, kl),
            1 => dm_get_copy(m, kp, kl, buf.as_mut_ptr(), buf.len(), &mut len),
            2 => dm_get_with(m, kp, kl, Some(read_noop), null_mut()),
            3 => {
                let mut out = null_mut();
                dm_get_alloc(m, kp, kl, &mut out, &mut len)
            }
            4 => {
                check!(!dm_contains_key(m, kp, kl), "dm_contains_key inside a callback must be false");
                DM_ERR_REENTRANT
            }
            5 => dm_remove(m, kp, kl, buf.as_mut_ptr(), buf.len(), &mut len),
            6 => dm_remove_if(m, kp, kl, Some(visit_noop), null_mut()),
            7 => {
                check_eq!(dm_len(m), usize::MAX, "dm_len inside a callback");
                DM_ERR_REENTRANT
            }
            8 => {
                check!(!dm_is_empty(m), "dm_is_empty inside a callback must be false");
                DM_ERR_REENTRANT
            }
            9 => {
                check_eq!(dm_capacity(m), usize::MAX, "dm_capacity inside a callback");
                DM_ERR_REENTRANT
            }
            10 => dm_clear(m),
            11 => dm_shrink_to_fit(m),
            12 => dm_try_insert(m, kp, kl, kp, kl),
            13 => dm_get_or_insert(m, kp, kl, kp, kl, buf.as_mut_ptr(), buf.len(), &mut len),
            14 => dm_compare_and_swap(m, kp, kl, kp, kl, kp, kl),
            15 => dm_compare_and_remove(m, kp, kl, kp, kl),
            16 => dm_swap(m, kp, kl, kp, kl, buf.as_mut_ptr(), buf.len(), &mut len),
            17 => dm_add_i64(m, kp, kl, 1, null_mut()),
            18 => dm_entry_update(m, kp, kl, Some(entry_noop), null_mut()),
            19 => dm_for_each(m, Some(visit_noop), null_mut()),
            20 => dm_for_each_mut(m, Some(visit_mut_noop), null_mut()),
            21 => dm_retain_cb(m, Some(visit_noop), null_mut()),
            22 => {
                check!(dm_iter_new(m).is_null(), "dm_iter_new inside a callback must be NULL");
                DM_ERR_REENTRANT
            }
            23 => match h.iter.as_ref() {
                Some(it) if it.gen == h.maps[s].gen => {
                    let (mut a, mut b, mut c, mut d) = (null(), 0, null(), 0);
                    dm_iter_next(it.it, &mut a, &mut b, &mut c, &mut d)
                }
                _ => DM_ERR_REENTRANT,
            },
            24 => dm_extend(m, sl.as_ptr(), sl.as_ptr(), 1),
            25 => {
                let mut lens = [SENT];
                dm_get_many(m, sl.as_ptr(), 1, buf.as_mut_ptr(), buf.len(), lens.as_mut_ptr(), &mut len)
            }
            26 => dm_remove_many(m, sl.as_ptr(), 1, null_mut()),
            27 => dm_shard_len(m, 0, &mut len),
            28 => {
                let mut stats = dm_stats::default();
                dm_stats_get(m, &mut stats)
            }
            29 => {
                // Lock-free calls keep working.
                check!(dm_shard_count(m) >= 2, "dm_shard_count inside a callback");
                let r = dm_ref(m);
                check_eq!(r, m, "dm_ref inside a callback");
                dm_free(r);
                DM_ERR_REENTRANT
            }
            30 => {
                // NULL before REENTRANT
                check_eq!(dm_insert(m, null(), 1, kp, kl), DM_ERR_NULL, "NULL key inside a callback");
                check_eq!(dm_get_copy(m, kp, kl, buf.as_mut_ptr(), 4, null_mut()), DM_ERR_NULL, "NULL val_len inside a callback");
                check_eq!(dm_for_each(m, None, null_mut()), DM_ERR_NULL, "NULL f inside a callback");
                check_eq!(dm_entry_update(m, kp, kl, None, null_mut()), DM_ERR_NULL, "NULL f inside a callback");
                check_eq!(dm_insert(m, null(), 1, kp, HUGE), DM_ERR_NULL, "NULL wins over INVALID inside a callback");
                check_eq!(dm_ttl_remaining(m, kp, kl, null_mut()), DM_ERR_NULL, "NULL ms inside a callback");
                DM_ERR_REENTRANT
            }
            31 => {
                // INVALID before REENTRANT
                check_eq!(dm_insert(m, kp, HUGE, kp, kl), DM_ERR_INVALID, "huge key inside a callback");
                check_eq!(dm_remove_if(m, kp, kl, None, null_mut()), DM_ERR_NULL, "NULL pred inside a callback");
                let bad = [dm_slice { ptr: kp, len: HUGE }];
                check_eq!(dm_remove_many(m, bad.as_ptr(), 1, null_mut()), DM_ERR_INVALID, "huge slice inside a callback");
                check_eq!(dm_touch(m, kp, kl, 0), DM_ERR_INVALID, "dm_touch(ttl 0) inside a callback");
                DM_ERR_REENTRANT
            }
            32 => {
                // An out-of-range shard is an argument error: INVALID first.
                check_eq!(dm_shard_len(m, usize::MAX, &mut len), DM_ERR_INVALID, "dm_shard_len(bad shard) inside a callback");
                DM_ERR_REENTRANT
            }
            33 => dm_insert_ttl(m, kp, kl, kp, kl, 5),
            34 => dm_try_insert_ttl(m, kp, kl, kp, kl, 5),
            35 => dm_add_i64_ttl(m, kp, kl, 1, 5, null_mut()),
            36 => dm_expire(m, kp, kl, 5),
            37 => dm_touch(m, kp, kl, 5),
            38 => dm_ttl_remaining(m, kp, kl, &mut ms),
            39 => {
                let mut removed = SENT;
                let st = dm_purge_expired(m, &mut removed);
                check_eq!(removed, SENT, "dm_purge_expired wrote inside a callback");
                st
            }
            40 => {
                // The clock takes no lock: it works inside callbacks.
                let model = h.model(s);
                if model.manual {
                    check_eq!(dm_clock_now(m), model.now, "dm_clock_now inside a callback");
                    check_eq!(dm_clock_set(m, model.now), DM_OK, "dm_clock_set inside a callback");
                } else {
                    check_eq!(dm_clock_set(m, 5), DM_ERR_INVALID, "dm_clock_set on a real-time map");
                }
                DM_ERR_REENTRANT
            }
            41 => match h.iter.as_ref() {
                Some(it) if it.gen == h.maps[s].gen => {
                    let mut lens = [SENT; 2];
                    let mut count = SENT;
                    let st = dm_iter_next_many(it.it, buf.as_mut_ptr(), buf.len(), lens.as_mut_ptr(), 1, &mut count, &mut len);
                    check!(count == SENT && lens == [SENT; 2], "dm_iter_next_many wrote inside a callback");
                    st
                }
                _ => DM_ERR_REENTRANT,
            },
            _ => {
                let st = dm_status_str(DM_ERR_REENTRANT);
                check!(!st.is_null(), "dm_status_str");
                DM_ERR_REENTRANT
            }
        };
        check_eq!(st, DM_ERR_REENTRANT, "{what}");
        check!(len == SENT, "{what}: out-length written by a refused call");
        check!(ms == SENT as u64, "{what}: *ms written by a refused call");
    }
}

/// From inside a callback on map `s`, work on the other map: allowed, and real.
fn cross_map_op(h: &mut H, s: usize) {
    let o = 1 - s;
    if h.dead[o] {
        return;
    }
    let m = h.maps[o].h;
    match h.inp.below(5) {
        0 => op_insert(h, o, true),
        1 => {
            let key = h.key(o);
            op_remove(h, o, &key);
        }
        2 => op_clock(h, o),
        3 => check_eq!(unsafe { dm_len(m) }, h.model(o).stored.len(), "dm_len of the other map inside a callback"),
        _ => {
            // Nested: a callback of the other map, inside which both maps refuse.
            struct Nest<'a> {
                h: *mut H<'a>,
                s: usize,
                o: usize,
            }
            unsafe extern "C-unwind" fn nested(_v: *const u8, _l: usize, ctx: *mut c_void) {
                let n = unsafe { &mut *(ctx as *mut Nest) };
                let h = unsafe { &mut *n.h };
                let (outer, inner) = (h.maps[n.s].h, h.maps[n.o].h);
                check_eq!(unsafe { dm_len(outer) }, usize::MAX, "outer map inside nested callback");
                check_eq!(unsafe { dm_len(inner) }, usize::MAX, "inner map inside nested callback");
                let k = b"x";
                check_eq!(unsafe { dm_insert(outer, k.as_ptr(), 1, k.as_ptr(), 1) }, DM_ERR_REENTRANT, "outer insert");
                check_eq!(unsafe { dm_insert(inner, k.as_ptr(), 1, k.as_ptr(), 1) }, DM_ERR_REENTRANT, "inner insert");
            }
            let key = h.key(o);
            let mut n = Nest { h: h as *mut H, s, o };
            let want = if h.model(o).live(&key).is_some() { DM_OK } else { DM_NOT_FOUND };
            let st = unsafe { dm_get_with(m, key.as_ptr(), key.len(), Some(nested), &mut n as *mut Nest as *mut c_void) };
            check_eq!(st, want, "nested dm_get_with on the other map");
        }
    }
}

/// What a callback may do besides its main job: probe reentrancy or use the other map.
fn callback_extra(h: &mut H, s: usize) {
    if h.depth > 0 || h.dead[s] {
        return;
    }
    h.depth += 1;
    match h.inp.below(8) {
        0 | 1 => probe_reentrant(h, s),
        2 => cross_map_op(h, s),
        _ => {}
    }
    h.depth -= 1;
}

// dm_get_with ---------------------------------------------------------------

struct ReadCtx<'a> {
    h: *mut H<'a>,
    s: usize,
    got: Option<Vec<u8>>,
    calls: usize,
}

unsafe extern "C-unwind" fn read_cb(v: *const u8, l: usize, ctx: *mut c_void) {
    let c = unsafe { &mut *(ctx as *mut ReadCtx) };
    c.calls += 1;
    c.got = Some(to_vec(v, l));
    let h = unsafe { &mut *c.h };
    callback_extra(h, c.s);
}

// dm_remove_if ---------------------------------------------------------------

struct PredCtx<'a> {
    h: *mut H<'a>,
    s: usize,
    key: Vec<u8>,
    want: Option<Vec<u8>>,
    answer: bool,
    calls: usize,
}

unsafe extern "C-unwind" fn pred_cb(k: *const u8, kl: usize, v: *const u8, vl: usize, ctx: *mut c_void) -> bool {
    let c = unsafe { &mut *(ctx as *mut PredCtx) };
    c.calls += 1;
    let h = unsafe { &mut *c.h };
    check_eq!(to_vec(k, kl), c.key, "dm_remove_if predicate key");
    check_eq!(Some(to_vec(v, vl)), c.want, "dm_remove_if predicate value");
    callback_extra(h, c.s);
    c.answer
}

// dm_for_each / dm_for_each_mut / dm_retain_cb --------------------------------

struct WalkCtx<'a> {
    h: *mut H<'a>,
    s: usize,
    /// The live entries when the walk started.
    live: BTreeMap<Vec<u8>, Vec<u8>>,
    /// for_each: stop (return false) on this call (1-based).
    stop_at: usize,
    salt: u8,
    mode: u8,
    visited: Vec<(Vec<u8>, Vec<u8>)>,
}

unsafe extern "C-unwind" fn walk_cb(k: *const u8, kl: usize, v: *const u8, vl: usize, ctx: *mut c_void) -> bool {
    let c = unsafe { &mut *(ctx as *mut WalkCtx) };
    let (key, val) = (to_vec(k, kl), to_vec(v, vl));
    check_eq!(c.live.get(&key), Some(&val), "dm_for_each visited an entry that is not live");
    c.visited.push((key, val));
    let h = unsafe { &mut *c.h };
    callback_extra(h, c.s);
    c.visited.len() != c.stop_at
}

unsafe extern "C-unwind" fn walk_mut_cb(k: *const u8, kl: usize, v: *mut u8, vl: usize, ctx: *mut c_void) -> bool {
    let c = unsafe { &mut *(ctx as *mut WalkCtx) };
    let (key, mut val) = (to_vec(k, kl), to_vec(v, vl));
    check_eq!(c.live.get(&key), Some(&val), "dm_for_each_mut visited an entry that is not live");
    if vl > 0 {
        // Mutate in place: flip the first and the last byte.
        unsafe {
            *v ^= c.salt | 1;
            *v.add(vl - 1) ^= 0x80;
        }
        val[0] ^= c.salt | 1;
        val[vl - 1] ^= 0x80;
    }
    c.visited.push((key, val));
    let h = unsafe { &mut *c.h };
    callback_extra(h, c.s);
    c.visited.len() != c.stop_at
}

fn keep_decision(mode: u8, salt: u8, key: &[u8]) -> bool {
    match mode % 4 {
        0 => true,
        1 => false,
        _ => fnv(key, salt) & 1 == 0,
    }
}

unsafe extern "C-unwind" fn retain_cb(k: *const u8, kl: usize, v: *const u8, vl: usize, ctx: *mut c_void) -> bool {
    let c = unsafe { &mut *(ctx as *mut WalkCtx) };
    let (key, val) = (to_vec(k, kl), to_vec(v, vl));
    check_eq!(c.live.get(&key), Some(&val), "dm_retain_cb showed an entry that is not live");
    let keep = keep_decision(c.mode, c.salt, &key);
    c.visited.push((key, val));
    let h = unsafe { &mut *c.h };
    callback_extra(h, c.s);
    keep
}

// dm_entry_update --------------------------------------------------------------

struct EntryCtx<'a> {
    h: *mut H<'a>,
    s: usize,
    key: Vec<u8>,
    /// Whether a live entry existed when the callback started.
    found: bool,
    /// A set on the vacant entry was admitted (counted against the bound).
    admitted: bool,
    /// The outcome of a set depended on shard placement: resync afterwards.
    resync: bool,
    /// What the entry holds, as the callback sees it.
    pending: Option<Vec<u8>>,
    calls: usize,
}

unsafe extern "C-unwind" fn entry_cb(e: *mut dm_entry, ctx: *mut c_void) {
    let c = unsafe { &mut *(ctx as *mut EntryCtx) };
    c.calls += 1;
    let h = unsafe { &mut *c.h };
    let n = h.inp.below(7);
    for _ in 0..n {
        match h.inp.below(13) {
            0 => check_eq!(unsafe { dm_entry_occupied(e) }, c.pending.is_some(), "dm_entry_occupied"),
            1 => {
                let mut len = SENT;
                let p = unsafe { dm_entry_key(e, &mut len) };
                check!(!p.is_null(), "dm_entry_key never NULL");
                check_eq!(to_vec(p, len), c.key, "dm_entry_key");
                check!(unsafe { dm_entry_key(e, null_mut()) } == p, "dm_entry_key with NULL len");
            }
            2 => {
                let mut len = SENT;
                let p = unsafe { dm_entry_value(e, &mut len) };
                match &c.pending {
                    None => check!(p.is_null() && len == SENT, "dm_entry_value of a vacant entry"),
                    Some(v) => {
                        check!(!p.is_null(), "dm_entry_value of an occupied entry");
                        check_eq!(&to_vec(p, len), v, "dm_entry_value");
                        check!(unsafe { dm_entry_value(e, null_mut()) } == p, "dm_entry_value with NULL len");
                    }
                }
            }
            3 => {
                let mut len = SENT;
                let p = unsafe { dm_entry_value_mut(e, &mut len) };
                match &mut c.pending {
                    None => check!(p.is_null(), "dm_entry_value_mut of a vacant entry"),
                    Some(v) => {
                        check!(!p.is_null(), "dm_entry_value_mut of an occupied entry");
                        check_eq!(len, v.len(), "dm_entry_value_mut length");
                        if len > 0 {
                            let i = h.inp.below(len);
                            let x = h.inp.u8() | 1;
                            unsafe { *p.add(i) ^= x };
                            v[i] ^= x;
                        }
                    }
                }
            }
            4 | 5 => {
                let val = pick_value(&mut h.inp);
                let st = unsafe { dm_entry_set(e, val.as_ptr(), val.len()) };
                let adm = if c.found || c.admitted { Adm::Yes } else { h.model(c.s).admit() };
                match adm {
                    Adm::Yes => check_eq!(st, DM_OK, "dm_entry_set"),
                    Adm::No => check_eq!(st, DM_ERR_FULL, "dm_entry_set of a new key on a full map"),
                    Adm::Maybe => {
                        check!(st == DM_OK || st == DM_ERR_FULL, "dm_entry_set on a full map with expired entries = {st}");
                        c.resync = true;
                    }
                }
                if st == DM_OK {
                    c.admitted |= !c.found;
                    c.pending = Some(val);
                }
            }
            6 => {
                let want = if c.pending.is_some() { DM_OK } else { DM_NOT_FOUND };
                check_eq!(unsafe { dm_entry_remove(e) }, want, "dm_entry_remove");
                c.pending = None;
            }
            7 => {
                // Bad arguments change nothing.
                let b = b"zz";
                check_eq!(unsafe { dm_entry_set(e, null(), 1) }, DM_ERR_NULL, "dm_entry_set(NULL, 1)");
                check_eq!(unsafe { dm_entry_set(e, b.as_ptr(), HUGE) }, DM_ERR_INVALID, "dm_entry_set(huge)");
                check_eq!(unsafe { dm_entry_set(null_mut(), b.as_ptr(), 2) }, DM_ERR_NULL, "dm_entry_set(NULL entry)");
                check_eq!(unsafe { dm_entry_remove(null_mut()) }, DM_ERR_NULL, "dm_entry_remove(NULL)");
                check!(!unsafe { dm_entry_occupied(null()) }, "dm_entry_occupied(NULL)");
                let mut len = SENT;
                check!(unsafe { dm_entry_key(null(), &mut len) }.is_null() && len == SENT, "dm_entry_key(NULL)");
                check!(unsafe { dm_entry_value(null(), &mut len) }.is_null() && len == SENT, "dm_entry_value(NULL)");
                check!(unsafe { dm_entry_value_mut(null_mut(), &mut len) }.is_null() && len == SENT, "dm_entry_value_mut(NULL)");
                check_eq!(unsafe { dm_entry_occupied(e) }, c.pending.is_some(), "entry unchanged by bad calls");
            }
            8 | 9 => callback_extra(h, c.s),
            10 if !h.dead[c.s] => {
                // An extra reference taken and dropped inside the callback.
                let r = unsafe { dm_ref(h.maps[c.s].h) };
                unsafe { dm_free(r) };
            }
            11 => {
                // Release our handle from inside its own callback: documented as
                // safe; the map lives until the call returns. Not used afterwards.
                if !h.dead[c.s] {
                    let slot = &mut h.maps[c.s];
                    unsafe { dm_free(slot.h) };
                    match slot.refs.pop() {
                        Some(r) => slot.h = r, // the same map, still referenced
                        None => h.dead[c.s] = true,
                    }
                }
            }
            _ => {
                let p = unsafe { dm_entry_value(e, null_mut()) };
                check_eq!(p.is_null(), c.pending.is_none(), "dm_entry_value(e, NULL)");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Operations

/// dm_insert, or dm_insert_ttl when `ttl` (with a TTL that suits the clock).
fn op_insert(h: &mut H, s: usize, ttl: bool) {
    let m = h.maps[s].h;
    let key = h.key(s);
    let val = pick_value(&mut h.inp);
    let t = if ttl { h.ttl(s) } else { 0 };
    let st = unsafe {
        if ttl {
            dm_insert_ttl(m, key.as_ptr(), key.len(), val.as_ptr(), val.len(), t)
        } else {
            dm_insert(m, key.as_ptr(), key.len(), val.as_ptr(), val.len())
        }
    };
    h.m_meet(s, &key);
    let ent = Ent { val, dl: h.model(s).deadline(t) };
    if h.model(s).live(&key).is_some() {
        check_eq!(st, DM_REPLACED, "dm_insert(_ttl) of a live key");
        h.m_put(s, &key, ent);
    } else {
        absent_insert(h, s, &key, ent, st, DM_OK, "dm_insert(_ttl)");
    }
}

fn op_get_copy(h: &mut H, s: usize, key: &[u8]) {
    let m = h.maps[s].h;
    let want = h.model(s).live(key).cloned();
    let mode = h.inp.below(4);
    let vlen = want.as_ref().map_or(0, |v| v.len());
    let cap = match mode {
        0 => 0,
        1 => vlen,
        2 => vlen.saturating_sub(1),
        _ => vlen + 5,
    };
    let mut buf = vec![0xA5u8; cap];
    let bp = if cap == 0 && h.inp.bool() { null_mut() } else { buf.as_mut_ptr() };
    let mut len = SENT;
    let st = unsafe { dm_get_copy(m, key.as_ptr(), key.len(), bp, cap, &mut len) };
    match want {
        None => {
            check_eq!(st, DM_NOT_FOUND, "dm_get_copy of a missing key");
            check_eq!(len, SENT, "dm_get_copy NOT_FOUND wrote the length");
        }
        Some(v) if v.len() <= cap => {
            check_eq!(st, DM_OK, "dm_get_copy");
            check_eq!(len, v.len(), "dm_get_copy length");
            check_eq!(&buf[..v.len()], &v[..], "dm_get_copy bytes");
            check!(buf[v.len()..].iter().all(|&b| b == 0xA5), "dm_get_copy wrote past the value");
        }
        Some(v) => {
            check_eq!(st, DM_BUFFER_TOO_SMALL, "dm_get_copy small buffer");
            check_eq!(len, v.len(), "dm_get_copy needed length");
            check!(buf.iter().all(|&b| b == 0xA5), "dm_get_copy copied into a small buffer");
        }
    }
}

fn op_remove(h: &mut H, s: usize, key: &[u8]) {
    let m = h.maps[s].h;
    h.m_meet(s, key);
    let want = h.model(s).live(key).cloned();
    match h.inp.below(3) {
        0 => {
            // Value discarded; buf ignored even if it is (NULL, n).
            let st = unsafe { dm_remove(m, key.as_ptr(), key.len(), null_mut(), 7, null_mut()) };
            check_eq!(st, if want.is_some() { DM_OK } else { DM_NOT_FOUND }, "dm_remove discarding");
            h.m_del(s, key);
        }
        mode => {
            let vlen = want.as_ref().map_or(0, |v| v.len());
            let cap = if mode == 1 { vlen.saturating_sub(1) } else { vlen + h.inp.below(3) };
            let mut buf = vec![0x5Au8; cap];
            let mut len = SENT;
            let st = unsafe { dm_remove(m, key.as_ptr(), key.len(), buf.as_mut_ptr(), cap, &mut len) };
            match want {
                None => {
                    check_eq!(st, DM_NOT_FOUND, "dm_remove missing");
                    check_eq!(len, SENT, "dm_remove NOT_FOUND wrote the length");
                }
                Some(v) if v.len() <= cap => {
                    check_eq!(st, DM_OK, "dm_remove");
                    check_eq!(len, v.len(), "dm_remove length");
                    check_eq!(&buf[..v.len()], &v[..], "dm_remove bytes");
                    h.m_del(s, key);
                }
                Some(v) => {
                    check_eq!(st, DM_BUFFER_TOO_SMALL, "dm_remove small buffer");
                    check_eq!(len, v.len(), "dm_remove needed length");
                    check!(unsafe { dm_contains_key(m, key.as_ptr(), key.len()) }, "BUFFER_TOO_SMALL must leave the entry");
                }
            }
        }
    }
}

/// Moves a manual clock (forwards, backwards, to the extremes), or checks
/// that a real-time map refuses.
fn op_clock(h: &mut H, s: usize) {
    let m = h.maps[s].h;
    let model = h.model(s);
    if !model.manual {
        check_eq!(unsafe { dm_clock_set(m, 5) }, DM_ERR_INVALID, "dm_clock_set on a real-time map");
        let a = unsafe { dm_clock_now(m) };
        let b = unsafe { dm_clock_now(m) };
        check!(b >= a, "the monotonic clock went back");
        return;
    }
    let now = model.now;
    let t = match h.inp.below(8) {
        0 => now.saturating_sub(1 + h.inp.below(5) as u64),
        1 => 0,
        2 => u64::MAX,
        3 => now,
        _ => now.saturating_add(1 + h.inp.below(11) as u64),
    };
    check_eq!(unsafe { dm_clock_set(m, t) }, DM_OK, "dm_clock_set");
    check_eq!(unsafe { dm_clock_now(m) }, t, "dm_clock_now");
    h.m_clock(s, t);
}

fn op_ttl(h: &mut H, s: usize) {
    let m = h.maps[s].h;
    let key = h.key(s);
    match h.inp.below(6) {
        0 => {
            let val = pick_value(&mut h.inp);
            let t = h.ttl(s);
            let st = unsafe { dm_try_insert_ttl(m, key.as_ptr(), key.len(), val.as_ptr(), val.len(), t) };
            h.m_meet(s, &key);
            if h.model(s).live(&key).is_some() {
                check_eq!(st, DM_EXISTS, "dm_try_insert_ttl of a live key");
            } else {
                let ent = Ent { val, dl: h.model(s).deadline(t) };
                absent_insert(h, s, &key, ent, st, DM_OK, "dm_try_insert_ttl");
            }
        }
        1 => {
            let delta = h.inp.u8() as i8 as i64;
            let t = h.ttl(s);
            let mut result = 0x5555i64;
            let st = unsafe { dm_add_i64_ttl(m, key.as_ptr(), key.len(), delta, t, &mut result) };
            op_add_check(h, s, &key, delta, t, st, result, true);
        }
        2 | 3 => {
            let t = h.ttl(s);
            let touch = h.inp.bool();
            let st = unsafe { if touch { dm_touch(m, key.as_ptr(), key.len(), t) } else { dm_expire(m, key.as_ptr(), key.len(), t) } };
            if touch && t == 0 {
                check_eq!(st, DM_ERR_INVALID, "dm_touch(ttl 0)");
                return;
            }
            h.m_meet(s, &key);
            match h.model(s).live(&key).cloned() {
                None => check_eq!(st, DM_NOT_FOUND, "dm_expire/dm_touch of a missing key"),
                Some(val) => {
                    check_eq!(st, DM_OK, "dm_expire/dm_touch");
                    let dl = h.model(s).deadline(t);
                    h.m_put(s, &key, Ent { val, dl });
                }
            }
        }
        4 => {
            let mut ms = 0x77u64;
            let st = unsafe { dm_ttl_remaining(m, key.as_ptr(), key.len(), &mut ms) };
            let model = h.model(s);
            match model.live_ent(&key) {
                None => {
                    check_eq!(st, DM_NOT_FOUND, "dm_ttl_remaining of a missing key");
                    check_eq!(ms, 0x77, "dm_ttl_remaining wrote on NOT_FOUND");
                }
                Some(e) => {
                    check_eq!(st, DM_OK, "dm_ttl_remaining");
                    check_ttl(model, e, ms, "dm_ttl_remaining");
                }
            }
        }
        _ => {
            let mut removed = SENT;
            let rp = if h.inp.bool() { null_mut() } else { &mut removed as *mut usize };
            check_eq!(unsafe { dm_purge_expired(m, rp) }, DM_OK, "dm_purge_expired");
            let n = h.m_purge(s);
            if !rp.is_null() {
                check_eq!(removed, n, "dm_purge_expired count");
            }
        }
    }
}

/// The result of dm_add_i64(_ttl) on `key` (already called).
#[allow(clippy::too_many_arguments)]
fn op_add_check(h: &mut H, s: usize, key: &[u8], delta: i64, ttl: u64, st: dm_status, result: i64, wrote: bool) {
    h.m_meet(s, key);
    match h.model(s).live(key).cloned() {
        Some(c) if c.len() != 8 => {
            check_eq!(st, DM_ERR_INVALID, "dm_add_i64 on a non-counter");
            check_eq!(result, 0x5555, "dm_add_i64 wrote on error");
        }
        Some(c) => {
            let sum = i64::from_le_bytes(c.try_into().unwrap()).wrapping_add(delta);
            check_eq!(st, DM_OK, "dm_add_i64");
            if wrote {
                check_eq!(result, sum, "dm_add_i64 result");
            }
            h.m_update(s, key, &sum.to_le_bytes()); // keeps its deadline
        }
        None => {
            let ent = Ent { val: delta.to_le_bytes().to_vec(), dl: h.model(s).deadline(ttl) };
            if absent_insert(h, s, key, ent, st, DM_OK, "dm_add_i64 (new counter)") && wrote {
                check_eq!(result, delta, "dm_add_i64 result of a new counter");
            }
        }
    }
}

fn op_entry_update(h: &mut H, s: usize, key: &[u8]) {
    let m = h.maps[s].h;
    h.m_meet(s, key); // the update meets the key under the write lock first
    let before = h.model(s).live(key).cloned();
    let dl = h.model(s).live_ent(key).and_then(|e| e.dl);
    let mut c = EntryCtx {
        h: h as *mut H,
        s,
        key: key.to_vec(),
        found: before.is_some(),
        admitted: false,
        resync: false,
        pending: before.clone(),
        calls: 0,
    };
    let st = unsafe { dm_entry_update(m, key.as_ptr(), key.len(), Some(entry_cb), &mut c as *mut EntryCtx as *mut c_void) };
    check_eq!(st, DM_OK, "dm_entry_update");
    check_eq!(c.calls, 1, "dm_entry_update calls f exactly once");
    match &c.pending {
        // A set keeps the deadline of the entry found; a new entry has none.
        Some(v) if c.found => h.m_put(s, key, Ent { val: v.clone(), dl }),
        Some(v) => h.m_put(s, key, Ent { val: v.clone(), dl: None }),
        None => h.m_del(s, key),
    }
    if c.resync && !h.dead[s] {
        resync(h, s, &[key.to_vec()]);
    }
    h.reap();
}

fn op_walk(h: &mut H, s: usize, kind: usize) {
    let m = h.maps[s].h;
    let live = h.model(s).live_map();
    let n = live.len();
    let stop_at = if h.inp.bool() { usize::MAX } else { 1 + h.inp.below(n + 2) };
    let mut c = WalkCtx { h: h as *mut H, s, live, stop_at, salt: h.inp.u8(), mode: h.inp.u8(), visited: Vec::new() };
    let ctx = &mut c as *mut WalkCtx as *mut c_void;
    let st = unsafe {
        match kind {
            0 => dm_for_each(m, Some(walk_cb), ctx),
            1 => dm_for_each_mut(m, Some(walk_mut_cb), ctx),
            _ => dm_retain_cb(m, Some(retain_cb), ctx),
        }
    };
    let mut seen = BTreeSet::new();
    for (k, _) in &c.visited {
        check!(seen.insert(k.clone()), "walk {kind} visited {k:?} twice");
    }
    if kind == 2 {
        check_eq!(st, DM_OK, "dm_retain_cb");
        check_eq!(c.visited.len(), n, "dm_retain_cb shows every live entry");
        h.m_purge(s); // expired entries are removed unseen
        for (k, _) in &c.visited {
            if !keep_decision(c.mode, c.salt, k) {
                h.m_del(s, k);
            }
        }
    } else {
        if stop_at <= n {
            check_eq!(st, DM_STOPPED, "walk {kind} stopped early");
            check_eq!(c.visited.len(), stop_at, "walk {kind} stops right after false");
        } else {
            check_eq!(st, DM_OK, "walk {kind}");
            check_eq!(c.visited.len(), n, "walk {kind} visits every live entry");
        }
        if kind == 1 {
            for (k, v) in std::mem::take(&mut c.visited) {
                h.m_update(s, &k, &v);
            }
        }
    }
}

/// Checks one entry returned by the long-lived cursor.
fn iter_saw(it: &mut OpenIter, k: *const u8, kl: usize, v: *const u8, vl: usize) {
    let key = to_vec(k, kl);
    check!(it.ever.contains(&key), "cursor returned {key:?}, never live");
    if let Some(Some(want)) = it.stable.get(&key) {
        check_eq!(&to_vec(v, vl), want, "cursor value of an unchanged key {key:?}");
    }
    check!(it.seen.insert(key.clone()), "cursor returned {key:?} twice");
}

fn iter_finished(it: &OpenIter) {
    if trace() {
        eprintln!("cursor (gen {}) finished: stable {:?} seen {:?}", it.gen, it.stable, it.seen);
    }
    for k in it.stable.keys() {
        check!(it.seen.contains(k), "cursor missed {k:?}, live the whole time");
    }
}

/// Advances the long-lived cursor with dm_iter_next_many (up to `max`
/// entries, into a buffer that may be too small); true at the end.
fn iter_next_many(h: &mut H, it: &mut OpenIter, max: usize) -> bool {
    let max = max.max(1);
    let cap = [0usize, 1, 8, 40, 400, 8192][h.inp.below(6)];
    let mut buf = vec![0xEEu8; cap];
    let bp = if cap == 0 && h.inp.bool() { null_mut() } else { buf.as_mut_ptr() };
    let mut lens = vec![SENT; 2 * max];
    let (mut count, mut used) = (SENT, SENT);
    let st = unsafe { dm_iter_next_many(it.it, bp, cap, lens.as_mut_ptr(), max, &mut count, &mut used) };
    match st {
        DM_NOT_FOUND => {
            check_eq!(count, 0, "dm_iter_next_many count at the end");
            return true;
        }
        DM_BUFFER_TOO_SMALL => {
            check_eq!(count, 0, "dm_iter_next_many count when nothing fits");
            check!(used > cap && used != SENT, "dm_iter_next_many needed {used} with a {cap}-byte buffer");
        }
        _ => {
            check_eq!(st, DM_OK, "dm_iter_next_many");
            check!(count >= 1 && count <= max, "dm_iter_next_many count {count} (max {max})");
            let mut at = 0;
            for i in 0..count {
                let (kl, vl) = (lens[2 * i], lens[2 * i + 1]);
                check!(at + kl + vl <= cap, "dm_iter_next_many lengths overflow the buffer");
                iter_saw(it, buf[at..].as_ptr(), kl, buf[at + kl..].as_ptr(), vl);
                at += kl + vl;
            }
            check_eq!(used, at, "dm_iter_next_many used");
            check!(lens[2 * count..].iter().all(|&l| l == SENT), "dm_iter_next_many wrote lens past count");
        }
    }
    false
}

/// One step of the long-lived cursor (open it, advance it, or close it).
fn op_open_iter(h: &mut H) {
    let s = h.inp.below(2);
    match h.iter.take() {
        None => {
            if trace() {
                eprintln!("cursor opened on map {s} (gen {}): {:?}", h.maps[s].gen, h.model(s).stored);
            }
            let it = unsafe { dm_iter_new(h.maps[s].h) };
            check!(!it.is_null(), "dm_iter_new");
            let live = h.model(s).live_map();
            h.iter = Some(OpenIter {
                it,
                gen: h.maps[s].gen,
                ever: live.keys().cloned().collect(),
                stable: live.into_iter().map(|(k, v)| (k, Some(v))).collect(),
                seen: BTreeSet::new(),
            });
        }
        Some(mut it) => {
            let steps = h.inp.below(8);
            let close = h.inp.below(4) == 0;
            let mut at_end = false;
            if h.inp.bool() {
                at_end = iter_next_many(h, &mut it, steps);
            } else {
                for _ in 0..steps {
                    let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
                    let st = unsafe { dm_iter_next(it.it, &mut k, &mut kl, &mut v, &mut vl) };
                    if st == DM_NOT_FOUND {
                        at_end = true;
                        break;
                    }
                    check_eq!(st, DM_OK, "dm_iter_next");
                    iter_saw(&mut it, k, kl, v, vl);
                }
            }
            if at_end {
                iter_finished(&it);
            }
            if close || at_end {
                unsafe { dm_iter_free(it.it) };
            } else {
                h.iter = Some(it);
            }
        }
    }
}

fn op_bulk(h: &mut H, s: usize, kind: usize) {
    let m = h.maps[s].h;
    let n = h.inp.below(9);
    let keys: Vec<Vec<u8>> = (0..n).map(|_| h.key(s)).collect();
    let ks: Vec<dm_slice> = keys.iter().map(|k| dm_slice { ptr: if k.is_empty() { null() } else { k.as_ptr() }, len: k.len() }).collect();
    let kp = if n == 0 && h.inp.bool() { null() } else { ks.as_ptr() };
    match kind {
        0 => {
            let vals: Vec<Vec<u8>> = (0..n).map(|_| pick_value(&mut h.inp)).collect();
            let vs: Vec<dm_slice> = vals.iter().map(|v| dm_slice { ptr: v.as_ptr(), len: v.len() }).collect();
            let vp = if n == 0 && h.inp.bool() { null() } else { vs.as_ptr() };
            let before: Vec<Option<Vec<u8>>> = keys.iter().map(|k| h.model(s).live(k).cloned()).collect();
            let st = unsafe { dm_extend(m, kp, vp, n) };
            if h.model(s).max == 0 {
                check_eq!(st, DM_OK, "dm_extend");
                for (k, v) in keys.iter().zip(&vals) {
                    h.m_meet(s, k);
                    h.m_put(s, k, Ent { val: v.clone(), dl: None });
                }
            } else {
                // Bounded: which pairs fit depends on shard order; read them back.
                check!(st == DM_OK || st == DM_ERR_FULL, "dm_extend on a bounded map = {st}");
                for k in &keys {
                    h.m_meet(s, k);
                }
                resync(h, s, &keys);
                for (i, k) in keys.iter().enumerate() {
                    let got = h.model(s).live(k).cloned();
                    let last = keys.iter().zip(&vals).rev().find(|(kk, _)| *kk == k).map(|(_, v)| v.clone());
                    if st == DM_OK {
                        check_eq!(got, last, "dm_extend result for {k:?}");
                    } else {
                        let listed = keys.iter().zip(&vals).any(|(kk, v)| kk == k && Some(v) == got.as_ref());
                        check!(got == before[i] || listed, "dm_extend left {k:?} = {got:?}");
                    }
                }
                if st == DM_OK {
                    check!(h.model(s).stored.len() <= h.model(s).max, "dm_extend overfilled a bounded map");
                }
            }
        }
        1 => {
            let want: Vec<Option<Vec<u8>>> = keys.iter().map(|k| h.model(s).live(k).cloned()).collect();
            let needed: usize = want.iter().flatten().map(|v| v.len()).sum();
            let cap = match h.inp.below(4) {
                0 => 0,
                1 => needed,
                2 => needed.saturating_sub(1),
                _ => needed + 3,
            };
            let mut buf = vec![0x11u8; cap];
            let bp = if cap == 0 && h.inp.bool() { null_mut() } else { buf.as_mut_ptr() };
            let mut lens = vec![SENT; n];
            let lp = if n == 0 && h.inp.bool() { null_mut() } else { lens.as_mut_ptr() };
            let mut used = SENT;
            let st = unsafe { dm_get_many(m, kp, n, bp, cap, lp, &mut used) };
            check_eq!(used, needed, "dm_get_many used");
            for (i, w) in want.iter().enumerate() {
                check_eq!(lens[i], w.as_ref().map_or(usize::MAX, |v| v.len()), "dm_get_many lens[{i}]");
            }
            if needed > cap {
                check_eq!(st, DM_BUFFER_TOO_SMALL, "dm_get_many small buffer");
            } else {
                check_eq!(st, DM_OK, "dm_get_many");
                let packed: Vec<u8> = want.iter().flatten().flat_map(|v| v.iter().copied()).collect();
                check_eq!(&buf[..needed], &packed[..], "dm_get_many packed values");
            }
        }
        _ => {
            for k in &keys {
                h.m_meet(s, k);
            }
            let present: BTreeSet<&Vec<u8>> = keys.iter().filter(|k| h.model(s).live(k).is_some()).collect();
            let want = present.len();
            let mut removed = SENT;
            let rp = if h.inp.bool() { null_mut() } else { &mut removed as *mut usize };
            check_eq!(unsafe { dm_remove_many(m, kp, n, rp) }, DM_OK, "dm_remove_many");
            if !rp.is_null() {
                check_eq!(removed, want, "dm_remove_many count");
            }
            for k in &keys {
                h.m_del(s, k);
            }
        }
    }
}

fn op_inspect(h: &mut H, s: usize) {
    let m = h.maps[s].h;
    let model = h.model(s);
    let shards = unsafe { dm_shard_count(m) };
    check!(shards >= 2 && shards.is_power_of_two() && shards <= DM_MAX_SHARDS, "dm_shard_count = {shards}");
    let mut st = dm_stats::default();
    check_eq!(unsafe { dm_stats_get(m, &mut st) }, DM_OK, "dm_stats_get");
    check_eq!(st.len, model.stored.len(), "stats.len (stored)");
    check_eq!(st.shards, shards, "stats.shards");
    check!(st.capacity >= st.len, "stats.capacity {} < len {}", st.capacity, st.len);
    check_eq!(st.key_bytes, model.stored.keys().map(|k| k.len()).sum::<usize>(), "stats.key_bytes");
    check_eq!(st.value_bytes, model.stored.values().map(|e| e.val.len()).sum::<usize>(), "stats.value_bytes");
    check!(st.min_shard_len <= st.max_shard_len && st.max_shard_len <= st.len, "stats shard lengths");
    let cap = unsafe { dm_capacity(m) };
    check!(cap >= model.stored.len(), "dm_capacity {cap} < len");
    if shards <= 256 {
        let (mut sum, mut lo, mut hi) = (0, usize::MAX, 0);
        for i in 0..shards {
            let mut l = SENT;
            check_eq!(unsafe { dm_shard_len(m, i, &mut l) }, DM_OK, "dm_shard_len({i})");
            sum += l;
            lo = lo.min(l);
            hi = hi.max(l);
        }
        check_eq!(sum, model.stored.len(), "sum of dm_shard_len");
        check_eq!((lo, hi), (st.min_shard_len, st.max_shard_len), "min/max shard len");
    }
    let mut l = SENT;
    check_eq!(unsafe { dm_shard_len(m, shards, &mut l) }, DM_ERR_INVALID, "dm_shard_len past the end");
    check_eq!(l, SENT, "dm_shard_len INVALID wrote");
}

fn op_misc(h: &mut H) {
    unsafe {
        let codes = [
            DM_OK,
            DM_NOT_FOUND,
            DM_REPLACED,
            DM_EXISTS,
            DM_MISMATCH,
            DM_BUFFER_TOO_SMALL,
            DM_STOPPED,
            DM_ERR_NULL,
            DM_ERR_INVALID,
            DM_ERR_NO_MEMORY,
            DM_ERR_REENTRANT,
            DM_ERR_PANIC,
            DM_ERR_FULL,
        ];
        let unknown = CStr::from_ptr(dm_status_str(12345)).to_bytes().to_vec();
        check_eq!(&unknown[..], b"unknown status", "dm_status_str(unknown)");
        let x = h.inp.u8() as i8 as i32 * 1000 + h.inp.u8() as i32 % 16 - 8;
        let p = dm_status_str(x);
        check!(!p.is_null(), "dm_status_str never NULL");
        let text = CStr::from_ptr(p).to_bytes();
        check_eq!(text == b"unknown status", !codes.contains(&x), "dm_status_str({x})");
        let v = CStr::from_ptr(dm_version()).to_str().unwrap().to_owned();
        let parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
        check_eq!(parts.len(), 3, "dm_version format {v}");
        check_eq!(dm_version_number(), parts[0] * 10000 + parts[1] * 100 + parts[2], "dm_version_number vs {v}");
        let d = dm_options_default();
        check!(
            d.capacity == 0 && d.shards == 0 && d.hasher == DM_HASHER_SIPHASH && d.seed == 0 && d.max_entries == 0 && !d.manual_clock,
            "dm_options_default"
        );
        dm_free(null_mut());
        dm_iter_free(null_mut());
        dm_bytes_free(null_mut(), 0);
        check!(dm_ref(null_mut()).is_null(), "dm_ref(NULL)");
        check_eq!(dm_clock_now(null()), 0, "dm_clock_now(NULL)");
    }
}

/// Creates a map in one of the ways the API offers, good or bad; on success it
/// replaces slot `s`.
fn op_construct(h: &mut H, s: usize) {
    const CAPS: [usize; 6] = [0, 1, 100, 4096, usize::MAX, 1 << 62];
    const SHARDS: [usize; 10] = [0, 1, 2, 3, 4, 8, 64, 65536, 131072, 6];
    let cap = CAPS[h.inp.below(CAPS.len())];
    let shards = SHARDS[h.inp.below(SHARDS.len())];
    let cap_ok = cap <= 4096;
    let shards_ok = shards >= 2 && shards.is_power_of_two() && shards <= DM_MAX_SHARDS;
    let variant = h.inp.below(6);
    let asked = if matches!(variant, 1 | 3 | 4 | 5) { cap } else { 0 };
    let mut model = Model::new(false, 0);
    let (m, ok) = unsafe {
        match variant {
            0 => (dm_new(), true),
            1 => (dm_with_capacity(cap), cap_ok),
            2 => (dm_with_shards(shards), shards_ok),
            3 => (dm_with_capacity_and_shards(cap, shards), cap_ok && shards_ok),
            _ => {
                let hasher = [DM_HASHER_SIPHASH, DM_HASHER_FAST, 2, -1][h.inp.below(4)];
                let seed = if h.inp.bool() { 0 } else { h.inp.u64() };
                let max_entries = [0, 0, 0, 1, 3, 8][h.inp.below(6)];
                let manual_clock = h.inp.below(4) != 0;
                let opts = dm_options { capacity: cap, shards, hasher, seed, max_entries, manual_clock };
                model = Model::new(manual_clock, max_entries);
                let mut out = 0x1 as *mut dm_map; // sentinel: must stay untouched on error
                let (op, outp) = match h.inp.below(8) {
                    0 => (null(), &mut out as *mut *mut dm_map),
                    1 => (&opts as *const dm_options, null_mut()),
                    _ => (&opts as *const dm_options, &mut out as *mut *mut dm_map),
                };
                let st = dm_new_with_options(op, outp);
                let want = if op.is_null() || outp.is_null() {
                    DM_ERR_NULL
                } else if !(hasher == 0 || hasher == 1) || !(shards == 0 || shards_ok) {
                    DM_ERR_INVALID
                } else if !cap_ok {
                    DM_ERR_NO_MEMORY
                } else {
                    DM_OK
                };
                check_eq!(st, want, "dm_new_with_options(cap {cap}, shards {shards}, hasher {hasher})");
                if st != DM_OK {
                    check!(out == 0x1 as *mut dm_map, "dm_new_with_options wrote *out on error");
                    return;
                }
                (out, true)
            }
        }
    };
    if !ok {
        check!(m.is_null(), "constructor must fail (cap {cap}, shards {shards})");
        return;
    }
    check!(!m.is_null(), "constructor failed (cap {cap}, shards {shards})");
    let got = unsafe { dm_capacity(m) };
    check!(got >= asked, "capacity {got} < requested {asked}");
    if model.manual {
        check_eq!(unsafe { dm_clock_now(m) }, 0, "a manual clock starts at 0");
    }
    h.replace_map(s, m, model, true);
}

fn op_bad_args(h: &mut H, s: usize) {
    let m = h.maps[s].h;
    let k = b"key";
    let (kp, kl) = (k.as_ptr(), k.len());
    let mut buf = [0u8; 8];
    let bp = buf.as_mut_ptr();
    let mut len = SENT;
    let lp = &mut len as *mut usize;
    let mut ms = SENT as u64;
    let msp = &mut ms as *mut u64;
    let f = h.inp.below(34);
    let kind = h.inp.below(4); // 0: NULL map, 1: NULL ptr + len, 2: len > PTRDIFF_MAX, 3: NULL fn/out
    let sl_ok = [dm_slice { ptr: kp, len: kl }];
    let sl_null = [dm_slice { ptr: null(), len: 1 }];
    let sl_huge = [dm_slice { ptr: kp, len: HUGE }];
    let (nm, nk, hk) = (null_mut::<dm_map>(), null::<u8>(), HUGE);
    let want_kind = [DM_ERR_NULL, DM_ERR_NULL, DM_ERR_INVALID, DM_ERR_NULL][kind];
    let (st, want) = unsafe {
        match (f, kind) {
            (0, 0) => (dm_insert(nm, kp, kl, kp, kl), want_kind),
            (0, 1) => (dm_insert(m, kp, kl, nk, 2), want_kind),
            (0, _) => (dm_insert(m, kp, kl, kp, hk), DM_ERR_INVALID),
            (1, 0) => (dm_get_copy(nm, kp, kl, bp, 8, lp), want_kind),
            (1, 1) => (dm_get_copy(m, kp, kl, null_mut(), 8, lp), want_kind),
            (1, 2) => (dm_get_copy(m, kp, kl, bp, hk, lp), want_kind),
            (1, _) => (dm_get_copy(m, kp, kl, bp, 8, null_mut()), want_kind),
            (2, 0) => (dm_get_with(nm, kp, kl, Some(read_noop), null_mut()), want_kind),
            (2, 1) => (dm_get_with(m, nk, 3, Some(read_noop), null_mut()), want_kind),
            (2, 2) => (dm_get_with(m, kp, hk, Some(read_noop), null_mut()), want_kind),
            (2, _) => (dm_get_with(m, kp, kl, None, null_mut()), want_kind),
            (3, 0) => (dm_get_alloc(nm, kp, kl, &mut null_mut(), lp), want_kind),
            (3, 1) => (dm_get_alloc(m, nk, 1, &mut null_mut(), lp), want_kind),
            (3, 2) => (dm_get_alloc(m, kp, hk, &mut null_mut(), lp), want_kind),
            (3, _) => (dm_get_alloc(m, kp, kl, null_mut(), lp), want_kind),
            (4, _) => {
                let r = match kind {
                    0 => dm_contains_key(nm, kp, kl),
                    1 => dm_contains_key(m, nk, 1),
                    _ => dm_contains_key(m, kp, hk),
                };
                check!(!r, "dm_contains_key with bad arguments must be false");
                (0, 0)
            }
            (5, 0) => (dm_remove(nm, kp, kl, bp, 8, lp), want_kind),
            (5, 1) => (dm_remove(m, kp, kl, null_mut(), 8, lp), want_kind),
            (5, 2) => (dm_remove(m, kp, hk, bp, 8, lp), want_kind),
            (5, _) => (dm_remove(m, kp, kl, bp, hk, lp), DM_ERR_INVALID),
            (6, 0) => (dm_remove_if(nm, kp, kl, Some(visit_noop), null_mut()), want_kind),
            (6, 1) => (dm_remove_if(m, nk, 2, Some(visit_noop), null_mut()), want_kind),
            (6, 2) => (dm_remove_if(m, kp, hk, Some(visit_noop), null_mut()), want_kind),
            (6, _) => (dm_remove_if(m, kp, hk, None, null_mut()), DM_ERR_NULL),
            (7, _) => {
                check_eq!(dm_len(null()), 0, "dm_len(NULL)");
                check!(!dm_is_empty(null()), "dm_is_empty(NULL)");
                check_eq!(dm_capacity(null()), 0, "dm_capacity(NULL)");
                check_eq!(dm_shard_count(null()), 0, "dm_shard_count(NULL)");
                (dm_clear(nm), DM_ERR_NULL)
            }
            (8, _) => (dm_shrink_to_fit(nm), DM_ERR_NULL),
            (9, 0) => (dm_try_insert(nm, kp, kl, kp, kl), want_kind),
            (9, 1) => (dm_try_insert(m, nk, 1, kp, kl), want_kind),
            (9, _) => (dm_try_insert(m, kp, kl, kp, hk), DM_ERR_INVALID),
            (10, 0) => (dm_get_or_insert(nm, kp, kl, kp, kl, bp, 8, lp), want_kind),
            (10, 1) => (dm_get_or_insert(m, kp, kl, kp, kl, null_mut(), 8, lp), want_kind),
            (10, 2) => (dm_get_or_insert(m, kp, kl, kp, kl, bp, hk, lp), want_kind),
            (10, _) => (dm_get_or_insert(m, kp, kl, kp, kl, bp, 8, null_mut()), want_kind),
            (11, 0) => (dm_compare_and_swap(nm, kp, kl, kp, kl, kp, kl), want_kind),
            (11, 1) => (dm_compare_and_swap(m, kp, kl, nk, 1, kp, kl), want_kind),
            (11, 2) => (dm_compare_and_swap(m, kp, kl, kp, hk, kp, kl), want_kind),
            (11, _) => (dm_compare_and_swap(m, kp, hk, kp, kl, nk, 1), DM_ERR_NULL),
            (12, 0) => (dm_compare_and_remove(nm, kp, kl, kp, kl), want_kind),
            (12, 1) => (dm_compare_and_remove(m, kp, kl, nk, 4), want_kind),
            (12, _) => (dm_compare_and_remove(m, kp, kl, kp, hk), DM_ERR_INVALID),
            (13, 0) => (dm_swap(nm, kp, kl, kp, kl, bp, 8, lp), want_kind),
            (13, 1) => (dm_swap(m, kp, kl, kp, kl, null_mut(), 1, lp), want_kind),
            (13, 2) => (dm_swap(m, kp, kl, kp, hk, bp, 8, lp), want_kind),
            (13, _) => (dm_swap(m, kp, kl, kp, kl, bp, 8, null_mut()), want_kind),
            (14, 0) => (dm_add_i64(nm, kp, kl, 1, null_mut()), want_kind),
            (14, 1) => (dm_add_i64(m, nk, 1, 1, null_mut()), want_kind),
            (14, _) => (dm_add_i64(m, kp, hk, 1, null_mut()), DM_ERR_INVALID),
            (15, 0) => (dm_entry_update(nm, kp, kl, Some(entry_noop), null_mut()), want_kind),
            (15, 1) => (dm_entry_update(m, nk, 1, Some(entry_noop), null_mut()), want_kind),
            (15, 2) => (dm_entry_update(m, kp, hk, Some(entry_noop), null_mut()), want_kind),
            (15, _) => (dm_entry_update(m, kp, kl, None, null_mut()), want_kind),
            (16, 0) => (dm_for_each(nm, Some(visit_noop), null_mut()), DM_ERR_NULL),
            (16, _) => (dm_for_each(m, None, null_mut()), DM_ERR_NULL),
            (17, 0) => (dm_for_each_mut(nm, Some(visit_mut_noop), null_mut()), DM_ERR_NULL),
            (17, _) => (dm_for_each_mut(m, None, null_mut()), DM_ERR_NULL),
            (18, 0) => (dm_retain_cb(nm, Some(visit_noop), null_mut()), DM_ERR_NULL),
            (18, _) => (dm_retain_cb(m, None, null_mut()), DM_ERR_NULL),
            (19, _) => {
                check!(dm_iter_new(null()).is_null(), "dm_iter_new(NULL)");
                let it = dm_iter_new(m);
                check!(!it.is_null(), "dm_iter_new");
                let (mut a, mut b, mut c, mut d) = (null(), SENT, null(), SENT);
                let r = [
                    dm_iter_next(null_mut(), &mut a, &mut b, &mut c, &mut d),
                    dm_iter_next(it, null_mut(), &mut b, &mut c, &mut d),
                    dm_iter_next(it, &mut a, null_mut(), &mut c, &mut d),
                    dm_iter_next(it, &mut a, &mut b, null_mut(), &mut d),
                    dm_iter_next(it, &mut a, &mut b, &mut c, null_mut()),
                ];
                check_eq!(r, [DM_ERR_NULL; 5], "dm_iter_next with NULL arguments");
                check!(b == SENT && d == SENT, "dm_iter_next wrote on error");
                let mut lens = [SENT; 4];
                let (mut count, mut used) = (SENT, SENT);
                let lp2 = lens.as_mut_ptr();
                let r = [
                    dm_iter_next_many(null_mut(), bp, 8, lp2, 2, &mut count, &mut used),
                    dm_iter_next_many(it, null_mut(), 8, lp2, 2, &mut count, &mut used),
                    dm_iter_next_many(it, bp, 8, null_mut(), 2, &mut count, &mut used),
                    dm_iter_next_many(it, bp, 8, lp2, 2, null_mut(), &mut used),
                    dm_iter_next_many(it, bp, 8, lp2, 2, &mut count, null_mut()),
                    dm_iter_next_many(it, bp, 8, lp2, 0, &mut count, &mut used),
                    dm_iter_next_many(it, bp, HUGE, lp2, 2, &mut count, &mut used),
                    dm_iter_next_many(null_mut(), bp, HUGE, lp2, 0, &mut count, &mut used),
                ];
                let want = [DM_ERR_NULL, DM_ERR_NULL, DM_ERR_NULL, DM_ERR_NULL, DM_ERR_NULL, DM_ERR_INVALID, DM_ERR_INVALID, DM_ERR_NULL];
                check_eq!(r, want, "dm_iter_next_many with bad arguments");
                check!(count == SENT && used == SENT && lens == [SENT; 4], "dm_iter_next_many wrote on error");
                dm_iter_free(it);
                (0, 0)
            }
            (20, 0) => (dm_extend(nm, sl_ok.as_ptr(), sl_ok.as_ptr(), 1), DM_ERR_NULL),
            (20, 1) => (dm_extend(m, sl_ok.as_ptr(), sl_null.as_ptr(), 1), DM_ERR_NULL),
            (20, 2) => (dm_extend(m, sl_huge.as_ptr(), sl_ok.as_ptr(), 1), DM_ERR_INVALID),
            (20, _) => (dm_extend(m, null(), sl_ok.as_ptr(), 1), DM_ERR_NULL),
            (21, 0) => (dm_get_many(nm, sl_ok.as_ptr(), 1, bp, 8, lp, lp), DM_ERR_NULL),
            (21, 1) => {
                let mut lens = [SENT];
                (dm_get_many(m, sl_null.as_ptr(), 1, bp, 8, lens.as_mut_ptr(), lp), DM_ERR_NULL)
            }
            (21, 2) => {
                let mut lens = [SENT];
                (dm_get_many(m, sl_huge.as_ptr(), 1, bp, 8, lens.as_mut_ptr(), lp), DM_ERR_INVALID)
            }
            (21, _) => (dm_get_many(m, sl_ok.as_ptr(), 1, bp, 8, null_mut(), lp), DM_ERR_NULL),
            (22, 0) => (dm_remove_many(nm, sl_ok.as_ptr(), 1, null_mut()), DM_ERR_NULL),
            (22, 1) => (dm_remove_many(m, sl_null.as_ptr(), 1, lp), DM_ERR_NULL),
            (22, 2) => (dm_remove_many(m, sl_huge.as_ptr(), 1, lp), DM_ERR_INVALID),
            (22, _) => (dm_remove_many(m, null(), 1, lp), DM_ERR_NULL),
            (23, 0) => (dm_shard_len(nm, 0, lp), DM_ERR_NULL),
            (23, 1) => (dm_shard_len(m, 0, null_mut()), DM_ERR_NULL),
            (23, _) => (dm_shard_len(m, usize::MAX, lp), DM_ERR_INVALID),
            (24, 0) => (dm_stats_get(nm, &mut dm_stats::default()), DM_ERR_NULL),
            (24, _) => (dm_stats_get(m, null_mut()), DM_ERR_NULL),
            (25, 0) => (dm_insert_ttl(nm, kp, kl, kp, kl, 5), want_kind),
            (25, 1) => (dm_insert_ttl(m, kp, kl, nk, 1, 5), want_kind),
            (25, _) => (dm_insert_ttl(m, kp, hk, kp, kl, 5), DM_ERR_INVALID),
            (26, 0) => (dm_try_insert_ttl(nm, kp, kl, kp, kl, 5), want_kind),
            (26, 1) => (dm_try_insert_ttl(m, nk, 1, kp, kl, 5), want_kind),
            (26, _) => (dm_try_insert_ttl(m, kp, kl, kp, hk, 5), DM_ERR_INVALID),
            (27, 0) => (dm_add_i64_ttl(nm, kp, kl, 1, 5, null_mut()), want_kind),
            (27, 1) => (dm_add_i64_ttl(m, nk, 2, 1, 5, null_mut()), want_kind),
            (27, _) => (dm_add_i64_ttl(m, kp, hk, 1, 5, null_mut()), DM_ERR_INVALID),
            (28, 0) => (dm_expire(nm, kp, kl, 5), want_kind),
            (28, 1) => (dm_expire(m, nk, 1, 5), want_kind),
            (28, _) => (dm_expire(m, kp, hk, 0), DM_ERR_INVALID),
            (29, 0) => (dm_touch(nm, kp, kl, 0), DM_ERR_NULL), // NULL before INVALID
            (29, 1) => (dm_touch(m, nk, 1, 0), DM_ERR_NULL),
            (29, 2) => (dm_touch(m, kp, hk, 5), DM_ERR_INVALID),
            (29, _) => (dm_touch(m, kp, kl, 0), DM_ERR_INVALID),
            (30, 0) => (dm_ttl_remaining(nm, kp, kl, msp), DM_ERR_NULL),
            (30, 1) => (dm_ttl_remaining(m, nk, 1, msp), DM_ERR_NULL),
            (30, 2) => (dm_ttl_remaining(m, kp, hk, msp), DM_ERR_INVALID),
            (30, _) => (dm_ttl_remaining(m, kp, hk, null_mut()), DM_ERR_NULL),
            (31, _) => (dm_purge_expired(nm, lp), DM_ERR_NULL),
            (32, _) => {
                check_eq!(dm_clock_now(null()), 0, "dm_clock_now(NULL)");
                (dm_clock_set(nm, 5), DM_ERR_NULL)
            }
            (_, _) => {
                // NULL wins over INVALID across arguments: dm_extend with an INVALID
                // key slice and a NULL value slice, dm_get_many with a NULL key
                // slice and buf_cap > PTRDIFF_MAX.
                let st = dm_extend(m, sl_huge.as_ptr(), sl_null.as_ptr(), 1);
                let mut lens = [SENT];
                let st2 = dm_get_many(m, sl_null.as_ptr(), 1, bp, HUGE, lens.as_mut_ptr(), lp);
                check_eq!(st2, DM_ERR_NULL, "dm_get_many NULL slice + huge buf_cap");
                (st, DM_ERR_NULL)
            }
        }
    };
    check_eq!(st, want, "bad-argument call f={f} kind={kind}");
    check_eq!(len, SENT, "bad-argument call f={f} kind={kind} wrote an out-length");
    check_eq!(ms, SENT as u64, "bad-argument call f={f} kind={kind} wrote *ms");
}

fn run(data: &[u8]) {
    let mut inp = In { d: data, i: 0 };
    let seed = 1 + inp.u8() as u64;
    let fast = inp.bool();
    let shards = [2usize, 4, 8, 64][inp.below(4)];
    let max0 = [0usize, 0, 0, 2, 5][inp.below(5)];
    let m0 = seeded_map(seed, fast, shards, max0);
    let m1 = seeded_map(seed + 7, !fast, 2, 0);
    let mut h = H {
        inp,
        maps: [
            Slot { h: m0, model: Model::new(true, max0), refs: Vec::new(), gen: 0 },
            Slot { h: m1, model: Model::new(true, 0), refs: Vec::new(), gen: 1 },
        ],
        iter: None,
        next_gen: 2,
        dead: [false; 2],
        depth: 0,
    };
    let mut ops = 0;
    while !h.inp.done() && ops < 200 {
        ops += 1;
        let op = h.inp.u8();
        let s = (op >> 7) as usize; // high bit picks the map
        let m = h.maps[s].h;
        if trace() {
            eprintln!("op {} on map {s} (now {}, stored {})", op & 0x7f, h.model(s).now, h.model(s).stored.len());
        }
        match op & 0x7f {
            0..=7 => op_insert(&mut h, s, false),
            8..=10 => op_insert(&mut h, s, true),
            11..=14 => {
                let key = h.key(s);
                op_get_copy(&mut h, s, &key);
            }
            15 | 16 => {
                let key = h.key(s);
                let want = h.model(s).live(&key).cloned();
                let mut c = ReadCtx { h: &mut h as *mut H, s, got: None, calls: 0 };
                let st = unsafe { dm_get_with(m, key.as_ptr(), key.len(), Some(read_cb), &mut c as *mut ReadCtx as *mut c_void) };
                check_eq!(st, if want.is_some() { DM_OK } else { DM_NOT_FOUND }, "dm_get_with");
                check_eq!(c.calls, usize::from(want.is_some()), "dm_get_with calls");
                check_eq!(c.got, want, "dm_get_with value");
            }
            17 | 18 => {
                let key = h.key(s);
                let mut out = 0x1 as *mut u8;
                let mut len = SENT;
                let st = unsafe { dm_get_alloc(m, key.as_ptr(), key.len(), &mut out, &mut len) };
                match h.model(s).live(&key) {
                    None => {
                        check_eq!(st, DM_NOT_FOUND, "dm_get_alloc missing");
                        check!(out == 0x1 as *mut u8 && len == SENT, "dm_get_alloc NOT_FOUND wrote");
                    }
                    Some(v) => {
                        check_eq!(st, DM_OK, "dm_get_alloc");
                        check_eq!(len, v.len(), "dm_get_alloc length");
                        if v.is_empty() {
                            check!(out.is_null(), "dm_get_alloc of an empty value must give NULL");
                        } else {
                            check_eq!(&to_vec(out, len), v, "dm_get_alloc bytes");
                        }
                        unsafe { dm_bytes_free(out, len) };
                    }
                }
            }
            19 | 20 => {
                let key = h.key(s);
                let want = h.model(s).live(&key).is_some();
                check_eq!(unsafe { dm_contains_key(m, key.as_ptr(), key.len()) }, want, "dm_contains_key");
            }
            21..=25 => {
                let key = h.key(s);
                op_remove(&mut h, s, &key);
            }
            26 | 27 => {
                let key = h.key(s);
                let answer = h.inp.bool();
                h.m_meet(s, &key);
                let want = h.model(s).live(&key).cloned();
                let mut c = PredCtx { h: &mut h as *mut H, s, key: key.clone(), want: want.clone(), answer, calls: 0 };
                let st = unsafe { dm_remove_if(m, key.as_ptr(), key.len(), Some(pred_cb), &mut c as *mut PredCtx as *mut c_void) };
                let expect = match (want.is_some(), answer) {
                    (false, _) => DM_NOT_FOUND,
                    (true, true) => DM_OK,
                    (true, false) => DM_MISMATCH,
                };
                check_eq!(st, expect, "dm_remove_if");
                check_eq!(c.calls, usize::from(want.is_some()), "dm_remove_if predicate calls");
                if st == DM_OK {
                    h.m_del(s, &key);
                }
            }
            28 | 29 => {
                check_eq!(unsafe { dm_len(m) }, h.model(s).stored.len(), "dm_len");
                check_eq!(unsafe { dm_is_empty(m) }, h.model(s).stored.is_empty(), "dm_is_empty");
                check!(unsafe { dm_capacity(m) } >= h.model(s).stored.len(), "dm_capacity");
            }
            30 => {
                check_eq!(unsafe { dm_clear(m) }, DM_OK, "dm_clear");
                h.m_clear(s);
                check_eq!(unsafe { dm_len(m) }, 0, "dm_len after dm_clear");
            }
            31 => {
                check_eq!(unsafe { dm_shrink_to_fit(m) }, DM_OK, "dm_shrink_to_fit");
                check!(unsafe { dm_capacity(m) } >= h.model(s).stored.len(), "capacity after shrink");
            }
            32..=34 => {
                let key = h.key(s);
                let val = pick_value(&mut h.inp);
                let st = unsafe { dm_try_insert(m, key.as_ptr(), key.len(), val.as_ptr(), val.len()) };
                h.m_meet(s, &key);
                if h.model(s).live(&key).is_some() {
                    check_eq!(st, DM_EXISTS, "dm_try_insert of a live key");
                } else {
                    absent_insert(&mut h, s, &key, Ent { val, dl: None }, st, DM_OK, "dm_try_insert");
                }
            }
            35..=37 => {
                let key = h.key(s);
                let val = pick_value(&mut h.inp);
                h.m_meet(s, &key);
                let old = h.model(s).live(&key).cloned();
                let cap = h.inp.below(48);
                let mut buf = vec![0x77u8; cap];
                let mut len = SENT;
                let st = unsafe { dm_get_or_insert(m, key.as_ptr(), key.len(), val.as_ptr(), val.len(), buf.as_mut_ptr(), cap, &mut len) };
                match old {
                    None => {
                        let vl = val.len();
                        if absent_insert(&mut h, s, &key, Ent { val, dl: None }, st, DM_OK, "dm_get_or_insert") {
                            check_eq!(len, vl, "dm_get_or_insert out_len on insert");
                        }
                    }
                    Some(o) if o.len() <= cap => {
                        check_eq!(st, DM_EXISTS, "dm_get_or_insert present");
                        check_eq!(len, o.len(), "dm_get_or_insert length");
                        check_eq!(&buf[..o.len()], &o[..], "dm_get_or_insert bytes");
                    }
                    Some(o) => {
                        check_eq!(st, DM_BUFFER_TOO_SMALL, "dm_get_or_insert small buffer");
                        check_eq!(len, o.len(), "dm_get_or_insert needed");
                    }
                }
            }
            38..=40 => {
                let key = h.key(s);
                let val = pick_value(&mut h.inp);
                h.m_meet(s, &key);
                let cur = h.model(s).live(&key).cloned();
                let expected = match (&cur, h.inp.below(3)) {
                    (Some(c), 0 | 1) => c.clone(),
                    _ => pick_value(&mut h.inp),
                };
                let st = unsafe {
                    dm_compare_and_swap(m, key.as_ptr(), key.len(), expected.as_ptr(), expected.len(), val.as_ptr(), val.len())
                };
                match cur {
                    None => check_eq!(st, DM_NOT_FOUND, "dm_compare_and_swap absent"),
                    Some(c) if c == expected => {
                        check_eq!(st, DM_OK, "dm_compare_and_swap");
                        h.m_update(s, &key, &val); // keeps its deadline
                    }
                    Some(_) => check_eq!(st, DM_MISMATCH, "dm_compare_and_swap mismatch"),
                }
            }
            41 | 42 => {
                let key = h.key(s);
                h.m_meet(s, &key);
                let cur = h.model(s).live(&key).cloned();
                let expected = match (&cur, h.inp.below(3)) {
                    (Some(c), 0 | 1) => c.clone(),
                    _ => pick_value(&mut h.inp),
                };
                let st = unsafe { dm_compare_and_remove(m, key.as_ptr(), key.len(), expected.as_ptr(), expected.len()) };
                match cur {
                    None => check_eq!(st, DM_NOT_FOUND, "dm_compare_and_remove absent"),
                    Some(c) if c == expected => {
                        check_eq!(st, DM_OK, "dm_compare_and_remove");
                        h.m_del(s, &key);
                    }
                    Some(_) => check_eq!(st, DM_MISMATCH, "dm_compare_and_remove mismatch"),
                }
            }
            43..=45 => {
                let key = h.key(s);
                let val = pick_value(&mut h.inp);
                h.m_meet(s, &key);
                let old = h.model(s).live(&key).cloned();
                let cap = match h.inp.below(3) {
                    0 => 0,
                    1 => old.as_ref().map_or(0, |o| o.len()),
                    _ => h.inp.below(64),
                };
                let mut buf = vec![0x33u8; cap];
                let bp = if cap == 0 && h.inp.bool() { null_mut() } else { buf.as_mut_ptr() };
                let mut len = SENT;
                let st = unsafe { dm_swap(m, key.as_ptr(), key.len(), val.as_ptr(), val.len(), bp, cap, &mut len) };
                match old {
                    None => {
                        absent_insert(&mut h, s, &key, Ent { val, dl: None }, st, DM_OK, "dm_swap");
                    }
                    Some(o) if o.len() <= cap => {
                        check_eq!(st, DM_REPLACED, "dm_swap");
                        check_eq!(len, o.len(), "dm_swap old length");
                        check_eq!(&buf[..o.len()], &o[..], "dm_swap old bytes");
                        h.m_put(s, &key, Ent { val, dl: None }); // a whole new entry: TTL dropped
                    }
                    Some(o) => {
                        check_eq!(st, DM_BUFFER_TOO_SMALL, "dm_swap small buffer");
                        check_eq!(len, o.len(), "dm_swap needed");
                    }
                }
            }
            46..=49 => {
                let key = h.key(s);
                let delta = match h.inp.below(4) {
                    0 => i64::MAX,
                    1 => i64::MIN,
                    _ => h.inp.u8() as i8 as i64,
                };
                let mut result = 0x5555i64;
                let rp = if h.inp.below(4) == 0 { null_mut() } else { &mut result as *mut i64 };
                let st = unsafe { dm_add_i64(m, key.as_ptr(), key.len(), delta, rp) };
                op_add_check(&mut h, s, &key, delta, 0, st, result, !rp.is_null());
            }
            50..=59 => {
                let key = h.key(s);
                op_entry_update(&mut h, s, &key);
            }
            60..=62 => op_walk(&mut h, s, 0),
            63 | 64 => op_walk(&mut h, s, 1),
            65..=67 => op_walk(&mut h, s, 2),
            68..=73 => op_open_iter(&mut h),
            74..=76 => op_bulk(&mut h, s, 0),
            77..=79 => op_bulk(&mut h, s, 1),
            80 | 81 => op_bulk(&mut h, s, 2),
            82..=84 => op_inspect(&mut h, s),
            85..=94 => op_bad_args(&mut h, s),
            95 => op_misc(&mut h),
            96 | 97 => op_construct(&mut h, s),
            98..=101 => {
                if h.inp.bool() || h.maps[s].refs.is_empty() {
                    let r = unsafe { dm_ref(m) };
                    check_eq!(r, m, "dm_ref returns its argument");
                    h.maps[s].refs.push(r);
                } else {
                    // Drop one extra reference.
                    let r = h.maps[s].refs.pop().unwrap();
                    unsafe { dm_free(r) };
                }
            }
            102..=108 => op_ttl(&mut h, s),
            109..=113 => op_clock(&mut h, s),
            _ => check_whole(&mut h, s, "a check op"),
        }
    }
    // Drain the open cursor (it must see every key live throughout), then
    // compare everything and release all handles.
    if let Some(mut it) = h.iter.take() {
        loop {
            let (mut k, mut kl, mut v, mut vl) = (null(), 0, null(), 0);
            let st = unsafe { dm_iter_next(it.it, &mut k, &mut kl, &mut v, &mut vl) };
            if st == DM_NOT_FOUND {
                break;
            }
            check_eq!(st, DM_OK, "dm_iter_next (drain)");
            iter_saw(&mut it, k, kl, v, vl);
        }
        iter_finished(&it);
        unsafe { dm_iter_free(it.it) };
    }
    for s in 0..2 {
        check_whole(&mut h, s, "the last op");
        op_inspect(&mut h, s);
        let slot = std::mem::replace(&mut h.maps[s], Slot { h: null_mut(), model: Model::default(), refs: Vec::new(), gen: 0 });
        unsafe { dm_free(slot.h) };
        for r in slot.refs {
            unsafe { dm_free(r) };
        }
    }
}

fuzz_target!(|data: &[u8]| {
    run(data);
});
