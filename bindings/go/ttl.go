package dashmap

/*
#include <stdint.h>
#include "dashmap.h"

#cgo noescape dm_insert_ttl
#cgo nocallback dm_insert_ttl
#cgo noescape dm_try_insert_ttl
#cgo nocallback dm_try_insert_ttl
#cgo noescape dm_add_i64_ttl
#cgo nocallback dm_add_i64_ttl
#cgo noescape dm_expire
#cgo nocallback dm_expire
#cgo noescape dm_touch
#cgo nocallback dm_touch
#cgo noescape dm_ttl_remaining
#cgo nocallback dm_ttl_remaining
#cgo noescape dm_purge_expired
#cgo nocallback dm_purge_expired
#cgo nocallback dm_clock_set
#cgo nocallback dm_clock_now
*/
import "C"

import (
	"fmt"
	"runtime"
	"time"
)

// Time-to-live: an entry may carry a deadline on the map's clock (the
// monotonic clock, or a manual one with [WithManualClock]). Expiry is lazy:
// from its deadline on, every read, iteration and atomic treats the entry as
// absent, and the next write to its key or [Map.PurgeExpired] removes it. So
// [Map.Len] and [Map.Stats] count expired entries until they are removed.
//
// Writes that replace a whole entry (Store, Swap, StoreMany, StoreTTL) set or
// drop its TTL; in-place updates (Add, CompareAndSwap, Update) keep it.

// millis converts a TTL to the library's milliseconds, rounding up so that a
// positive TTL never becomes 0 ("never expires").
func millis(op string, d time.Duration) (C.uint64_t, error) {
	if d < 0 {
		return 0, &Error{Op: op, Status: C.DM_ERR_INVALID, Text: fmt.Sprintf("negative TTL %v", d)}
	}
	return C.uint64_t((d + time.Millisecond - 1) / time.Millisecond), nil
}

func mustMillis(op string, d time.Duration) C.uint64_t {
	ms, err := millis(op, d)
	if err != nil {
		panic(err)
	}
	return ms
}

// StoreTTL sets the value for key, replacing any existing entry, and makes it
// expire ttl from now (ttl 0: never; TTLs are rounded up to milliseconds).
//
// Unlike [Map.Store] it returns errors instead of panicking: an [*Error]
// wrapping [ErrFull] when the key is new and a map created with
// [WithMaxEntries] is full, [ErrInvalid] for a negative ttl, [ErrNoMemory].
// Like every method it panics after Close and on reentrant calls.
func (m *Map) StoreTTL(key, value []byte, ttl time.Duration) error {
	ms, err := millis("StoreTTL", ttl)
	if err != nil {
		return err
	}
	st := C.dm_insert_ttl(m.handle(), bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)), ms)
	runtime.KeepAlive(m)
	return m.result("StoreTTL", st)
}

// TryStoreTTL stores value under key only if the key is absent (an expired
// entry counts as absent), with a TTL as in [Map.StoreTTL], and reports
// whether it stored. An existing entry is left untouched. "Set if not
// exists with expiry": a dedupe window, a lock with a lease.
//
// Errors are as for StoreTTL.
func (m *Map) TryStoreTTL(key, value []byte, ttl time.Duration) (stored bool, err error) {
	ms, err := millis("TryStoreTTL", ttl)
	if err != nil {
		return false, err
	}
	st := C.dm_try_insert_ttl(m.handle(), bytesPtr(key), C.size_t(len(key)), bytesPtr(value), C.size_t(len(value)), ms)
	runtime.KeepAlive(m)
	if st < 0 {
		return false, newError("TryStoreTTL", st)
	}
	return st == C.DM_OK, nil
}

// AddTTL is [Map.Add] for counters that live for a window: the Add that
// creates the counter (absent or expired) gives it a deadline ttl from now
// (0: never), and later Adds keep that deadline. One call per request is a
// fixed-window rate limiter: the result is the count in the current window.
//
// Unlike Add it returns errors instead of panicking: [ErrInvalid] (wrapped in
// an [*Error]) if the existing value is not an 8-byte counter or ttl is
// negative, [ErrFull] for a new key in a full bounded map, [ErrNoMemory].
func (m *Map) AddTTL(key []byte, delta int64, ttl time.Duration) (int64, error) {
	ms, err := millis("AddTTL", ttl)
	if err != nil {
		return 0, err
	}
	var result C.int64_t
	st := C.dm_add_i64_ttl(m.handle(), bytesPtr(key), C.size_t(len(key)), C.int64_t(delta), ms, &result)
	runtime.KeepAlive(m)
	if st == C.DM_ERR_INVALID {
		return 0, notCounter("AddTTL", key)
	}
	if err := m.result("AddTTL", st); err != nil {
		return 0, err
	}
	return int64(result), nil
}

// Expire gives the live entry for key a new deadline ttl from now, or with
// ttl 0 removes its deadline (it never expires). It reports whether the key
// was present (and not expired). It panics if ttl is negative.
func (m *Map) Expire(key []byte, ttl time.Duration) bool {
	ms := mustMillis("Expire", ttl)
	st := C.dm_expire(m.handle(), bytesPtr(key), C.size_t(len(key)), ms)
	runtime.KeepAlive(m)
	return m.found("Expire", st)
}

// Touch pushes the expiry of the live entry for key to ttl (> 0) from now: a
// sliding timeout, such as a session renewed on each request. It reports
// whether the key was present (and not expired). It panics if ttl <= 0.
func (m *Map) Touch(key []byte, ttl time.Duration) bool {
	if ttl <= 0 {
		panic(&Error{Op: "Touch", Status: C.DM_ERR_INVALID,
			Text: fmt.Sprintf("TTL %v is not positive (Expire(key, 0) removes a TTL)", ttl)})
	}
	st := C.dm_touch(m.handle(), bytesPtr(key), C.size_t(len(key)), mustMillis("Touch", ttl))
	runtime.KeepAlive(m)
	return m.found("Touch", st)
}

// TTL returns how long the entry for key has left (at least a millisecond),
// or 0 if it never expires; ok is false when the key is absent or expired.
func (m *Map) TTL(key []byte) (ttl time.Duration, ok bool) {
	var ms C.uint64_t
	st := C.dm_ttl_remaining(m.handle(), bytesPtr(key), C.size_t(len(key)), &ms)
	runtime.KeepAlive(m)
	if !m.found("TTL", st) {
		return 0, false
	}
	if ms == C.DM_TTL_NONE {
		return 0, true
	}
	return durationOf(ms), true
}

// PurgeExpired removes every expired entry, one shard at a time, and returns
// how many it removed. Reads never need it; call it periodically to give the
// memory back, or before [Map.Len] when an exact live count matters.
func (m *Map) PurgeExpired() int {
	var removed C.size_t
	st := C.dm_purge_expired(m.handle(), &removed)
	runtime.KeepAlive(m)
	m.mustOK("PurgeExpired", st)
	return int(removed)
}

// SetClock sets the clock of a map created with [WithManualClock]: entries
// whose deadline is at or before now are expired from then on. Moving it
// backwards is allowed (entries not yet removed become live again). It
// panics with an [*Error] wrapping [ErrInvalid] on a map that follows real
// time. It may be called from inside Update and Retain callbacks.
func (m *Map) SetClock(now time.Duration) {
	ms := mustMillis("SetClock", now)
	st := C.dm_clock_set(m.handle(), ms)
	runtime.KeepAlive(m)
	if st == C.DM_ERR_INVALID {
		panic(&Error{Op: "SetClock", Status: int(st), Text: "the map follows real time (create it WithManualClock)"})
	}
	m.mustOK("SetClock", st)
}

// Clock returns the map's current time: the manual clock, or the monotonic
// time since the library's first use.
func (m *Map) Clock() time.Duration {
	ms := C.dm_clock_now(m.handle())
	runtime.KeepAlive(m)
	return durationOf(ms)
}

func durationOf(ms C.uint64_t) time.Duration {
	if ms > C.uint64_t(time.Duration(1<<63-1)/time.Millisecond) {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(ms) * time.Millisecond
}

// result turns a status into nil or an *Error. A reentrant call is a
// programming error, and panics as in every other method.
func (m *Map) result(op string, st C.dm_status) error {
	if st == C.DM_ERR_REENTRANT {
		panic(newError(op, st))
	}
	if st < 0 {
		return newError(op, st)
	}
	return nil
}

// mustOK panics on an error status.
func (m *Map) mustOK(op string, st C.dm_status) {
	if st < 0 {
		panic(newError(op, st))
	}
}

// found maps DM_OK / DM_NOT_FOUND to a bool and panics on errors.
func (m *Map) found(op string, st C.dm_status) bool {
	m.mustOK(op, st)
	return st == C.DM_OK
}
