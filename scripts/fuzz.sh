#!/usr/bin/env bash
# Fuzzes the whole C API with libFuzzer + AddressSanitizer (cargo fuzz):
# fuzz/fuzz_targets/api_sequence.rs decodes each input into a sequence of dm_
# calls and checks every result against a model.
#
#   scripts/fuzz.sh                  # FUZZ_SECONDS=600 (what `make fuzz` runs)
#   FUZZ_SECONDS=60 scripts/fuzz.sh  # the short run of scripts/test-reliability.sh
#
# Installs cargo-fuzz into .tools/cargo when missing (crates.io) and builds
# with the stable toolchain (RUSTC_BOOTSTRAP=1 unlocks -Zsanitizer=address).
# New corpus entries go to fuzz/corpus-work/ (ignored), never into the
# committed seeds in fuzz/corpus/; crashes go to fuzz/artifacts/. Exits
# non-zero on any finding (a failed check, an ASan/LSan report, a timeout).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-600}
TARGET=${FUZZ_TARGET:-api_sequence}
TOOLS="$PWD/.tools/cargo"
export PATH="$TOOLS/bin:$PATH"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz into $TOOLS"
    cargo install cargo-fuzz --locked --root "$TOOLS"
fi

echo "fuzz: building $TARGET (ASan, libFuzzer)"
(cd fuzz && cargo fuzz build "$TARGET")

bin="fuzz/target/x86_64-unknown-linux-gnu/release/$TARGET"
work="fuzz/corpus-work/$TARGET"
artifacts="fuzz/artifacts/$TARGET"
log="fuzz/target/$TARGET.$$.log"   # one per run: runs may overlap
mkdir -p "$work" "$artifacts"

echo "fuzz: running $TARGET for ${FUZZ_SECONDS}s"
# The watchdog: libFuzzer stops itself after FUZZ_SECONDS and reports any
# single input running over 30 s; `timeout` catches anything else.
status=0
timeout --kill-after=30 $((FUZZ_SECONDS + 180)) "$bin" \
    -max_total_time="$FUZZ_SECONDS" -max_len=1024 -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "fuzz/corpus/$TARGET" >"$log" 2>&1 || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
if [ "$status" -ne 0 ] || grep -qE "CHECK FAILED|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)" "$log"; then
    tail -60 "$log"
    echo "fuzz: FAILED (exit $status) after ${execs:-?} executions; input saved in $artifacts/" >&2
    echo "fuzz: reproduce with: $bin $artifacts/<file>   (DM_FUZZ_TRACE=1 prints each operation)" >&2
    exit 1
fi
echo "fuzz: $TARGET: ${execs:-?} executions in ${FUZZ_SECONDS}s (${rate:-?} exec/s), 0 findings"
echo "fuzz: corpus: $(ls "$work" | wc -l) entries in $work (+ $(ls "fuzz/corpus/$TARGET" | wc -l) committed seeds)"
