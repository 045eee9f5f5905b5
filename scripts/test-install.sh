#!/usr/bin/env bash
# Packaging tests (`make test-install`; assumes `make lib` has run):
#   - symbol hygiene: the shared library exports exactly the dm_* functions
#     that include/dashmap.h declares, nothing else
#   - header hygiene: dashmap.h as C11 and C++17, dashmap.hpp as C++17, with
#     -Wall -Wextra -Wpedantic -Werror (and more)
#   - `make install PREFIX=<tmp>` into a prefix holding unrelated files: file
#     list, SONAME, symlinks, pkg-config file (Libs.private = rustc's
#     native-static-libs), CMake package version rules
#   - out-of-tree consumers of the installed tree: C via pkg-config (shared,
#     and static against libdashmap.a only), C++ via CMake find_package(dashmap)
#     (dashmap::dashmap and dashmap::dashmap_static), and the GoogleTest suite
#     of dashmap.hpp (cpp_tests/, run by ctest)
#   - DESTDIR + multiarch LIBDIR staging, relocation of the staged tree,
#     reinstall, a user file inside an installed directory
#   - `make uninstall` leaves the prefix exactly as it was
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS

checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# DT_NEEDED entries of an ELF file, one a line (captured first: with pipefail,
# `producer | grep -q` can fail on SIGPIPE).
needed_by() { local out; out=$(readelf -d "$1"); sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$out"; }
need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is required"; }
for tool in gcc g++ cmake ctest pkg-config readelf nm ldd make; do need "$tool"; done

so=target/release/libdashmap.so
a=target/release/libdashmap.a
[ -f "$so" ] && [ -f "$a" ] || fail "$so / $a missing: run 'make lib' first"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IFS=. read -r v_major v_minor v_patch <<<"${version%%[-+]*}"
# cargo-c's SONAME rule: 0.0.z -> so.0.0.z, 0.y.z -> so.0.y, x.y.z -> so.x
if [ "$v_major" -eq 0 ] && [ "$v_minor" -eq 0 ]; then sover="0.0.$v_patch"
elif [ "$v_major" -eq 0 ]; then sover="0.$v_minor"
else sover="$v_major"; fi
soname="libdashmap.so.$sover"
realname="libdashmap.so.$v_major.$v_minor.$v_patch"

jobs=$(nproc 2>/dev/null || echo 2)
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dashmap-install-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# ------------------------------------------------------------ symbol hygiene
# Exactly the functions dashmap.h declares; no Rust or std symbol leaks.
declared=$(grep -oE '^[a-z_][a-z0-9_ ]*[ *]dm_[a-z0-9_]+\(' include/dashmap.h | grep -oE 'dm_[a-z0-9_]+\($' | tr -d '(' | sort -u)
[ "$(wc -l <<<"$declared")" -ge 40 ] || fail "could not parse the functions of include/dashmap.h"
check_exports() {
    local lib="$1" exported others
    exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort -u)
    others=$(grep -v '^dm_' <<<"$exported" || true)
    [ -z "$others" ] || fail "$lib exports non-dm_ symbols: $(tr '\n' ' ' <<<"$others")"
    # Absolute symbols are version nodes; there must be none or only ours.
    nm -D --defined-only "$lib" | awk '$2 == "A" && $3 !~ /^DASHMAP/ { bad = 1 } END { exit bad }' ||
        fail "$lib has a foreign version node"
    if [ "$exported" != "$declared" ]; then
        diff <(echo "$declared") <(echo "$exported") >&2 || true
        fail "$lib exports differ from the functions in include/dashmap.h (< header, > library)"
    fi
}
check_exports "$so"
ok "symbols: $so exports exactly the $(wc -l <<<"$declared") dm_* functions of dashmap.h"

# ------------------------------------------------------------ header hygiene
warn=(-Wall -Wextra -Wpedantic -Werror)
echo '#include "dashmap.h"' | gcc -std=c11 "${warn[@]}" -Wstrict-prototypes -Wmissing-prototypes \
    -Wshadow -Wconversion -Iinclude -x c -c - -o /dev/null || fail "dashmap.h as C11"
ok "header: dashmap.h compiles as C11 (gcc ${warn[*]} -Wstrict-prototypes ...)"
echo '#include "dashmap.h"' | g++ -std=c++17 "${warn[@]}" -Wshadow -Wconversion -Iinclude -x c++ -c - -o /dev/null ||
    fail "dashmap.h as C++17"
ok "header: dashmap.h compiles as C++17 (g++ ${warn[*]})"
echo '#include "dashmap.hpp"' | g++ -std=c++17 "${warn[@]}" -Iinclude -x c++ -c - -o /dev/null ||
    fail "dashmap.hpp as C++17"
strict=(-Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Wcast-qual -Wnon-virtual-dtor
    -Woverloaded-virtual -Wnull-dereference -Wuseless-cast)
for std in c++17 c++20; do
    g++ -std=$std "${warn[@]}" "${strict[@]}" -Iinclude -fsyntax-only tests/install/hpp_hygiene.cpp ||
        fail "dashmap.hpp templates with -std=$std and strict warnings"
done
ok "header: dashmap.hpp compiles as C++17, every template instantiated (and C++20) with ${warn[*]} ${strict[*]}"
if echo '#include "dashmap.hpp"' | g++ -std=c++14 -Iinclude -x c++ -c - -o /dev/null 2>/dev/null; then
    fail "dashmap.hpp accepted -std=c++14"
fi
ok "header: dashmap.hpp refuses C++14 with a clear #error"

# ---------------------------------------------------------------- install
prefix="$tmp/prefix"
mkdir -p "$prefix/share/other"
echo unrelated >"$prefix/unrelated.txt"
echo keep >"$prefix/share/other/keep.txt"
before=$(cd "$prefix" && find . | sort)

make --no-print-directory install PREFIX="$prefix" >"$tmp/make-install.log" 2>&1 ||
    { cat "$tmp/make-install.log" >&2; fail "make install PREFIX=$prefix"; }
ok "make install PREFIX=<tmp>/prefix"

installed=$(cd "$prefix" && find . \( -type f -o -type l \) | sort | grep -vxF -e ./unrelated.txt -e ./share/other/keep.txt)
expected=$(printf './%s\n' include/dashmap.h include/dashmap.hpp lib/libdashmap.a lib/libdashmap.so \
    "lib/$soname" "lib/$realname" lib/pkgconfig/dashmap.pc lib/cmake/dashmap/dashmapConfig.cmake \
    lib/cmake/dashmap/dashmapConfigVersion.cmake share/dashmap/install_manifest.txt | sort)
[ "$installed" = "$expected" ] || { diff <(echo "$expected") <(echo "$installed") >&2; fail "installed file list"; }
ok "install: exactly the expected $(wc -l <<<"$expected") files and links"

lib="$prefix/lib"
[ -f "$lib/$realname" ] && [ ! -L "$lib/$realname" ] || fail "$realname is not a regular file"
[ "$(readlink "$lib/$soname")" = "$realname" ] || fail "$soname -> $(readlink "$lib/$soname")"
[ "$(readlink "$lib/libdashmap.so")" = "$realname" ] || fail "libdashmap.so -> $(readlink "$lib/libdashmap.so")"
[ -x "$lib/$realname" ] || fail "$realname is not executable"
got=$(readelf -d "$lib/$realname" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$got" = "$soname" ] || fail "SONAME is '$got', expected '$soname'"
ok "install: SONAME $soname (cargo-c rule for $version), $soname and libdashmap.so -> $realname"
check_exports "$lib/$realname"
ok "symbols: the installed $realname exports only dm_* functions"
cmp -s include/dashmap.h "$prefix/include/dashmap.h" && cmp -s include/dashmap.hpp "$prefix/include/dashmap.hpp" &&
    cmp -s "$a" "$lib/libdashmap.a" || fail "installed headers / static library differ from the build tree"
ok "install: headers and libdashmap.a are the build tree's"
manifest="$prefix/share/dashmap/install_manifest.txt"
grep -qxF "f $lib/$realname" "$manifest" && grep -qxF "l $lib/$soname" "$manifest" &&
    grep -qxF "d $prefix/lib" "$manifest" && ! grep -qxF "d $prefix/share" "$manifest" &&
    ! grep -q "unrelated\|other" "$manifest" || fail "manifest content: $(cat "$manifest")"
ok "install: the manifest lists what was installed and only the directories the install created"

export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(pkg-config --modversion dashmap)" = "$version" ] || fail "pkg-config --modversion"
[ "$(pkg-config --variable=libdir dashmap)" = "$lib" ] || fail "pkg-config libdir"
[ "$(pkg-config --variable=includedir dashmap)" = "$prefix/include" ] || fail "pkg-config includedir"
private=$(sed -n 's/^Libs.private: *//p' "$lib/pkgconfig/dashmap.pc")
if command -v rustc >/dev/null 2>&1; then
    echo '' >"$tmp/empty.rs"
    native=$(cd "$tmp" && rustc --crate-type staticlib --crate-name empty --print native-static-libs \
        -o "$tmp/libempty.a" empty.rs 2>&1 | sed -n 's/.*native-static-libs: *//p')
    [ -n "$native" ] || fail "rustc printed no native-static-libs"
    [ "$private" = "$native" ] || fail "Libs.private '$private' != rustc native-static-libs '$native' (update scripts/write-pc.sh)"
    ok "pkg-config: version $version, Libs.private = rustc's native-static-libs ($native)"
else
    ok "pkg-config: version $version (rustc not found: Libs.private not cross-checked)"
fi

# A moved copy of the tree: pkg-config --define-prefix relocates the pc file
# (pkgconf derives the prefix from <prefix>/lib/pkgconfig, so LIBDIR=lib only).
cp -a "$prefix" "$tmp/moved"
[ "$(PKG_CONFIG_PATH="$tmp/moved/lib/pkgconfig" pkg-config --define-prefix --variable=libdir dashmap)" = "$tmp/moved/lib" ] ||
    fail "dashmap.pc is not relocatable with pkg-config --define-prefix"
rm -rf -- "$tmp/moved"
ok "pkg-config: libdir/includedir are \${prefix}-relative (relocatable with --define-prefix)"

# CMake version rules (pre-1.0: caret semantics, like the SONAME).
cat >"$tmp/version-check.cmake" <<'EOF'
function(expect_compat requested want_compat want_exact)
  string(REPLACE "." ";" parts "${requested}")
  list(LENGTH parts count)
  list(APPEND parts 0 0 0)
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
  list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
  set(PACKAGE_FIND_VERSION "${requested}")
  set(PACKAGE_FIND_VERSION_COUNT ${count})
  set(CMAKE_SIZEOF_VOID_P 8)
  unset(PACKAGE_VERSION_EXACT)
  include("${VERSION_FILE}")
  if(NOT "${PACKAGE_VERSION_COMPATIBLE}" STREQUAL "${want_compat}" OR NOT "${PACKAGE_VERSION_EXACT}" STREQUAL "${want_exact}")
    message(FATAL_ERROR "find_package(dashmap ${requested}) against ${PACKAGE_VERSION}: compatible=${PACKAGE_VERSION_COMPATIBLE} exact=${PACKAGE_VERSION_EXACT}, expected ${want_compat}/${want_exact}")
  endif()
endfunction()
EOF
if [ "$v_major" -eq 0 ] && [ "$v_minor" -gt 0 ]; then
    cat >>"$tmp/version-check.cmake" <<EOF
expect_compat("" TRUE "")
expect_compat("$v_major.$v_minor.$v_patch" TRUE TRUE)
expect_compat("$v_major.$v_minor" TRUE "")
expect_compat("$v_major" TRUE "")
expect_compat("$v_major.$((v_minor + 1))" FALSE "")
expect_compat("$v_major.$v_minor.$((v_patch + 1))" FALSE "")
expect_compat("$((v_major + 1))" FALSE "")
expect_compat("$v_major.$((v_minor - 1)).9" FALSE "")
EOF
fi
cmake -DVERSION_FILE="$lib/cmake/dashmap/dashmapConfigVersion.cmake" -P "$tmp/version-check.cmake" ||
    fail "dashmapConfigVersion.cmake rules"
ok "cmake: dashmapConfigVersion.cmake accepts $v_major.$v_minor.x and rejects other minors / majors"

# ----------------------------------------------- out-of-tree C via pkg-config
cd "$tmp"
gcc -std=c11 "${warn[@]}" "$root/tests/install/c_consumer.c" $(pkg-config --cflags --libs dashmap) -o c_shared
grep -qxF "$soname" <<<"$(needed_by c_shared)" || fail "c_shared does not need $soname"
ldd_out=$(LD_LIBRARY_PATH="$lib" ldd ./c_shared)
grep -q "$soname => $lib/$soname" <<<"$ldd_out" || fail "c_shared resolves $soname elsewhere: $ldd_out"
LD_LIBRARY_PATH="$lib" ./c_shared
ok "C consumer via 'pkg-config --cflags --libs dashmap': needs $soname, runs against the installed library"

static_libs=$(pkg-config --static --libs dashmap)
static_libs=${static_libs/-ldashmap/-Wl,-Bstatic -ldashmap -Wl,-Bdynamic}
gcc -std=c11 "${warn[@]}" "$root/tests/install/c_consumer.c" $(pkg-config --static --cflags dashmap) $static_libs -o c_static
if grep -q libdashmap <<<"$(ldd ./c_static) $(needed_by c_static)"; then
    fail "c_static still needs libdashmap.so"
fi
env -u LD_LIBRARY_PATH ./c_static
ok "C consumer via 'pkg-config --static' against libdashmap.a: no libdashmap.so needed (ldd), runs"
gcc -std=c11 "${warn[@]}" "$root/tests/install/own_mimalloc.c" $(pkg-config --static --cflags dashmap) $static_libs -o own_mimalloc
env -u LD_LIBRARY_PATH ./own_mimalloc
ok "static: a program defining its own mi_malloc/mi_free links with libdashmap.a (bundled mimalloc renamed) and neither calls the other's"
cd "$root"

# --------------------------------------------------- C++ via find_package
cmake "${generator[@]}" -S tests/install/cmake_consumer -B "$tmp/cmake_consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/cmake_consumer.log" 2>&1 ||
    { cat "$tmp/cmake_consumer.log" >&2; fail "configure tests/install/cmake_consumer"; }
grep -qxF "dashmap_DIR:PATH=$lib/cmake/dashmap" "$tmp/cmake_consumer/CMakeCache.txt" ||
    fail "find_package(dashmap) found $(grep dashmap_DIR "$tmp/cmake_consumer/CMakeCache.txt")"
cmake --build "$tmp/cmake_consumer" -j "$jobs" >>"$tmp/cmake_consumer.log" 2>&1 ||
    { cat "$tmp/cmake_consumer.log" >&2; fail "build tests/install/cmake_consumer"; }
grep -qxF "$soname" <<<"$(needed_by "$tmp/cmake_consumer/consumer_shared")" ||
    fail "consumer_shared does not need $soname"
ldd_out=$(ldd "$tmp/cmake_consumer/consumer_shared")
grep -q "$soname => $lib/$soname" <<<"$ldd_out" || fail "consumer_shared resolves $soname elsewhere: $ldd_out"
"$tmp/cmake_consumer/consumer_shared"
ok "CMake consumer with dashmap::dashmap: needs $soname from the prefix, runs"
if grep -q libdashmap <<<"$(ldd "$tmp/cmake_consumer/consumer_static")"; then fail "consumer_static needs libdashmap.so"; fi
"$tmp/cmake_consumer/consumer_static"
ok "CMake consumer with dashmap::dashmap_static: no libdashmap.so needed, runs"

# ------------------------------------------------ the wrapper's test suite
cmake "${generator[@]}" -S cpp_tests -B "$tmp/cpp_tests" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/cpp_tests.log" 2>&1 ||
    { cat "$tmp/cpp_tests.log" >&2; fail "configure cpp_tests"; }
cmake --build "$tmp/cpp_tests" -j "$jobs" >>"$tmp/cpp_tests.log" 2>&1 ||
    { cat "$tmp/cpp_tests.log" >&2; fail "build cpp_tests"; }
ctest --test-dir "$tmp/cpp_tests" -j "$jobs" --output-on-failure >"$tmp/ctest.log" 2>&1 ||
    { cat "$tmp/ctest.log" >&2; fail "cpp_tests (ctest)"; }
summary=$(grep -E 'tests passed' "$tmp/ctest.log")
ok "cpp_tests (GoogleTest via find_package(dashmap), dashmap::dashmap, ctest): $summary"

# Again against dashmap::dashmap_static, under AddressSanitizer (with leak
# checking) and UBSan: the wrapper's trampolines, buffers and iterators.
# DM_TEST_INSTALL_ASAN=0 skips it.
if [ "${DM_TEST_INSTALL_ASAN:-1}" != 0 ]; then
    san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    cmake "${generator[@]}" -S cpp_tests -B "$tmp/cpp_tests_asan" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug \
        -DDASHMAP_LINK_STATIC=ON -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/cpp_tests_asan.log" 2>&1 ||
        { cat "$tmp/cpp_tests_asan.log" >&2; fail "configure cpp_tests (ASan)"; }
    cmake --build "$tmp/cpp_tests_asan" -j "$jobs" >>"$tmp/cpp_tests_asan.log" 2>&1 ||
        { cat "$tmp/cpp_tests_asan.log" >&2; fail "build cpp_tests (ASan)"; }
    if grep -q libdashmap <<<"$(ldd "$tmp/cpp_tests_asan/dashmap_hpp_test")"; then fail "ASan suite is not static"; fi
    ASAN_OPTIONS=detect_leaks=1 ctest --test-dir "$tmp/cpp_tests_asan" -j "$jobs" --output-on-failure \
        >"$tmp/ctest_asan.log" 2>&1 || { cat "$tmp/ctest_asan.log" >&2; fail "cpp_tests under ASan/UBSan"; }
    ok "cpp_tests against dashmap::dashmap_static under ASan+LSan+UBSan: $(grep -E 'tests passed' "$tmp/ctest_asan.log")"
fi

# -------------------------------- DESTDIR, multiarch LIBDIR, relocation, reinstall
stage="$tmp/stage"
multi=lib/x86_64-linux-gnu
LIBDIR=$multi scripts/install.sh install /usr "$stage" >/dev/null
[ -f "$stage/usr/$multi/$realname" ] && [ -f "$stage/usr/include/dashmap.hpp" ] &&
    [ -f "$stage/usr/$multi/cmake/dashmap/dashmapConfig.cmake" ] &&
    [ -f "$stage/usr/share/dashmap/install_manifest.txt" ] || fail "DESTDIR install layout: $(cd "$stage" && find .)"
grep -qxF "prefix=/usr" "$stage/usr/$multi/pkgconfig/dashmap.pc" &&
    grep -qxF "libdir=\${prefix}/$multi" "$stage/usr/$multi/pkgconfig/dashmap.pc" || fail "staged dashmap.pc"
grep -qxF "f /usr/$multi/$realname" "$stage/usr/share/dashmap/install_manifest.txt" ||
    fail "the staged manifest must hold final paths (without DESTDIR)"
ok "DESTDIR=<stage> PREFIX=/usr LIBDIR=$multi: staged layout, pc file and manifest use the final paths"

# The staged tree is used in place (relocated): the config finds itself.
cmake "${generator[@]}" -S tests/install/cmake_consumer -B "$tmp/relocated" -DCMAKE_PREFIX_PATH="$stage/usr" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/relocated.log" 2>&1 ||
    { cat "$tmp/relocated.log" >&2; fail "configure against the relocated tree"; }
grep -qF "dashmap $version: $stage/usr/$multi/$realname" "$tmp/relocated.log" ||
    fail "relocated config resolved to: $(grep 'dashmap ' "$tmp/relocated.log")"
ok "cmake: dashmapConfig.cmake is relocatable (staged tree used in place, libdir $multi)"

manifest_before=$(cat "$stage/usr/share/dashmap/install_manifest.txt")
LIBDIR=$multi scripts/install.sh install /usr "$stage" >/dev/null
[ "$manifest_before" = "$(cat "$stage/usr/share/dashmap/install_manifest.txt")" ] || fail "reinstall changed the manifest"
mkdir -p "$stage/usr/$multi/pkgconfig" && echo user >"$stage/usr/$multi/pkgconfig/zlib.pc"
LIBDIR=$multi scripts/install.sh uninstall /usr "$stage" >/dev/null
left=$(cd "$stage" && find . -mindepth 1 | sort)
want=$(printf '%s\n' ./usr ./usr/lib "./usr/$multi" "./usr/$multi/pkgconfig" "./usr/$multi/pkgconfig/zlib.pc" | sort)
[ "$left" = "$want" ] || { diff <(echo "$want") <(echo "$left") >&2; fail "staged uninstall"; }
ok "reinstall is idempotent; uninstall keeps a user file (and its directories) inside an installed directory"

# --------------------------------------------------------------- uninstall
make --no-print-directory uninstall PREFIX="$prefix" >"$tmp/make-uninstall.log" 2>&1 ||
    { cat "$tmp/make-uninstall.log" >&2; fail "make uninstall PREFIX=$prefix"; }
after=$(cd "$prefix" && find . | sort)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "the prefix differs after uninstall"; }
[ "$(cat "$prefix/unrelated.txt")" = unrelated ] && [ "$(cat "$prefix/share/other/keep.txt")" = keep ] ||
    fail "unrelated files changed"
ok "make uninstall: the prefix is exactly as before (unrelated files kept, nothing of libdashmap left)"
if scripts/install.sh uninstall "$prefix" >/dev/null 2>&1; then fail "a second uninstall should report nothing installed"; fi
ok "uninstall without an installation fails with a message"

echo "test-install: all $checks checks passed in $((SECONDS - start))s"
