package dashmap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

// model is the reference: a Go map under a mutex.
type model struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newModel() *model { return &model{m: map[string][]byte{}} }

func (md *model) load(k []byte) ([]byte, bool) {
	md.mu.Lock()
	defer md.mu.Unlock()
	v, ok := md.m[string(k)]
	return v, ok
}

func (md *model) store(k, v []byte) {
	md.mu.Lock()
	defer md.mu.Unlock()
	md.m[string(k)] = slices.Clone(v)
}

func (md *model) del(k []byte) {
	md.mu.Lock()
	defer md.mu.Unlock()
	delete(md.m, string(k))
}

// randValue returns values of assorted sizes: empty, short, and longer than
// the binding's 128-byte stack buffer.
func randValue(r *rand.Rand) []byte {
	var n int
	switch r.IntN(6) {
	case 0:
		n = 0
	case 1:
		n = 8 // may be a counter
	case 2:
		n = 100 + r.IntN(300)
	default:
		n = 1 + r.IntN(20)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	return v
}

// step performs one random operation on m and the model and checks m's answer.
// keyspace is the list of keys this caller owns.
func step(t *testing.T, r *rand.Rand, m *dashmap.Map, md *model, keyspace [][]byte) {
	k := keyspace[r.IntN(len(keyspace))]
	want, wantOK := md.load(k)
	eq := func(op string, got []byte, gotOK bool, want []byte, wantOK bool) {
		t.Helper()
		if gotOK != wantOK || !bytes.Equal(got, want) || (gotOK && got == nil) || (!gotOK && got != nil) {
			t.Fatalf("%s(%q) = %x, %v; model says %x, %v", op, k, got, gotOK, want, wantOK)
		}
	}
	switch op := r.IntN(16); op {
	case 0, 1, 2:
		v, ok := m.Load(k)
		eq("Load", v, ok, want, wantOK)
	case 3, 4:
		v := randValue(r)
		m.Store(k, v)
		md.store(k, v)
	case 5:
		v := randValue(r)
		got, loaded := m.LoadOrStore(k, v)
		if wantOK {
			eq("LoadOrStore", got, loaded, want, true)
		} else {
			if loaded || !bytes.Equal(got, v) {
				t.Fatalf("LoadOrStore(%q) on absent key = %x, %v", k, got, loaded)
			}
			md.store(k, v)
		}
	case 6:
		got, loaded := m.LoadAndDelete(k)
		eq("LoadAndDelete", got, loaded, want, wantOK)
		md.del(k)
	case 7:
		m.Delete(k)
		md.del(k)
	case 8:
		v := randValue(r)
		got, loaded := m.Swap(k, v)
		eq("Swap", got, loaded, want, wantOK)
		md.store(k, v)
	case 9:
		old := want
		if r.IntN(3) == 0 {
			old = randValue(r)
		}
		v := randValue(r)
		swapped := m.CompareAndSwap(k, old, v)
		if exp := wantOK && bytes.Equal(old, want); swapped != exp {
			t.Fatalf("CompareAndSwap(%q) = %v, want %v", k, swapped, exp)
		}
		if swapped {
			md.store(k, v)
		}
	case 10:
		old := want
		if r.IntN(3) == 0 {
			old = randValue(r)
		}
		deleted := m.CompareAndDelete(k, old)
		if exp := wantOK && bytes.Equal(old, want); deleted != exp {
			t.Fatalf("CompareAndDelete(%q) = %v, want %v", k, deleted, exp)
		}
		if deleted {
			md.del(k)
		}
	case 11:
		delta := r.Int64N(1000) - 500
		if wantOK && len(want) != 8 {
			rec := mustPanic(t, "Add on non-counter", func() { m.Add(k, delta) })
			if err, _ := rec.(error); !errors.Is(err, dashmap.ErrInvalid) {
				t.Fatalf("Add panicked with %v", rec)
			}
			return
		}
		var cur int64
		if wantOK {
			cur = int64(binary.LittleEndian.Uint64(want))
		}
		got := m.Add(k, delta)
		if got != cur+delta {
			t.Fatalf("Add(%q, %d) = %d, want %d", k, delta, got, cur+delta)
		}
		md.store(k, binary.LittleEndian.AppendUint64(nil, uint64(got)))
	case 12:
		nv := randValue(r)
		op := dashmap.Op(r.IntN(3))
		var sawOld []byte
		var sawLoaded bool
		got, ok := m.Update(k, func(old []byte, loaded bool) ([]byte, dashmap.Op) {
			// No t.Fatal in here: it would Goexit through the C call.
			sawOld, sawLoaded = old, loaded
			return nv, op
		})
		eq("Update's old", sawOld, sawLoaded, want, wantOK)
		switch op {
		case dashmap.Keep:
			eq("Update(Keep)", got, ok, want, wantOK)
		case dashmap.Set:
			eq("Update(Set)", got, ok, nv, true)
			md.store(k, nv)
		case dashmap.Delete:
			eq("Update(Delete)", got, ok, nil, false)
			md.del(k)
		}
	case 13:
		// A batch over a few random keys of this keyspace.
		n := 1 + r.IntN(8)
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = keyspace[r.IntN(len(keyspace))]
		}
		switch r.IntN(3) {
		case 0:
			got := m.LoadMany(keys)
			for i, key := range keys {
				w, ok := md.load(key)
				if ok != (got[i] != nil) || !bytes.Equal(got[i], w) {
					t.Fatalf("LoadMany[%d](%q) = %x, model %x, %v", i, key, got[i], w, ok)
				}
			}
		case 1:
			vals := make([][]byte, n)
			for i := range vals {
				vals[i] = randValue(r)
			}
			m.StoreMany(keys, vals)
			for i := range keys {
				md.store(keys[i], vals[i])
			}
		case 2:
			present := map[string]bool{}
			for _, key := range keys {
				if _, ok := md.load(key); ok {
					present[string(key)] = true
				}
			}
			if d := m.DeleteMany(keys); d != len(present) {
				t.Fatalf("DeleteMany = %d, want %d", d, len(present))
			}
			for _, key := range keys {
				md.del(key)
			}
		}
	case 14:
		// Retain with a random predicate over this keyspace only.
		own := map[string]bool{}
		for _, key := range keyspace {
			own[string(key)] = true
		}
		drop := map[string]bool{}
		m.Retain(func(key, v []byte) bool {
			if !own[string(key)] {
				return true
			}
			w, ok := md.load(key)
			if !ok || !bytes.Equal(v, w) {
				t.Errorf("Retain saw %q = %x, model %x, %v", key, v, w, ok)
			}
			if r.IntN(4) == 0 {
				drop[string(key)] = true
				return false
			}
			return true
		})
		for key := range drop {
			md.del([]byte(key))
		}
	case 15:
		if r.IntN(20) == 0 && len(keyspace) > 0 && keyspace[0] == nil {
			// Only the single-goroutine test (whose keyspace starts with the
			// empty key) owns the whole map and may Clear it.
			m.Clear()
			md.mu.Lock()
			clear(md.m)
			md.mu.Unlock()
		}
	}
}

// check compares the whole map (restricted to prefix) with the model.
func check(t *testing.T, m *dashmap.Map, md *model, keyspace [][]byte, owns func([]byte) bool) {
	t.Helper()
	md.mu.Lock()
	defer md.mu.Unlock()
	got := map[string][]byte{}
	for k, v := range m.All() {
		if owns(k) {
			if _, dup := got[string(k)]; dup {
				t.Fatalf("All returned %q twice", k)
			}
			got[string(k)] = v
		}
	}
	if len(got) != len(md.m) {
		t.Fatalf("map has %d entries, model %d", len(got), len(md.m))
	}
	for k, v := range md.m {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("map[%q] = %x, model %x", k, got[k], v)
		}
	}
	vals := m.LoadMany(keyspace)
	for i, k := range keyspace {
		w, ok := md.m[string(k)]
		if ok != (vals[i] != nil) || !bytes.Equal(vals[i], w) {
			t.Fatalf("LoadMany(%q) = %x, model %x", k, vals[i], w)
		}
	}
}

// Random operation sequences against the model, single goroutine.
func TestModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := dashmap.New(dashmap.WithShards(4))
	defer m.Close()
	md := newModel()
	keyspace := [][]byte{nil}
	for i := range 40 {
		keyspace = append(keyspace, []byte(fmt.Sprintf("key-%d", i)))
	}
	all := func([]byte) bool { return true }
	steps := scale(100000)
	for i := range steps {
		step(t, r, m, md, keyspace)
		if i%500 == 0 {
			check(t, m, md, keyspace, all)
			if m.Len() != len(md.m) || m.Stats().Len != len(md.m) {
				t.Fatalf("Len = %d, Stats.Len = %d, model %d", m.Len(), m.Stats().Len, len(md.m))
			}
			var ks []string
			for k := range m.Keys() {
				ks = append(ks, string(k))
			}
			sort.Strings(ks)
			var want []string
			for k := range md.m {
				want = append(want, k)
			}
			sort.Strings(want)
			if !slices.Equal(ks, want) {
				t.Fatalf("Keys = %q, want %q", ks, want)
			}
		}
	}
	check(t, m, md, keyspace, all)
}

// Several goroutines, each running random operations on its own keys against
// its own model, while another goroutine iterates: per-key atomicity and
// isolation between keys, under contention on the shard locks.
func TestModelConcurrent(t *testing.T) {
	m := dashmap.New(dashmap.WithShards(2)) // few shards: maximise lock sharing
	defer m.Close()
	const workers = 4
	steps := scale(20000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() { // a reader that iterates all the time
		defer reader.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range m.All() {
			}
			_ = m.Len()
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			md := newModel()
			prefix := fmt.Sprintf("w%d/", w)
			var keyspace [][]byte
			for i := range 20 {
				keyspace = append(keyspace, []byte(fmt.Sprintf("%s%d", prefix, i)))
			}
			owns := func(k []byte) bool { return bytes.HasPrefix(k, []byte(prefix)) }
			for i := range steps {
				step(t, r, m, md, keyspace)
				if i%1000 == 0 {
					check(t, m, md, keyspace, owns)
				}
			}
			check(t, m, md, keyspace, owns)
		}()
	}
	wg.Wait()
	close(stop)
	reader.Wait()
}
