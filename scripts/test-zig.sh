#!/usr/bin/env bash
# Tests the Zig binding (bindings/zig) against the build tree's libdashmap:
# `zig build test` linked dynamically, the same linked statically, and the
# rate limiter example both ways. Run `make lib` first (`make test-zig` does).
#
# Zig is not a system package here: the pinned `ziglang` wheel from PyPI is
# installed into .tools/ziglang-$ZIG_VERSION on first use and run as
# `python3 -m ziglang`. Zig's caches stay inside the repo (.tools/zig-cache,
# bindings/zig/.zig-cache), so later runs work offline.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ZIG_VERSION=0.14.1 # keep in step with bindings/zig/build.zig.zon and README.md
tools="$root/.tools/ziglang-$ZIG_VERSION"
lib_dir="${DM_LIB_DIR:-$root/target/release}"
include_dir="${DM_INCLUDE_DIR:-$root/include}"

for f in "$lib_dir/libdashmap.so" "$lib_dir/libdashmap.a" "$include_dir/dashmap.h"; do
    [ -f "$f" ] || { echo "test-zig: $f is missing; run 'make lib' first" >&2; exit 1; }
done

zig() { PYTHONPATH="$tools" python3 -m ziglang "$@"; }

if [ "$(zig version 2>/dev/null || true)" != "$ZIG_VERSION" ]; then
    echo "test-zig: installing ziglang==$ZIG_VERSION from PyPI into ${tools#"$root"/}"
    mkdir -p "$root/.tools"
    # Into a fresh directory first, so an interrupted install leaves nothing half done.
    staging=$(mktemp -d "$root/.tools/ziglang-install.XXXXXX")
    trap 'rm -rf "$staging"' EXIT
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
        --target "$staging" "ziglang==$ZIG_VERSION"
    rm -rf "$tools"
    mv "$staging" "$tools"
    trap - EXIT
fi
echo "test-zig: zig $(zig version)"
export ZIG_GLOBAL_CACHE_DIR="$root/.tools/zig-cache"

log="$root/build/zig/test.log"
mkdir -p "$(dirname "$log")"
: >"$log"
run() {
    echo "test-zig: zig $*"
    (cd bindings/zig && zig "$@" -Dlib-dir="$lib_dir" -Dinclude-dir="$include_dir") 2>&1 | tee -a "$log"
}

echo "test-zig: zig fmt --check"
(cd bindings/zig && zig fmt --check build.zig build.zig.zon src tests examples)
run build test --summary all
run build test -Dstatic=true --summary all
run build example --summary all
run build run-rate-limiter -Dstatic=true

# One closing line with the totals of both test runs ("N/M tests passed; K skipped").
passed=0 total=0 skipped=0
while read -r p t s; do
    passed=$((passed + p)) total=$((total + t)) skipped=$((skipped + ${s:-0}))
done < <(sed -n -E 's|^Build Summary: .*; ([0-9]+)/([0-9]+) tests passed(; ([0-9]+) skipped)?.*|\1 \2 \4|p' "$log")
[ "$total" -gt 0 ] || { echo "test-zig: no test ran" >&2; exit 1; }
echo "zig: $passed passed, $((total - passed - skipped)) failed, $skipped skipped"
