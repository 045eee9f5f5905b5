#!/usr/bin/env bash
# Builds target/tsan/x86_64-unknown-linux-gnu/release/libdashmap.a with
# ThreadSanitizer: the library and the Rust standard library (-Zbuild-std,
# which needs the rust-src component) instrumented, on the stable toolchain
# (RUSTC_BOOTSTRAP=1). LTO is off to keep the build short (about 4 minutes
# from scratch on 2 cores, seconds when cached). Used by
# scripts/test-reliability.sh and scripts/stress.sh (STRESS_TSAN=1).
# Without the bundled mimalloc (--no-default-features): its C code is not
# instrumented, so TSan would not see the synchronisation that hands a freed
# entry's memory to another thread, and would report races that are not.
#
#   reliability/build-tsan.sh            # build
#   reliability/build-tsan.sh --runtime  # print the path of rustc's TSan runtime
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-gnu
if [ "${1:-}" = --runtime ]; then
    # C code is linked with rustc's runtime (LLVM's), not gcc's libtsan: the
    # Rust side calls entry points gcc's older runtime does not have.
    ls "$(rustc --print sysroot)/lib/rustlib/$TARGET/lib/"librustc-*_rt.tsan.a | head -1
    exit 0
fi
echo "tsan: building libdashmap.a with -Zsanitizer=thread -Zbuild-std (target/tsan)"
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=thread" \
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=1 \
    cargo rustc --release --lib --crate-type staticlib -Zbuild-std --no-default-features \
    --target "$TARGET" --target-dir target/tsan --locked --quiet
