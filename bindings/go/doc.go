// Package dashmap is a Go binding of libdashmap, a concurrent hash map from
// byte strings to byte strings written in Rust (lock-sharded, like Rust's
// dashmap crate) with a C API.
//
// [Map] has the method set of [sync.Map] with []byte keys and values:
//
//	m := dashmap.New()
//	defer m.Close()
//	m.Store([]byte("user:42"), []byte(`{"name":"ann"}`))
//	v, ok := m.Load([]byte("user:42"))
//
// and adds what a sharded map with its own storage does well:
//
//   - [Map.Add]: atomic 8-byte counters (hit counts, rate limits, metrics);
//   - [Map.Update]: atomic read-modify-write of one entry under its shard lock;
//   - [Map.Retain]: filtering the whole map one shard at a time;
//   - [Map.All], [Map.Keys], [Map.Values]: range-over-func iterators;
//   - [Map.LoadMany], [Map.StoreMany], [Map.DeleteMany]: batches in one C call;
//   - [Map.StoreTTL], [Map.AddTTL], [Map.Touch], ...: per-entry time-to-live,
//     and [WithMaxEntries] for a size bound;
//   - [Map.Stats]: size, capacity and shard balance.
//
// # Memory and ownership
//
// Entries live outside the Go heap, so a large map adds nothing to the
// garbage collector's work. Keys and values are copied in; the library never
// keeps a pointer to the caller's memory. Every slice a method returns is a
// fresh copy that belongs to the caller (the exception is [Map.LoadOrStore],
// which returns the caller's own value when it stores it). A present value is
// never nil, so a nil result always means "absent", even for empty values.
//
// Release a Map with [Map.Close]. A forgotten Map is freed when the garbage
// collector finds it unreachable; Close does it at once.
//
// # Callbacks
//
// [Map.Range] and the iterators hold no lock while the caller's code runs:
// it may call any method of the map. The functions given to [Map.Update] and
// [Map.Retain] run while a shard lock is held: they may use other maps, but a
// call on the same map panics with [ErrReentrant] instead of deadlocking. A
// panic in such a function is recovered before it can cross the C code,
// the lock is released, nothing more is changed, and the method panics again
// with the same value.
//
// # Errors
//
// Methods that mirror sync.Map have no error result. They panic with an
// [*Error] in the cases that are programming errors or resource exhaustion
// (reentrant calls, a non-counter value in [Map.Add], out of memory, a full
// bounded map), and with [ErrClosed] after Close. [Map.StoreTTL],
// [Map.TryStoreTTL] and [Map.AddTTL] return the errors a caller can expect
// to handle ([ErrFull], [ErrInvalid], [ErrNoMemory]) instead.
//
// # Building
//
// The package uses cgo and finds the library with pkg-config (module
// "dashmap"). With the build tag dashmap_static it links libdashmap.a into
// the binary instead of using libdashmap.so. See README.md.
package dashmap
