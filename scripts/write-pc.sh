#!/usr/bin/env bash
# Writes a pkg-config file for libdashmap to stdout. Usage:
#   write-pc.sh uninstalled SRCDIR                 (build tree: target/release + include/)
#   write-pc.sh installed PREFIX LIBDIR INCLUDEDIR (absolute paths; scripts/install.sh)
#
# For an installed file, libdir/includedir are written relative to ${prefix}
# when they lie under it, so `pkg-config --define-prefix` can relocate it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)

# What a static link of the Rust staticlib needs on Linux: exactly the list
# `cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs`
# reports (std's needs; our dependencies link no native libraries).
# scripts/test-install.sh cross-checks this list against the installed rustc.
private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

under_prefix() { # $1 = prefix, $2 = dir: ${prefix}/rel when $2 is under $1
    case "$2" in
    "$1") printf '%s' '${prefix}' ;;
    "$1"/*) printf '%s' "\${prefix}/${2#"$1"/}" ;;
    *) printf '%s' "$2" ;;
    esac
}

case "${1:-}" in
uninstalled)
    [ $# -eq 2 ] || { echo "usage: $0 uninstalled SRCDIR" >&2; exit 2; }
    prefix="$2"; libdir="$2/target/release"; includedir="$2/include" ;;
installed)
    [ $# -eq 4 ] || { echo "usage: $0 installed PREFIX LIBDIR INCLUDEDIR" >&2; exit 2; }
    prefix="${2%/}"; [ -n "$prefix" ] || prefix=/
    libdir=$(under_prefix "$prefix" "${3%/}")
    includedir=$(under_prefix "$prefix" "${4%/}") ;;
*) echo "usage: $0 uninstalled SRCDIR | installed PREFIX LIBDIR INCLUDEDIR" >&2; exit 2 ;;
esac
cat <<PC
prefix=$prefix
libdir=$libdir
includedir=$includedir

Name: dashmap
Description: Fast, safe concurrent hash map (C ABI over Rust's dashmap)
URL: https://github.com/libdashmap/libdashmap
Version: $version
Libs: -L\${libdir} -ldashmap
Libs.private: $private
Cflags: -I\${includedir}
PC
