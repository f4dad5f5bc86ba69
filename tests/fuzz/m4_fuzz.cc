// Fuzz target: the M4 competition CSV reader (ReadM4File) over a file holding the input.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "ingest/m4_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pulse::fuzz::ScratchFile file("fuzz-m4.csv");
  const auto& path = file.Write(pulse::fuzz::AsText(data, size));
  auto series = pulse::ingest::ReadM4File(path);
  (void)series;
  return 0;
}
