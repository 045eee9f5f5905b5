// Package benchmaps is the benchmark harness shared by the binding's own
// benchmarks (sync.Map, map+RWMutex) and the separate xsyncbench module
// (which adds xsync.Map, keeping this module free of dependencies).
//
// Every implementation gets the same key set, each in its natural form:
// []byte keys for dashmap, pre-boxed strings for sync.Map (so the benchmark
// does not measure string-to-interface allocations), strings otherwise.
package benchmaps

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

// Keys is the shared data set.
type Keys struct {
	N     int
	B     [][]byte // "key-0000000", ...
	S     []string
	A     []any // S, boxed
	Value []byte
	VAny  any // Value, boxed
}

// NewKeys makes n keys and a 16-byte value.
func NewKeys(n int) *Keys {
	k := &Keys{N: n, Value: []byte("0123456789abcdef")}
	for i := range n {
		s := fmt.Sprintf("key-%07d", i)
		k.B, k.S, k.A = append(k.B, []byte(s)), append(k.S, s), append(k.A, s)
	}
	k.VAny = k.Value
	return k
}

// Impl is one map implementation under test; i indexes Keys.
type Impl interface {
	Load(i int) bool
	Store(i int)
	LoadOrStore(i int) bool
	Range() int              // visits every entry, returns the count
	LoadBatch(idx []int) int // looks up every key, returns how many were found
	StoreBatch(idx []int)    // stores Value under every key
	Close()
}

// Named pairs an implementation's name with its constructor (which gets the
// keys and returns an empty map).
type Named struct {
	Name string
	New  func(k *Keys) Impl
}

// Standard are the implementations available without dependencies.
func Standard() []Named {
	return []Named{
		{"dashmap", func(k *Keys) Impl { return &dashImpl{dashmap.New(), k} }},
		{"syncmap", func(k *Keys) Impl { return &syncImpl{k: k} }},
		{"rwmutex", func(k *Keys) Impl { return &rwImpl{m: map[string][]byte{}, k: k} }},
	}
}

const (
	keyCount  = 10000
	batchSize = 100
)

// rng is a per-goroutine xorshift: cheaper than math/rand and identical for
// every implementation.
type rng uint64

var seeds atomic.Uint64

func newRNG() rng { return rng(seeds.Add(0x9E3779B97F4A7C15) | 1) }

func (r *rng) next(n int) int {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return int(x % uint64(n))
}

// Run runs every workload against every implementation, as
// sub-benchmarks named Workload/Implementation.
func Run(b *testing.B, impls []Named) {
	keys := NewKeys(keyCount)
	filled := func(n Named) Impl {
		m := n.New(keys)
		for i := range keys.N {
			m.Store(i)
		}
		return m
	}
	parallel := func(name string, body func(m Impl, r *rng, scratch []int)) {
		b.Run(name, func(b *testing.B) {
			for _, n := range impls {
				b.Run(n.Name, func(b *testing.B) {
					m := filled(n)
					defer m.Close()
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						r := newRNG()
						scratch := make([]int, batchSize)
						for pb.Next() {
							body(m, &r, scratch)
						}
					})
				})
			}
		})
	}
	n := keys.N
	parallel("Load", func(m Impl, r *rng, _ []int) { m.Load(r.next(n)) })
	parallel("Store", func(m Impl, r *rng, _ []int) { m.Store(r.next(n)) })
	parallel("LoadOrStore", func(m Impl, r *rng, _ []int) { m.LoadOrStore(r.next(n)) })
	parallel("ReadHeavy90", func(m Impl, r *rng, _ []int) {
		if i := r.next(10 * n); i < n {
			m.Store(i)
		} else {
			m.Load(i % n)
		}
	})
	parallel("WriteHeavy90", func(m Impl, r *rng, _ []int) {
		if i := r.next(10 * n); i < n {
			m.Load(i)
		} else {
			m.Store(i % n)
		}
	})
	batch := func(name string, body func(m Impl, idx []int)) {
		parallel(name, func(m Impl, r *rng, idx []int) {
			for j := range idx {
				idx[j] = r.next(n)
			}
			body(m, idx)
		})
	}
	batch("LoadMany100", func(m Impl, idx []int) { m.LoadBatch(idx) })
	batch("StoreMany100", func(m Impl, idx []int) { m.StoreBatch(idx) })
	b.Run("Range10k", func(b *testing.B) {
		for _, impl := range impls {
			b.Run(impl.Name, func(b *testing.B) {
				m := filled(impl)
				defer m.Close()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if got := m.Range(); got != n {
						b.Fatalf("Range saw %d entries, want %d", got, n)
					}
				}
			})
		}
	})
}

type dashImpl struct {
	m *dashmap.Map
	k *Keys
}

func (d *dashImpl) Load(i int) bool { _, ok := d.m.Load(d.k.B[i]); return ok }
func (d *dashImpl) Store(i int)     { d.m.Store(d.k.B[i], d.k.Value) }
func (d *dashImpl) LoadOrStore(i int) bool {
	_, loaded := d.m.LoadOrStore(d.k.B[i], d.k.Value)
	return loaded
}
func (d *dashImpl) Range() int {
	n := 0
	d.m.Range(func(k, v []byte) bool { n++; return true })
	return n
}

// The key and value lists live on the stack, as a caller with a fixed batch
// size would write it; the benchmark measures the map, not the harness.
func (d *dashImpl) LoadBatch(idx []int) int {
	var keys [batchSize][]byte
	for j, i := range idx {
		keys[j] = d.k.B[i]
	}
	found := 0
	for _, v := range d.m.LoadMany(keys[:len(idx)]) {
		if v != nil {
			found++
		}
	}
	return found
}
func (d *dashImpl) StoreBatch(idx []int) {
	var keys, vals [batchSize][]byte
	for j, i := range idx {
		keys[j], vals[j] = d.k.B[i], d.k.Value
	}
	d.m.StoreMany(keys[:len(idx)], vals[:len(idx)])
}
func (d *dashImpl) Close() { d.m.Close() }

type syncImpl struct {
	m sync.Map
	k *Keys
}

func (s *syncImpl) Load(i int) bool { _, ok := s.m.Load(s.k.A[i]); return ok }
func (s *syncImpl) Store(i int)     { s.m.Store(s.k.A[i], s.k.VAny) }
func (s *syncImpl) LoadOrStore(i int) bool {
	_, loaded := s.m.LoadOrStore(s.k.A[i], s.k.VAny)
	return loaded
}
func (s *syncImpl) Range() int {
	n := 0
	s.m.Range(func(k, v any) bool { n++; return true })
	return n
}
func (s *syncImpl) LoadBatch(idx []int) int {
	found := 0
	for _, i := range idx {
		if _, ok := s.m.Load(s.k.A[i]); ok {
			found++
		}
	}
	return found
}
func (s *syncImpl) StoreBatch(idx []int) {
	for _, i := range idx {
		s.m.Store(s.k.A[i], s.k.VAny)
	}
}
func (s *syncImpl) Close() {}

type rwImpl struct {
	mu sync.RWMutex
	m  map[string][]byte
	k  *Keys
}

func (r *rwImpl) Load(i int) bool {
	r.mu.RLock()
	_, ok := r.m[r.k.S[i]]
	r.mu.RUnlock()
	return ok
}
func (r *rwImpl) Store(i int) {
	r.mu.Lock()
	r.m[r.k.S[i]] = r.k.Value
	r.mu.Unlock()
}
func (r *rwImpl) LoadOrStore(i int) bool {
	r.mu.RLock()
	_, ok := r.m[r.k.S[i]]
	r.mu.RUnlock()
	if ok {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[r.k.S[i]]; ok {
		return true
	}
	r.m[r.k.S[i]] = r.k.Value
	return false
}
func (r *rwImpl) Range() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for range r.m {
		n++
	}
	return n
}

// The batches take the lock once, the natural way to batch a locked map.
func (r *rwImpl) LoadBatch(idx []int) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	found := 0
	for _, i := range idx {
		if _, ok := r.m[r.k.S[i]]; ok {
			found++
		}
	}
	return found
}
func (r *rwImpl) StoreBatch(idx []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, i := range idx {
		r.m[r.k.S[i]] = r.k.Value
	}
}
func (r *rwImpl) Close() {}
