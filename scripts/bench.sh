#!/usr/bin/env bash
# Benchmarks: libdashmap's C API against native dashmap and other concurrent
# maps (C/C++ harness in bench/), plus the Rust criterion suite (benches/).
# Writes bench/results/*.csv, the plots in bench/results/, and BENCHMARKS.md.
#
#   scripts/bench.sh            everything (default matrix, ~10-15 min on 2 cores)
#   scripts/bench.sh c          only the C/C++ harness (+ report)
#   scripts/bench.sh rust       only the criterion suite, full settings (+ report)
#   scripts/bench.sh report     only regenerate BENCHMARKS.md and plots from the CSVs
#
# Environment:
#   BENCH_FULL=1     the full matrix: every workload x threads 1,2,4 x key 8,16,64
#                    x value 8,64,256,1024 x 2^14, 2^20 entries (hours)
#   BENCH_HUGE=1     also 2^24 entries (with BENCH_FULL; needs ~10+ GiB)
#   BENCH_MS=300     length of one run in ms      BENCH_RUNS=3  runs per config
#   BENCH_MAPS=a,b   maps to compare (default: all nine)
#   BENCH_PARTS="goals matrix shards memory batch alloc profile"   which parts
#                    of the C/C++ run to (re)do; the others keep their CSVs
#                    (default: all; shards = the shard-count sweep; alloc =
#                    the bundled mimalloc against a system-malloc build;
#                    profile = callgrind instructions/op, when valgrind exists)
#   DM_LIB_DIR / DM_INCLUDE_DIR   the library to measure (default: target/release, include)
#   BENCH_SNAPSHOT=1 measure the last commit: build the library (and run
#                    criterion) from `git archive HEAD` in build/bench/snap, so
#                    uncommitted work in src/ does not leak into the numbers
#
# Needs Debian packages (installed when missing): cmake g++ pkg-config
# libtbb-dev libcuckoo-dev liburcu-dev libglib2.0-dev; and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHAT=${1:-all}
BUILD=$ROOT/build/bench
RESULTS=$ROOT/bench/results
MS=${BENCH_MS:-300}
RUNS=${BENCH_RUNS:-3}
FULL=${BENCH_FULL:-0}
HUGE=${BENCH_HUGE:-0}
PARTS=" ${BENCH_PARTS:-goals matrix shards memory batch alloc profile} "
MAPS=${BENCH_MAPS:-dm_sip,dm_fast,native_sip,native_fast,std_shared_mutex,tbb,libcuckoo,urcu_lfht,glib}
DM_LIB_DIR=${DM_LIB_DIR:-$ROOT/target/release}
DM_INCLUDE_DIR=${DM_INCLUDE_DIR:-$ROOT/include}
SNAPSHOT=${BENCH_SNAPSHOT:-0}
CRATE_DIR=$ROOT   # where criterion runs
mkdir -p "$BUILD" "$RESULTS"

log() { printf '\n== %s\n' "$*"; }

install_peers() {
    local need=()
    for p in cmake g++ pkg-config libtbb-dev libcuckoo-dev liburcu-dev libglib2.0-dev; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if ((${#need[@]})); then
        log "installing ${need[*]}"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
    fi
}

snapshot() {
    log "snapshot of HEAD ($(git rev-parse --short HEAD)) in build/bench/snap"
    rm -rf "$BUILD/snap"
    mkdir -p "$BUILD/snap"
    git archive HEAD | tar -x -C "$BUILD/snap"
    cp -r benches "$BUILD/snap/"   # the working tree's benchmarks
    (cd "$BUILD/snap" && CARGO_TARGET_DIR=$BUILD/cargo cargo build --release --locked)
    DM_LIB_DIR=$BUILD/cargo/release
    DM_INCLUDE_DIR=$BUILD/snap/include
    CRATE_DIR=$BUILD/snap
}

# The library's SONAME (libdashmap.so.0.Y) must resolve in directory $1, as
# `make lib` arranges for target/release.
link_soname() {
    local soname
    soname=$(readelf -d "$1/libdashmap.so" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
    if [ -n "$soname" ] && [ ! -e "$1/$soname" ]; then ln -sf libdashmap.so "$1/$soname"; fi
}

build_c() {
    if [ ! -f "$DM_LIB_DIR/libdashmap.so" ]; then
        log "building libdashmap (cargo build --release)"
        cargo build --release --locked
    fi
    link_soname "$DM_LIB_DIR"
    log "building bench/ (CMake, Release, -O2) against $DM_LIB_DIR"
    cmake -S bench -B "$BUILD/cmake" -DCMAKE_BUILD_TYPE=Release \
        -DDM_LIB_DIR="$DM_LIB_DIR" -DDM_INCLUDE_DIR="$DM_INCLUDE_DIR" >/dev/null
    cmake --build "$BUILD/cmake" -j 2
}

# The C/C++ matrix. Each dmbench call fills all maps, then runs them in turn.
run_c() {
    # Native dashmap gets libdashmap's default shard count (`--shards same`),
    # so the two differ only by the C layer.
    local B="$BUILD/cmake/dmbench"
    local S="--shards same"
    local W=$RESULTS/workload.csv G=$RESULTS/goals.csv
    local t0=$SECONDS
    local workloads="ReadOnly ReadHeavy Exchange RapidGrow UpdateHeavy"

    if [[ $PARTS == *" goals "* ]]; then
    rm -f "$G"
    log "goals: 2 threads, 16 B keys, 64 B values, 2^14 entries, 5 runs x 500 ms, side by side"
    for w in ReadHeavy Exchange RapidGrow; do
        $B workload --workload $w --threads 2 --key 16 --value 64 --log2 14 --maps "$MAPS" --runs 5 --ms 500 $S --csv "$G"
    done
    rm -f "$RESULTS/linecost.csv"
    $B linecost --csv "$RESULTS/linecost.csv"
    fi

    if [[ $PARTS == *" matrix "* ]]; then
    rm -f "$W"
    if [ "$FULL" = 1 ]; then
        local sizes="14 20"
        [ "$HUGE" = 1 ] && sizes="14 20 24"
        log "FULL matrix: workloads x threads 1,2,4 x keys 8,16,64 x values 8,64,256,1024 x 2^{$sizes}"
        for s in $sizes; do for k in 8 16 64; do for v in 8 64 256 1024; do for t in 1 2 4; do for w in $workloads; do
            $B workload --workload $w --threads $t --key $k --value $v --log2 $s --maps "$MAPS" --runs "$RUNS" --ms "$MS" $S --csv "$W"
        done; done; done; done; done
    else
        log "default matrix: workloads x threads 1,2,4 at 2^14; workloads x 2 threads at 2^20 (16 B keys, 64 B values)"
        for t in 1 2 4; do for w in $workloads; do
            $B workload --workload $w --threads $t --key 16 --value 64 --log2 14 --maps "$MAPS" --runs "$RUNS" --ms "$MS" $S --csv "$W"
        done; done
        for w in $workloads; do
            $B workload --workload $w --threads 2 --key 16 --value 64 --log2 20 --maps "$MAPS" --runs "$RUNS" --ms "$MS" $S --csv "$W"
        done
        log "key and value sizes: ReadHeavy, Exchange; 2 threads; 2^14"
        for kv in "8 64" "64 64" "16 8" "16 256" "16 1024"; do
            set -- $kv
            for w in ReadHeavy Exchange; do
                $B workload --workload $w --threads 2 --key $1 --value $2 --log2 14 --maps "$MAPS" --runs "$RUNS" --ms "$MS" $S --csv "$W"
            done
        done
    fi
    fi

    if [[ $PARTS == *" shards "* ]]; then
    rm -f "$RESULTS/shards.csv"
    log "shard count: ReadHeavy and Exchange, 1 and 2 threads, libdashmap and native dashmap at 8..256 shards"
    for w in ReadHeavy Exchange; do for t in 1 2; do for n in 8 16 32 64 128 256; do
        $B workload --workload $w --threads $t --key 16 --value 64 --log2 14 --maps dm_sip,dm_fast,native_sip,native_fast \
            --runs "$RUNS" --ms "$MS" --shards $n --csv "$RESULTS/shards.csv"
    done; done; done
    fi

    if [[ $PARTS == *" memory "* ]]; then
    rm -f "$RESULTS/memory.csv"
    log "memory per entry: pre-sized map, 16 B keys, 64 B values (one process per map)"
    for m in ${MAPS//,/ }; do
        for n in 1048576 917504; do
            $B memory --map "$m" --count $n --key 16 --value 64 $S --csv "$RESULTS/memory.csv"
        done
    done
    fi

    if [[ $PARTS == *" batch "* ]]; then
    rm -f "$RESULTS/batch.csv"
    log "batches: dm_extend / dm_get_many / dm_remove_many vs one call per key, 1 and 2 threads"
    $B batch --count 65536 --key 16 --value 64 --runs 11 --threads 1 --csv "$RESULTS/batch.csv"
    $B batch --count 65536 --key 16 --value 64 --runs 31 --threads 2 --batches 256,4096 --csv "$RESULTS/batch.csv"
    fi

    if [[ $PARTS == *" alloc "* ]]; then
    run_alloc
    fi

    if [[ $PARTS == *" profile "* ]] && command -v valgrind >/dev/null; then
    log "instructions per operation (callgrind, single thread, 20000 ops, only inside the named function)"
    local P=$RESULTS/profile.csv cg=$BUILD/callgrind
    mkdir -p "$cg"
    echo "map,op,function,ir_per_op" >"$P"
    local spec map op fn n=20000 ir
    for spec in "dm_sip get dm_get_copy" "native_sip get nd_get_copy" "dm_fast get dm_get_copy" "native_fast get nd_get_copy" \
        "dm_sip insert dm_insert" "native_sip insert nd_insert" "dm_fast insert dm_insert" "native_fast insert nd_insert" \
        "dm_sip remove dm_remove" "native_sip remove nd_remove" "dm_fast remove dm_remove" "native_fast remove nd_remove" \
        "dm_sip update dm_entry_update" "native_sip update nd_update" "dm_fast update dm_entry_update" "native_fast update nd_update" \
        "dm_sip extend dm_extend" "dm_sip get_many dm_get_many" "dm_sip remove_many dm_remove_many"; do
        set -- $spec
        map=$1 op=$2 fn=$3
        valgrind --tool=callgrind --callgrind-out-file="$cg/$map.$op.out" --collect-atstart=no --toggle-collect="$fn" \
            $B profile --map "$map" --op "$op" --count $n --batch 256 $S >/dev/null 2>"$cg/$map.$op.log" || continue
        ir=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$cg/$map.$op.out" | head -1)
        echo "$map,$op,$fn,$((ir / n))" | tee -a "$P"
    done
    fi
    echo "c matrix: $((SECONDS - t0)) s"
}

# Entries from the bundled mimalloc (the library as measured everywhere else)
# against the same source built with --no-default-features (system malloc):
# the same harness binary loads one library or the other (LD_LIBRARY_PATH is
# searched before its RUNPATH), alternating, so noise hits both.
run_alloc() {
    local B="$BUILD/cmake/dmbench" S="--shards same" out=$RESULTS/allocator sys=$BUILD/cargo-sysalloc/release
    log "entry allocator: bundled mimalloc vs system malloc (--no-default-features), alternating"
    (cd "$CRATE_DIR" && CARGO_TARGET_DIR=$BUILD/cargo-sysalloc cargo build --release --locked --no-default-features --quiet)
    link_soname "$sys"
    rm -rf "$out"
    mkdir -p "$out/mimalloc" "$out/system"
    local round alloc lib w t
    for round in 1 2; do
        for alloc in mimalloc system; do
            lib=$DM_LIB_DIR
            [ $alloc = system ] && lib=$sys
            for w in RapidGrow Exchange ReadHeavy; do for t in 1 2; do
                LD_LIBRARY_PATH=$lib $B workload --workload $w --threads $t --key 16 --value 64 --log2 14 \
                    --maps dm_sip,dm_fast --runs "$RUNS" --ms "$MS" $S --csv "$out/$alloc/workload.csv" | sed "s/^/$alloc: /"
            done; done
            if [ $round = 1 ]; then
                LD_LIBRARY_PATH=$lib $B batch --count 65536 --key 16 --value 64 --runs 5 --batches 256 --threads 1 \
                    --csv "$out/$alloc/batch.csv" | sed "s/^/$alloc: /"
                LD_LIBRARY_PATH=$lib $B memory --map dm_sip --count 1048576 --key 16 --value 64 $S \
                    --csv "$out/$alloc/memory.csv" | sed "s/^/$alloc: /"
            fi
        done
    done
}

# Criterion (benches/maps.rs) in its own target dir, so it never waits on
# (or invalidates) the main build. quick=1: short measurement for `all`.
run_rust() {
    local quick=$1
    log "criterion suite (benches/maps.rs)$([ "$quick" = 1 ] && echo ', quick settings')"
    local args=()
    [ "$quick" = 1 ] && args=(--warm-up-time 0.3 --measurement-time 0.7 --sample-size 10)
    rm -rf "$BUILD/cargo/criterion"
    (cd "$CRATE_DIR" && CARGO_TARGET_DIR=$BUILD/cargo cargo bench --locked --bench maps -- "${args[@]}") 2>&1 | tee "$BUILD/criterion.log" |
        grep -E '^[a-z0-9_]+/[0-9]t/|time:|thrpt:' || true
    python3 bench/report.py --collect-criterion "$BUILD/cargo/criterion" --out "$RESULTS/criterion.csv"
}

# matplotlib in a private venv when PyPI is reachable; report.py falls back
# to hand-written SVG without it.
python_for_plots() {
    local venv=$BUILD/venv
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
        { python3 -m venv "$venv" && "$venv/bin/pip" install -q matplotlib; } >/dev/null 2>&1 || true
    fi
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
        echo "$venv/bin/python"
    else
        echo python3
    fi
}

# A run that redoes the goals starts a new meta.json; a partial one adds to it.
fresh_meta() {
    if [[ $PARTS == *" goals "* ]] || [ ! -f "$RESULTS/meta.json" ]; then
        echo "{\"loadavg_start\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"started\": \"$started\"}" >"$RESULTS/meta.json"
    fi
}

write_meta() {
    local cmd=$1 started=$2
    python3 - "$RESULTS/meta.json" "$cmd" "$started" "$MS" "$RUNS" "$FULL" "$DM_LIB_DIR" "$SNAPSHOT" <<'EOF'
import json, os, subprocess, sys, time
path, cmd, started, ms, runs, full, libdir, snap = sys.argv[1:]
meta = json.load(open(path)) if os.path.exists(path) else {}
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
meta.update({
    "command": meta.get("command") if "goals" not in os.environ.get("BENCH_PARTS", "goals") else cmd,
    "started": meta.get("started", started), "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    "run_ms": int(ms), "runs": int(runs), "full": full == "1", "lib_dir": libdir,
    "git": sh("git rev-parse --short HEAD"), "snapshot": snap == "1",
    "git_dirty_src": snap != "1" and bool(sh("git status --porcelain -- src")),
    "loadavg_end": open("/proc/loadavg").read().split()[:3],
})
json.dump(meta, open(path, "w"), indent=1)
EOF
}

started=$(date '+%Y-%m-%d %H:%M:%S %Z')
cmd="scripts/bench.sh $*"
[ "$FULL" = 1 ] && cmd="BENCH_FULL=1 $cmd"
[ "$SNAPSHOT" = 1 ] && cmd="BENCH_SNAPSHOT=1 $cmd"
[ "$SNAPSHOT" = 1 ] && [ "$WHAT" != report ] && snapshot
case "$WHAT" in
    all)
        install_peers
        build_c
        fresh_meta
        run_c
        run_rust 1
        write_meta "$cmd" "$started"
        ;;
    c)
        install_peers
        build_c
        fresh_meta
        run_c
        write_meta "$cmd" "$started"
        ;;
    rust)
        run_rust 0
        ;;
    report) ;;
    *)
        echo "usage: $0 [all|c|rust|report]" >&2
        exit 2
        ;;
esac
log "report: BENCHMARKS.md and plots"
"$(python_for_plots)" bench/report.py --results "$RESULTS" --md BENCHMARKS.md
echo "done: BENCHMARKS.md, bench/results/"
