package dashmap_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

type boom struct{ n int }

// A panic in Update's fn reaches the caller with its original value, nothing
// is applied, and the shard lock is released (the map keeps working).
func TestUpdatePanicIsRepanicked(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	m.Store(b("k"), b("old"))
	val := &boom{7}
	r := mustPanic(t, "Update with panicking fn", func() {
		m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { panic(val) })
	})
	if r != val {
		t.Fatalf("re-panicked with %v, want the original %p", r, val)
	}
	if v, _ := m.Load(b("k")); string(v) != "old" {
		t.Fatalf("value after panic = %q", v)
	}
	// The same key (same shard lock) still works, from this goroutine and others.
	m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return b("new"), dashmap.Set })
	done := make(chan struct{})
	go func() { m.Store(b("k"), b("other")); close(done) }()
	<-done
	if v, _ := m.Load(b("k")); string(v) != "other" {
		t.Fatalf("value = %q", v)
	}
	// Absent key, runtime error (nil map write) instead of an explicit panic.
	r = mustPanic(t, "Update with runtime error", func() {
		m.Update(b("absent"), func([]byte, bool) ([]byte, dashmap.Op) {
			var mm map[string]int
			mm["x"] = 1
			return nil, dashmap.Set
		})
	})
	if err, ok := r.(error); !ok || !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("runtime error re-panicked as %v", r)
	}
	if _, ok := m.Load(b("absent")); ok {
		t.Fatal("panicking Update inserted")
	}
	// A nil fn panics the same way.
	mustPanic(t, "Update with nil fn", func() { m.Update(b("k"), nil) })
	m.Store(b("k"), b("fine"))
}

// A panic in Retain's keep: the entries not yet decided are kept, keep is not
// called again, and the panic value comes out of Retain.
func TestRetainPanicIsRepanicked(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	for i := range 100 {
		m.Store([]byte(fmt.Sprint(i)), b("v"))
	}
	calls := 0
	r := mustPanic(t, "Retain with panicking keep", func() {
		m.Retain(func(k, v []byte) bool {
			calls++
			if calls == 10 {
				panic("stop here")
			}
			return false // delete the ones before the panic
		})
	})
	if r != "stop here" {
		t.Fatalf("re-panicked with %v", r)
	}
	if calls != 10 {
		t.Fatalf("keep called %d times, want 10 (no calls after the panic)", calls)
	}
	if n := m.Len(); n != 91 {
		t.Fatalf("Len after panicking Retain = %d, want 91", n)
	}
	m.Retain(func(k, v []byte) bool { return false })
	if n := m.Len(); n != 0 {
		t.Fatalf("Len = %d", n)
	}
}

func wantReentrant(t *testing.T, what string, r any) {
	t.Helper()
	err, ok := r.(error)
	var de *dashmap.Error
	if !ok || !errors.Is(err, dashmap.ErrReentrant) || !errors.As(err, &de) ||
		!strings.Contains(err.Error(), "inside an Update or Retain callback") {
		t.Fatalf("%s: panicked with %v, want ErrReentrant", what, r)
	}
}

// Calling the same map from inside Update's fn panics with ErrReentrant; that
// panic is carried out of the C call like any other, never a hang or a
// deadlock, and nothing is applied.
func TestReentrantUpdatePanics(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	m.Store(b("k"), b("v"))
	m.Store(b("other"), b("o"))
	inner := map[string]func(){
		"Load":   func() { m.Load(b("other")) },
		"Store":  func() { m.Store(b("other"), b("x")) },
		"Delete": func() { m.Delete(b("k")) },
		"Add":    func() { m.Add(b("n"), 1) },
		"Len":    func() { m.Len() },
		"Range":  func() { m.Range(func(k, v []byte) bool { return true }) },
		"Keys": func() {
			for range m.Keys() {
			}
		},
		"LoadMany":  func() { m.LoadMany([][]byte{b("k")}) },
		"Stats":     func() { m.Stats() },
		"Update":    func() { m.Update(b("other"), func([]byte, bool) ([]byte, dashmap.Op) { return nil, dashmap.Delete }) },
		"Clear":     func() { m.Clear() },
		"Retain":    func() { m.Retain(func(k, v []byte) bool { return false }) },
		"StoreMany": func() { m.StoreMany([][]byte{b("z")}, [][]byte{b("z")}) },
		"StoreTTL":  func() { m.StoreTTL(b("z"), b("z"), time.Second) },
		"AddTTL":    func() { m.AddTTL(b("z"), 1, time.Second) },
		"TTL":       func() { m.TTL(b("k")) },
	}
	for name, call := range inner {
		reached := false
		r := mustPanic(t, "Update calling "+name, func() {
			m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
				call()
				reached = true
				return b("changed"), dashmap.Set
			})
		})
		wantReentrant(t, "Update calling "+name, r)
		if reached {
			t.Fatalf("%s inside Update returned normally", name)
		}
		if got := contents(m); len(got) != 2 || got["k"] != "v" || got["other"] != "o" {
			t.Fatalf("after reentrant %s: contents = %q", name, got)
		}
	}
	// The manual clock takes no lock: SetClock and Clock work inside fn.
	mc := dashmap.New(dashmap.WithManualClock())
	defer mc.Close()
	mc.Update(b("k"), func([]byte, bool) ([]byte, dashmap.Op) {
		mc.SetClock(time.Minute)
		return nil, dashmap.Keep
	})
	if mc.Clock() != time.Minute {
		t.Fatalf("Clock = %v", mc.Clock())
	}
	// A callback that recovers the reentrancy panic itself carries on.
	m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
		func() {
			defer func() { wantReentrant(t, "recovered inside fn", recover()) }()
			m.Load(b("k"))
		}()
		return b("v2"), dashmap.Set
	})
	if v, _ := m.Load(b("k")); string(v) != "v2" {
		t.Fatalf("value = %q", v)
	}
}

func TestReentrantRetainPanics(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	for i := range 10 {
		m.Store([]byte(fmt.Sprint(i)), b("v"))
	}
	r := mustPanic(t, "Retain calling Load", func() {
		m.Retain(func(k, v []byte) bool {
			m.Load(k)
			return false
		})
	})
	wantReentrant(t, "Retain calling Load", r)
	if m.Len() != 10 {
		t.Fatalf("Len = %d, want 10 (nothing deleted)", m.Len())
	}
}

// Callbacks may use other maps freely.
func TestCallbackUsesOtherMap(t *testing.T) {
	a, c := dashmap.New(), dashmap.New()
	defer a.Close()
	defer c.Close()
	c.Store(b("x"), b("from c"))
	a.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
		v, _ := c.Load(b("x"))
		c.Store(b("seen"), b("yes"))
		return v, dashmap.Set
	})
	a.Retain(func(k, v []byte) bool {
		c.Add(b("retained"), 1)
		return true
	})
	if v, _ := a.Load(b("k")); string(v) != "from c" {
		t.Fatalf("a[k] = %q", v)
	}
	if c.Len() != 3 {
		t.Fatalf("c.Len = %d", c.Len())
	}
}

// Range holds no lock while f runs: f may call every method, including
// Delete of the current key and Update.
func TestRangeCallsMethods(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	const n = 200
	for i := range n {
		m.Store([]byte(fmt.Sprintf("k%03d", i)), []byte(fmt.Sprint(i)))
	}
	seen := map[string]bool{}
	m.Range(func(k, v []byte) bool {
		if k[0] != 'k' {
			return true // stored by this loop: may or may not be visited
		}
		if seen[string(k)] {
			t.Errorf("key %s seen twice", k)
		}
		seen[string(k)] = true
		if got, ok := m.Load(k); !ok || string(got) != string(v) {
			t.Errorf("Load(%s) inside Range = %q, %v", k, got, ok)
		}
		m.Delete(k)
		m.Store(append(b("new-"), k...), v)
		m.Update(b("count"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
			return []byte(fmt.Sprint(len(old))), dashmap.Set
		})
		m.Add(b("adds"), 1)
		_ = m.Len()
		_ = m.Stats()
		for range m.Keys() { // nested iteration
			break
		}
		return true
	})
	for i := range n {
		if !seen[fmt.Sprintf("k%03d", i)] {
			t.Fatalf("k%03d not visited", i)
		}
		if _, ok := m.Load([]byte(fmt.Sprintf("k%03d", i))); ok {
			t.Fatalf("k%03d not deleted", i)
		}
	}
}
