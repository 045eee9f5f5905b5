//! Generates `include/dashmap.h` from the `dm_` items in `src/` with cbindgen.
//!
//! The header is committed so that C users never need cargo; the test command
//! checks that the committed copy equals what this script generates.

use std::{env, fs, path::PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    shared_library_link_args();

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    config.after_includes = Some(version_macros());

    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => panic!("cbindgen failed to generate include/dashmap.h: {e}"),
    };
    let mut raw = Vec::new();
    bindings.write(&mut raw);
    let generated = parenthesize_negative_macros(&String::from_utf8(raw).unwrap()).into_bytes();

    // Rewrite only when the text changed, so an unchanged header keeps its
    // timestamp and downstream C builds are not invalidated.
    let header = crate_dir.join("include").join("dashmap.h");
    if fs::read(&header).ok().as_deref() != Some(&generated[..]) {
        fs::create_dir_all(header.parent().unwrap()).unwrap();
        fs::write(&header, &generated).expect("write include/dashmap.h");
    }
}

/// ELF SONAME for the cdylib, following cargo-c's default rule (`sover`):
/// 0.0.z -> `libdashmap.so.0.0.z`, 0.y.z -> `libdashmap.so.0.y`, x.y.z (x >= 1)
/// -> `libdashmap.so.x`. Before 1.0 every minor release may break the ABI,
/// so the minor is part of the name. `scripts/install.sh` installs the file as
/// `libdashmap.so.X.Y.Z` with `libdashmap.so.<sover>` and `libdashmap.so`
/// symlinks. Only dm_* symbols are exported: rustc's own cdylib version script
/// already hides everything else (checked by `scripts/test-install.sh`), so no
/// extra version script is passed (next to rustc's anonymous one, a second
/// script with a named version node is silently without effect in GNU ld).
fn shared_library_link_args() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdashmap.so.{}", sover());
}

/// cargo-c's `LibraryCApiConfig::sover()` with no `version_suffix_components`.
fn sover() -> String {
    let v = |name: &str| -> u64 { env::var(name).unwrap().parse().unwrap() };
    match (v("CARGO_PKG_VERSION_MAJOR"), v("CARGO_PKG_VERSION_MINOR"), v("CARGO_PKG_VERSION_PATCH")) {
        (0, 0, patch) => format!("0.0.{patch}"),
        (0, minor, _) => format!("0.{minor}"),
        (major, _, _) => format!("{major}"),
    }
}

/// `#define DM_ERR_NULL -1` would turn `x-DM_ERR_NULL` into `x--1`; emit `(-1)`.
fn parenthesize_negative_macros(header: &str) -> String {
    let mut out = String::with_capacity(header.len() + 64);
    for line in header.split_inclusive('\n') {
        let fixed = line.strip_prefix("#define ").and_then(|rest| {
            let (name, value) = rest.trim_end().split_once(' ')?;
            let digits = value.strip_prefix('-')?;
            digits.bytes().all(|b| b.is_ascii_digit()).then(|| format!("#define {name} ({value})\n"))
        });
        out.push_str(fixed.as_deref().unwrap_or(line));
    }
    out
}

/// `DM_VERSION_*` macros from Cargo's package version, so the header and
/// `dm_version()` can never disagree.
fn version_macros() -> String {
    let major: u32 = env::var("CARGO_PKG_VERSION_MAJOR").unwrap().parse().unwrap();
    let minor: u32 = env::var("CARGO_PKG_VERSION_MINOR").unwrap().parse().unwrap();
    let patch: u32 = env::var("CARGO_PKG_VERSION_PATCH").unwrap().parse().unwrap();
    format!(
        "\n/** Library version this header belongs to; equals dm_version() / dm_version_number(). */\n\
         #define DM_VERSION_MAJOR {major}\n\
         #define DM_VERSION_MINOR {minor}\n\
         #define DM_VERSION_PATCH {patch}\n\
         /** MAJOR * 10000 + MINOR * 100 + PATCH, for compile-time checks. */\n\
         #define DM_VERSION_NUMBER {number}\n\
         #define DM_VERSION_STRING \"{major}.{minor}.{patch}\"\n",
        number = major * 10000 + minor * 100 + patch
    )
}
