//! Reads that write nothing shared.
//!
//! dashmap's reader-writer lock counts readers in its lock word, so every
//! read writes that word, and two cores reading pull the shard's cache line
//! back and forth (BENCHMARKS.md, "Where goals are missed"). A gate per shard
//! lets short reads skip the lock (after BRAVO, Dice and Kogan, 2019): the
//! reader counts itself on a counter of its own thread's stripe (a stripe is
//! cache lines that few threads write), then checks that the gate is open.
//! A writer takes the shard's write lock as before; if the gate is open it
//! shuts it and waits until no stripe counts a reader of that shard.
//!
//! The gate then stays shut, so a shard that is written often is simply
//! locked as before, and its writers only read the gate's flag. A reader that
//! finds it shut takes the read lock and, on one of every 2^`reopen_log2`
//! of its locked reads, reopens the gate. That interval adapts per shard without
//! clocks or extra shared writes: the counters also count finished gated
//! reads, so a writer that shuts an open gate learns how many reads it let
//! through since it was last shut. Fewer than `WORTH_SHUTTING` (shutting
//! costs a few cache misses, a gated read saves about one), or all of them
//! from one thread (whose lock word would not have moved between cores),
//! and the interval doubles; otherwise it halves. Shards read by several
//! threads between writes stay open; shards written about as often as read,
//! or read by one thread, stay locked, as with dashmap alone. Where the
//! interval is one read, the writer itself reopens the gate just before it
//! releases the lock, so after a write readers go on without ever taking
//! the lock (which would cost each a miss on the lock's line).
//!
//! A thread claims a stripe of its own when one is free (there are as many
//! as CPUs, rounded up to a power of two, at most 16) and gives it back when
//! it exits; as the only writer of its counters it leaves with a plain store
//! instead of an atomic addition (a locked instruction, about a tenth of a
//! short read). Threads beyond that share a second set of stripes, counting
//! with atomic additions both ways.
//!
//! Correctness: the reader's count-then-check and the writer's
//! shut-then-scan are sequentially consistent, so at least one of the two
//! sees the other (the Dekker pattern): either the reader sees the gate shut
//! and takes the lock, or the writer sees the count and waits for the reader
//! to leave. Only a thread holding the shard's lock reopens a gate: a reader
//! holding the read lock (so no writer is inside), or a writer done with
//! the table, just before it releases the write lock (with Release, so a
//! reader that sees the gate open sees the writer's changes). The next
//! writer, which acquires the lock after that, sees the gate open and shuts
//! it again.

use std::cell::Cell;
use std::hint;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread;

use super::{Shard, Table};

/// Gated reads that make shutting a gate worth its cost (module comment).
const WORTH_SHUTTING: u32 = 8;

/// Longest reopening interval, as a power of two (locked reads).
const MAX_REOPEN_LOG2: u32 = 10;

/// Most stripes threads can own (as many again are shared).
const MAX_STRIPES: usize = 16;

/// Reader counters per cache-line pair (the adjacent-line prefetcher moves
/// lines in pairs, so stripes never share one).
const COUNTERS_PER_LINE: usize = 16;

/// A reader counter: readers inside in the low half, gated reads finished
/// (wrapping) in the high half, so leaving is one addition.
const INSIDE: u64 = 1;
const FINISHED: u64 = 1 << 32;

/// What a thread keeps for the gates, in its `tls::ThreadState` (all-zero
/// initially).
#[repr(C)]
pub(crate) struct ReaderState {
    /// This thread's stripe plus one; 0 until first needed. Below
    /// `stripe_count()` (plus one) the thread owns it, else it shares it.
    stripe: usize,
    /// Locked reads taken because a gate was shut (wrapping).
    locked_reads: usize,
}

/// This thread's gate state.
#[inline(always)]
fn reader_state() -> &'static mut ReaderState {
    // SAFETY: the thread's own block, used only by this thread; no other
    // borrow of `reader` is alive (each use below is a short statement).
    unsafe { &mut (*crate::tls::state()).reader }
}

/// Stripes threads can own; as many again are shared. One count for the
/// process, so a stripe a thread owns is its own in every map.
fn stripe_count() -> usize {
    super::cpus().next_power_of_two().clamp(2, MAX_STRIPES)
}

/// This thread's stripe: below `stripe_count()` one it owns, else one of
/// the shared ones.
#[inline(always)]
fn stripe_of_this_thread() -> usize {
    let state = reader_state();
    if state.stripe == 0 {
        state.stripe = assign_stripe() + 1;
    }
    state.stripe - 1
}

/// Who owns each stripe: the owner's thread number, 0 when free. Numbers
/// are never reused, so a stale owner is never mistaken for a live one.
static OWNERS: [AtomicUsize; MAX_STRIPES] = [const { AtomicUsize::new(0) }; MAX_STRIPES];

/// Claims a free stripe for this thread, to be given back when it exits;
/// when none is free (or the exit hook cannot be registered, as while the
/// thread is exiting) it gets a shared stripe instead, for good.
#[cold]
fn assign_stripe() -> usize {
    let owned = stripe_count();
    let number = next_thread_number();
    for (stripe, owner) in OWNERS[..owned].iter().enumerate() {
        // Acquire: this thread's counters continue where the last owner's
        // final stores (Release, in `Owned::drop`) left them.
        if owner.compare_exchange(0, number, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            if OWNED.try_with(|o| o.0.set(Some(stripe))).is_ok() {
                return stripe;
            }
            owner.store(0, Ordering::Release);
            break;
        }
    }
    owned + (number & (owned - 1))
}

#[cold]
fn next_thread_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    /// The stripe this thread owns, given back by the destructor.
    static OWNED: Owned = const { Owned(Cell::new(None)) };
}

struct Owned(Cell<Option<usize>>);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(stripe) = self.0.take() {
            // Reads by later destructors of this thread share a stripe.
            reader_state().stripe = stripe_count() + 1;
            OWNERS[stripe].store(0, Ordering::Release);
        }
    }
}

/// A shard's gate, on a line of its own: readers read it on every call,
/// writers on every write, and only the flag changes often.
#[repr(align(64))]
struct Control {
    open: AtomicBool,
    /// log2 of the reopening interval; written by writers only.
    reopen_log2: AtomicU32,
    /// Where the table's control bytes start, and its bucket mask, as of
    /// its last growth or shrinking (null before the first): read before the
    /// gate or lock is taken, to prefetch, never to read through.
    hint_ctrl: AtomicPtr<u8>,
    hint_mask: AtomicUsize,
}

#[repr(align(128))]
struct CounterLine([AtomicU64; COUNTERS_PER_LINE]);

/// The gates of all shards of one map.
pub(super) struct Gates {
    control: Box<[Control]>,
    /// Readers inside, per stripe and shard: counter
    /// `(stripe << stripe_shift) + shard`, so each stripe starts a line and a
    /// thread's counters share lines only with the same stripe's.
    counters: Box<[CounterLine]>,
    /// Each counter's finished reads when its gate was last shut, indexed
    /// like the counters; used by writers only (under the write lock).
    finished_at_shut: Box<[AtomicU32]>,
    /// All stripes, owned and shared.
    stripes: usize,
    stripe_shift: u32,
}

impl Gates {
    /// Open gates for `shards` shards.
    pub fn new(shards: usize) -> Gates {
        // Owned stripes, then as many shared ones.
        let stripes = 2 * stripe_count();
        // Both powers of two, so a stripe is a whole number of lines.
        let stripe_len = shards.max(COUNTERS_PER_LINE);
        Gates {
            control: (0..shards)
                .map(|_| Control {
                    open: AtomicBool::new(true),
                    reopen_log2: AtomicU32::new(0),
                    hint_ctrl: AtomicPtr::new(std::ptr::null_mut()),
                    hint_mask: AtomicUsize::new(0),
                })
                .collect(),
            counters: (0..stripes * stripe_len / COUNTERS_PER_LINE).map(|_| CounterLine(Default::default())).collect(),
            finished_at_shut: (0..stripes * stripe_len).map(|_| AtomicU32::new(0)).collect(),
            stripes,
            stripe_shift: stripe_len.trailing_zeros(),
        }
    }

    /// Where the counter of `stripe` for `shard` is.
    #[inline(always)]
    fn slot(&self, stripe: usize, shard: usize) -> usize {
        (stripe << self.stripe_shift) + shard
    }

    #[inline(always)]
    fn counter(&self, slot: usize) -> &AtomicU64 {
        &self.counters[slot / COUNTERS_PER_LINE].0[slot % COUNTERS_PER_LINE]
    }

    /// Enters shard `shard` as a reader without its lock, if the gate is open.
    #[inline(always)]
    fn enter(&self, shard: usize) -> Option<Pass<'_>> {
        let open = &self.control[shard].open;
        if !open.load(Ordering::Relaxed) {
            return None;
        }
        let stripe = stripe_of_this_thread();
        let counter = self.counter(self.slot(stripe, shard));
        counter.fetch_add(INSIDE, Ordering::SeqCst);
        if !open.load(Ordering::SeqCst) {
            counter.fetch_sub(INSIDE, Ordering::Relaxed);
            return None;
        }
        Some(Pass { counter, owned: stripe < self.stripes / 2 })
    }

    /// Hints the CPU to fetch the control bytes and slots a lookup of `hash`
    /// in shard `shard` reads first, from where the table was when it last
    /// grew or shrank: its lines then arrive while the gate or lock is being taken
    /// (whose cache line, after another core's write, is a miss of its own).
    #[inline(always)]
    pub fn prefetch_probe(&self, shard: usize, hash: u64) {
        let control = &self.control[shard];
        let ctrl = control.hint_ctrl.load(Ordering::Relaxed);
        if !ctrl.is_null() {
            super::prefetch::probe_at(ctrl, control.hint_mask.load(Ordering::Relaxed), hash);
        }
    }

    /// For a writer that may have moved shard `shard`'s table (growing or
    /// shrinking it), still holding the write lock: records where the table
    /// now is, for `prefetch_probe`.
    #[cold]
    pub fn note_table(&self, shard: usize, table: &Table) {
        let control = &self.control[shard];
        control.hint_ctrl.store(table.data_end().as_ptr().cast::<u8>(), Ordering::Relaxed);
        control.hint_mask.store(table.buckets() - 1, Ordering::Relaxed);
    }

    /// For a writer holding shard `shard`'s write lock: if its gate is open,
    /// shuts it and returns once no reader is inside.
    #[inline]
    fn shut(&self, shard: usize) {
        // Relaxed suffices: gates are opened only under the shard's lock,
        // which was released before this writer acquired it.
        if self.control[shard].open.load(Ordering::Relaxed) {
            self.shut_and_drain(shard);
        }
    }

    #[cold]
    fn shut_and_drain(&self, shard: usize) {
        let control = &self.control[shard];
        control.open.store(false, Ordering::SeqCst);
        let (mut let_through, mut reading_stripes) = (0u32, 0u32);
        for stripe in 0..self.stripes {
            let slot = self.slot(stripe, shard);
            let counter = self.counter(slot);
            let mut spins = 0u32;
            let mut value = counter.load(Ordering::SeqCst);
            while value & (FINISHED - 1) != 0 {
                // Readers inside run only short copies: spin, then let the
                // scheduler run one that was preempted.
                if spins < 100 {
                    hint::spin_loop();
                    spins += 1;
                } else {
                    thread::yield_now();
                }
                value = counter.load(Ordering::SeqCst);
            }
            // Relaxed (here and below): written only under the write lock;
            // readers read `reopen_log2` as a hint, any value is safe.
            let finished = (value / FINISHED) as u32;
            let reads = finished.wrapping_sub(self.finished_at_shut[slot].swap(finished, Ordering::Relaxed));
            let_through = let_through.wrapping_add(reads);
            reading_stripes += u32::from(reads > 0);
        }
        let worth_it = let_through >= WORTH_SHUTTING && reading_stripes >= 2;
        let log2 = control.reopen_log2.load(Ordering::Relaxed);
        let log2 = if worth_it { log2.saturating_sub(1) } else { (log2 + 1).min(MAX_REOPEN_LOG2) };
        control.reopen_log2.store(log2, Ordering::Relaxed);
    }

    /// For a reader holding shard `shard`'s read lock because its gate was
    /// shut: counts the locked read, and reopens the gate on one read in
    /// the shard's current interval.
    #[inline(always)]
    fn count_locked_read(&self, shard: usize) {
        let state = reader_state();
        state.locked_reads = state.locked_reads.wrapping_add(1);
        let control = &self.control[shard];
        let every = 1usize << control.reopen_log2.load(Ordering::Relaxed);
        if state.locked_reads & (every - 1) == 0 {
            // Release: a reader that sees it open also sees the table as the
            // last writer left it (that writer's unlock happened before this
            // thread's read lock).
            control.open.store(true, Ordering::Release);
        }
    }
}

/// A reader inside a gate: the shard's table cannot change until it is dropped.
pub(super) struct Pass<'a> {
    counter: &'a AtomicU64,
    /// The counter is on a stripe this thread owns: no other thread writes it.
    owned: bool,
}

impl Drop for Pass<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // Release: the writer that sees this reader gone (Acquire) sees its
        // reads of the table done.
        if self.owned {
            // The only writer of the counter, so a load and a store add
            // exactly, without a locked instruction.
            let value = self.counter.load(Ordering::Relaxed);
            self.counter.store(value.wrapping_add(FINISHED - INSIDE), Ordering::Release);
        } else {
            self.counter.fetch_add(FINISHED - INSIDE, Ordering::Release);
        }
    }
}

/// A table a reader may read, and what keeps writers out meanwhile.
pub(super) struct ReadGuard<'a> {
    table: &'a Table,
    _hold: Hold<'a>,
}

/// Held only to be dropped with the guard.
enum Hold<'a> {
    Gate { _pass: Pass<'a> },
    Lock { _guard: dashmap_rs::RwLockReadGuard<'a, Table> },
}

impl std::ops::Deref for ReadGuard<'_> {
    type Target = Table;
    #[inline(always)]
    fn deref(&self) -> &Table {
        self.table
    }
}

/// The table under the write lock, its gate shut. Dropping it reopens the
/// gate, just before the lock is released, when the shard is read by
/// several threads between writes (its reopening interval is one read):
/// the readers then go on through the gate instead of each taking the lock
/// once to reopen it (a miss on the lock's line and a second write to the
/// gate's, per write).
pub(super) struct WriteGuard<'a> {
    guard: dashmap_rs::RwLockWriteGuard<'a, Table>,
    control: &'a Control,
}

impl std::ops::Deref for WriteGuard<'_> {
    type Target = Table;
    #[inline(always)]
    fn deref(&self) -> &Table {
        &self.guard
    }
}

impl std::ops::DerefMut for WriteGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Table {
        &mut self.guard
    }
}

impl Drop for WriteGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // Relaxed: written only under the write lock, which this thread holds.
        if self.control.reopen_log2.load(Ordering::Relaxed) == 0 {
            // Release: a reader that sees the gate open (its SeqCst load in
            // `enter`) sees every change this writer made to the table;
            // the table is not touched again before the lock is released.
            self.control.open.store(true, Ordering::Release);
        }
    }
}

/// One shard: dashmap's lock over its table, and its gate.
#[derive(Clone, Copy)]
pub(super) struct ShardRef<'a> {
    pub lock: &'a Shard,
    pub gates: &'a Gates,
    pub index: usize,
}

impl<'a> ShardRef<'a> {
    /// Read access for a short section that runs no caller code: through
    /// the gate when it is open, else under the read lock.
    #[inline(always)]
    pub fn read(self) -> ReadGuard<'a> {
        match self.gates.enter(self.index) {
            // SAFETY: while the pass is held no writer changes the table (a
            // writer shuts the gate and waits for every pass to be dropped
            // before it changes anything), so this shared reference is not
            // aliased by a mutable one while it lives.
            Some(pass) => ReadGuard { table: unsafe { &*self.lock.data_ptr() }, _hold: Hold::Gate { _pass: pass } },
            None => {
                let guard = self.lock.read();
                self.gates.count_locked_read(self.index);
                Self::locked(guard)
            }
        }
    }

    /// Read access under the read lock, for sections that run caller code
    /// or walk a whole table: a writer waiting for them sleeps in the lock
    /// instead of spinning on the gate.
    #[inline]
    pub fn read_locked(self) -> ReadGuard<'a> {
        Self::locked(self.lock.read())
    }

    #[inline(always)]
    fn locked(guard: dashmap_rs::RwLockReadGuard<'a, Table>) -> ReadGuard<'a> {
        // SAFETY: the guard, kept alongside, holds the read lock for as long
        // as the reference lives; the table does not move while locked.
        let table = unsafe { &*(&*guard as *const Table) };
        ReadGuard { table, _hold: Hold::Lock { _guard: guard } }
    }

    /// Write access: the write lock, then the gate shut with no reader inside.
    #[inline(always)]
    pub fn write(self) -> WriteGuard<'a> {
        super::prefetch::prefetch_for_write(self.lock);
        let guard = self.lock.write();
        self.gates.shut(self.index);
        WriteGuard { guard, control: &self.gates.control[self.index] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::{Map, Options};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Duration;

    /// Puts this thread on shared stripe `stripe` (threads otherwise claim
    /// whichever stripe is free, and tests running alongside hold some).
    fn on_stripe(stripe: usize) {
        reader_state().stripe = stripe_count() + stripe + 1;
    }

    fn small_map() -> Map {
        Map::new(Options { shards: 2, ..Options::default() }).unwrap()
    }

    fn is_open(map: &Map, shard: usize) -> bool {
        map.gates.control[shard].open.load(Ordering::SeqCst)
    }

    /// Reads until the gate of `key`'s shard is open again; returns the shard.
    fn reopen(map: &Map, key: &[u8]) -> usize {
        let shard = map.locate(key).1.index;
        for _ in 0..(1 << (MAX_REOPEN_LOG2 + 1)) {
            if is_open(map, shard) {
                return shard;
            }
            map.get_with(key, |_| ());
        }
        panic!("gate of shard {shard} never reopened");
    }

    #[test]
    fn a_writer_waits_for_a_reader_inside_the_gate() {
        let map = Arc::new(small_map());
        map.insert(b"k", b"old", None).unwrap();
        let shard = reopen(&map, b"k");
        let guard = map.shard(shard).read();
        assert!(matches!(guard._hold, Hold::Gate { .. }), "the read went through the open gate");
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (map, done) = (map.clone(), done.clone());
            std::thread::spawn(move || {
                map.insert(b"k", b"new", None).unwrap();
                done.store(true, Ordering::SeqCst);
            })
        };
        // The writer shuts the gate, then waits for this reader.
        let start = std::time::Instant::now();
        while is_open(&map, shard) {
            assert!(start.elapsed() < Duration::from_secs(30), "the writer never shut the gate");
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(50));
        assert!(!done.load(Ordering::SeqCst), "the writer changed the table under a reader");
        drop(guard);
        writer.join().unwrap();
        assert_eq!(map.get_with(b"k", <[u8]>::to_vec).as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn gates_stay_open_only_where_several_threads_read_between_writes() {
        let map = small_map();
        let shard = map.locate(b"k").1.index;
        let log2 = || map.gates.control[shard].reopen_log2.load(Ordering::Relaxed);
        let read = |n: usize| (0..n).for_each(|_| { let _ = map.get_with(b"k", |_| ()); });
        // A read per write: shutting never pays.
        for i in 0..4000u32 {
            map.insert(b"k", &i.to_le_bytes(), None).unwrap();
            read(1);
        }
        let after_writes = log2();
        assert!(after_writes >= 3, "one read per write: reopening interval 2^{after_writes}");
        // Two threads reading thousands of times per write: open at once.
        for _ in 0..40 {
            map.insert(b"k", b"v", None).unwrap();
            let both = std::sync::Barrier::new(2);
            std::thread::scope(|s| {
                for stripe in 0..2 {
                    let both = &both;
                    s.spawn(move || {
                        on_stripe(stripe);
                        both.wait(); // read side by side, as the gate expects
                        read(5000)
                    });
                }
            });
        }
        assert_eq!(log2(), 0, "two readers, 10000 reads per write: the gate reopens at once (was 2^{after_writes})");
        map.insert(b"k", b"v", None).unwrap();
        assert!(is_open(&map, shard), "and the writer leaves it open");
        // One thread alone: its lock word never moved, the gate stays shut.
        for _ in 0..40 {
            map.insert(b"k", b"v", None).unwrap();
            read(5000);
        }
        assert!(log2() >= 3, "a single reader: reopening interval 2^{}", log2());
    }

    /// A writer reopens the gate it shut only where the reopening interval
    /// is one read; elsewhere it stays shut for readers to reopen.
    #[test]
    fn writers_reopen_gates_only_where_the_interval_is_one_read() {
        let map = small_map();
        let shard = map.locate(b"k").1.index;
        let log2 = &map.gates.control[shard].reopen_log2;
        map.insert(b"k", b"v", None).unwrap();
        assert_eq!(log2.load(Ordering::Relaxed), 1, "no read let through: the interval doubles");
        assert!(!is_open(&map, shard), "and the writer leaves the gate shut");
        log2.store(0, Ordering::Relaxed); // as if threads had read side by side
        map.update(b"k", |_| assert!(!is_open(&map, shard), "never open while a writer holds the lock"));
        assert!(is_open(&map, shard), "interval 1: the writer reopens the gate as it leaves");
        assert_eq!(map.get_with(b"k", <[u8]>::to_vec).as_deref(), Some(&b"v"[..]), "read through the reopened gate");
        map.insert(b"k", b"w", None).unwrap();
        assert_eq!(log2.load(Ordering::Relaxed), 1, "one reader, one read: not worth shutting");
        assert!(!is_open(&map, shard));
    }

    /// The prefetch hint follows the table: set when it first grows, moved
    /// when it grows or shrinks.
    #[test]
    fn writers_note_where_the_table_is() {
        let map = small_map();
        let shard = map.locate(b"k").1.index;
        let hint = || {
            let c = &map.gates.control[shard];
            (c.hint_ctrl.load(Ordering::Relaxed), c.hint_mask.load(Ordering::Relaxed))
        };
        let actual = || {
            let table = map.shard(shard).read_locked();
            (table.data_end().as_ptr().cast::<u8>(), table.buckets() - 1)
        };
        assert!(hint().0.is_null(), "no table yet");
        map.insert(b"k", b"v", None).unwrap();
        assert_eq!(hint(), actual());
        let small = actual();
        let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("key{i}").into_bytes()).collect();
        for k in &keys {
            map.insert(k, b"v", None).unwrap();
        }
        assert_ne!(actual(), small, "the table grew");
        assert_eq!(hint(), actual());
        for k in &keys {
            map.remove_if(k, |_| true);
        }
        map.shrink_to_fit();
        assert_eq!(hint(), actual(), "after shrinking");
    }

    /// A thread that reads through a gate owns its stripe while it runs
    /// (if one is free) and gives it back when it exits; owned stripes are
    /// never shared, and threads beyond them read on shared stripes.
    #[test]
    fn threads_own_stripes_until_they_exit() {
        let map = small_map();
        map.insert(b"k", b"v", None).unwrap();
        let shard = reopen(&map, b"k");
        let owned = stripe_count();
        let threads = 2 * owned + 1;
        // Tests running alongside may hold every stripe for a moment: retry
        // until some of these threads got one.
        for attempt in 0.. {
            if claim_and_give_back(&map, shard, threads, owned) > 0 {
                break;
            }
            assert!(attempt < 100, "no thread ever owned a stripe");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `threads` threads that read `shard` side by side; checks the
    /// stripes they got; returns how many owned theirs.
    fn claim_and_give_back(map: &Map, shard: usize, threads: usize, owned: usize) -> usize {
        let all_read = std::sync::Barrier::new(threads);
        let seen: Vec<(usize, usize)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let guard = map.shard(shard).read();
                        let stripe = stripe_of_this_thread();
                        if let Hold::Gate { _pass } = &guard._hold {
                            assert_eq!(_pass.owned, stripe < owned, "the pass knows whether its stripe is owned");
                        }
                        drop(guard);
                        let owner = if stripe < owned { OWNERS[stripe].load(Ordering::SeqCst) } else { 0 };
                        all_read.wait(); // every thread holds its stripe now
                        (stripe, owner)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut mine: Vec<usize> = seen.iter().filter(|&&(stripe, _)| stripe < owned).map(|&(stripe, _)| stripe).collect();
        let shared = seen.iter().filter(|&&(stripe, _)| stripe >= owned).count();
        mine.sort_unstable();
        mine.dedup();
        assert_eq!(mine.len(), threads - shared, "no owned stripe went to two live threads: {seen:?}");
        assert!(shared >= threads - owned, "at most {owned} threads own stripes: {seen:?}");
        assert!(seen.iter().all(|&(stripe, _)| stripe < 2 * owned), "{seen:?}");
        // Joined threads have run their destructors: none still owns a stripe.
        for (stripe, owner) in seen.into_iter().filter(|&(stripe, _)| stripe < owned) {
            assert_ne!(owner, 0, "stripe {stripe} was claimed");
            assert_ne!(OWNERS[stripe].load(Ordering::SeqCst), owner, "stripe {stripe} given back at exit");
        }
        mine.len()
    }

    #[test]
    fn gate_memory_is_a_line_per_shard_and_12_bytes_per_shard_and_stripe() {
        let gates = Gates::new(64);
        assert_eq!(std::mem::size_of_val(&*gates.control), 64 * 64);
        assert_eq!(std::mem::size_of_val(&*gates.counters), gates.stripes * 64 * 8);
        assert_eq!(std::mem::size_of_val(&*gates.finished_at_shut), gates.stripes * 64 * 4);
        assert!((2..=MAX_STRIPES).contains(&stripe_count()));
        assert_eq!(gates.stripes, 2 * stripe_count(), "owned stripes, then as many shared");
        // Fewer shards than a line holds still give each stripe whole lines.
        let gates = Gates::new(2);
        assert_eq!(std::mem::size_of_val(&*gates.counters), gates.stripes * 128);
    }
}
