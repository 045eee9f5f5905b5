#!/usr/bin/env bash
# Builds every program in examples/ (CMake, -Werror) and runs them all with
# ctest; each example checks its own results. Run `make lib` first
# (`make test-examples` does both).
#
# Environment: DM_LIB_DIR, DM_INCLUDE_DIR (default: target/release, include/),
#              BUILD_DIR (default: build/examples), CTEST_JOBS (default: 1, so
#              the timing comparison in 18_rwlock_comparison runs alone).
set -euo pipefail
cd "$(dirname "$0")/.."

export DM_LIB_DIR="${DM_LIB_DIR:-$PWD/target/release}"
export DM_INCLUDE_DIR="${DM_INCLUDE_DIR:-$PWD/include}"
build="${BUILD_DIR:-build/examples}"

if [ ! -e "$DM_LIB_DIR/libdashmap.so" ]; then
    echo "test-examples: $DM_LIB_DIR/libdashmap.so not found; run 'make lib' first" >&2
    exit 1
fi

# cmake (and ninja, when available) may be missing on a fresh Debian/Ubuntu box.
if ! command -v cmake >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "test-examples: installing cmake"
        sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq && $sudo apt-get install -y -qq cmake >/dev/null
    else
        echo "test-examples: cmake >= 3.20 is required" >&2
        exit 1
    fi
fi

. scripts/cmake-generator.sh
choose_generator "$build"

cmake -S examples -B "$build" "${generator[@]}" \
    -DDM_LIB_DIR="$DM_LIB_DIR" -DDM_INCLUDE_DIR="$DM_INCLUDE_DIR"
cmake --build "$build" --parallel 2
ctest --test-dir "$build" --output-on-failure -j "${CTEST_JOBS:-1}"

count=$(ctest --test-dir "$build" -N | sed -n 's/^Total Tests: *//p')
echo "test-examples: $count examples built with -Werror, ran and passed"
