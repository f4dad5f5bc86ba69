// Fuzz target: a Celery message envelope as it arrives from the broker list (DecodeMessage), and
// a result-backend value (DecodeResultMeta). Both must return a Status for any bytes, never throw
// or crash.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "jobs/celery_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = pulse::fuzz::AsText(data, size);
  auto message = pulse::jobs::DecodeMessage(text);
  if (message.ok()) {
    // What the worker does with a decoded message: re-encode it (restores, retries).
    auto again = pulse::jobs::DecodeMessage(pulse::jobs::EncodeMessage(*message));
    (void)again;
  }
  auto meta = pulse::jobs::DecodeResultMeta(text);
  (void)meta;
  return 0;
}
