#!/usr/bin/env bash
# Writes a pkg-config file. Usage:
#   write-pc.sh uninstalled SRCDIR       (build tree: target/release + include/)
#   write-pc.sh installed PREFIX LIBDIR INCLUDEDIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
# What a static link of a Rust staticlib needs on Linux.
private="-lpthread -ldl -lm -lgcc_s -lc"
case "$1" in
uninstalled)
    libdir="$2/target/release"; includedir="$2/include"; prefix="$2" ;;
installed)
    prefix="$2"; libdir="$3"; includedir="$4" ;;
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
