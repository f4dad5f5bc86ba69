# Enforces the public/internal header rule (src/CMakeLists.txt): a header under
# src/<module>/internal/ may be included only by
#   src/<module>/...                 the module itself
#   tests/unit/<module>/...          its unit tests
#   tests/integration/<module>/...   its integration tests
#   tests/fuzz/...                   fuzz targets (they drive internal parsers directly)
# Usage: cmake -DROOT=<source tree> -P check_includes.cmake
# Scans src/, apps/, bench/ and tests/ (not tests/fixtures/) for #include "<module>/internal/...";
# prints every violation as "<file>:<line>: includes <header> ..." and fails if there is one.
if(NOT ROOT)
  message(FATAL_ERROR "check_includes.cmake: pass -DROOT=<source tree>")
endif()

set(_files)
foreach(_dir src apps bench tests)
  file(GLOB_RECURSE _found LIST_DIRECTORIES false RELATIVE "${ROOT}"
       "${ROOT}/${_dir}/*.h" "${ROOT}/${_dir}/*.hpp" "${ROOT}/${_dir}/*.cc" "${ROOT}/${_dir}/*.cpp")
  list(APPEND _files ${_found})
endforeach()
list(FILTER _files EXCLUDE REGEX "^tests/fixtures/")

set(_violations 0)
set(_checked 0)
foreach(_file IN LISTS _files)
  file(STRINGS "${ROOT}/${_file}" _lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][A-Za-z0-9_]+/internal/")
  if(NOT _lines)
    continue()
  endif()
  # Line numbers for the message: read the file once more, numbered.
  file(STRINGS "${ROOT}/${_file}" _all)
  set(_n 0)
  foreach(_line IN LISTS _all)
    math(EXPR _n "${_n} + 1")
    if(NOT _line MATCHES "^[ \t]*#[ \t]*include[ \t]*[\"<](([A-Za-z0-9_]+)/internal/[^\">]+)")
      continue()
    endif()
    set(_header "${CMAKE_MATCH_1}")
    set(_module "${CMAKE_MATCH_2}")
    math(EXPR _checked "${_checked} + 1")
    if(_file MATCHES "^src/${_module}/" OR _file MATCHES "^tests/unit/${_module}/" OR
       _file MATCHES "^tests/integration/${_module}/" OR _file MATCHES "^tests/fuzz/")
      continue()
    endif()
    message("${_file}:${_n}: includes ${_header}, internal to src/${_module}; use its public headers "
            "(src/${_module}/*.h) instead")
    math(EXPR _violations "${_violations} + 1")
  endforeach()
endforeach()

if(_violations GREATER 0)
  message(FATAL_ERROR "${_violations} include(s) of another module's internal headers")
endif()
message(STATUS "include rules: ${_checked} internal includes, all from their own module")
