#!/usr/bin/env bash
# Node binding: install the pinned dependencies, run the test suite, then the
# examples (each shares one map between worker threads and checks its result).
# Assumes `make lib` has built target/release/libdashmap.so.
set -euo pipefail
cd "$(dirname "$0")/.."

lib="$PWD/target/release/libdashmap.so"
if [[ ! -f "$lib" ]]; then
    echo "test-node: $lib is missing; run 'make lib' first" >&2
    exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "test-node: node and npm are required (Node.js >= 18)" >&2
    exit 1
fi
echo "test-node: node $(node --version), npm $(npm --version)"

export DASHMAP_LIB="$lib"
cd bindings/node
npm ci --no-audit --no-fund
node --test
for example in examples/*.js; do
    echo "test-node: $example"
    node "$example"
done
echo "test-node: all passed"
