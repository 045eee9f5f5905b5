package dashmap_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

func TestTTLManualClock(t *testing.T) {
	m := dashmap.New(dashmap.WithManualClock())
	defer m.Close()
	if m.Clock() != 0 {
		t.Fatalf("manual clock starts at %v", m.Clock())
	}
	if err := m.StoreTTL(b("s"), b("v"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	m.Store(b("forever"), b("v"))
	if ttl, ok := m.TTL(b("s")); !ok || ttl != 10*time.Second {
		t.Fatalf("TTL = %v, %v", ttl, ok)
	}
	if ttl, ok := m.TTL(b("forever")); !ok || ttl != 0 {
		t.Fatalf("TTL without deadline = %v, %v", ttl, ok)
	}
	if _, ok := m.TTL(b("absent")); ok {
		t.Fatal("TTL of absent key")
	}

	m.SetClock(9999 * time.Millisecond)
	if v, ok := m.Load(b("s")); !ok || string(v) != "v" {
		t.Fatal("entry expired early")
	}
	if ttl, _ := m.TTL(b("s")); ttl != time.Millisecond {
		t.Fatalf("TTL = %v, want 1ms", ttl)
	}
	// Touch slides the deadline from now.
	if !m.Touch(b("s"), 5*time.Second) {
		t.Fatal("Touch on live entry")
	}
	m.SetClock(14 * time.Second)
	if _, ok := m.Load(b("s")); !ok {
		t.Fatal("Touch did not extend")
	}
	m.SetClock(15 * time.Second) // deadline 9.999 s + 5 s < 15 s
	if _, ok := m.Load(b("s")); ok {
		t.Fatal("entry alive after its deadline")
	}
	for k := range m.Keys() {
		if string(k) == "s" {
			t.Fatal("iteration returned an expired entry")
		}
	}
	// Len counts the expired entry until it is purged (reads leave it).
	if m.Len() != 2 {
		t.Fatalf("Len before purge = %d, want 2", m.Len())
	}
	if n := m.PurgeExpired(); n != 1 || m.Len() != 1 {
		t.Fatalf("PurgeExpired = %d, Len = %d", n, m.Len())
	}
	if m.Touch(b("s"), time.Second) || m.Expire(b("s"), time.Second) {
		t.Fatal("Touch/Expire found an expired entry")
	}
	// Expire sets and clears deadlines.
	if !m.Expire(b("forever"), time.Second) {
		t.Fatal("Expire on live entry")
	}
	if ttl, _ := m.TTL(b("forever")); ttl != time.Second {
		t.Fatalf("TTL after Expire = %v", ttl)
	}
	if !m.Expire(b("forever"), 0) {
		t.Fatal("Expire(0)")
	}
	if ttl, ok := m.TTL(b("forever")); !ok || ttl != 0 {
		t.Fatalf("TTL after Expire(0) = %v, %v", ttl, ok)
	}
	// Sub-millisecond TTLs round up, never to "no TTL".
	m.StoreTTL(b("tiny"), b("v"), time.Nanosecond)
	if ttl, ok := m.TTL(b("tiny")); !ok || ttl != time.Millisecond {
		t.Fatalf("TTL of 1ns entry = %v, %v", ttl, ok)
	}
	// Store drops a TTL, CompareAndSwap and Update keep it.
	m.StoreTTL(b("k"), b("1"), time.Minute)
	m.CompareAndSwap(b("k"), b("1"), b("2"))
	m.Update(b("k"), func(old []byte, loaded bool) ([]byte, dashmap.Op) { return b("3"), dashmap.Set })
	if ttl, _ := m.TTL(b("k")); ttl != time.Minute {
		t.Fatalf("TTL after CAS/Update = %v, want kept", ttl)
	}
	m.Store(b("k"), b("4"))
	if ttl, _ := m.TTL(b("k")); ttl != 0 {
		t.Fatalf("TTL after Store = %v, want dropped", ttl)
	}
	// The clock may go backwards.
	m.StoreTTL(b("back"), b("v"), time.Second)
	m.SetClock(20 * time.Second)
	if _, ok := m.Load(b("back")); ok {
		t.Fatal("not expired")
	}
	m.SetClock(15 * time.Second)
	if _, ok := m.Load(b("back")); !ok {
		t.Fatal("moving the clock back did not revive an unpurged entry")
	}
}

func TestTTLErrors(t *testing.T) {
	m := dashmap.New(dashmap.WithManualClock())
	defer m.Close()
	if err := m.StoreTTL(b("k"), b("v"), -time.Second); !errors.Is(err, dashmap.ErrInvalid) {
		t.Fatalf("negative TTL: %v", err)
	}
	if _, err := m.TryStoreTTL(b("k"), b("v"), -1); !errors.Is(err, dashmap.ErrInvalid) {
		t.Fatalf("negative TTL: %v", err)
	}
	m.Store(b("k"), b("v"))
	mustPanic(t, "Touch(0)", func() { m.Touch(b("k"), 0) })
	mustPanic(t, "Expire(<0)", func() { m.Expire(b("k"), -1) })
	if _, err := m.AddTTL(b("k"), 1, time.Second); !errors.Is(err, dashmap.ErrInvalid) {
		t.Fatalf("AddTTL on non-counter: %v", err)
	}
	real := dashmap.New()
	defer real.Close()
	r := mustPanic(t, "SetClock on real-time map", func() { real.SetClock(time.Second) })
	if err, _ := r.(error); !errors.Is(err, dashmap.ErrInvalid) {
		t.Fatalf("SetClock panicked with %v", r)
	}
	if real.Clock() < 0 {
		t.Fatal("negative real clock")
	}
}

// AddTTL is a fixed-window rate limiter in one call.
func TestAddTTLWindow(t *testing.T) {
	m := dashmap.New(dashmap.WithManualClock())
	defer m.Close()
	for i := int64(1); i <= 5; i++ {
		n, err := m.AddTTL(b("client"), 1, time.Second)
		if err != nil || n != i {
			t.Fatalf("AddTTL #%d = %d, %v", i, n, err)
		}
	}
	m.SetClock(999 * time.Millisecond)
	if n, _ := m.AddTTL(b("client"), 1, time.Second); n != 6 {
		t.Fatalf("later adds must keep the first deadline: %d", n)
	}
	m.SetClock(time.Second)
	if n, _ := m.AddTTL(b("client"), 1, time.Second); n != 1 {
		t.Fatalf("new window starts at %d", n)
	}
}

func TestTryStoreTTL(t *testing.T) {
	m := dashmap.New(dashmap.WithManualClock())
	defer m.Close()
	if ok, err := m.TryStoreTTL(b("msg"), nil, time.Minute); !ok || err != nil {
		t.Fatalf("first TryStoreTTL = %v, %v", ok, err)
	}
	if ok, err := m.TryStoreTTL(b("msg"), nil, time.Minute); ok || err != nil {
		t.Fatalf("second TryStoreTTL = %v, %v", ok, err)
	}
	m.SetClock(time.Minute)
	if ok, _ := m.TryStoreTTL(b("msg"), nil, time.Minute); !ok {
		t.Fatal("an expired entry must count as absent")
	}
}

// A real-time TTL, kept short: the entry disappears on its own.
func TestTTLRealClock(t *testing.T) {
	m := dashmap.New()
	defer m.Close()
	m.StoreTTL(b("k"), b("v"), 20*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := m.Load(b("k")); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("entry with a 20ms TTL still there after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMaxEntries(t *testing.T) {
	m := dashmap.New(dashmap.WithMaxEntries(3))
	defer m.Close()
	for i := range 3 {
		m.Store([]byte(fmt.Sprint(i)), b("v"))
	}
	full := func(what string, r any) {
		t.Helper()
		if err, _ := r.(error); !errors.Is(err, dashmap.ErrFull) {
			t.Fatalf("%s on a full map panicked with %v, want ErrFull", what, r)
		}
	}
	full("Store", mustPanic(t, "Store", func() { m.Store(b("new"), b("v")) }))
	full("LoadOrStore", mustPanic(t, "LoadOrStore", func() { m.LoadOrStore(b("new"), b("v")) }))
	full("Swap", mustPanic(t, "Swap", func() { m.Swap(b("new"), b("v")) }))
	full("Add", mustPanic(t, "Add", func() { m.Add(b("new"), 1) }))
	full("StoreMany", mustPanic(t, "StoreMany", func() { m.StoreMany([][]byte{b("new")}, [][]byte{b("v")}) }))
	full("Update", mustPanic(t, "Update", func() {
		m.Update(b("new"), func([]byte, bool) ([]byte, dashmap.Op) { return b("v"), dashmap.Set })
	}))
	if err := m.StoreTTL(b("new"), b("v"), 0); !errors.Is(err, dashmap.ErrFull) {
		t.Fatalf("StoreTTL on full map: %v", err)
	}
	if _, err := m.TryStoreTTL(b("new"), b("v"), 0); !errors.Is(err, dashmap.ErrFull) {
		t.Fatalf("TryStoreTTL on full map: %v", err)
	}
	if _, err := m.AddTTL(b("new"), 1, 0); !errors.Is(err, dashmap.ErrFull) {
		t.Fatalf("AddTTL on full map: %v", err)
	}
	if got := contents(m); len(got) != 3 || got["new"] != "" {
		t.Fatalf("a full map changed: %q", got)
	}
	// Existing keys can always be updated.
	m.Store(b("0"), b("changed"))
	m.Update(b("1"), func([]byte, bool) ([]byte, dashmap.Op) { return b("changed"), dashmap.Set })
	m.Swap(b("2"), b("changed"))
	// Room again after a Delete.
	m.Delete(b("0"))
	m.Store(b("new"), b("v"))
	if m.Len() != 3 {
		t.Fatalf("Len = %d", m.Len())
	}
	if _, err := dashmap.NewWithOptions(dashmap.WithMaxEntries(-1)); !errors.Is(err, dashmap.ErrInvalid) {
		t.Fatalf("WithMaxEntries(-1): %v", err)
	}
}
