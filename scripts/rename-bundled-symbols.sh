#!/usr/bin/env bash
# Renames the bundled mimalloc's global symbols in a libdashmap.a
# (mi_*, _mi_*, __mi_* -> dm_private_mi_*, dm_private__mi_*, ...), in place.
#
# libdashmap.so keeps them local already (it exports only dm_*), but a static
# archive cannot hide symbols: a program that links libdashmap.a and also
# uses mimalloc itself (-lmimalloc, or its own copy) would otherwise have two
# allocators answering to one name, and a block freed by the other instance
# would corrupt both. Renamed, the two never meet. Idempotent; `make lib`
# runs it on target/release/libdashmap.a (the archive `make install` installs).
#
#   scripts/rename-bundled-symbols.sh path/to/libdashmap.a
set -euo pipefail
archive=${1:?usage: $0 path/to/libdashmap.a}
map=$(mktemp)
trap 'rm -f "$map"' EXIT
# Every symbol an archive member defines whose name starts with mi_, _mi_ or
# __mi_ (mimalloc's public and internal names; nothing else in the archive
# uses that prefix).
nm --defined-only "$archive" 2>/dev/null |
    awk 'NF == 3 && $3 ~ /^(_|__)?mi_/ { print $3, "dm_private_" $3 }' |
    sort -u >"$map"
count=$(wc -l <"$map")
if [ "$count" -gt 0 ]; then
    # Definitions and references alike, in every member.
    objcopy --redefine-syms="$map" "$archive"
fi
left=$(nm --defined-only "$archive" 2>/dev/null | awk 'NF == 3 && $3 ~ /^(_|__)?mi_/' | wc -l)
if [ "$left" -ne 0 ]; then
    echo "$0: $left mimalloc symbols still carry their own names in $archive" >&2
    exit 1
fi
echo "$(basename "$archive"): $count bundled mimalloc symbols renamed (dm_private_*)"
