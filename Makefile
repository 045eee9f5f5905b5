# libdashmap: build, test, install.
#
#   make demo      build the library and run the main demo
#   make test      every test: Rust, header sync, C (+ASan/UBSan, valgrind),
#                  examples, install + C++, Go, Node, Zig, reliability
#   make install   PREFIX=/usr/local DESTDIR=   (see README "Install")
#   make bench     benchmarks -> BENCHMARKS.md (not part of `make test`)
#   make fuzz      long fuzzing run (FUZZ_SECONDS=600)
#   make stress    long stress run (DURATION=300)
#
# Every target works on a fresh machine: the scripts in scripts/ install
# what they need (npm packages, ziglang from PyPI, Debian packages).

CARGO     ?= cargo
# Extra cargo flags for the library, e.g. CARGO_FLAGS=--no-default-features
# (entries from the system allocator instead of the bundled mimalloc).
CARGO_FLAGS ?=
PREFIX    ?= /usr/local
BUILD     ?= build
RELEASE   := target/release
export DM_LIB_DIR := $(CURDIR)/$(RELEASE)
export DM_INCLUDE_DIR := $(CURDIR)/include

.PHONY: all lib demo test test-rust test-header test-c test-examples test-install \
        test-go test-node test-zig test-reliability install uninstall clean \
        bench bench-rust fuzz stress

all: lib

# The shared and static library in target/release, the header in include/,
# and an uninstalled pkg-config file in target/pkgconfig for in-tree consumers.
lib:
	$(CARGO) build --release --locked $(CARGO_FLAGS)
	@# The static archive's copy of mimalloc gets private names (see the script).
	scripts/rename-bundled-symbols.sh $(RELEASE)/libdashmap.a
	@# In-tree users load the library by its SONAME (libdashmap.so.0.Y); point it at the build.
	soname=$$(readelf -d $(RELEASE)/libdashmap.so | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p'); \
	    if [ -n "$$soname" ]; then ln -sf libdashmap.so $(RELEASE)/$$soname; fi
	scripts/write-pc.sh uninstalled $(CURDIR) > $(RELEASE)/dashmap-uninstalled.pc
	mkdir -p target/pkgconfig && cp $(RELEASE)/dashmap-uninstalled.pc target/pkgconfig/dashmap.pc

demo: lib
	scripts/demo.sh

test: test-rust test-header test-c test-examples test-install test-go test-node test-zig test-reliability
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) test --locked
	@# Entries from the system allocator instead of the bundled mimalloc.
	$(CARGO) test --locked --no-default-features --target-dir target/sysalloc
	$(CARGO) test --locked --features fault-injection --target-dir target/fault --test fault
	$(CARGO) test --locked --release --test hashdos -- --nocapture

# The committed header must equal what build.rs generates.
test-header: lib
	scripts/check-header.sh

test-c: lib
	scripts/test-c.sh

test-examples: lib
	scripts/test-examples.sh

test-install: lib
	scripts/test-install.sh

test-go: lib
	scripts/test-go.sh

test-node: lib
	scripts/test-node.sh

test-zig: lib
	scripts/test-zig.sh

# Bad-input matrix, lost updates, short stress, death tests, allocation
# failure, TSan stress, a 60 s fuzz run.
test-reliability: lib
	scripts/test-reliability.sh

bench: lib
	scripts/bench.sh

bench-rust:
	scripts/bench.sh rust

fuzz: lib
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} scripts/fuzz.sh

stress: lib
	DURATION=$${DURATION:-300} scripts/stress.sh

install: lib
	scripts/install.sh install "$(PREFIX)" "$(DESTDIR)"

uninstall:
	scripts/install.sh uninstall "$(PREFIX)" "$(DESTDIR)"

clean:
	$(CARGO) clean
	rm -rf $(BUILD) fuzz/target
