# Sourced by the example scripts: picks the CMake generator (Ninja when it is
# installed) into the array `generator`, and removes a build directory that
# was configured with another generator (CMake cannot reuse it).
# Usage: . scripts/cmake-generator.sh; choose_generator BUILD_DIR
choose_generator() {
    generator=()
    if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
    if [ -f "$1/CMakeCache.txt" ]; then
        local old want
        old=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$1/CMakeCache.txt")
        want="${generator[1]:-Unix Makefiles}"
        if [ "$old" != "$want" ]; then rm -rf "$1"; fi
    fi
}
