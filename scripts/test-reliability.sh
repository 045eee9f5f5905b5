#!/usr/bin/env bash
# The reliability suite (reliability/README.md), after `make lib`:
#   1. builds reliability/ (CMake) against target/release and runs, under
#      ctest with a TIMEOUT on every test: the bad-input matrix, lost updates,
#      a short expected-state stress run, the death tests (C++ exceptions and
#      abort() in callbacks) and the allocation-failure tests;
#   2. the same stress test under ThreadSanitizer, against a libdashmap.a
#      built with -Zsanitizer=thread and -Zbuild-std into target/tsan
#      (skipped, with the reason, where the rust-src component cannot be had);
#   3. a short libFuzzer + ASan run of fuzz/ (scripts/fuzz.sh).
#
# Knobs: STRESS_SECONDS (15), TSAN_STRESS_SECONDS (10), FUZZ_SECONDS (60),
# SKIP_TSAN=1, SKIP_FUZZ=1. Long runs: scripts/stress.sh, scripts/fuzz.sh.
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

STRESS_SECONDS=${STRESS_SECONDS:-15}
TSAN_STRESS_SECONDS=${TSAN_STRESS_SECONDS:-10}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD=${BUILD:-build}
export DM_LIB_DIR="${DM_LIB_DIR:-$PWD/target/release}"
export DM_INCLUDE_DIR="${DM_INCLUDE_DIR:-$PWD/include}"
start=$SECONDS

if [ ! -e "$DM_LIB_DIR/libdashmap.so" ]; then
    echo "test-reliability: $DM_LIB_DIR/libdashmap.so is missing: run \`make lib\` first" >&2
    exit 1
fi

# GoogleTest for the death tests: Debian's libgtest-dev (preinstalled on the
# project's machines; installed here when missing and we are root).
if [ ! -e /usr/include/gtest/gtest.h ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test-reliability: installing libgtest-dev"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgtest-dev >/dev/null
    fi
fi

echo "== reliability: build"
quiet cmake -S reliability -B "$BUILD/reliability" -DDM_STRESS_SECONDS="$STRESS_SECONDS"
quiet cmake --build "$BUILD/reliability" -j 2

echo "== reliability: matrix, lost updates, stress (${STRESS_SECONDS}s), death tests, allocation failure"
# ctest enforces each test's TIMEOUT; `timeout` guards ctest itself.
timeout --kill-after=30 $((STRESS_SECONDS + 900)) \
    ctest --test-dir "$BUILD/reliability" --output-on-failure -V -LE tsan \
    | grep -E "bad input matrix:|lost updates:|^[0-9]+: stress:|^[0-9]+:   [A-Za-z(]|outcome|death tests|->|alloc failure:|(known)|tests passed|tests failed|Failed|\*\*\*|WATCHDOG|CHECK failed" \
    || { echo "test-reliability: ctest failed" >&2; exit 1; }
# (ctest -V prints every test's own summary; the grep keeps the figures. Its
# exit status is ctest's: pipefail propagates a failure.)

echo "== reliability: ThreadSanitizer stress (${TSAN_STRESS_SECONDS}s)"
tsan_skip=""
if [ "${SKIP_TSAN:-0}" = 1 ]; then
    tsan_skip="SKIP_TSAN=1"
elif ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "tsan: installing the rust-src component (needed by -Zbuild-std)"
    rustup component add rust-src >/dev/null 2>&1 || tsan_skip="the rust-src component could not be installed (rustup component add rust-src failed: no access to the Rust distribution server?)"
fi
if [ -z "$tsan_skip" ]; then
    reliability/build-tsan.sh
    tsan_lib="$PWD/target/tsan/x86_64-unknown-linux-gnu/release/libdashmap.a"
    quiet cmake -S reliability -B "$BUILD/reliability-tsan" -DDM_TSAN=ON -DDM_TSAN_RUNTIME="$(reliability/build-tsan.sh --runtime)" -DDM_TSAN_LIB="$tsan_lib" \
        -DDM_STRESS_SECONDS="$TSAN_STRESS_SECONDS"
    quiet cmake --build "$BUILD/reliability-tsan" --target stress_tsan -j 2
    # TSan maps its shadow at fixed addresses; kernels with high mmap
    # randomisation make older runtimes fail at start: run without ASLR then.
    run_tsan() { timeout --kill-after=30 $((TSAN_STRESS_SECONDS * 3 + 240)) "$@" "$BUILD/reliability-tsan/stress_tsan" "$TSAN_STRESS_SECONDS"; }
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 report_signal_unsafe=0"
    if ! out=$(run_tsan 2>&1); then
        if grep -q "unexpected memory mapping" <<<"$out" && command -v setarch >/dev/null; then
            echo "tsan: retrying without ASLR (setarch -R)"
            out=$(run_tsan setarch "$(uname -m)" -R 2>&1) || { echo "$out" | tail -80; echo "tsan: FAILED" >&2; exit 1; }
        else
            echo "$out" | tail -80
            echo "tsan: FAILED" >&2
            exit 1
        fi
    fi
    grep -E "^stress: [0-9]+ operations|final M|passed, " <<<"$out" | sed 's/^/tsan: /'
    echo "tsan: no data race reported"
else
    echo "tsan: SKIPPED: $tsan_skip"
fi

if [ "${SKIP_FUZZ:-0}" = 1 ]; then
    echo "== fuzz: SKIPPED (SKIP_FUZZ=1)"
else
    echo "== fuzz: ${FUZZ_SECONDS}s"
    FUZZ_SECONDS="$FUZZ_SECONDS" scripts/fuzz.sh
fi
echo "test-reliability: all passed in $((SECONDS - start))s"
