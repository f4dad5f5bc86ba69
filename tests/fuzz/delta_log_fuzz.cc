// Fuzz target: one Delta commit file (JSON lines of actions) as another writer or a damaged
// store may leave it: applied to an empty table state (version 0), then to the state it produced
// (version 1, as a reader catching up does), and summarised for history.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "lake/internal/delta_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace delta = pulse::lake::delta;
  const auto text = pulse::fuzz::AsText(data, size);
  delta::LogState state;
  auto first = delta::ApplyCommit(state, 0, text);
  if (first.ok()) {
    (void)delta::CheckReadable(state);
    (void)delta::CheckWritable(state);
    auto second = delta::ApplyCommit(state, 1, text);
    (void)second;
  }
  auto summary = delta::SummarizeCommit(0, text);
  (void)summary;
  return 0;
}
