# Shared by the in-tree CMake projects (examples/, reliability/): defines the
# imported target `dashmap` for the build tree's libdashmap.so and sets
# DM_LIB_DIR, DM_INCLUDE_DIR, DM_LIBRARY, DM_SONAME and DM_RPATH (the rpath
# for executables). Include it after project().
#
#   DM_LIB_DIR      directory with libdashmap.so   (default ../target/release)
#   DM_INCLUDE_DIR  directory with dashmap.h       (default ../include)
# Each may be a -D cache variable or an environment variable; relative paths
# are taken relative to the including project's directory.

foreach(dm_var_default IN ITEMS "DM_LIB_DIR=../target/release" "DM_INCLUDE_DIR=../include")
  string(REPLACE "=" ";" dm_pair "${dm_var_default}")
  list(GET dm_pair 0 dm_var)
  list(GET dm_pair 1 dm_default)
  if(NOT DEFINED ${dm_var} OR "${${dm_var}}" STREQUAL "")
    if(DEFINED ENV{${dm_var}} AND NOT "$ENV{${dm_var}}" STREQUAL "")
      set(${dm_var} "$ENV{${dm_var}}")
    else()
      set(${dm_var} "${dm_default}")
    endif()
  endif()
  get_filename_component(${dm_var} "${${dm_var}}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
endforeach()

set(DM_LIBRARY "${DM_LIB_DIR}/${CMAKE_SHARED_LIBRARY_PREFIX}dashmap${CMAKE_SHARED_LIBRARY_SUFFIX}")
if(NOT EXISTS "${DM_LIBRARY}")
  message(FATAL_ERROR "libdashmap not found at ${DM_LIBRARY}: run `make lib` first, or set DM_LIB_DIR")
endif()
if(NOT EXISTS "${DM_INCLUDE_DIR}/dashmap.h")
  message(FATAL_ERROR "dashmap.h not found in ${DM_INCLUDE_DIR}: set DM_INCLUDE_DIR")
endif()
message(STATUS "libdashmap: ${DM_LIBRARY}")
message(STATUS "dashmap.h:  ${DM_INCLUDE_DIR}")

# The shared library's SONAME (what executables record and look for at run
# time, e.g. libdashmap.so.0.1). `make lib` links it beside libdashmap.so; if
# the build tree lacks it, a symlink under this build directory provides it,
# and the executables' rpath covers that directory.
set(DM_SONAME "")
set(DM_RPATH "${DM_LIB_DIR}")
find_program(DM_READELF NAMES readelf ${CMAKE_READELF})
if(DM_READELF)
  execute_process(COMMAND "${DM_READELF}" -d "${DM_LIBRARY}" OUTPUT_VARIABLE dm_dynamic ERROR_QUIET)
  if(dm_dynamic MATCHES "Library soname: \\[([^]]+)\\]")
    set(DM_SONAME "${CMAKE_MATCH_1}")
  endif()
endif()
if(DM_SONAME AND NOT EXISTS "${DM_LIB_DIR}/${DM_SONAME}")
  set(dm_shim "${CMAKE_CURRENT_BINARY_DIR}/soname-link")
  file(MAKE_DIRECTORY "${dm_shim}")
  file(CREATE_LINK "${DM_LIBRARY}" "${dm_shim}/${DM_SONAME}" SYMBOLIC)
  list(APPEND DM_RPATH "${dm_shim}")
  message(STATUS "SONAME ${DM_SONAME} is not in ${DM_LIB_DIR}: linked it in ${dm_shim}")
endif()

# The library as an imported target. Without a SONAME, NO_SONAME makes CMake
# link it as -L<dir> -ldashmap instead of recording its absolute path.
add_library(dashmap SHARED IMPORTED)
set_target_properties(dashmap PROPERTIES
  IMPORTED_LOCATION "${DM_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${DM_INCLUDE_DIR}")
if(DM_SONAME)
  set_target_properties(dashmap PROPERTIES IMPORTED_SONAME "${DM_SONAME}")
else()
  set_target_properties(dashmap PROPERTIES IMPORTED_NO_SONAME TRUE)
endif()
