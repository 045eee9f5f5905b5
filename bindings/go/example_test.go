package dashmap_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	dashmap "github.com/libdashmap/libdashmap/bindings/go"
)

func Example() {
	m := dashmap.New()
	defer m.Close()

	m.Store([]byte("one"), []byte("1"))
	m.Store([]byte("two"), []byte("2"))
	if v, ok := m.Load([]byte("one")); ok {
		fmt.Printf("one = %s\n", v)
	}
	m.Delete([]byte("two"))
	fmt.Println("len:", m.Len())
	// Output:
	// one = 1
	// len: 1
}

func ExampleNew() {
	// 16 shards, room for 10000 entries, fast hashing for trusted keys.
	m := dashmap.New(dashmap.WithShards(16), dashmap.WithCapacity(10000), dashmap.WithFastHasher(0))
	defer m.Close()
	fmt.Println("shards:", m.Stats().Shards)

	_, err := dashmap.NewWithOptions(dashmap.WithShards(12))
	fmt.Println(err)
	// Output:
	// shards: 16
	// dashmap: invalid argument: WithShards(12): shards must be a power of two in [2, 65536]
}

// A web server's per-user request counters: Add never loses an increment,
// however many goroutines call it.
func ExampleMap_Add() {
	counters := dashmap.New()
	defer counters.Close()

	var wg sync.WaitGroup
	for i := range 10 { // 10 concurrent "requests handlers"
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				counters.Add(fmt.Appendf(nil, "user_%d", i%3), 1)
			}
		}()
	}
	wg.Wait()

	var lines []string
	for k, v := range counters.All() {
		lines = append(lines, fmt.Sprintf("%s: %d", k, binary.LittleEndian.Uint64(v)))
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// user_0: 400
	// user_1: 300
	// user_2: 300
}

// A rate limiter: at most 3 requests per client per one-second window. One
// AddTTL per request does it all: the first request of a window creates the
// counter with a one-second TTL, later ones count up, and when the window
// is over the expired counter starts again at 1. (The manual clock makes the
// example deterministic; a real limiter uses the default monotonic clock.)
func Example_rateLimiter() {
	limits := dashmap.New(dashmap.WithManualClock())
	defer limits.Close()
	allow := func(client string) bool {
		n, err := limits.AddTTL([]byte(client), 1, time.Second)
		return err == nil && n <= 3
	}

	for i := range 5 {
		fmt.Printf("request %d allowed: %v\n", i+1, allow("10.0.0.1"))
	}
	fmt.Println("other client allowed:", allow("10.0.0.2"))
	limits.SetClock(time.Second) // the next window
	fmt.Println("next window allowed:", allow("10.0.0.1"))
	// Output:
	// request 1 allowed: true
	// request 2 allowed: true
	// request 3 allowed: true
	// request 4 allowed: false
	// request 5 allowed: false
	// other client allowed: true
	// next window allowed: true
}

// A session store with a sliding timeout: each request Touches its session,
// sessions idle for 30 minutes expire, and PurgeExpired gives their memory
// back.
func Example_sessionStore() {
	sessions := dashmap.New(dashmap.WithManualClock())
	defer sessions.Close()
	const idle = 30 * time.Minute

	sessions.StoreTTL([]byte("s1"), []byte(`{"user":"ann"}`), idle)
	sessions.StoreTTL([]byte("s2"), []byte(`{"user":"bob"}`), idle)
	sessions.StoreTTL([]byte("s3"), []byte(`{"user":"cy"}`), idle)

	sessions.SetClock(20 * time.Minute)
	sessions.Touch([]byte("s1"), idle) // ann makes a request
	if v, ok := sessions.LoadAndDelete([]byte("s3")); ok {
		fmt.Printf("logged out: %s\n", v)
	}

	sessions.SetClock(40 * time.Minute) // bob has been idle too long
	for _, id := range []string{"s1", "s2", "s3"} {
		v, ok := sessions.Load([]byte(id))
		fmt.Printf("%s: %s %v\n", id, v, ok)
	}
	left, _ := sessions.TTL([]byte("s1"))
	fmt.Println("s1 expires in", left)
	fmt.Println("purged:", sessions.PurgeExpired(), "sessions:", sessions.Len())
	// Output:
	// logged out: {"user":"cy"}
	// s1: {"user":"ann"} true
	// s2:  false
	// s3:  false
	// s1 expires in 10m0s
	// purged: 1 sessions: 1
}

// Metrics: counters through Add, gauges through Store, a snapshot through
// Range (which may run while other goroutines keep recording).
func Example_metrics() {
	metrics := dashmap.New()
	defer metrics.Close()
	counter := func(name string) { metrics.Add([]byte("counter:"+name), 1) }
	gauge := func(name string, v uint64) {
		metrics.Store([]byte("gauge:"+name), binary.LittleEndian.AppendUint64(nil, v))
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 250 {
				counter("http_requests")
			}
			counter("workers_started")
		}()
	}
	wg.Wait()
	gauge("queue_depth", 17)

	var snapshot []string
	metrics.Range(func(name, v []byte) bool {
		snapshot = append(snapshot, fmt.Sprintf("%s = %d", name, binary.LittleEndian.Uint64(v)))
		return true
	})
	slices.Sort(snapshot)
	for _, line := range snapshot {
		fmt.Println(line)
	}
	// Output:
	// counter:http_requests = 1000
	// counter:workers_started = 4
	// gauge:queue_depth = 17
}

// Dedupe: TryStoreTTL lets exactly one of several concurrent deliveries of
// the same message through, and forgets the message after a window so the
// map does not grow forever.
func Example_dedupe() {
	seen := dashmap.New(dashmap.WithManualClock())
	defer seen.Close()
	messages := []string{"m1", "m2", "m1", "m3", "m2", "m1"}

	var mu sync.Mutex
	var delivered []string
	var wg sync.WaitGroup
	for _, id := range messages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if first, _ := seen.TryStoreTTL([]byte(id), nil, time.Minute); first {
				mu.Lock()
				delivered = append(delivered, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(delivered)
	fmt.Println("delivered:", delivered)
	fmt.Println("duplicates dropped:", len(messages)-len(delivered))

	seen.SetClock(time.Minute) // the dedupe window is over
	first, _ := seen.TryStoreTTL([]byte("m1"), nil, time.Minute)
	fmt.Println("m1 again after the window:", first)
	// Output:
	// delivered: [m1 m2 m3]
	// duplicates dropped: 3
	// m1 again after the window: true
}

// Update is the general read-modify-write: here "append to a list, creating
// it if needed" and "delete when empty".
func ExampleMap_Update() {
	m := dashmap.New()
	defer m.Close()
	push := func(item string) {
		m.Update([]byte("queue"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
			return append(old, item...), dashmap.Set
		})
	}
	pop := func() (first byte, ok bool) {
		m.Update([]byte("queue"), func(old []byte, loaded bool) ([]byte, dashmap.Op) {
			if !loaded {
				return nil, dashmap.Keep
			}
			first, ok = old[0], true
			if len(old) == 1 {
				return nil, dashmap.Delete
			}
			return old[1:], dashmap.Set
		})
		return first, ok
	}
	push("a")
	push("bc")
	for {
		c, ok := pop()
		if !ok {
			break
		}
		fmt.Printf("%c ", c)
	}
	fmt.Println("len:", m.Len())
	// Output: a b c len: 0
}

// The batch calls cross into C once for many keys.
func ExampleMap_LoadMany() {
	m := dashmap.New()
	defer m.Close()
	m.StoreMany(
		[][]byte{[]byte("a"), []byte("b"), []byte("c")},
		[][]byte{[]byte("1"), []byte("2"), []byte("")},
	)
	for i, v := range m.LoadMany([][]byte{[]byte("a"), []byte("x"), []byte("c")}) {
		fmt.Printf("%d: %q present=%v\n", i, v, v != nil)
	}
	fmt.Println("deleted:", m.DeleteMany([][]byte{[]byte("a"), []byte("b"), []byte("x")}))
	// Output:
	// 0: "1" present=true
	// 1: "" present=false
	// 2: "" present=true
	// deleted: 2
}

// The loop body may use the map: here it deletes entries as it goes.
func ExampleMap_All() {
	m := dashmap.New()
	defer m.Close()
	for i := range 5 {
		m.Store(fmt.Appendf(nil, "k%d", i), fmt.Appendf(nil, "%d", i*i))
	}
	sum := 0
	for k, v := range m.All() {
		var x int
		fmt.Sscan(string(v), &x)
		sum += x
		m.Delete(k)
	}
	fmt.Println("sum:", sum, "left:", m.Len())
	// Output: sum: 30 left: 0
}
