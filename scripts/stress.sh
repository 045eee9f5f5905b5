#!/usr/bin/env bash
# Long expected-state stress run (reliability/stress.c), after `make lib`:
#
#   scripts/stress.sh                 # DURATION=300 seconds (what `make stress` runs)
#   DURATION=3600 scripts/stress.sh
#   STRESS_TSAN=1 scripts/stress.sh   # the same under ThreadSanitizer (slower)
#
# Prints the exact count of every operation kind and the final reconciliation
# of the map; exits non-zero on any mismatch, data race or hang (a watchdog
# `timeout` of DURATION * 3 + 300 seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs a build step quietly; prints its output if it fails.
quiet() {
    local out
    if ! out=$("$@" 2>&1); then
        echo "$out" | tail -60
        echo "$(basename "$0"): failed: $*" >&2
        return 1
    fi
}

DURATION=${DURATION:-300}
BUILD=${BUILD:-build}
export DM_LIB_DIR="${DM_LIB_DIR:-$PWD/target/release}"
export DM_INCLUDE_DIR="${DM_INCLUDE_DIR:-$PWD/include}"
[ -e "$DM_LIB_DIR/libdashmap.so" ] || { echo "stress: run \`make lib\` first" >&2; exit 1; }

if [ "${STRESS_TSAN:-0}" = 1 ]; then
    rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
    reliability/build-tsan.sh
    quiet cmake -S reliability -B "$BUILD/reliability-tsan" -DDM_TSAN=ON \
        -DDM_TSAN_RUNTIME="$(reliability/build-tsan.sh --runtime)" -DDM_TSAN_LIB="$PWD/target/tsan/x86_64-unknown-linux-gnu/release/libdashmap.a"
    quiet cmake --build "$BUILD/reliability-tsan" --target stress_tsan -j 2
    bin="$BUILD/reliability-tsan/stress_tsan"
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 report_signal_unsafe=0"
else
    quiet cmake -S reliability -B "$BUILD/reliability"
    quiet cmake --build "$BUILD/reliability" --target stress -j 2
    bin="$BUILD/reliability/stress"
fi
echo "stress: $bin for ${DURATION}s"
timeout --kill-after=30 $((DURATION * 3 + 300)) "$bin" "$DURATION"
