#!/usr/bin/env bash
# Go binding (bindings/go): vet, tests with and without the race detector,
# and the examples linked statically (-tags dashmap_static).
# Assumes `make lib` has run (target/release + target/pkgconfig/dashmap.pc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

section() { printf '\n==== %s ====\n' "$*"; }

command -v go >/dev/null || { echo "test-go.sh: go not found (need Go >= 1.24)" >&2; exit 1; }
for f in target/release/libdashmap.so target/release/libdashmap.a target/pkgconfig/dashmap.pc; do
    [[ -e $f ]] || { echo "test-go.sh: $f missing; run 'make lib' first" >&2; exit 1; }
done

export PKG_CONFIG_PATH=$root/target/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
# `make lib` links the SONAME (libdashmap.so.0.Y) next to libdashmap.so.
export LD_LIBRARY_PATH=$root/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# Go's build cache does not notice changes to headers or libraries outside the
# package, so fold their hashes into CGO_CFLAGS: a rebuilt library means a
# recompiled (and relinked) binding, never a stale one.
build_id=$(cat include/dashmap.h target/release/libdashmap.a | sha256sum | cut -c1-16)
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -DDASHMAP_BUILD_ID=$build_id"

cd bindings/go
go version

section "go vet"
go vet ./...
go vet -tags dashmap_static ./...

section "go test -race"
go test -race -count=1 ./...

section "go test"
go test -count=1 ./...

section "benchmarks compile and run (50 iterations each)"
go test -run '^$' -bench . -benchtime=50x ./... >/dev/null
echo ok

section "static link (-tags dashmap_static): examples"
env -u LD_LIBRARY_PATH go test -tags dashmap_static -count=1 -run Example ./...
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -tags dashmap_static -o "$tmp/static.test" .
if ldd "$tmp/static.test" | grep -q libdashmap; then
    echo "test-go.sh: the dashmap_static test binary still needs libdashmap.so:" >&2
    ldd "$tmp/static.test" >&2
    exit 1
fi
echo "static test binary does not need libdashmap.so"

section "xsyncbench module (optional: needs github.com/puzpuzpuz/xsync/v4)"
# `go mod download` fails offline unless the module is wholly in the cache
# (`go list -deps` exits 0 even when it is not, and leaves a lock file behind).
if (cd xsyncbench && GOPROXY=off go mod download github.com/puzpuzpuz/xsync/v4 >/dev/null 2>&1); then
    (cd xsyncbench && GOPROXY=off go vet ./...)
    echo ok
else
    echo "skipped: xsync is not in the module cache (cd bindings/go/xsyncbench && go mod download)"
fi

section "Go binding: all checks passed"
