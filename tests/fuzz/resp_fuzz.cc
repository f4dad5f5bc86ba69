// Fuzz target: the RESP2 reply parser (RespParser) fed the bytes a server might send, in pieces
// of a size chosen by the first input byte (a reply may be split anywhere). Every reply it
// returns is also printed (DebugString), as error messages do.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "jobs/redis_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = static_cast<size_t>(data[0] % 16) + 1;
  const auto text = pulse::fuzz::AsText(data + 1, size - 1);
  pulse::jobs::RespParser::Limits limits;
  limits.max_bulk_bytes = 1 << 20;  // keep a claimed length from making the fuzzer wait for RAM
  limits.max_array_elements = 1 << 16;
  pulse::jobs::RespParser parser(limits);
  for (size_t at = 0; at <= text.size(); at += piece) {
    parser.Feed(text.substr(at, std::min(piece, text.size() - at)));
    for (;;) {
      auto reply = parser.Next();
      if (!reply.ok()) return 0;  // the parser stays failed from here on
      if (!reply->has_value()) break;
      (void)(*reply)->DebugString();
    }
  }
  return 0;
}
