// Fuzz target: the JSON-lines record reader (RecordReader, FileFormat::kJsonLines) over a file
// holding the input: one object per line, nested values kept as JSON text.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "ingest/record_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pulse::fuzz::ScratchFile file("fuzz.jsonl");
  const auto& path = file.Write(pulse::fuzz::AsText(data, size));
  auto reader = pulse::ingest::RecordReader::Open(path, pulse::ingest::FileFormat::kJsonLines);
  if (!reader.ok()) return 0;
  pulse::ingest::Record record;
  while ((*reader)->Next(record)) {
    for (const auto& name : record.names) (void)record.Get(name);
  }
  return 0;
}
