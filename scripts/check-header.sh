#!/usr/bin/env bash
# Fails when include/dashmap.h differs from what build.rs generates.
# build.rs rewrites the header on every build, so after `make lib` any
# difference from the committed file means someone forgot to commit it.
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && git ls-files --error-unmatch include/dashmap.h >/dev/null 2>&1; then
    if ! git diff --exit-code --stat -- include/dashmap.h; then
        echo "FAIL: include/dashmap.h is out of date: commit the regenerated header" >&2
        exit 1
    fi
    echo "header: include/dashmap.h matches the generated header"
else
    echo "header: not a git checkout, nothing to compare against (skipped)"
fi
