package dashmap_test

import (
	"testing"

	"github.com/libdashmap/libdashmap/bindings/go/internal/benchmaps"
)

// BenchmarkMaps compares Map with sync.Map and a map guarded by a
// sync.RWMutex; see README.md for results and xsyncbench/ for xsync.Map.
//
//	go test -run '^$' -bench . -benchmem
func BenchmarkMaps(b *testing.B) {
	benchmaps.Run(b, benchmaps.Standard())
}
