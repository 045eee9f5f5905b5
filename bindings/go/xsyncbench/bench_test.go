// Package xsyncbench adds github.com/puzpuzpuz/xsync/v4's Map to the binding's
// benchmarks. It is a separate module so that the binding itself has no
// dependencies:
//
//	cd bindings/go/xsyncbench && go test -run '^$' -bench . -benchmem
package xsyncbench

import (
	"testing"

	"github.com/libdashmap/libdashmap/bindings/go/internal/benchmaps"
	"github.com/puzpuzpuz/xsync/v4"
)

type xsyncImpl struct {
	m *xsync.Map[string, []byte]
	k *benchmaps.Keys
}

func (x *xsyncImpl) Load(i int) bool { _, ok := x.m.Load(x.k.S[i]); return ok }
func (x *xsyncImpl) Store(i int)     { x.m.Store(x.k.S[i], x.k.Value) }
func (x *xsyncImpl) LoadOrStore(i int) bool {
	_, loaded := x.m.LoadOrStore(x.k.S[i], x.k.Value)
	return loaded
}
func (x *xsyncImpl) Range() int {
	n := 0
	x.m.Range(func(string, []byte) bool { n++; return true })
	return n
}
func (x *xsyncImpl) LoadBatch(idx []int) int {
	found := 0
	for _, i := range idx {
		if _, ok := x.m.Load(x.k.S[i]); ok {
			found++
		}
	}
	return found
}
func (x *xsyncImpl) StoreBatch(idx []int) {
	for _, i := range idx {
		x.m.Store(x.k.S[i], x.k.Value)
	}
}
func (x *xsyncImpl) Close() {}

func BenchmarkMaps(b *testing.B) {
	impls := append(benchmaps.Standard(), benchmaps.Named{
		Name: "xsync",
		New:  func(k *benchmaps.Keys) benchmaps.Impl { return &xsyncImpl{m: xsync.NewMap[string, []byte](), k: k} },
	})
	benchmaps.Run(b, impls)
}
