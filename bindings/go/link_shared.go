//go:build !dashmap_static

package dashmap

// Default: link the shared library found through pkg-config (set
// PKG_CONFIG_PATH to the directory holding dashmap.pc, and make
// libdashmap.so findable at run time, e.g. with LD_LIBRARY_PATH or an
// installed copy).

// #cgo pkg-config: dashmap
import "C"
