package dashmap

/*
#include <stdint.h>
#include "dashmap.h"
#include "shim.h"

#if DM_VERSION_MAJOR != 0 || DM_VERSION_MINOR < 1
#error "the dashmap Go binding needs libdashmap 0.x with x >= 1 (dashmap.h reports a different version)"
#endif

// None of these call back into Go, and none keeps a pointer it is given past
// the call: the library copies keys and values in, and writes results only
// into the caller's buffers. So Go may leave their arguments on the stack
// (noescape) and skip the preparation for callbacks (nocallback).
// dm_entry_update / dm_retain_cb (dmgo_entry_update, dmgo_retain) do call
// back, so they carry neither directive.
#cgo noescape dm_new_with_options
#cgo nocallback dm_new_with_options
#cgo nocallback dm_free
#cgo noescape dm_insert
#cgo nocallback dm_insert
#cgo noescape dm_get_copy
#cgo nocallback dm_get_copy
#cgo noescape dm_remove
#cgo nocallback dm_remove
#cgo nocallback dm_len
#cgo nocallback dm_clear
#cgo noescape dm_get_or_insert
#cgo nocallback dm_get_or_insert
#cgo noescape dm_compare_and_swap
#cgo nocallback dm_compare_and_swap
#cgo noescape dm_compare_and_remove
#cgo nocallback dm_compare_and_remove
#cgo noescape dm_swap
#cgo nocallback dm_swap
#cgo noescape dm_add_i64
#cgo nocallback dm_add_i64
#cgo nocallback dm_entry_occupied
#cgo noescape dm_entry_value
#cgo nocallback dm_entry_value
#cgo noescape dm_entry_set
#cgo nocallback dm_entry_set
#cgo nocallback dm_entry_remove
#cgo nocallback dm_iter_new
#cgo noescape dm_iter_next_many
#cgo nocallback dm_iter_next_many
#cgo nocallback dm_iter_free
#cgo noescape dm_stats_get
#cgo nocallback dm_stats_get
#cgo noescape dmgo_get_many
#cgo nocallback dmgo_get_many
#cgo noescape dmgo_extend
#cgo nocallback dmgo_extend
#cgo noescape dmgo_remove_many
#cgo nocallback dmgo_remove_many
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

func init() {
	// The #error above checks the header at compile time; this checks the
	// library actually loaded (a libdashmap.so older than the header would
	// lack functions or behave differently).
	lib := uint32(C.dm_version_number())
	if lib/10000 != C.DM_VERSION_MAJOR || lib/100%100 < C.DM_VERSION_MINOR {
		panic(fmt.Sprintf("dashmap: libdashmap %s loaded, but this binding was built against %s",
			Version(), C.DM_VERSION_STRING))
	}
}

// Version returns the version of the libdashmap library in use, such as "0.1.0".
func Version() string { return C.GoString(C.dm_version()) }

// sizeMax is SIZE_MAX: dm_len's answer inside a callback, dm_get_many's "missing".
const sizeMax = ^C.size_t(0)

// Map is a concurrent map from byte strings to byte strings, stored outside
// the Go heap in libdashmap's sharded hash table.
//
// Its method set mirrors [sync.Map] with []byte keys and values, plus
// counters ([Map.Add]), atomic read-modify-write ([Map.Update]), filtering
// ([Map.Retain]), iterators ([Map.All]) and batches ([Map.LoadMany]).
// Keys and values are copied in; every slice a method returns is a fresh
// copy owned by the caller (except that [Map.LoadOrStore] may return the
// caller's own value). A present value is never nil, so nil always means
// "absent", even for empty values.
//
// The zero Map is empty and ready for use, with default options. A Map must
// not be copied after first use. All methods are safe for concurrent use by
// multiple goroutines, except [Map.Close], which must not run concurrently
// with other calls on the same Map: a call already in progress could touch
// freed memory (unlike [os.File], Close does not wait for pending calls,
// which would cost every call an atomic update of a shared counter). After
// Close, every method except Close panics with [ErrClosed].
//
// Methods without an error result panic with an [*Error] if the library fails
// (out of memory, or an internal bug caught by the library), if they would
// add a key to a full bounded map ([WithMaxEntries], [ErrFull]), or if they
// are called from inside an Update or Retain callback on the same Map
// ([ErrReentrant]).
//
// Entries may carry a time-to-live: see [Map.StoreTTL]. Expired entries are
// invisible to every read and iteration.
type Map struct {
	p       unsafe.Pointer // the *C.dm_map (atomic); nil before first use and after Close
	mu      sync.Mutex     // serialises lazy creation and Close
	closed  bool           // guarded by mu
	cleanup runtime.Cleanup
}

// Option configures a Map created by [New] or [NewWithOptions].
type Option func(*options) error

// options collects what the Options ask for.
type options struct {
	capacity int
	shards   int // 0: the library's default
	fast     bool
	seed     uint64
	max      int
	manual   bool
}

// WithCapacity pre-allocates room for n entries (n >= 0).
func WithCapacity(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: WithCapacity(%d): capacity must not be negative", ErrInvalid, n)
		}
		o.capacity = n
		return nil
	}
}

// WithShards sets the number of shards (independent locks): a power of two
// between 2 and 65536. More shards mean less contention and a little more
// memory. The default is 4 × the number of CPUs, rounded up to a power of two,
// and at least 64 (an empty map then takes about 15 KiB on 2 CPUs, 36 KiB on
// 16).
func WithShards(n int) Option {
	return func(o *options) error {
		if n < 2 || n > C.DM_MAX_SHARDS || n&(n-1) != 0 {
			return fmt.Errorf("%w: WithShards(%d): shards must be a power of two in [2, %d]",
				ErrInvalid, n, C.DM_MAX_SHARDS)
		}
		o.shards = n
		return nil
	}
}

// WithFastHasher makes the map hash keys with foldhash instead of the default
// SipHash-1-3. It is several times faster on short keys, but an attacker who
// chooses keys can force collisions, so use it only for trusted keys.
//
// seed 0 picks random hash keys for this map; any other seed makes hashing
// and shard placement identical in every run and process.
func WithFastHasher(seed uint64) Option {
	return func(o *options) error {
		o.fast, o.seed = true, seed
		return nil
	}
}

// WithMaxEntries bounds the map to n entries (n >= 0; 0 means unbounded, the
// default). Adding a new key to a full map changes nothing and fails with
// [ErrFull]: [Map.StoreTTL], [Map.TryStoreTTL] and [Map.AddTTL] return it;
// the methods without an error result (Store, LoadOrStore, Swap, Add, Update,
// StoreMany) panic with it. Expired entries in the key's shard are swept
// before a key is refused; updates of existing keys always work.
func WithMaxEntries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: WithMaxEntries(%d): must not be negative", ErrInvalid, n)
		}
		o.max = n
		return nil
	}
}

// WithManualClock makes the map's TTL clock one that only [Map.SetClock]
// moves (it starts at 0), for deterministic tests and simulations.
func WithManualClock() Option {
	return func(o *options) error {
		o.manual = true
		return nil
	}
}

// New returns an empty Map configured by opts. It panics if an option is
// invalid or memory is exhausted; use [NewWithOptions] to get an error instead.
func New(opts ...Option) *Map {
	m, err := NewWithOptions(opts...)
	if err != nil {
		panic(err)
	}
	return m
}

// NewWithOptions is like [New] but returns an error (wrapping [ErrInvalid] or
// [ErrNoMemory]) instead of panicking.
func NewWithOptions(opts ...Option) (*Map, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	co := C.dm_options_default()
	co.capacity = C.size_t(o.capacity)
	co.shards = C.size_t(o.shards)
	if o.fast {
		co.hasher = C.DM_HASHER_FAST
		co.seed = C.uint64_t(o.seed)
	}
	co.max_entries = C.size_t(o.max)
	co.manual_clock = C.bool(o.manual)
	var p *C.dm_map
	if st := C.dm_new_with_options(&co, &p); st != C.DM_OK {
		return nil, newError("New", st)
	}
	m := new(Map)
	m.attach(p)
	return m, nil
}

// freedByCleanup counts maps released by the cleanup (for tests).
var freedByCleanup atomic.Int64

// freeForgotten is the cleanup of a Map that was never closed.
func freeForgotten(p *C.dm_map) {
	C.dm_free(p)
	freedByCleanup.Add(1)
}

// attach makes p the map's handle and arranges for it to be freed if the Map
// is garbage collected without Close.
func (m *Map) attach(p *C.dm_map) {
	m.cleanup = runtime.AddCleanup(m, freeForgotten, p)
	atomic.StorePointer(&m.p, unsafe.Pointer(p))
}

// handle returns the C map, creating it on first use of a zero Map.
func (m *Map) handle() *C.dm_map {
	if p := atomic.LoadPointer(&m.p); p != nil {
		return (*C.dm_map)(p)
	}
	return m.handleSlow()
}

func (m *Map) handleSlow() *C.dm_map {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := atomic.LoadPointer(&m.p); p != nil {
		return (*C.dm_map)(p)
	}
	if m.closed {
		panic(ErrClosed)
	}
	p := C.dm_new()
	if p == nil {
		panic(newError("New", C.DM_ERR_NO_MEMORY))
	}
	m.attach(p)
	return p
}

// Close frees the map and all its entries. It is idempotent and always
// returns nil; afterwards every other method panics with [ErrClosed].
// Close must not run concurrently with other calls on the same Map. A Map
// that is never closed is freed when the garbage collector finds it
// unreachable, but Close releases its memory right away.
//
// An iteration ([Map.Range], [Map.All], ...) that is already running keeps
// the entries alive until it ends.
func (m *Map) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if p := atomic.SwapPointer(&m.p, nil); p != nil {
		m.cleanup.Stop()
		C.dm_free((*C.dm_map)(p))
	}
	return nil
}

// bytesPtr passes b's bytes to C for the duration of one call. A nil or empty
// b may give NULL, which the library accepts with length 0.
func bytesPtr(b []byte) *C.uint8_t { return (*C.uint8_t)(unsafe.SliceData(b)) }

// copyPair copies a key and a value into one allocation.
func copyPair(k *C.uint8_t, kl C.size_t, v *C.uint8_t, vl C.size_t) (key, value []byte) {
	buf := make([]byte, int(kl+vl))
	copy(buf, unsafe.Slice((*byte)(unsafe.Pointer(k)), int(kl)))
	copy(buf[kl:], unsafe.Slice((*byte)(unsafe.Pointer(v)), int(vl)))
	return buf[:kl:kl], buf[kl:]
}

// smallValue is the stack buffer size for reads: values up to this size cost
// one C call and one exact-size allocation; larger ones a second C call that
// copies straight into a new slice of the right size.
const smallValue = 128

// Load returns the value stored under key, or nil and false if there is none.
func (m *Map) Load(key []byte) (value []byte, ok bool) {
	p := m.handle()
	var small [smallValue]byte
	var n C.size_t
	st := C.dm_get_copy(p, bytesPtr(key), C.size_t(len(key)),
		(*C.uint8_t)(unsafe.Pointer(&small)), smallValue, &n)
	if st == C.DM_OK {
		runtime.KeepAlive(m)
		return append(make([]byte, 0, int(n)), small[:n]...), true
	}
	for st == C.DM_BUFFER_TOO_SMALL {
		// Copy straight into a slice of the needed size; the value may
		// have grown meanwhile, hence the loop.
		value = make([]byte, int(n))
		st = C.dm_get_copy(p, bytesPtr(key), C.size_t(len(key)), bytesPtr(value), n, &n)
	}
	runtime.KeepAlive(m)
	switch st {
	case C.DM_OK:
		return value[:n:n], true
	case C.DM_NOT_FOUND:
		return nil, false
	}
	panic(newError("Load", st))
}

// Store sets the value for key. It replaces an existing entry as a whole,
// dropping any TTL it had.
func (m *Map) Store(key, value []byte) {
	st := C.dm_insert(m.handle(), bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)))
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("Store", st))
	}
}

// LoadOrStore returns the existing value for key if present (loaded is
// true, actual is a copy). Otherwise it stores value and returns it: actual
// is then the caller's own slice, as with [sync.Map.LoadOrStore].
func (m *Map) LoadOrStore(key, value []byte) (actual []byte, loaded bool) {
	p := m.handle()
	var small [smallValue]byte
	var n C.size_t
	st := C.dm_get_or_insert(p, bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)),
		(*C.uint8_t)(unsafe.Pointer(&small)), smallValue, &n)
	if st == C.DM_EXISTS {
		runtime.KeepAlive(m)
		return append(make([]byte, 0, int(n)), small[:n]...), true
	}
	for st == C.DM_BUFFER_TOO_SMALL {
		actual = make([]byte, int(n))
		st = C.dm_get_or_insert(p, bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)),
			bytesPtr(actual), n, &n)
	}
	runtime.KeepAlive(m)
	switch st {
	case C.DM_OK:
		if value == nil {
			value = []byte{}
		}
		return value, false
	case C.DM_EXISTS:
		return actual[:n:n], true
	}
	panic(newError("LoadOrStore", st))
}

// LoadAndDelete deletes the value for key, returning the previous value if
// any. The loaded result reports whether the key was present.
func (m *Map) LoadAndDelete(key []byte) (value []byte, loaded bool) {
	p := m.handle()
	var small [smallValue]byte
	var n C.size_t
	st := C.dm_remove(p, bytesPtr(key), C.size_t(len(key)), (*C.uint8_t)(unsafe.Pointer(&small)), smallValue, &n)
	if st == C.DM_OK {
		runtime.KeepAlive(m)
		return append(make([]byte, 0, int(n)), small[:n]...), true
	}
	for st == C.DM_BUFFER_TOO_SMALL {
		// The entry was left in place; try again with room for it.
		value = make([]byte, int(n))
		st = C.dm_remove(p, bytesPtr(key), C.size_t(len(key)), bytesPtr(value), n, &n)
	}
	runtime.KeepAlive(m)
	switch st {
	case C.DM_OK:
		return value[:n:n], true
	case C.DM_NOT_FOUND:
		return nil, false
	}
	panic(newError("LoadAndDelete", st))
}

// Delete deletes the value for key.
func (m *Map) Delete(key []byte) {
	st := C.dm_remove(m.handle(), bytesPtr(key), C.size_t(len(key)), nil, 0, nil)
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("Delete", st))
	}
}

// Swap stores value under key and returns the previous value, if any. The
// loaded result reports whether the key was present. Like Store, it drops
// the entry's TTL.
func (m *Map) Swap(key, value []byte) (previous []byte, loaded bool) {
	p := m.handle()
	var small [smallValue]byte
	var n C.size_t
	st := C.dm_swap(p, bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)),
		(*C.uint8_t)(unsafe.Pointer(&small)), smallValue, &n)
	if st == C.DM_REPLACED {
		runtime.KeepAlive(m)
		return append(make([]byte, 0, int(n)), small[:n]...), true
	}
	for st == C.DM_BUFFER_TOO_SMALL {
		previous = make([]byte, int(n))
		st = C.dm_swap(p, bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)),
			bytesPtr(previous), n, &n)
	}
	runtime.KeepAlive(m)
	switch st {
	case C.DM_OK:
		return nil, false
	case C.DM_REPLACED:
		return previous[:n:n], true
	}
	panic(newError("Swap", st))
}

// CompareAndSwap swaps the old and new values for key if the value stored in
// the map equals old byte for byte. It reports whether it swapped; an absent
// key never matches. The entry keeps its TTL.
func (m *Map) CompareAndSwap(key, old, new []byte) (swapped bool) {
	st := C.dm_compare_and_swap(m.handle(), bytesPtr(key), C.size_t(len(key)),
		bytesPtr(old), C.size_t(len(old)), bytesPtr(new), C.size_t(len(new)))
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("CompareAndSwap", st))
	}
	return st == C.DM_OK
}

// CompareAndDelete deletes the entry for key if its value equals old byte for
// byte. It reports whether it deleted; an absent key never matches.
func (m *Map) CompareAndDelete(key, old []byte) (deleted bool) {
	st := C.dm_compare_and_remove(m.handle(), bytesPtr(key), C.size_t(len(key)), bytesPtr(old), C.size_t(len(old)))
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("CompareAndDelete", st))
	}
	return st == C.DM_OK
}

// Clear deletes all the entries, one shard at a time: entries stored
// concurrently may survive. The allocated capacity is kept.
func (m *Map) Clear() {
	st := C.dm_clear(m.handle())
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("Clear", st))
	}
}

// Len returns the number of entries stored: a moment's count, which
// concurrent writers may change before the caller looks at it. It includes
// expired entries that have not been removed yet (see [Map.PurgeExpired]).
func (m *Map) Len() int {
	n := C.dm_len(m.handle())
	runtime.KeepAlive(m)
	if n == sizeMax {
		panic(newError("Len", C.DM_ERR_REENTRANT))
	}
	return int(n)
}

// Add atomically adds delta to the counter stored under key and returns the
// new value; concurrent Adds never lose an update. A counter is an 8-byte
// little-endian int64 (read it with binary.LittleEndian.Uint64); an absent
// key counts as 0 and is created. Overflow wraps around. The entry keeps
// its TTL (see [Map.AddTTL]).
//
// Add panics with an [*Error] wrapping [ErrInvalid] if the value stored
// under key is not 8 bytes long; the value is left unchanged.
func (m *Map) Add(key []byte, delta int64) int64 {
	var result C.int64_t
	st := C.dm_add_i64(m.handle(), bytesPtr(key), C.size_t(len(key)), C.int64_t(delta), &result)
	runtime.KeepAlive(m)
	if st == C.DM_ERR_INVALID {
		panic(notCounter("Add", key))
	}
	if st < 0 {
		panic(newError("Add", st))
	}
	return int64(result)
}

// Op tells [Map.Update] what to do with the entry.
type Op int

const (
	// Keep leaves the entry as it is (absent stays absent).
	Keep Op = iota
	// Set stores the returned value, inserting the key if it was absent.
	Set
	// Delete deletes the entry, if present.
	Delete
)

// String returns the constant's name.
func (op Op) String() string {
	switch op {
	case Keep:
		return "Keep"
	case Set:
		return "Set"
	case Delete:
		return "Delete"
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// Update atomically reads, changes and writes the entry for key: fn gets a
// copy of the current value (nil and loaded == false if absent) and returns
// the new value and what to do with it (the value is ignored unless op is
// [Set]). It is the general form of "load or compute", "increment if
// present", "delete if expired" and so on. Update returns the entry's value
// after the update and whether the key is then present. An entry that is
// set keeps its TTL, if it had one.
//
// fn runs exactly once, on the calling goroutine, while the key's shard is
// locked: keep it short. Calls on other Maps are fine. Calling any method of
// this Map (other than Close) from fn panics with [ErrReentrant] instead of
// deadlocking, and fn must not wait for other goroutines that use this Map.
// If fn panics, nothing is changed, the lock is released and Update panics
// with the same value. fn must not call runtime.Goexit (so not t.Fatal or
// t.FailNow), which would leave the library without releasing the lock.
func (m *Map) Update(key []byte, fn func(old []byte, loaded bool) (value []byte, op Op)) (value []byte, ok bool) {
	p := m.handle()
	c := &updateCall{fn: fn}
	h := cgo.NewHandle(c)
	st := C.dmgo_entry_update(p, bytesPtr(key), C.size_t(len(key)), C.uintptr_t(h))
	runtime.KeepAlive(m)
	h.Delete()
	c.rethrow()
	if st < 0 {
		panic(newError("Update", st))
	}
	if c.err < 0 {
		panic(newError("Update", c.err))
	}
	return c.value, c.ok
}

// Retain deletes every entry for which keep returns false, one shard at a
// time under its write lock (each shard is filtered atomically, the map as a
// whole is not frozen). keep gets copies of the key and value.
//
// The same rules as for [Map.Update]'s fn apply to keep. If keep panics, the
// entry it was called for and all entries not yet visited are kept, and
// Retain panics with the same value once every lock is released.
func (m *Map) Retain(keep func(key, value []byte) bool) {
	p := m.handle()
	c := &retainCall{fn: keep}
	h := cgo.NewHandle(c)
	st := C.dmgo_retain(p, C.uintptr_t(h))
	runtime.KeepAlive(m)
	h.Delete()
	c.rethrow()
	if st < 0 {
		panic(newError("Retain", st))
	}
}

// Stats is a snapshot of a Map's size and layout.
type Stats struct {
	Len         int // entries
	Capacity    int // entries the tables can hold without growing
	Shards      int // number of shards
	MinShardLen int // entries in the emptiest shard
	MaxShardLen int // entries in the fullest shard (MaxShardLen/MinShardLen shows the hash balance)
	KeyBytes    int // total bytes of all keys
	ValueBytes  int // total bytes of all values
}

// Stats visits every shard and reports the map's size and layout. Each
// shard is counted atomically, the map as a whole is not frozen.
func (m *Map) Stats() Stats {
	var s C.dm_stats
	st := C.dm_stats_get(m.handle(), &s)
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("Stats", st))
	}
	return Stats{
		Len:         int(s.len),
		Capacity:    int(s.capacity),
		Shards:      int(s.shards),
		MinShardLen: int(s.min_shard_len),
		MaxShardLen: int(s.max_shard_len),
		KeyBytes:    int(s.key_bytes),
		ValueBytes:  int(s.value_bytes),
	}
}

// notCounter is Add's error for a value that is not 8 bytes.
func notCounter(op string, key []byte) *Error {
	return &Error{Op: op, Status: C.DM_ERR_INVALID,
		Text: fmt.Sprintf("the value of key %q is not an 8-byte counter", truncate(key))}
}

// truncate shortens a key for an error message.
func truncate(key []byte) []byte {
	if len(key) > 64 {
		return key[:64]
	}
	return key
}
