package dashmap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

func b(s string) []byte { return []byte(s) }

// scale shrinks loop counts under the race detector.
func scale(n int) int {
	if raceEnabled {
		return max(n/10, 1)
	}
	return n
}

// mustPanic runs f and returns what it panicked with; it fails the test if f
// returns normally.
func mustPanic(t *testing.T, what string, f func()) (r any) {
	t.Helper()
	defer func() { r = recover() }()
	f()
	t.Fatalf("%s: did not panic", what)
	return nil
}

// contents copies a map into a Go map through Range.
func contents(m *dashmap.Map) map[string]string {
	out := map[string]string{}
	m.Range(func(k, v []byte) bool {
		if _, dup := out[string(k)]; dup {
			panic("Range returned key twice: " + string(k))
		}
		out[string(k)] = string(v)
		return true
	})
	return out
}

func TestBasics(t *testing.T) {
	m := dashmap.New()
	defer m.Close()

	if v, ok := m.Load(b("k")); ok || v != nil {
		t.Fatalf("Load on empty map = %q, %v", v, ok)
	}
	m.Store(b("k"), b("v1"))
	if v, ok := m.Load(b("k")); !ok || string(v) != "v1" {
		t.Fatalf("Load = %q, %v", v, ok)
	}
	// Empty keys and values are fine; a present empty value is not nil.
	m.Store(nil, nil)
	if v, ok := m.Load([]byte{}); !ok || v == nil || len(v) != 0 {
		t.Fatalf("Load(empty) = %#v, %v", v, ok)
	}
	if n := m.Len(); n != 2 {
		t.Fatalf("Len = %d", n)
	}

	// LoadOrStore
	if v, loaded := m.LoadOrStore(b("k"), b("other")); !loaded || string(v) != "v1" {
		t.Fatalf("LoadOrStore existing = %q, %v", v, loaded)
	}
	if v, loaded := m.LoadOrStore(b("n"), b("new")); loaded || string(v) != "new" {
		t.Fatalf("LoadOrStore absent = %q, %v", v, loaded)
	}
	if v, loaded := m.LoadOrStore(b("e"), nil); loaded || v == nil {
		t.Fatalf("LoadOrStore absent empty = %#v, %v", v, loaded)
	}

	// Swap
	if prev, loaded := m.Swap(b("k"), b("v2")); !loaded || string(prev) != "v1" {
		t.Fatalf("Swap = %q, %v", prev, loaded)
	}
	if prev, loaded := m.Swap(b("s"), b("x")); loaded || prev != nil {
		t.Fatalf("Swap absent = %q, %v", prev, loaded)
	}

	// CompareAndSwap / CompareAndDelete
	if m.CompareAndSwap(b("k"), b("nope"), b("v3")) {
		t.Fatal("CompareAndSwap with wrong old swapped")
	}
	if !m.CompareAndSwap(b("k"), b("v2"), b("v3")) {
		t.Fatal("CompareAndSwap with right old did not swap")
	}
	if m.CompareAndSwap(b("absent"), nil, b("x")) {
		t.Fatal("CompareAndSwap on absent key swapped")
	}
	if m.CompareAndDelete(b("k"), b("v2")) {
		t.Fatal("CompareAndDelete with wrong old deleted")
	}
	if !m.CompareAndDelete(b("k"), b("v3")) {
		t.Fatal("CompareAndDelete with right old did not delete")
	}
	if _, ok := m.Load(b("k")); ok {
		t.Fatal("key still present after CompareAndDelete")
	}

	// LoadAndDelete / Delete
	if v, loaded := m.LoadAndDelete(b("n")); !loaded || string(v) != "new" {
		t.Fatalf("LoadAndDelete = %q, %v", v, loaded)
	}
	if v, loaded := m.LoadAndDelete(b("n")); loaded || v != nil {
		t.Fatalf("LoadAndDelete again = %q, %v", v, loaded)
	}
	m.Delete(b("s"))
	m.Delete(b("s")) // absent: no-op
	if got, want := contents(m), map[string]string{"": "", "e": ""}; !mapsEqual(got, want) {
		t.Fatalf("contents = %q, want %q", got, want)
	}

	m.Clear()
	if n := m.Len(); n != 0 {
		t.Fatalf("Len after Clear = %d", n)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Returned slices are the caller's: changing them does not touch the map,
// and the map does not keep the caller's buffers.
func TestCopies(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	key, val := b("key"), b("value")
	m.Store(key, val)
	key[0], val[0] = 'X', 'X'
	v, _ := m.Load(b("key"))
	if string(v) != "value" {
		t.Fatalf("map kept the caller's buffer: %q", v)
	}
	v[0] = 'Y'
	if v2, _ := m.Load(b("key")); string(v2) != "value" {
		t.Fatalf("Load returned the map's own memory: %q", v2)
	}
	for k, v := range m.All() {
		k[0], v[0] = 'Z', 'Z'
	}
	if got := contents(m); got["key"] != "value" {
		t.Fatalf("All returned the map's own memory: %q", got)
	}
}

// Values larger than the stack buffer take the retry paths.
func TestLargeValues(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	for _, size := range []int{0, 1, 127, 128, 129, 1000, 70000} {
		v1 := bytes.Repeat([]byte{'a'}, size)
		v2 := bytes.Repeat([]byte{'b'}, size+1)
		key := []byte(fmt.Sprint("k", size))
		m.Store(key, v1)
		if got, ok := m.Load(key); !ok || !bytes.Equal(got, v1) || cap(got) != len(got) {
			t.Fatalf("size %d: Load = len %d cap %d, %v", size, len(got), cap(got), ok)
		}
		if got, loaded := m.LoadOrStore(key, v2); !loaded || !bytes.Equal(got, v1) {
			t.Fatalf("size %d: LoadOrStore = len %d, %v", size, len(got), loaded)
		}
		if got, loaded := m.Swap(key, v2); !loaded || !bytes.Equal(got, v1) {
			t.Fatalf("size %d: Swap = len %d, %v", size, len(got), loaded)
		}
		if got := m.LoadMany([][]byte{key, b("absent"), key}); !bytes.Equal(got[0], v2) || got[1] != nil || !bytes.Equal(got[2], v2) {
			t.Fatalf("size %d: LoadMany wrong", size)
		}
		if got, loaded := m.LoadAndDelete(key); !loaded || !bytes.Equal(got, v2) {
			t.Fatalf("size %d: LoadAndDelete = len %d, %v", size, len(got), loaded)
		}
		if m.Len() != 0 {
			t.Fatalf("size %d: map not empty", size)
		}
	}
}

// iterValue is the value TestIterationBatches stores under key i: mostly
// small values of varied sizes, some empty, a few larger than a batch
// buffer (32 KiB) and one larger than the buffers a walk keeps (1 MiB).
func iterValue(i int) []byte {
	size := i % 97
	switch i {
	case 17:
		size = 100 << 10
	case 4242:
		size = 40 << 10
	case 9999:
		size = 2 << 20
	}
	if i%500 == 3 {
		size = 0
	}
	v := make([]byte, size)
	for j := range v {
		v[j] = byte(i + j)
	}
	return v
}

// A walk over many batches (dm_iter_next_many), some of whose entries do not
// fit the initial buffer, sees every entry once with its value, and what it
// yields is not overwritten by later batches.
func TestIterationBatches(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	const n = 10000
	for i := range n {
		m.Store([]byte(fmt.Sprintf("key-%05d", i)), iterValue(i))
	}
	index := func(how string, k []byte) int {
		var i int
		if _, err := fmt.Sscanf(string(k), "key-%05d", &i); err != nil || i < 0 || i >= n {
			t.Fatalf("%s: unexpected key %q", how, k)
		}
		return i
	}
	type pair struct{ k, v []byte }
	for round := range 2 { // the second walk reuses pooled scratch
		var kept []pair
		m.Range(func(k, v []byte) bool {
			if v == nil || k == nil {
				t.Fatalf("Range: nil slice for %q", k)
			}
			kept = append(kept, pair{k, v})
			return true
		})
		for k, v := range m.All() {
			kept = append(kept, pair{k, v})
		}
		// Only now, after every batch, check what was kept.
		seen := make([]int, 2*n)
		for j, p := range kept {
			i := index("Range/All", p.k)
			seen[i+n*(j/n)]++
			if !bytes.Equal(p.v, iterValue(i)) {
				t.Fatalf("round %d: value of %s: len %d, want %d (overwritten?)", round, p.k, len(p.v), len(iterValue(i)))
			}
			if cap(p.k) != len(p.k) || cap(p.v) != len(p.v) {
				t.Fatalf("%s: slices not capacity-limited", p.k)
			}
		}
		if len(kept) != 2*n {
			t.Fatalf("round %d: Range+All saw %d entries, want %d", round, len(kept), 2*n)
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("round %d: key-%05d seen %d times", round, i%n, c)
			}
		}
	}
	// Appending to a yielded key must not clobber its value.
	m.Range(func(k, v []byte) bool {
		i := index("Range", k)
		_ = append(k, "XXXXXXXX"...)
		if !bytes.Equal(v, iterValue(i)) {
			t.Fatalf("append to key %s changed its value", k)
		}
		return true
	})
	var keys [][]byte
	for k := range m.Keys() {
		keys = append(keys, k)
	}
	seen := make([]int, n)
	for _, k := range keys {
		seen[index("Keys", k)]++
	}
	var values [][]byte
	for v := range m.Values() {
		values = append(values, v)
	}
	sizes := map[int]int{}
	for i := range n {
		sizes[len(iterValue(i))]++
	}
	for _, v := range values {
		if v == nil {
			t.Fatal("Values: nil value")
		}
		sizes[len(v)]--
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("Keys: key-%05d seen %d times", i, c)
		}
	}
	for size, c := range sizes {
		if c != 0 {
			t.Fatalf("Values: %d values of %d bytes missing (negative: extra)", c, size)
		}
	}
	if len(keys) != n || len(values) != n {
		t.Fatalf("Keys %d, Values %d, want %d", len(keys), len(values), n)
	}
}

func TestAdd(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	if got := m.Add(b("c"), 5); got != 5 {
		t.Fatalf("Add on absent key = %d", got)
	}
	if got := m.Add(b("c"), -7); got != -2 {
		t.Fatalf("Add = %d", got)
	}
	v, _ := m.Load(b("c"))
	if len(v) != 8 || int64(binary.LittleEndian.Uint64(v)) != -2 {
		t.Fatalf("counter bytes = %v", v)
	}
	m.Store(b("s"), b("abc"))
	r := mustPanic(t, "Add on a non-counter", func() { m.Add(b("s"), 1) })
	err, ok := r.(error)
	if !ok || !errors.Is(err, dashmap.ErrInvalid) || !strings.Contains(err.Error(), "not an 8-byte counter") {
		t.Fatalf("Add panicked with %v", r)
	}
	var de *dashmap.Error
	if !errors.As(err, &de) || de.Op != "Add" || de.Status != -2 {
		t.Fatalf("Add panic is not a proper *Error: %#v", r)
	}
	if v, _ := m.Load(b("s")); string(v) != "abc" {
		t.Fatalf("failed Add changed the value: %q", v)
	}
}

func TestUpdate(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	// Absent + Keep: nothing happens.
	v, ok := m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
		if loaded || old != nil {
			t.Errorf("absent key: old = %q, loaded = %v", old, loaded)
		}
		return b("ignored"), dashmap.Keep
	})
	if ok || v != nil || m.Len() != 0 {
		t.Fatalf("Keep on absent = %q, %v, len %d", v, ok, m.Len())
	}
	// Absent + Set: inserts.
	v, ok = m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return b("1"), dashmap.Set })
	if !ok || string(v) != "1" {
		t.Fatalf("Set on absent = %q, %v", v, ok)
	}
	// Present + Set: replaces, sees the old value.
	v, ok = m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
		if !loaded || string(old) != "1" {
			t.Errorf("present key: old = %q, loaded = %v", old, loaded)
		}
		return append(old, '2'), dashmap.Set
	})
	if !ok || string(v) != "12" {
		t.Fatalf("Set on present = %q, %v", v, ok)
	}
	// Present + Keep returns the current value.
	v, ok = m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return nil, dashmap.Keep })
	if !ok || string(v) != "12" {
		t.Fatalf("Keep on present = %q, %v", v, ok)
	}
	// Set to an empty value.
	v, ok = m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return nil, dashmap.Set })
	if !ok || v == nil || len(v) != 0 {
		t.Fatalf("Set empty = %#v, %v", v, ok)
	}
	// Present + Delete.
	v, ok = m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return nil, dashmap.Delete })
	if ok || v != nil || m.Len() != 0 {
		t.Fatalf("Delete = %q, %v, len %d", v, ok, m.Len())
	}
	// Absent + Delete: nothing.
	m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return nil, dashmap.Delete })
	// An unknown Op panics, and nothing is applied.
	r := mustPanic(t, "unknown Op", func() {
		m.Update(b("k"), func([]byte, bool) ([]byte, dashmap.Op) { return b("x"), dashmap.Op(42) })
	})
	if s, _ := r.(string); !strings.Contains(s, "unknown Op Op(42)") {
		t.Fatalf("unknown Op panicked with %v", r)
	}
	if m.Len() != 0 {
		t.Fatal("unknown Op changed the map")
	}
}

func TestRetain(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	for i := range 100 {
		m.Store([]byte(fmt.Sprint(i)), []byte(fmt.Sprint(i*i)))
	}
	seen := 0
	m.Retain(func(k, v []byte) bool {
		seen++
		var i, sq int
		fmt.Sscan(string(k), &i)
		fmt.Sscan(string(v), &sq)
		if sq != i*i {
			t.Errorf("Retain saw %s -> %s", k, v)
		}
		return i%3 == 0
	})
	if seen != 100 || m.Len() != 34 {
		t.Fatalf("Retain visited %d, kept %d", seen, m.Len())
	}
	for k := range m.Keys() {
		var i int
		fmt.Sscan(string(k), &i)
		if i%3 != 0 {
			t.Fatalf("Retain kept %s", k)
		}
	}
}

func TestBatches(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	if got := m.LoadMany(nil); len(got) != 0 {
		t.Fatalf("LoadMany(nil) = %v", got)
	}
	m.StoreMany(nil, nil)
	if m.DeleteMany(nil) != 0 {
		t.Fatal("DeleteMany(nil) != 0")
	}
	// Sizes around shim.c's stack limit of 64 slices.
	for _, n := range []int{1, 63, 64, 65, 1000} {
		keys := make([][]byte, n)
		vals := make([][]byte, n)
		for i := range n {
			keys[i] = []byte(fmt.Sprintf("key-%d-%d", n, i))
			vals[i] = bytes.Repeat([]byte{byte(i)}, i%300)
		}
		m.StoreMany(keys, vals)
		probe := append(slices.Clone(keys), b("missing"), nil)
		got := m.LoadMany(probe)
		for i := range n {
			if !bytes.Equal(got[i], vals[i]) || got[i] == nil {
				t.Fatalf("n=%d: LoadMany[%d] = %v, want %v", n, i, got[i], vals[i])
			}
		}
		if got[n] != nil || got[n+1] != nil {
			t.Fatalf("n=%d: missing keys gave %v, %v", n, got[n], got[n+1])
		}
		if d := m.DeleteMany(probe); d != n {
			t.Fatalf("n=%d: DeleteMany = %d", n, d)
		}
		if m.Len() != 0 {
			t.Fatalf("n=%d: Len after DeleteMany = %d", n, m.Len())
		}
	}
	// A key listed twice ends with its last value.
	m.StoreMany([][]byte{b("a"), b("a")}, [][]byte{b("1"), b("2")})
	if v, _ := m.Load(b("a")); string(v) != "2" {
		t.Fatalf("duplicate key in StoreMany: %q", v)
	}
	mustPanic(t, "StoreMany with mismatched lengths", func() { m.StoreMany([][]byte{b("a")}, nil) })
}

func TestStatsAndOptions(t *testing.T) {
	m := dashmap.New(dashmap.WithShards(8), dashmap.WithCapacity(1000), dashmap.WithFastHasher(42))
	defer m.Close()
	for i := range 100 {
		m.Store([]byte(fmt.Sprintf("k%02d", i)), b("vv"))
	}
	s := m.Stats()
	if s.Len != 100 || s.Shards != 8 || s.Capacity < 1000 || s.KeyBytes != 300 || s.ValueBytes != 200 ||
		s.MinShardLen > s.MaxShardLen || s.MaxShardLen > 100 {
		t.Fatalf("Stats = %+v", s)
	}
	for _, opt := range []dashmap.Option{dashmap.WithShards(3), dashmap.WithShards(0), dashmap.WithShards(1 << 17), dashmap.WithCapacity(-1)} {
		m, err := dashmap.NewWithOptions(opt)
		if m != nil || !errors.Is(err, dashmap.ErrInvalid) {
			t.Fatalf("bad option: %v, %v", m, err)
		}
	}
	r := mustPanic(t, "New with a bad option", func() { dashmap.New(dashmap.WithShards(6)) })
	if err, _ := r.(error); !errors.Is(err, dashmap.ErrInvalid) {
		t.Fatalf("New panicked with %v", r)
	}
}

func TestZeroMap(t *testing.T) {
	var m dashmap.Map
	if m.Len() != 0 {
		t.Fatal("zero Map not empty")
	}
	m.Store(b("a"), b("b"))
	if v, ok := m.Load(b("a")); !ok || string(v) != "b" {
		t.Fatalf("zero Map Load = %q, %v", v, ok)
	}
	m.Close()
	mustPanic(t, "zero Map after Close", func() { m.Len() })

	var never dashmap.Map
	never.Close() // Close before first use
	mustPanic(t, "unused zero Map after Close", func() { never.Store(b("a"), b("b")) })
}

func TestClose(t *testing.T) {
	m := dashmap.New()
	m.Store(b("a"), b("1"))
	m.Store(b("b"), b("2"))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	calls := map[string]func(){
		"Load":             func() { m.Load(b("a")) },
		"Store":            func() { m.Store(b("a"), nil) },
		"LoadOrStore":      func() { m.LoadOrStore(b("a"), nil) },
		"LoadAndDelete":    func() { m.LoadAndDelete(b("a")) },
		"Delete":           func() { m.Delete(b("a")) },
		"Swap":             func() { m.Swap(b("a"), nil) },
		"CompareAndSwap":   func() { m.CompareAndSwap(b("a"), nil, nil) },
		"CompareAndDelete": func() { m.CompareAndDelete(b("a"), nil) },
		"Range":            func() { m.Range(func(k, v []byte) bool { return true }) },
		"Clear":            func() { m.Clear() },
		"Len":              func() { m.Len() },
		"Add":              func() { m.Add(b("a"), 1) },
		"Update":           func() { m.Update(b("a"), func([]byte, bool) ([]byte, dashmap.Op) { return nil, dashmap.Keep }) },
		"Retain":           func() { m.Retain(func(k, v []byte) bool { return true }) },
		"All": func() {
			for range m.All() {
			}
		},
		"Keys": func() {
			for range m.Keys() {
			}
		},
		"Values": func() {
			for range m.Values() {
			}
		},
		"LoadMany":   func() { m.LoadMany([][]byte{b("a")}) },
		"StoreMany":  func() { m.StoreMany(nil, nil) },
		"DeleteMany": func() { m.DeleteMany(nil) },
		"Stats":      func() { m.Stats() },
	}
	for name, call := range calls {
		r := mustPanic(t, name+" after Close", call)
		if err, _ := r.(error); err != dashmap.ErrClosed || err.Error() != "dashmap: use of closed Map" {
			t.Errorf("%s after Close panicked with %v", name, r)
		}
	}
}

// Close while a Range is running: the cursor holds its own reference, so the
// walk finishes on the entries it already has without touching freed memory.
func TestCloseDuringRange(t *testing.T) {
	m := dashmap.New()
	for i := range 1000 {
		m.Store([]byte(fmt.Sprint(i)), b("v"))
	}
	n := 0
	for range m.All() {
		if n == 0 {
			m.Close()
		}
		n++
	}
	if n == 0 {
		t.Fatal("no entries")
	}
}

// A Map that is dropped without Close is freed by the cleanup.
func TestCleanupFreesForgottenMap(t *testing.T) {
	before := dashmap.FreedByCleanup()
	func() {
		for range 10 {
			m := dashmap.New()
			m.Store(b("big"), make([]byte, 1<<16))
		}
	}()
	// A closed map must not be freed again by the cleanup.
	closed := dashmap.New()
	closed.Close()
	closed = nil
	deadline := time.Now().Add(10 * time.Second)
	for dashmap.FreedByCleanup()-before < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("cleanup freed %d of 10 forgotten maps", dashmap.FreedByCleanup()-before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if got := dashmap.FreedByCleanup() - before; got != 10 {
		t.Fatalf("cleanup freed %d maps, want 10 (a closed map was freed again?)", got)
	}
}

func TestErrorType(t *testing.T) {
	_, err := dashmap.NewWithOptions(dashmap.WithShards(5))
	if err == nil || !strings.HasPrefix(err.Error(), "dashmap: invalid argument: WithShards(5)") {
		t.Fatalf("err = %v", err)
	}
	e := &dashmap.Error{Op: "Load", Status: -4, Text: "x"}
	if !errors.Is(e, dashmap.ErrReentrant) || errors.Is(e, dashmap.ErrInvalid) {
		t.Fatal("errors.Is on *Error")
	}
	for status, want := range map[int]error{-2: dashmap.ErrInvalid, -3: dashmap.ErrNoMemory, -4: dashmap.ErrReentrant, -5: dashmap.ErrInternal, -1: nil} {
		if got := (&dashmap.Error{Status: status}).Unwrap(); got != want {
			t.Errorf("Unwrap(%d) = %v, want %v", status, got, want)
		}
	}
	if v := dashmap.Version(); !strings.HasPrefix(v, "0.") {
		t.Fatalf("Version = %q", v)
	}
}

func TestIteratorsBreakEarly(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	for i := range 100 {
		m.Store([]byte(fmt.Sprint(i)), []byte(fmt.Sprint(i)))
	}
	count := func(seq func(func([]byte) bool)) int {
		n := 0
		for range seq {
			n++
			if n == 10 {
				break
			}
		}
		return n
	}
	if count(m.Keys()) != 10 || count(m.Values()) != 10 {
		t.Fatal("early break")
	}
	n := 0
	m.Range(func(k, v []byte) bool { n++; return n < 5 })
	if n != 5 {
		t.Fatalf("Range visited %d after returning false at 5", n)
	}
	var vals []string
	for v := range m.Values() {
		vals = append(vals, string(v))
	}
	sort.Strings(vals)
	if len(vals) != 100 || vals[0] != "0" {
		t.Fatalf("Values = %d items", len(vals))
	}
	// A panic in the loop body propagates and releases the cursor.
	r := mustPanic(t, "panic in loop body", func() {
		for range m.All() {
			panic("body")
		}
	})
	if r != "body" {
		t.Fatalf("panic value %v", r)
	}
}
