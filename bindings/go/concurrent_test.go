package dashmap_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

func counter(t *testing.T, m *dashmap.Map, key []byte) int64 {
	t.Helper()
	v, ok := m.Load(key)
	if !ok || len(v) != 8 {
		t.Fatalf("counter %q = %x, %v", key, v, ok)
	}
	return int64(binary.LittleEndian.Uint64(v))
}

func parallel(workers int, f func(w int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w)
		}()
	}
	wg.Wait()
}

// Goroutines x increments through Add, Update and a Load/CompareAndSwap loop
// on a few hot keys: no update may be lost.
func TestConcurrentIncrements(t *testing.T) {
	m := dashmap.New(dashmap.WithShards(2))
	defer m.Close()
	const workers = 8
	n := scale(20000)
	keys := [][]byte{b("a"), b("b"), b("c")}
	parallel(workers, func(w int) {
		for i := range n {
			m.Add(keys[i%len(keys)], 1)
		}
	})
	for i, k := range keys {
		want := int64(workers * (n / len(keys)))
		if i < n%len(keys) {
			want += workers
		}
		if got := counter(t, m, k); got != want {
			t.Fatalf("Add: %s = %d, want %d", k, got, want)
		}
	}

	inc := func(old []byte, loaded bool) ([]byte, dashmap.Op) {
		var x uint64
		if loaded {
			x = binary.LittleEndian.Uint64(old)
		}
		return binary.LittleEndian.AppendUint64(nil, x+1), dashmap.Set
	}
	parallel(workers, func(w int) {
		for range n {
			m.Update(b("upd"), inc)
		}
	})
	if got := counter(t, m, b("upd")); got != int64(workers*n) {
		t.Fatalf("Update: %d, want %d", got, workers*n)
	}

	m.Store(b("cas"), binary.LittleEndian.AppendUint64(nil, 0))
	var retries atomic.Int64
	parallel(workers, func(w int) {
		for range n / 4 {
			for {
				old, _ := m.Load(b("cas"))
				nv := binary.LittleEndian.AppendUint64(nil, binary.LittleEndian.Uint64(old)+1)
				if m.CompareAndSwap(b("cas"), old, nv) {
					break
				}
				retries.Add(1)
			}
		}
	})
	if got := counter(t, m, b("cas")); got != int64(workers*(n/4)) {
		t.Fatalf("CompareAndSwap loop: %d, want %d", got, workers*(n/4))
	}
	t.Logf("CompareAndSwap retries: %d", retries.Load())

	// Swap hands every value out exactly once: the sum of what the swappers
	// got back plus what is left equals the sum of what they put in.
	m.Store(b("swap"), binary.LittleEndian.AppendUint64(nil, 0))
	var sum atomic.Int64
	parallel(workers, func(w int) {
		for i := range n / 4 {
			prev, _ := m.Swap(b("swap"), binary.LittleEndian.AppendUint64(nil, uint64(i+1)))
			sum.Add(int64(binary.LittleEndian.Uint64(prev)))
		}
	})
	left := counter(t, m, b("swap"))
	q := int64(n / 4)
	if got, want := sum.Load()+left, int64(workers)*q*(q+1)/2; got != want {
		t.Fatalf("Swap: handed out %d, put in %d", got, want)
	}
}

// All goroutines LoadOrStore the same keys: exactly one wins each key and
// everyone sees the winner's value.
func TestConcurrentLoadOrStore(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	const workers = 8
	keys := scale(2000)
	results := make([][][]byte, workers)
	var winners atomic.Int64
	parallel(workers, func(w int) {
		results[w] = make([][]byte, keys)
		for i := range keys {
			v, loaded := m.LoadOrStore([]byte(fmt.Sprint(i)), []byte(fmt.Sprint("worker", w)))
			if !loaded {
				winners.Add(1)
			}
			results[w][i] = v
		}
	})
	if winners.Load() != int64(keys) {
		t.Fatalf("%d winners for %d keys", winners.Load(), keys)
	}
	for i := range keys {
		stored, _ := m.Load([]byte(fmt.Sprint(i)))
		for w := range workers {
			if !bytes.Equal(results[w][i], stored) {
				t.Fatalf("key %d: worker %d saw %q, map has %q", i, w, results[w][i], stored)
			}
		}
	}
	// LoadAndDelete: each value is taken by exactly one goroutine.
	var taken atomic.Int64
	parallel(workers, func(w int) {
		for i := range keys {
			if _, ok := m.LoadAndDelete([]byte(fmt.Sprint(i))); ok {
				taken.Add(1)
			}
		}
	})
	if taken.Load() != int64(keys) || m.Len() != 0 {
		t.Fatalf("LoadAndDelete took %d of %d, %d left", taken.Load(), keys, m.Len())
	}
}

// Stable keys are seen exactly once by every kind of iteration while other
// goroutines insert and delete other keys (and other entries' values change).
func TestIterationUnderWrites(t *testing.T) {
	m := dashmap.New(dashmap.WithShards(8))
	defer m.Close()
	stable := scale(5000)
	for i := range stable {
		m.Store([]byte(fmt.Sprintf("stable-%d", i)), []byte(fmt.Sprint(i)))
	}
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := []byte(fmt.Sprintf("tmp-%d-%d", w, i%500))
				if i%2 == 0 {
					m.Store(k, b("x"))
				} else {
					m.Delete(k)
				}
				m.Add(b("churn"), 1)
			}
		}()
	}
	checkSeen := func(how string, keys [][]byte) {
		t.Helper()
		seen := make([]int, stable)
		for _, k := range keys {
			var i int
			if _, err := fmt.Sscanf(string(k), "stable-%d", &i); err == nil {
				seen[i]++
			}
		}
		for i, c := range seen {
			if c != 1 {
				t.Errorf("%s: stable-%d seen %d times", how, i, c)
				return
			}
		}
	}
	for range 3 {
		var keys [][]byte
		m.Range(func(k, v []byte) bool { keys = append(keys, k); return true })
		checkSeen("Range", keys)
		keys = keys[:0]
		for k := range m.All() {
			keys = append(keys, k)
		}
		checkSeen("All", keys)
		keys = keys[:0]
		for k := range m.Keys() {
			keys = append(keys, k)
		}
		checkSeen("Keys", keys)
	}
	close(stop)
	writers.Wait()
}
