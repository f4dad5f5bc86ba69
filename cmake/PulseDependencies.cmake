# Locates Pulse's third-party dependencies and defines imported targets:
#   pulse::arrow, pulse::parquet  (system Arrow if found, else the pinned pyarrow wheel's C++ libs)
#   yaml-cpp, nlohmann_json::nlohmann_json, CLI11::CLI11, CURL::libcurl, OpenSSL::Crypto, GTest
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)

find_package(Arrow CONFIG QUIET)
find_package(Parquet CONFIG QUIET)
if(Arrow_FOUND AND Parquet_FOUND)
  message(STATUS "Pulse: using system Arrow ${Arrow_VERSION}")
  add_library(pulse::arrow ALIAS Arrow::arrow_shared)
  add_library(pulse::parquet ALIAS Parquet::parquet_shared)
else()
  set(PULSE_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "Python with the pinned pyarrow")
  if(NOT EXISTS "${PULSE_PYTHON}")
    message(FATAL_ERROR "No system Arrow and no ${PULSE_PYTHON}: run scripts/bootstrap first")
  endif()
  execute_process(
    COMMAND "${PULSE_PYTHON}" -c "import pyarrow as pa; print(pa.get_include()); print(pa.get_library_dirs()[0]); print(pa.__version__)"
    OUTPUT_VARIABLE _pa OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "pyarrow not importable from ${PULSE_PYTHON}")
  endif()
  string(REPLACE "\n" ";" _pa "${_pa}")
  list(GET _pa 0 PULSE_ARROW_INCLUDE)
  list(GET _pa 1 PULSE_ARROW_LIBDIR)
  list(GET _pa 2 PULSE_ARROW_VERSION)
  string(REGEX REPLACE "^([0-9]+)\\..*" "\\1" _major "${PULSE_ARROW_VERSION}")
  set(_so "${_major}00")
  message(STATUS "Pulse: using Arrow ${PULSE_ARROW_VERSION} from pyarrow at ${PULSE_ARROW_LIBDIR}")
  foreach(_lib arrow parquet)
    add_library(pulse_${_lib}_imported SHARED IMPORTED GLOBAL)
    set_target_properties(pulse_${_lib}_imported PROPERTIES
      IMPORTED_LOCATION "${PULSE_ARROW_LIBDIR}/lib${_lib}.so.${_so}"
      INTERFACE_INCLUDE_DIRECTORIES "${PULSE_ARROW_INCLUDE}"
      INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${PULSE_ARROW_INCLUDE}")
    add_library(pulse::${_lib} ALIAS pulse_${_lib}_imported)
  endforeach()
  set_target_properties(pulse_parquet_imported PROPERTIES INTERFACE_LINK_LIBRARIES pulse_arrow_imported)
  # Executables find the wheel's libraries without LD_LIBRARY_PATH (include() shares our scope).
  set(CMAKE_BUILD_RPATH "${PULSE_ARROW_LIBDIR}")
  set(CMAKE_INSTALL_RPATH "${PULSE_ARROW_LIBDIR}")
endif()

if(PULSE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
