//go:build dashmap_static

package dashmap

// With -tags dashmap_static: link libdashmap.a into the binary, so it runs
// without libdashmap.so. pkg-config --static supplies the include path, the
// library directory and Libs.private (what a Rust static library needs:
// pthread, dl, m, gcc_s, c). "-l:libdashmap.a" names the archive explicitly,
// because -ldashmap prefers the shared library sitting next to it; it comes
// before pkg-config's own -ldashmap, and --as-needed then drops that shared
// library again, since the archive already defined every dm_ symbol.

// #cgo pkg-config: --static dashmap
// #cgo LDFLAGS: -l:libdashmap.a -Wl,--as-needed
import "C"
