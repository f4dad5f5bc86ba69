// Fuzz target: the CSV record reader (RecordReader, FileFormat::kCsv) over a file holding the
// input: header checks, quoting, multi-line records, field-count errors.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "ingest/record_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pulse::fuzz::ScratchFile file("fuzz.csv");
  const auto& path = file.Write(pulse::fuzz::AsText(data, size));
  auto reader = pulse::ingest::RecordReader::Open(path, pulse::ingest::FileFormat::kCsv);
  if (!reader.ok()) return 0;
  pulse::ingest::Record record;
  while ((*reader)->Next(record)) {
    for (const auto& name : (*reader)->header()) (void)record.Get(name);
  }
  return 0;
}
