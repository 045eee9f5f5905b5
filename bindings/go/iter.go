package dashmap

/*
#include "dashmap.h"
*/
import "C"

import (
	"iter"
	"runtime"
)

// The iteration methods walk libdashmap's cursor (dm_iter). It holds its own
// reference to the map and no lock between steps: it copies one shard at a
// time, so the loop body may call any method of the map, and Close during an
// iteration does not pull the entries from under it.

// openCursor starts a cursor; the caller frees it with dm_iter_free.
func (m *Map) openCursor(op string) *C.dm_iter {
	p := m.handle()
	it := C.dm_iter_new(p)
	if it == nil {
		// NULL means "inside a callback on this map" or "out of memory";
		// dm_len tells them apart (SIZE_MAX only for the former).
		st := C.dm_status(C.DM_ERR_NO_MEMORY)
		if C.dm_len(p) == sizeMax {
			st = C.DM_ERR_REENTRANT
		}
		runtime.KeepAlive(m)
		panic(newError(op, st))
	}
	runtime.KeepAlive(m)
	return it
}

// What next copies out of each entry.
const (
	wantKey = 1 << iota
	wantValue
)

// next advances the cursor and copies the parts of the entry that want asks for.
func next(op string, it *C.dm_iter, want int) (key, value []byte, ok bool) {
	var kp, vp *C.uint8_t
	var kl, vl C.size_t
	switch st := C.dm_iter_next(it, &kp, &kl, &vp, &vl); st {
	case C.DM_OK:
	case C.DM_NOT_FOUND:
		return nil, nil, false
	default:
		panic(newError(op, st))
	}
	switch want {
	case wantKey:
		return goBytes(kp, kl), nil, true
	case wantValue:
		return nil, goBytes(vp, vl), true
	}
	key, value = copyPair(kp, kl, vp, vl)
	return key, value, true
}

// Range calls f sequentially for each key and value in the map. If f returns
// false, Range stops the iteration. f gets copies it may keep.
//
// As with [sync.Map.Range], no lock is held while f runs: f may call any
// method on the map, including Delete of the current key. Range does not
// correspond to a consistent snapshot: every entry present for the whole
// iteration is visited exactly once; entries stored or deleted concurrently
// may or may not be visited. Stopping early is cheap: the cursor copies one
// shard at a time.
func (m *Map) Range(f func(key, value []byte) bool) {
	it := m.openCursor("Range")
	defer C.dm_iter_free(it)
	for {
		k, v, ok := next("Range", it, wantKey|wantValue)
		if !ok || !f(k, v) {
			return
		}
	}
}

// All returns an iterator over the map's keys and values, with the same
// guarantees as [Map.Range] (the loop body may use the map). Each iteration
// starts a new walk; breaking out early releases it.
func (m *Map) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		it := m.openCursor("All")
		defer C.dm_iter_free(it)
		for {
			k, v, ok := next("All", it, wantKey|wantValue)
			if !ok || !yield(k, v) {
				return
			}
		}
	}
}

// Keys returns an iterator over the map's keys, like [Map.All].
func (m *Map) Keys() iter.Seq[[]byte] {
	return func(yield func(key []byte) bool) {
		it := m.openCursor("Keys")
		defer C.dm_iter_free(it)
		for {
			k, _, ok := next("Keys", it, wantKey)
			if !ok || !yield(k) {
				return
			}
		}
	}
}

// Values returns an iterator over the map's values, like [Map.All].
func (m *Map) Values() iter.Seq[[]byte] {
	return func(yield func(value []byte) bool) {
		it := m.openCursor("Values")
		defer C.dm_iter_free(it)
		for {
			_, v, ok := next("Values", it, wantValue)
			if !ok || !yield(v) {
				return
			}
		}
	}
}
