#include "core/hash.h"

#include <openssl/sha.h>

namespace pulse {

std::string Sha256Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string ContentId(const nlohmann::json& identity) {
  return Sha256Hex(identity.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace pulse
