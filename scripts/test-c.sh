#!/usr/bin/env bash
# The C test suite (c_tests/), three ways:
#   1. Release build against the shared libdashmap.so      -> build/c_tests
#   2. Debug build with ASan + UBSan against libdashmap.a   -> build/c_tests-asan
#   3. the Release programs under valgrind (when installed)
# Assumes `make lib` has been run (target/release/libdashmap.{so,a}).
# Steps 2 and 3 use a library built without the bundled mimalloc
# (`--no-default-features`, into target/sysalloc): entries then come from
# malloc, where the sanitizers and valgrind see every block (leaks, use
# after free); step 1, and two programs of step 3, test the library as
# shipped.
#
# Environment:
#   DM_LIB_DIR, DM_INCLUDE_DIR   where the library and header are
#                                (default: target/release and include/)
#   DM_TEST_SEED, DM_TEST_OPS    replay / resize test_model
#   DM_TEST_THREADS, DM_TEST_N   resize test_concurrency
#   DM_SKIP_VALGRIND=1           skip step 3
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

export DM_LIB_DIR="${DM_LIB_DIR:-$root/target/release}"
export DM_INCLUDE_DIR="${DM_INCLUDE_DIR:-$root/include}"

section() { printf '\n======== %s ========\n' "$*"; }

for f in "$DM_LIB_DIR/libdashmap.so" "$DM_LIB_DIR/libdashmap.a" "$DM_INCLUDE_DIR/dashmap.h"; do
    if [[ ! -f "$f" ]]; then
        echo "test-c.sh: $f not found; run 'make lib' first" >&2
        exit 1
    fi
done

generator=()
if command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
fi
jobs="$(nproc 2>/dev/null || echo 2)"

# Configure (re-creating the build directory if it was made by another
# generator), build, and run ctest.
build_and_test() {
    local dir="$1"
    shift
    if [[ -f "$dir/CMakeCache.txt" ]]; then
        local want="Unix Makefiles"
        [[ ${#generator[@]} -gt 0 ]] && want="Ninja"
        if ! grep -qx "CMAKE_GENERATOR:INTERNAL=$want" "$dir/CMakeCache.txt"; then
            rm -rf "$dir"
        fi
    fi
    cmake -S c_tests -B "$dir" "${generator[@]}" "$@"
    cmake --build "$dir" -j "$jobs"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

section "C tests: Release, shared libdashmap.so (build/c_tests)"
echo "library: $DM_LIB_DIR"
echo "header:  $DM_INCLUDE_DIR/dashmap.h"
build_and_test build/c_tests -DCMAKE_BUILD_TYPE=Release -DDM_SANITIZE=OFF -DDM_LINK_STATIC=OFF

section "libdashmap with the system allocator (target/sysalloc), for the sanitizers and valgrind"
# Built from this tree; without LTO, which only slows the build down here.
sysalloc="$root/target/sysalloc/release"
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo build --release --locked --quiet --no-default-features --target-dir "$root/target/sysalloc"
soname=$(readelf -d "$sysalloc/libdashmap.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ -n "$soname" ]] && ln -sf libdashmap.so "$sysalloc/$soname"

section "C tests: Debug + ASan/UBSan, static libdashmap.a (build/c_tests-asan)"
echo "library: $sysalloc (system allocator)"
DM_LIB_DIR="$sysalloc" \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build_and_test build/c_tests-asan -DCMAKE_BUILD_TYPE=Debug -DDM_SANITIZE=ON -DDM_LINK_STATIC=ON

section "C tests: valgrind (Release programs, shared libdashmap.so)"
if [[ "${DM_SKIP_VALGRIND:-0}" == 1 ]]; then
    echo "DM_SKIP_VALGRIND=1: skipped"
elif ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed: skipped"
else
    # Every test program that ctest runs; the
    # concurrency test with a small load, since valgrind runs one thread at a time.
    vg() {
        echo "--- valgrind $1"
        env DM_TEST_THREADS=3 DM_TEST_N=2000 \
            timeout 300 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            "build/c_tests/$1"
    }
    # The library as shipped: its bundled mimalloc must not make valgrind
    # report anything in a user's program.
    echo "library: $DM_LIB_DIR (as shipped, entries from mimalloc)"
    vg test_model
    vg test_concurrency
    # LD_LIBRARY_PATH (searched before the programs' RUNPATH) swaps in the
    # system-allocator build of libdashmap.so, whose every entry valgrind sees.
    export LD_LIBRARY_PATH="$sysalloc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    loaded=$(ldd build/c_tests/test_basic | sed -n 's/.*libdashmap[^ ]* => \([^ ]*\).*/\1/p')
    echo "library: $loaded (system allocator)"
    [[ "$loaded" == "$sysalloc"/* ]] || { echo "test-c.sh: valgrind would not test $sysalloc" >&2; exit 1; }
    for t in test_basic test_errors test_callbacks test_model test_ttl test_argument_order test_concurrency; do
        vg "$t"
    done
fi

section "C tests: all passed"
