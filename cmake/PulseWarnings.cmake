# pulse_strict(target): the project's warning level, applied to every Pulse target.
# Third-party headers are included as SYSTEM so their warnings do not leak in.
function(pulse_strict target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2
    # Designated initializers that rely on member defaults are idiomatic here; GCC 12 warns on them.
    -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string at -O3 (GCC PR 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(PULSE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
