//! Build script for the Zig binding of libdashmap.
//!
//! Provides the module `dashmap` (src/dashmap.zig) for other packages, plus:
//!   zig build test               unit + API tests (`--summary all` prints the counts)
//!   zig build example            build and run examples/rate_limiter.zig
//!   zig build run-rate-limiter   the same
//!
//! Options (also accepted as dependency arguments, e.g. `.linkage = .static`):
//!   -Dlinkage=dynamic|static  how to link libdashmap (default dynamic)
//!   -Dstatic=true             shorthand for -Dlinkage=static
//!   -Dlib-dir=DIR             directory holding libdashmap.so / libdashmap.a
//!                             (default: ../../target/release, the Cargo build tree)
//!   -Dinclude-dir=DIR         directory holding dashmap.h (default: ../../include)
//!   -Dsystem=true             use an installed libdashmap: ask pkg-config for
//!                             `dashmap`, else the default system search paths;
//!                             lib-dir/include-dir are then only added if given
//!   -Drpath=false             do not record lib-dir as a run path (dynamic only)
//! A relative DIR is taken from the directory `zig build` runs in; the defaults
//! are relative to this package.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    const static = b.option(bool, "static", "Link libdashmap statically (same as -Dlinkage=static)") orelse false;
    const linkage: std.builtin.LinkMode = b.option(
        std.builtin.LinkMode,
        "linkage",
        "Link libdashmap dynamically (default) or statically",
    ) orelse if (static) .static else .dynamic;
    const system = b.option(bool, "system", "Use an installed libdashmap (pkg-config `dashmap` or the system search paths)") orelse false;
    const lib_dir_opt = b.option([]const u8, "lib-dir", "Directory with libdashmap.so/.a (default ../../target/release)");
    const include_dir_opt = b.option([]const u8, "include-dir", "Directory with dashmap.h (default ../../include)");
    const use_rpath = b.option(bool, "rpath", "Record lib-dir as a run path when linking dynamically (default true)") orelse true;

    // Where the library and the header come from.
    var lib_dir: ?std.Build.LazyPath = null;
    var include_dir: ?std.Build.LazyPath = null;
    if (lib_dir_opt) |dir| lib_dir = userPath(b, dir);
    if (include_dir_opt) |dir| include_dir = userPath(b, dir);
    if (system) {
        if (include_dir == null) {
            if (pkgConfigVariable(b, "includedir")) |dir| include_dir = .{ .cwd_relative = dir };
        }
    } else {
        if (lib_dir == null) lib_dir = b.path("../../target/release");
        if (include_dir == null) include_dir = b.path("../../include");
    }

    // dashmap.h translated to Zig at build time; imported by the module as "c".
    const header: std.Build.LazyPath = if (include_dir) |dir|
        dir.path(b, "dashmap.h")
    else
        .{ .cwd_relative = findSystemHeader(b) };
    const translate = b.addTranslateC(.{
        .root_source_file = header,
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    if (include_dir) |dir| translate.addIncludePath(dir);

    const mod = b.addModule("dashmap", .{
        .root_source_file = b.path("src/dashmap.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .imports = &.{.{ .name = "c", .module = translate.createModule() }},
    });
    if (lib_dir) |dir| mod.addLibraryPath(dir);

    switch (linkage) {
        .dynamic => {
            if (system) {
                mod.linkSystemLibrary("dashmap", .{ .preferred_link_mode = .dynamic });
            } else {
                mod.linkSystemLibrary("dashmap", .{
                    .use_pkg_config = .no,
                    .preferred_link_mode = .dynamic,
                    .search_strategy = .mode_first,
                });
            }
            if (use_rpath) if (lib_dir) |dir| mod.addRPath(dir);
        },
        .static => {
            if (lib_dir) |dir| {
                // The archive itself, so a libdashmap.so beside it is never picked.
                mod.addObjectFile(dir.path(b, "libdashmap.a"));
            } else {
                mod.linkSystemLibrary("dashmap", .{
                    .preferred_link_mode = .static,
                    .search_strategy = .mode_first,
                });
            }
            // What a Rust staticlib needs on Linux (Libs.private in the .pc file):
            // libc, whose parts pthread, dl and m are for Zig, and the Itanium
            // `_Unwind_*` API for the library's panic boundary (libgcc_s for
            // rustc). Zig answers `-lunwind` (and `-lgcc_s`) by building and
            // linking its bundled LLVM libunwind, so nothing comes from the host.
            for ([_][]const u8{ "c", "pthread", "dl", "m", "unwind" }) |name| mod.linkSystemLibrary(name, .{});
        },
    }

    // Tests: the module's own unit tests and the API tests in tests/.
    const test_step = b.step("test", "Run the binding's tests");
    const unit_tests = b.addTest(.{ .name = "dashmap-unit", .root_module = mod });
    test_step.dependOn(&b.addRunArtifact(unit_tests).step);

    const api_tests = b.addTest(.{
        .name = "dashmap-api",
        .root_module = b.createModule(.{
            .root_source_file = b.path("tests/dashmap_test.zig"),
            .target = target,
            .optimize = optimize,
            .imports = &.{.{ .name = "dashmap", .module = mod }},
        }),
    });
    test_step.dependOn(&b.addRunArtifact(api_tests).step);

    // The rate limiter example: `zig build example` or `zig build run-rate-limiter`.
    const example = b.addExecutable(.{
        .name = "rate_limiter",
        .root_module = b.createModule(.{
            .root_source_file = b.path("examples/rate_limiter.zig"),
            .target = target,
            .optimize = optimize,
            .imports = &.{.{ .name = "dashmap", .module = mod }},
        }),
    });
    const run_example = b.addRunArtifact(example);
    b.step("example", "Build and run the examples").dependOn(&run_example.step);
    b.step("run-rate-limiter", "Build and run examples/rate_limiter.zig").dependOn(&run_example.step);
    b.installArtifact(example);
}

/// A directory named on the command line (or by a depending package): absolute,
/// or relative to the directory `zig build` runs in.
fn userPath(b: *std.Build, dir: []const u8) std.Build.LazyPath {
    return .{ .cwd_relative = b.dupe(dir) };
}

/// `pkg-config --variable=NAME dashmap`, or null when pkg-config or the package is missing.
fn pkgConfigVariable(b: *std.Build, name: []const u8) ?[]const u8 {
    var code: u8 = undefined;
    const out = b.runAllowFail(
        &.{ "pkg-config", b.fmt("--variable={s}", .{name}), "dashmap" },
        &code,
        .Ignore,
    ) catch return null;
    const trimmed = std.mem.trim(u8, out, " \t\r\n");
    return if (trimmed.len == 0) null else trimmed;
}

/// dashmap.h in the usual system include directories (for -Dsystem=true
/// without pkg-config); panics with a hint when it is nowhere.
fn findSystemHeader(b: *std.Build) []const u8 {
    for ([_][]const u8{ "/usr/local/include", "/usr/include" }) |dir| {
        const file = b.pathJoin(&.{ dir, "dashmap.h" });
        std.fs.accessAbsolute(file, .{}) catch continue;
        return file;
    }
    std.debug.panic("dashmap.h not found: pass -Dinclude-dir=DIR (or install libdashmap with its pkg-config file)", .{});
}
