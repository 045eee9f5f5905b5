#!/usr/bin/env bash
# Installs or uninstalls libdashmap like a distribution library.
#
#   scripts/install.sh install   PREFIX [DESTDIR]
#   scripts/install.sh uninstall PREFIX [DESTDIR]
#
# (`make install PREFIX=... DESTDIR=...` / `make uninstall ...` call this after
# `make lib`.) Environment: LIBDIR (default "lib") and INCLUDEDIR (default
# "include"), each relative to PREFIX or absolute. No multiarch guessing: the
# plain `lib` directory unless LIBDIR says otherwise. DM_NO_LDCONFIG=1 skips
# the ldconfig run described below.
#
# Installed (LIBDIR=lib, version X.Y.Z from Cargo.toml, SOVER per cargo-c):
#   lib/libdashmap.so.X.Y.Z                   the shared library, SONAME libdashmap.so.SOVER
#   lib/libdashmap.so.SOVER -> libdashmap.so.X.Y.Z   (what programs load)
#   lib/libdashmap.so       -> libdashmap.so.X.Y.Z   (what -ldashmap finds)
#   lib/libdashmap.a
#   lib/pkgconfig/dashmap.pc                  (scripts/write-pc.sh)
#   lib/cmake/dashmap/dashmapConfig.cmake, dashmapConfigVersion.cmake (cmake/*.in)
#   include/dashmap.h, include/dashmap.hpp
#   share/dashmap/install_manifest.txt        what this script installed
#
# SOVER is cargo-c's default rule (build.rs sets the same SONAME):
# 0.0.z -> 0.0.z, 0.y.z -> 0.y, x.y.z (x >= 1) -> x.
#
# The manifest lists every file and symlink installed and every directory the
# install created (paths without DESTDIR). Reinstalling merges the old
# manifest, so files of an older version are still uninstalled later.
# `uninstall` removes exactly those files, then the manifest, then the
# directories it created if they are empty; nothing else is touched.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
die() { echo "install.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: $0 install|uninstall PREFIX [DESTDIR]"
action="$1"
prefix="$2"
destdir="${3:-}"

case "$prefix" in
/) ;;
/*) prefix="${prefix%/}" ;;
*) die "PREFIX must be an absolute path (got '$prefix')" ;;
esac
destdir="${destdir%/}"
case "$destdir" in
"" | /*) ;;
*) destdir="$PWD/$destdir" ;;
esac

# "$prefix/$1" for a relative $1 (without a double slash for PREFIX=/), $1 if absolute.
under_prefix() {
    case "$1" in
    /*) printf '%s' "${1%/}" ;;
    *) if [ "$prefix" = / ]; then printf '/%s' "${1%/}"; else printf '%s/%s' "$prefix" "${1%/}"; fi ;;
    esac
}
libdir=$(under_prefix "${LIBDIR:-lib}")
includedir=$(under_prefix "${INCLUDEDIR:-include}")
datadir=$(under_prefix share)
manifest="$datadir/dashmap/install_manifest.txt"   # without DESTDIR

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
IFS=. read -r v_major v_minor v_patch <<<"${version%%[-+]*}"
if [ "$v_major" -eq 0 ] && [ "$v_minor" -eq 0 ]; then sover="0.0.$v_patch"
elif [ "$v_major" -eq 0 ]; then sover="0.$v_minor"
else sover="$v_major"; fi
realname="libdashmap.so.$v_major.$v_minor.$v_patch"
soname="libdashmap.so.$sover"

# ---------------------------------------------------------------- uninstall
if [ "$action" = uninstall ]; then
    m="$destdir$manifest"
    [ -f "$m" ] || die "no manifest at $m: nothing of libdashmap is installed under ${destdir}${prefix}"
    dirs=()
    while IFS=' ' read -r kind path; do
        [ -n "$kind" ] || continue
        case "$path" in
        /*) ;;
        *) die "corrupt manifest line: $kind $path" ;;
        esac
        case "$kind" in
        f | l)
            if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then
                [ ! -d "$destdir$path" ] || [ -L "$destdir$path" ] || die "$destdir$path is a directory; not removing it"
                rm -f -- "$destdir$path"
                echo "  removed $destdir$path"
            fi ;;
        d) dirs+=("$path") ;;
        *) die "corrupt manifest line: $kind $path" ;;
        esac
    done <"$m"
    rm -f -- "$m"
    echo "  removed $m"
    # Deepest first: the manifest lists parents before children.
    for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
        d="$destdir${dirs[i]}"
        if [ -d "$d" ] && [ -z "$(ls -A -- "$d")" ]; then
            rmdir -- "$d" && echo "  removed $d/"
        fi
    done
    exit 0
fi
[ "$action" = install ] || die "unknown action '$action' (install or uninstall)"

# ------------------------------------------------------------------ install
so="$root/target/release/libdashmap.so"
a="$root/target/release/libdashmap.a"
for f in "$so" "$a" "$root/include/dashmap.h" "$root/include/dashmap.hpp" \
         "$root/cmake/dashmapConfig.cmake.in" "$root/cmake/dashmapConfigVersion.cmake.in"; do
    [ -f "$f" ] || die "$f is missing: run 'make lib' first"
done
if command -v readelf >/dev/null 2>&1; then
    built=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [ "$built" = "$soname" ] || die "$so has SONAME '$built', expected '$soname' (stale build? run 'make lib')"
fi

entries=()      # "f PATH", "l PATH", "d PATH" (without DESTDIR), in order
declare -A seen=()
record() {
    if [ -z "${seen["$1 $2"]+x}" ]; then seen["$1 $2"]=1; entries+=("$1 $2"); fi
}
# An earlier install's entries stay listed while they still exist.
if [ -f "$destdir$manifest" ]; then
    while IFS=' ' read -r kind path; do
        case "$kind" in
        f | l) if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then record "$kind" "$path"; fi ;;
        d) [ ! -d "$destdir$path" ] || record d "$path" ;;
        esac
    done <"$destdir$manifest"
fi

# mkdir -p DIR (without DESTDIR), recording each directory it creates.
make_dir() {
    local d="$1" missing=()
    while [ "$d" != / ] && [ -n "$d" ] && [ ! -d "$destdir$d" ]; do
        missing=("$d" "${missing[@]}")
        d=$(dirname "$d")
    done
    for d in "${missing[@]}"; do
        mkdir -- "$destdir$d"
        record d "$d"
    done
}
# put SRC MODE DEST: atomic replace (a running program keeps the old inode).
put() {
    local dst="$destdir$3"
    make_dir "$(dirname "$3")"
    install -m "$2" -- "$1" "$dst.tmp.$$"
    mv -f -- "$dst.tmp.$$" "$dst"
    record f "$3"
    echo "  installed $dst"
}
link() { # link TARGET NAME
    make_dir "$(dirname "$2")"
    ln -sfn -- "$1" "$destdir$2"
    record l "$2"
    echo "  installed $destdir$2 -> $1"
}

[ -z "$destdir" ] || mkdir -p -- "$destdir"
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

put "$so" 755 "$libdir/$realname"
link "$realname" "$libdir/$soname"
link "$realname" "$libdir/libdashmap.so"
put "$a" 644 "$libdir/libdashmap.a"
put "$root/include/dashmap.h" 644 "$includedir/dashmap.h"
put "$root/include/dashmap.hpp" 644 "$includedir/dashmap.hpp"

"$root/scripts/write-pc.sh" installed "$prefix" "$libdir" "$includedir" >"$tmp/dashmap.pc"
put "$tmp/dashmap.pc" 644 "$libdir/pkgconfig/dashmap.pc"

# CMake package: paths relative to the config file's own directory when
# LIBDIR and INCLUDEDIR are inside PREFIX, so the tree can be moved.
cmakedir="$libdir/cmake/dashmap"
rel_to_prefix() { # prints DIR relative to PREFIX, or fails when outside it
    if [ "$prefix" = / ]; then printf '%s' "${1#/}"; return 0; fi
    case "$1" in
    "$prefix") printf '.' ;;
    "$prefix"/*) printf '%s' "${1#"$prefix"/}" ;;
    *) return 1 ;;
    esac
}
if cm_rel=$(rel_to_prefix "$cmakedir") && lib_rel=$(rel_to_prefix "$libdir") && inc_rel=$(rel_to_prefix "$includedir"); then
    up=""
    IFS=/ read -r -a parts <<<"$cm_rel"
    for p in "${parts[@]}"; do [ -z "$p" ] || up="$up/.."; done
    prefix_expr="\${CMAKE_CURRENT_LIST_DIR}$up"
    libdir_expr="\${_dashmap_prefix}/$lib_rel"
    incdir_expr="\${_dashmap_prefix}/$inc_rel"
else
    prefix_expr="$prefix"; libdir_expr="$libdir"; incdir_expr="$includedir"
fi
private=$(sed -n 's/^Libs.private: *//p' "$tmp/dashmap.pc")
private_cmake=""
for flag in $private; do
    case "$flag" in
    -l*) private_cmake="${private_cmake:+$private_cmake;}${flag#-l}" ;;
    *) private_cmake="${private_cmake:+$private_cmake;}$flag" ;;
    esac
done
sizeof_void_p=$(( $(getconf LONG_BIT) / 8 ))
subst() { # subst TEMPLATE OUT
    local text
    text=$(<"$1")
    text=${text//@DASHMAP_VERSION@/"$version"}
    text=${text//@DASHMAP_VERSION_MAJOR@/"$v_major"}
    text=${text//@DASHMAP_VERSION_MINOR@/"$v_minor"}
    text=${text//@DASHMAP_VERSION_PATCH@/"$v_patch"}
    text=${text//@DASHMAP_SONAME@/"$soname"}
    text=${text//@DASHMAP_REALNAME@/"$realname"}
    text=${text//@DASHMAP_PREFIX_EXPR@/"$prefix_expr"}
    text=${text//@DASHMAP_LIBDIR_EXPR@/"$libdir_expr"}
    text=${text//@DASHMAP_INCLUDEDIR_EXPR@/"$incdir_expr"}
    text=${text//@DASHMAP_PRIVATE_LIBS@/"$private_cmake"}
    text=${text//@DASHMAP_SIZEOF_VOID_P@/"$sizeof_void_p"}
    case "$text" in *@DASHMAP_*) die "unsubstituted @DASHMAP_...@ left in $1" ;; esac
    printf '%s\n' "$text" >"$2"
}
subst "$root/cmake/dashmapConfig.cmake.in" "$tmp/dashmapConfig.cmake"
subst "$root/cmake/dashmapConfigVersion.cmake.in" "$tmp/dashmapConfigVersion.cmake"
put "$tmp/dashmapConfig.cmake" 644 "$cmakedir/dashmapConfig.cmake"
put "$tmp/dashmapConfigVersion.cmake" 644 "$cmakedir/dashmapConfigVersion.cmake"

# The manifest last, so a failed install leaves nothing claiming success.
make_dir "$(dirname "$manifest")"
printf '%s\n' "${entries[@]}" >"$tmp/manifest"
install -m 644 -- "$tmp/manifest" "$destdir$manifest"
echo "  installed $destdir$manifest"

# A real (non-staged) install as root into a directory the dynamic linker
# already searches: refresh its cache so libdashmap.so.$sover is found at once.
if [ -z "$destdir" ] && [ "${DM_NO_LDCONFIG:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null 2>&1; then
    if { printf '%s\n' /lib /usr/lib /lib64 /usr/lib64; cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null; } | grep -qxF -- "$libdir"; then
        ldconfig || echo "install.sh: warning: ldconfig failed" >&2
    fi
fi
echo "libdashmap $version installed under ${destdir}${prefix} (SONAME $soname)"
