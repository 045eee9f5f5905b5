package dashmap

/*
#include "dashmap.h"
*/
import "C"

import (
	"iter"
	"runtime"
	"sync"
	"unsafe"
)

// The iteration methods walk libdashmap's cursor (dm_iter). It holds its own
// reference to the map and no lock between steps: it copies one shard at a
// time, so the loop body may call any method of the map, and Close during an
// iteration does not pull the entries from under it.
//
// Entries come out of the cursor in batches (dm_iter_next_many): one C call
// copies up to iterBatch entries, key then value back to back, into a
// reusable Go buffer; the binding copies what the walk wants out of it into
// one new allocation per batch and yields sub-slices of that. A C crossing
// and an allocation per batch instead of per entry is what makes Range
// competitive with sync.Map.

const (
	// iterBatch is the most entries one dm_iter_next_many call returns.
	iterBatch = 256
	// iterBufSize is the initial size of a walk's reusable buffer; an entry
	// that does not fit grows it (DM_BUFFER_TOO_SMALL says to what size).
	iterBufSize = 32 << 10
	// iterBufKeep is the largest buffer put back into iterScratchPool: a walk
	// that met a huge entry does not keep its buffer alive for the others.
	iterBufKeep = 1 << 20
)

// iterScratch is what one walk hands to dm_iter_next_many. Both slices are
// Go memory without Go pointers, passed to C only for the duration of a call
// (C keeps no pointer to them).
type iterScratch struct {
	buf  []byte
	lens []C.size_t // 2 * iterBatch: key and value length of each entry
}

// Walks reuse their scratch, so a Range over a small map does not allocate
// 32 KiB every time.
var iterScratchPool = sync.Pool{New: func() any {
	return &iterScratch{buf: make([]byte, iterBufSize), lens: make([]C.size_t, 2*iterBatch)}
}}

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

// What walk copies out of each entry.
const (
	wantKey = 1 << iota
	wantValue
)

// walk runs a whole iteration: it opens a cursor, fetches batches and calls
// yield with the parts of each entry that want asks for (nil for the other)
// until the end or until yield returns false. The cursor is freed however
// walk ends, including by a panic in yield.
//
// Every slice yielded is a distinct, capacity-limited sub-slice of the
// batch's allocation (appending to one reallocates instead of writing over
// its neighbour) and is never written again by the binding; a caller that
// keeps one keeps that batch's bytes reachable. Empty keys and values are
// non-nil empty slices.
func (m *Map) walk(op string, want int, yield func(key, value []byte) bool) {
	it := m.openCursor(op)
	defer C.dm_iter_free(it)
	s := iterScratchPool.Get().(*iterScratch)
	defer func() {
		if len(s.buf) <= iterBufKeep {
			iterScratchPool.Put(s)
		}
	}()
	for {
		var count, used C.size_t
		st := C.dm_iter_next_many(it, (*C.uint8_t)(unsafe.Pointer(&s.buf[0])), C.size_t(len(s.buf)),
			&s.lens[0], iterBatch, &count, &used)
		switch st {
		case C.DM_OK:
		case C.DM_NOT_FOUND:
			return
		case C.DM_BUFFER_TOO_SMALL:
			// Not even the next entry fits; the cursor did not move.
			s.buf = make([]byte, max(2*len(s.buf), int(used)))
			continue
		default:
			panic(newError(op, st))
		}
		if !yieldBatch(s.buf[:used], s.lens[:2*count], want, yield) {
			return
		}
	}
}

// yieldBatch copies the wanted parts of a batch (packed as dm_iter_next_many
// leaves them in buf, lens) into one new allocation and yields them; it
// reports whether yield asked for more.
func yieldBatch(buf []byte, lens []C.size_t, want int, yield func(key, value []byte) bool) bool {
	var data []byte
	if want == wantKey|wantValue {
		data = make([]byte, len(buf))
		copy(data, buf)
	} else {
		size := 0
		for i := 0; i < len(lens); i += 2 {
			if want == wantKey {
				size += int(lens[i])
			} else {
				size += int(lens[i+1])
			}
		}
		data = make([]byte, 0, size)
		off := 0
		for i := 0; i < len(lens); i += 2 {
			kl, vl := int(lens[i]), int(lens[i+1])
			if want == wantKey {
				data = append(data, buf[off:off+kl]...)
			} else {
				data = append(data, buf[off+kl:off+kl+vl]...)
			}
			off += kl + vl
		}
	}
	// data is a fresh make: never nil, even when empty.
	off := 0
	for i := 0; i < len(lens); i += 2 {
		var key, value []byte
		if want&wantKey != 0 {
			end := off + int(lens[i])
			key = data[off:end:end]
			off = end
		}
		if want&wantValue != 0 {
			end := off + int(lens[i+1])
			value = data[off:end:end]
			off = end
		}
		if !yield(key, value) {
			return false
		}
	}
	return true
}

// Range calls f sequentially for each key and value in the map. If f returns
// false, Range stops the iteration. f gets copies it may keep (see
// [Map.All] for how they share memory).
//
// As with [sync.Map.Range], no lock is held while f runs: f may call any
// method on the map, including Delete of the current key. Range does not
// correspond to a consistent snapshot: every entry present for the whole
// iteration is visited exactly once; entries stored or deleted concurrently
// may or may not be visited (an entry fetched in the current batch, of up to
// 256 entries, is visited even if f deletes it first). Stopping early is
// cheap: the cursor copies one shard at a time and hands them over in
// batches.
func (m *Map) Range(f func(key, value []byte) bool) {
	m.walk("Range", wantKey|wantValue, f)
}

// All returns an iterator over the map's keys and values, with the same
// guarantees as [Map.Range] (the loop body may use the map). Each iteration
// starts a new walk; breaking out early releases it.
//
// Entries are fetched from the library up to 256 at a time, and the keys and
// values of one batch are copied into one allocation: each yielded slice is
// a distinct sub-slice of it (with its capacity cut at its own end) that the
// caller may keep and modify; the binding never writes to it again. Keeping
// any one of them keeps that batch's bytes (typically a few KiB, at most
// 32 KiB or one larger entry) from being collected; copy a slice you keep
// for long if that matters.
func (m *Map) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		m.walk("All", wantKey|wantValue, yield)
	}
}

// Keys returns an iterator over the map's keys, like [Map.All]. Only the keys
// are copied into Go memory.
func (m *Map) Keys() iter.Seq[[]byte] {
	return func(yield func(key []byte) bool) {
		m.walk("Keys", wantKey, func(k, _ []byte) bool { return yield(k) })
	}
}

// Values returns an iterator over the map's values, like [Map.All]. Only the
// values are copied into Go memory.
func (m *Map) Values() iter.Seq[[]byte] {
	return func(yield func(value []byte) bool) {
		m.walk("Values", wantValue, func(_, v []byte) bool { return yield(v) })
	}
}
