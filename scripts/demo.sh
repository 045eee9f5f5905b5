#!/usr/bin/env bash
# Builds the examples and runs the guided tour (examples/demo.c).
# Run `make lib` first (`make demo` does both). Build output is kept quiet
# unless something fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export DM_LIB_DIR="${DM_LIB_DIR:-$PWD/target/release}"
export DM_INCLUDE_DIR="${DM_INCLUDE_DIR:-$PWD/include}"
build="${BUILD_DIR:-build/examples}"

if [ ! -e "$DM_LIB_DIR/libdashmap.so" ]; then
    echo "demo: $DM_LIB_DIR/libdashmap.so not found; run 'make lib' first" >&2
    exit 1
fi
if ! command -v cmake >/dev/null 2>&1; then
    echo "demo: cmake >= 3.20 is required (scripts/test-examples.sh can install it)" >&2
    exit 1
fi

. scripts/cmake-generator.sh
choose_generator "$build"

mkdir -p "$build"
log="$build/demo-build.log"
if ! { cmake -S examples -B "$build" "${generator[@]}" \
           -DDM_LIB_DIR="$DM_LIB_DIR" -DDM_INCLUDE_DIR="$DM_INCLUDE_DIR" &&
       cmake --build "$build" --parallel 2 --target demo; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "demo: build failed (log above, also in $log)" >&2
    exit 1
fi
exec "$build/demo"
