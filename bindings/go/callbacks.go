package dashmap

// The Go side of the callbacks that run under a shard lock (Update, Retain).
//
// A file with //export may only declare C things in its preamble (it is
// copied into _cgo_export.h), so the adapters that give these functions the
// exact dm_entry_fn / dm_visit_fn signatures live in shim.c.
//
// Every trampoline recovers whatever the user's function panics with: a Go
// panic must never unwind through libdashmap's frames (that would skip the
// code that releases the shard lock). The value is stored in the call's state
// and panicked again by the Go method once the C call has returned and the
// lock is released, so nothing is lost.

/*
#include <stdint.h>
#include "dashmap.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// caught holds a panic recovered inside a trampoline until the C call returns.
type caught struct {
	panicked  bool
	recovered any
}

// rethrow re-raises a recovered panic, after the C call has returned.
func (c *caught) rethrow() {
	if c.panicked {
		panic(c.recovered)
	}
}

// updateCall is the state of one Update, reached through a cgo.Handle.
type updateCall struct {
	caught
	fn    func(old []byte, loaded bool) ([]byte, Op)
	value []byte      // the value after the update
	ok    bool        // whether the key is present after the update
	err   C.dm_status // failure of dm_entry_set (out of memory), or 0
}

//export dmgoEntry
func dmgoEntry(e *C.dm_entry, h C.uintptr_t) {
	c := cgo.Handle(h).Value().(*updateCall)
	defer func() {
		if r := recover(); r != nil {
			// Nothing has been applied: set/remove only happen after fn
			// returned normally.
			c.panicked, c.recovered = true, r
		}
	}()
	var old []byte
	loaded := bool(C.dm_entry_occupied(e))
	if loaded {
		var n C.size_t
		v := C.dm_entry_value(e, &n)
		old = make([]byte, int(n))
		copy(old, unsafe.Slice((*byte)(unsafe.Pointer(v)), int(n)))
	}
	nv, op := c.fn(old, loaded)
	switch op {
	case Keep:
		c.value, c.ok = old, loaded
	case Set:
		if st := C.dm_entry_set(e, bytesPtr(nv), C.size_t(len(nv))); st != C.DM_OK {
			c.err = st
			c.value, c.ok = old, loaded
			return
		}
		if nv == nil {
			nv = []byte{}
		}
		c.value, c.ok = nv, true
	case Delete:
		C.dm_entry_remove(e)
		c.value, c.ok = nil, false
	default:
		panic("dashmap: Update: fn returned an unknown Op " + op.String())
	}
}

// retainCall is the state of one Retain, reached through a cgo.Handle.
type retainCall struct {
	caught
	fn func(key, value []byte) bool
}

//export dmgoVisit
func dmgoVisit(k *C.uint8_t, kl C.size_t, v *C.uint8_t, vl C.size_t, h C.uintptr_t) (keep C.bool) {
	c := cgo.Handle(h).Value().(*retainCall)
	if c.panicked {
		// fn panicked on an earlier entry: keep everything that is left and
		// stop calling it.
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			c.panicked, c.recovered = true, r
			keep = true
		}
	}()
	key, val := copyPair(k, kl, v, vl)
	return C.bool(c.fn(key, val))
}
