// Fuzz target: the body of a Celery message ([args, kwargs, embed] JSON). The input is base64-
// encoded into an otherwise valid protocol-v2 envelope, so the fuzzer explores the body decoder
// instead of spending its time on base64.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "fuzz_util.h"
#include "jobs/celery_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json envelope = {{"body", pulse::Base64Encode(std::string(pulse::fuzz::AsText(data, size)))},
                             {"content-encoding", "utf-8"},
                             {"content-type", "application/json"},
                             {"headers", {{"lang", "py"}, {"task", "pulse.noop"}, {"id", "f0"}, {"retries", 0}}},
                             {"properties",
                              {{"correlation_id", "f0"},
                               {"delivery_mode", 2},
                               {"delivery_info", {{"exchange", ""}, {"routing_key", "celery"}}},
                               {"body_encoding", "base64"},
                               {"delivery_tag", "t0"}}}};
  auto message = pulse::jobs::DecodeMessage(envelope.dump());
  if (message.ok()) {
    auto again = pulse::jobs::DecodeMessage(pulse::jobs::EncodeMessage(*message));
    (void)again;
  }
  return 0;
}
