package dashmap

/*
#include "dashmap.h"
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Each batch method is a single C call (the cgo crossing costs tens of
// nanoseconds, the library takes each shard's lock once per batch).
// Go may not pass C an array of dm_slice holding Go pointers, so the keys
// (and values) are packed back to back into one scratch buffer with an array
// of lengths, and shim.c builds the dm_slice arrays in C memory.

// batchBuf is reusable scratch space for one batch call.
type batchBuf struct {
	keys, vals   []byte
	klens, vlens []C.size_t
	out          []byte
	olens        []C.size_t
}

var batchPool = sync.Pool{New: func() any { return new(batchBuf) }}

// maxPooled bounds what a pooled buffer keeps, so one huge batch does not pin
// its memory for the rest of the program.
const maxPooled = 1 << 20

func getBatch() *batchBuf { return batchPool.Get().(*batchBuf) }

func putBatch(b *batchBuf) {
	if cap(b.keys)+cap(b.vals)+cap(b.out) > maxPooled ||
		cap(b.klens)+cap(b.vlens)+cap(b.olens) > maxPooled/8 {
		return
	}
	batchPool.Put(b)
}

// pack concatenates items into data and their lengths into lens.
func pack(data []byte, lens []C.size_t, items [][]byte) ([]byte, []C.size_t) {
	data, lens = data[:0], lens[:0]
	for _, it := range items {
		data = append(data, it...)
		lens = append(lens, C.size_t(len(it)))
	}
	return data, lens
}

func lensPtr(l []C.size_t) *C.size_t { return unsafe.SliceData(l) }

// LoadMany looks up every key with one C call and returns their values in
// key order: values[i] is nil when keys[i] is absent (a present value is
// never nil, even when empty). Each shard is read atomically, the batch as a
// whole is not. The values share one allocation.
func (m *Map) LoadMany(keys [][]byte) (values [][]byte) {
	p := m.handle()
	values = make([][]byte, len(keys))
	if len(keys) == 0 {
		return values
	}
	b := getBatch()
	defer putBatch(b)
	b.keys, b.klens = pack(b.keys, b.klens, keys)
	if cap(b.olens) < len(keys) {
		b.olens = make([]C.size_t, len(keys))
	}
	b.olens = b.olens[:len(keys)]
	if cap(b.out) == 0 {
		b.out = make([]byte, 4096)
	}
	out := b.out[:cap(b.out)]
	var used C.size_t
	for {
		st := C.dmgo_get_many(p, bytesPtr(b.keys), lensPtr(b.klens), C.size_t(len(keys)),
			bytesPtr(out), C.size_t(len(out)), lensPtr(b.olens), &used)
		if st == C.DM_OK {
			break
		}
		if st != C.DM_BUFFER_TOO_SMALL {
			runtime.KeepAlive(m)
			panic(newError("LoadMany", st))
		}
		// used is the size needed now; values may grow again meanwhile.
		out = make([]byte, int(used)+int(used)/8)
		b.out = out
	}
	runtime.KeepAlive(m)
	all := append(make([]byte, 0, int(used)), out[:used]...)
	off := 0
	for i, l := range b.olens {
		if l == sizeMax {
			continue
		}
		n := int(l)
		values[i] = all[off : off+n : off+n]
		off += n
	}
	return values
}

// StoreMany stores values[i] under keys[i] for every i with one C call,
// taking each shard's lock once. A key listed twice ends with its last
// value. It panics if the slices differ in length.
func (m *Map) StoreMany(keys, values [][]byte) {
	if len(keys) != len(values) {
		panic("dashmap: StoreMany: len(keys) != len(values)")
	}
	p := m.handle()
	if len(keys) == 0 {
		return
	}
	b := getBatch()
	defer putBatch(b)
	b.keys, b.klens = pack(b.keys, b.klens, keys)
	b.vals, b.vlens = pack(b.vals, b.vlens, values)
	st := C.dmgo_extend(p, bytesPtr(b.keys), lensPtr(b.klens), bytesPtr(b.vals), lensPtr(b.vlens),
		C.size_t(len(keys)))
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("StoreMany", st))
	}
}

// DeleteMany deletes every key with one C call, taking each shard's lock
// once, and returns how many of them were present.
func (m *Map) DeleteMany(keys [][]byte) (deleted int) {
	p := m.handle()
	if len(keys) == 0 {
		return 0
	}
	b := getBatch()
	defer putBatch(b)
	b.keys, b.klens = pack(b.keys, b.klens, keys)
	var removed C.size_t
	st := C.dmgo_remove_many(p, bytesPtr(b.keys), lensPtr(b.klens), C.size_t(len(keys)), &removed)
	runtime.KeepAlive(m)
	if st < 0 {
		panic(newError("DeleteMany", st))
	}
	return int(removed)
}
