//! Reads that write nothing shared.
//!
//! dashmap's reader-writer lock counts readers in its lock word, so every
//! read writes that word, and two cores reading pull the shard's cache line
//! back and forth (BENCHMARKS.md, "Where goals are missed"). A gate per shard
//! lets short reads skip the lock (after BRAVO, Dice and Kogan, 2019): the
//! reader counts itself on a counter of its own thread's stripe (a stripe is
//! cache lines that few threads write), then checks that no writer holds the
//! shard's lock and that the gate is open. A writer takes the shard's write
//! lock as before; if the gate is open it waits until no stripe counts a
//! reader of that shard. So a write to a read-mostly shard changes nothing
//! readers read but the lock word, the table and its records: the lock word
//! shares its cache line with the table's header, which readers load anyway.
//!
//! A gate costs its writers that wait, so each writer that finds the gate
//! open judges it by the gated reads let through since the last writer: the
//! counters also count finished gated reads. Fewer than `WORTH_OPEN` (the
//! wait costs a few cache misses, a gated read saves about one), or all of
//! them from one thread (whose lock word would not have moved between
//! cores), is a judgement against the gate and doubles the shard's
//! reopening interval; otherwise the interval halves. Once it reaches
//! 2^`SHUT_AT_LOG2` (net two judgements against), the writer shuts the
//! gate. A reader that finds the gate shut takes the read lock and, on one
//! of every 2^`reopen_log2` of its locked reads, reopens it. Shards read by
//! several threads between writes stay open; shards written about as often
//! as read, or read by one thread, stay locked, as with dashmap alone, and
//! their writers only read the gate's flag.
//!
//! A thread claims a stripe of its own when one is free (there are as many
//! as CPUs, rounded up to a power of two, at most 16) and gives it back when
//! it exits; as the only writer of its counters it leaves with a plain store
//! instead of an atomic addition (a locked instruction, about a tenth of a
//! short read). Threads beyond that share a second set of stripes, counting
//! with atomic additions both ways.
//!
//! Correctness: a reader counts itself, then loads the lock word, then the
//! gate's flag; a writer holding the lock of an open gate makes a
//! read-modify-write of the lock word (no change to it), then loads the
//! counters. All of these are sequentially consistent, so at least one side
//! sees the other (the Dekker pattern): either the reader sees the writer's
//! lock and takes the read lock (waiting for the writer), or the writer sees
//! the count and waits for the reader to leave. dashmap takes the lock with
//! an Acquire exchange, which alone would not order it before the writer's
//! loads; the extra read-modify-write does. A gate is shut only by a writer
//! holding the lock, and a reader that then sees the lock free (the writer
//! released it) sees the gate shut. A gate is reopened only by a reader
//! holding the read lock, so no writer is inside then.

use std::cell::Cell;
use std::hint;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread;

use super::{Shard, Table};

/// Gated reads between writes that make an open gate worth its writers'
/// wait (module comment).
const WORTH_OPEN: u32 = 8;

/// A writer shuts an open gate once writers have judged it not worth it
/// this many times more than worth it: one judgement is a sample of a few
/// dozen reads, and a gate shut and reopened costs readers more than one
/// unlucky wait costs a writer.
const SHUT_AT_LOG2: u32 = 2;

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

/// dashmap's lock word while a writer holds the lock: every bit but the two
/// low ones (`ONE_WRITER` in dashmap 6.2.1's `lock.rs`; readers count in
/// steps of 4 and never reach it). `lock_word_says_who_holds_the_lock`
/// checks it against the pinned dashmap.
const WRITER: usize = !0b11;

/// The word of dashmap's reader-writer lock: readers load it to learn
/// whether a writer holds the lock, and a writer holding it makes a
/// read-modify-write that changes nothing (`drain_and_judge`).
#[inline(always)]
fn lock_word(lock: &Shard) -> &AtomicUsize {
    // dashmap's `RawRwLock` is one `AtomicUsize` (`state`), so at offset 0.
    const _: () = assert!(
        std::mem::size_of::<dashmap_rs::RawRwLock>() == std::mem::size_of::<AtomicUsize>()
            && std::mem::align_of::<dashmap_rs::RawRwLock>() == std::mem::align_of::<AtomicUsize>()
    );
    // SAFETY: `raw` is unsafe only because the raw lock could be unlocked
    // behind a guard's back; it is only read here (or changed by nothing).
    // A struct the size and alignment of its only field, an `AtomicUsize`,
    // holds it at offset 0, so the cast reads that atomic, shared with
    // dashmap's own atomic operations on it.
    unsafe { &*(lock.raw() as *const dashmap_rs::RawRwLock).cast::<AtomicUsize>() }
}

/// Whether a writer holds `lock`, from its lock word (sequentially
/// consistent: the reader's side of the handshake in `Gates::enter`).
#[inline(always)]
fn writer_holds(lock: &Shard) -> bool {
    lock_word(lock).load(Ordering::SeqCst) & WRITER == WRITER
}

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
/// writers on every write; the flag changes only when a gate is shut or
/// reopened, the hints only when the table moves.
#[repr(align(64))]
struct Control {
    open: AtomicBool,
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
    /// Each counter's finished reads when a writer last judged its gate,
    /// indexed like the counters; used by writers only (under the write lock).
    finished_when_judged: Box<[AtomicU32]>,
    /// Per shard, log2 of the reopening interval: written by writers only,
    /// read by readers that find the gate shut (off the gate's line, which
    /// readers of an open gate read on every call).
    reopen_log2: Box<[AtomicU32]>,
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
                    hint_ctrl: AtomicPtr::new(std::ptr::null_mut()),
                    hint_mask: AtomicUsize::new(0),
                })
                .collect(),
            counters: (0..stripes * stripe_len / COUNTERS_PER_LINE).map(|_| CounterLine(Default::default())).collect(),
            finished_when_judged: (0..stripes * stripe_len).map(|_| AtomicU32::new(0)).collect(),
            reopen_log2: (0..shards).map(|_| AtomicU32::new(0)).collect(),
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

    /// Enters shard `shard`, whose lock is `lock`, as a reader without
    /// taking the lock, if the gate is open and no writer holds the lock.
    #[inline(always)]
    fn enter(&self, shard: usize, lock: &Shard) -> Option<Pass<'_>> {
        let open = &self.control[shard].open;
        if !open.load(Ordering::Relaxed) {
            return None;
        }
        let stripe = stripe_of_this_thread();
        let counter = self.counter(self.slot(stripe, shard));
        counter.fetch_add(INSIDE, Ordering::SeqCst);
        // The lock word before the flag: a writer shuts the gate before it
        // releases the lock, so once the lock is seen free the flag is
        // seen as that writer left it.
        if writer_holds(lock) || !open.load(Ordering::SeqCst) {
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

    /// For a writer that has just taken shard `shard`'s write lock `lock`:
    /// if the gate is open, returns once no reader is inside, having judged
    /// the gate (module comment) and shut it if it did not pay.
    #[inline]
    fn drain(&self, shard: usize, lock: &Shard) {
        // Relaxed suffices: gates are opened and shut only under the
        // shard's lock, which was released before this writer acquired it.
        if self.control[shard].open.load(Ordering::Relaxed) {
            self.drain_and_judge(shard, lock);
        }
    }

    #[cold]
    fn drain_and_judge(&self, shard: usize, lock: &Shard) {
        let control = &self.control[shard];
        // Changes nothing (this thread holds the lock); sequentially
        // consistent, so a reader that counted itself after it sees the lock.
        lock_word(lock).fetch_or(0, Ordering::SeqCst);
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
            let reads = finished.wrapping_sub(self.finished_when_judged[slot].swap(finished, Ordering::Relaxed));
            let_through = let_through.wrapping_add(reads);
            reading_stripes += u32::from(reads > 0);
        }
        let worth_it = let_through >= WORTH_OPEN && reading_stripes >= 2;
        let log2 = self.reopen_log2[shard].load(Ordering::Relaxed);
        let new_log2 = if worth_it { log2.saturating_sub(1) } else { (log2 + 1).min(MAX_REOPEN_LOG2) };
        // Stored only when it changes: it shares a line with other shards'.
        if new_log2 != log2 {
            self.reopen_log2[shard].store(new_log2, Ordering::Relaxed);
        }
        if new_log2 >= SHUT_AT_LOG2 {
            // Relaxed: the unlock (Release) publishes it to any reader that
            // then sees the lock free.
            control.open.store(false, Ordering::Relaxed);
        }
    }

    /// For a reader holding shard `shard`'s read lock because its gate was
    /// shut: counts the locked read, and reopens the gate on one read in
    /// the shard's current interval.
    #[inline(always)]
    fn count_locked_read(&self, shard: usize) {
        let state = reader_state();
        state.locked_reads = state.locked_reads.wrapping_add(1);
        let control = &self.control[shard];
        let every = 1usize << self.reopen_log2[shard].load(Ordering::Relaxed);
        // Only a shut gate is reopened: a reader here because a writer held
        // the lock of an open gate must not write the gate's line.
        if state.locked_reads & (every - 1) == 0 && !control.open.load(Ordering::Relaxed) {
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

/// The table under the write lock, no reader inside the gate.
pub(super) type WriteGuard<'a> = dashmap_rs::RwLockWriteGuard<'a, Table>;

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
        match self.gates.enter(self.index, self.lock) {
            // SAFETY: while the pass is held no writer changes the table (a
            // writer holding the lock waits for every pass to be dropped
            // before it changes anything, and no pass is given while a
            // writer holds the lock), so this shared reference is not
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

    /// Write access: the write lock, then no reader inside the gate.
    #[inline(always)]
    pub fn write(self) -> WriteGuard<'a> {
        super::prefetch::prefetch_for_write(self.lock);
        let guard = self.lock.write();
        self.gates.drain(self.index, self.lock);
        guard
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
        // The writer takes the lock, then waits for this reader.
        let start = std::time::Instant::now();
        while !writer_holds(map.shard(shard).lock) {
            assert!(start.elapsed() < Duration::from_secs(30), "the writer never took the lock");
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
        let log2 = || map.gates.reopen_log2[shard].load(Ordering::Relaxed);
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

    /// While a writer holds the lock, readers stay out of an open gate (they
    /// see the lock word), and go through it again once the writer is done.
    #[test]
    fn readers_stay_out_of_an_open_gate_while_a_writer_holds_the_lock() {
        let map = small_map();
        map.insert(b"k", b"v", None).unwrap();
        let shard = map.locate(b"k").1.index;
        let lock = map.shard(shard).lock;
        map.gates.reopen_log2[shard].store(0, Ordering::Relaxed); // as if reads had paid
        let try_enter = || std::thread::scope(|s| s.spawn(|| map.gates.enter(shard, lock).is_some()).join().unwrap());
        map.update(b"k", |_| {
            assert!(is_open(&map, shard), "one judgement against it: the gate stays open");
            assert!(!try_enter(), "a reader went through the gate while a writer held the lock");
        });
        assert!(try_enter(), "the writer is gone: readers go through the gate again");
    }

    /// One judgement against the gate does not shut it; net two do, and
    /// readers then reopen it.
    #[test]
    fn a_gate_is_shut_after_two_judgements_against_it() {
        let map = small_map();
        let shard = map.locate(b"k").1.index;
        map.insert(b"k", b"v", None).unwrap();
        assert!(is_open(&map, shard), "one judgement against it");
        map.insert(b"k", b"v", None).unwrap();
        assert!(!is_open(&map, shard), "two against it: shut");
        assert_eq!(map.gates.reopen_log2[shard].load(Ordering::Relaxed), SHUT_AT_LOG2);
        reopen(&map, b"k");
    }

    /// The lock word reads as dashmap's pinned lock writes it: the writer
    /// bits exactly while the write lock is held.
    #[test]
    fn lock_word_says_who_holds_the_lock() {
        let map = small_map();
        let lock = map.shard(0).lock;
        let writer = || writer_holds(lock);
        assert!(!writer());
        let read = lock.read();
        let read2 = lock.read();
        assert!(!writer(), "two readers");
        drop((read, read2));
        let write = lock.write();
        assert!(writer());
        drop(write);
        assert!(!writer());
        assert_eq!(lock_word(lock).load(Ordering::SeqCst), 0, "free");
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
    fn gate_memory_is_a_line_and_4_bytes_per_shard_and_12_bytes_per_shard_and_stripe() {
        let gates = Gates::new(64);
        assert_eq!(std::mem::size_of_val(&*gates.control), 64 * 64);
        assert_eq!(std::mem::size_of_val(&*gates.reopen_log2), 64 * 4);
        assert_eq!(std::mem::size_of_val(&*gates.counters), gates.stripes * 64 * 8);
        assert_eq!(std::mem::size_of_val(&*gates.finished_when_judged), gates.stripes * 64 * 4);
        assert!((2..=MAX_STRIPES).contains(&stripe_count()));
        assert_eq!(gates.stripes, 2 * stripe_count(), "owned stripes, then as many shared");
        // Fewer shards than a line holds still give each stripe whole lines.
        let gates = Gates::new(2);
        assert_eq!(std::mem::size_of_val(&*gates.counters), gates.stripes * 128);
    }
}
