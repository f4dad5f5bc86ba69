# Fuzz build (PULSE_FUZZ=ON, the `fuzz` preset): clang with libFuzzer, ASan and UBSan.
# Every Pulse library is compiled with coverage instrumentation (-fsanitize=fuzzer-no-link) and
# the sanitizers; tests/fuzz links each target with -fsanitize=fuzzer (libFuzzer's main).
# Apps, tests and benches are not configured; the libraries are built only as the targets need
# them (src is added EXCLUDE_FROM_ALL by the top-level CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "PULSE_FUZZ needs clang (libFuzzer): use `cmake --preset fuzz` (CXX=clang++)")
endif()
set(PULSE_FUZZ_SANITIZERS "address,undefined" CACHE STRING "Sanitizers for the fuzz build")
add_compile_options(
  -fsanitize=fuzzer-no-link,${PULSE_FUZZ_SANITIZERS}
  -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=${PULSE_FUZZ_SANITIZERS})
