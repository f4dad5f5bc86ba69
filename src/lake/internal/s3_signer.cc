#include "lake/internal/s3_signer.h"

#include "core/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

namespace pulse::lake::s3 {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const unsigned char* data, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += static_cast<char>(std::toupper(kHex[c >> 4]));
      out += static_cast<char>(std::toupper(kHex[c & 15]));
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [k, v] : query) {
    k = UriEncode(k, false);
    v = UriEncode(v, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

SignedRequest SignV4(std::string_view method, std::string_view host, std::string_view encoded_path,
                     const std::vector<std::pair<std::string, std::string>>& query,
                     const std::vector<std::pair<std::string, std::string>>& extra_headers,
                     std::string_view payload_sha256_hex, std::string_view amz_date,
                     const SigningCredentials& credentials) {
  const std::string_view region = credentials.region;
  std::vector<std::pair<std::string, std::string>> headers = extra_headers;
  headers.emplace_back("host", std::string(host));
  headers.emplace_back("x-amz-content-sha256", std::string(payload_sha256_hex));
  headers.emplace_back("x-amz-date", std::string(amz_date));
  if (!credentials.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", std::string(credentials.session_token));
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += k;
  }
  std::string canonical = std::string(method) + "\n" + std::string(encoded_path) + "\n" + CanonicalQuery(query) + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + std::string(payload_sha256_hex);
  std::string date(amz_date.substr(0, 8));
  std::string scope = date + "/" + std::string(region) + "/s3/aws4_request";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string key = Hmac("AWS4" + std::string(credentials.secret_key), date);
  key = Hmac(key, region);
  key = Hmac(key, "s3");
  key = Hmac(key, "aws4_request");
  std::string sig = Hmac(key, to_sign);
  SignedRequest out;
  out.headers = headers;
  out.signature = Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
  out.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(credentials.access_key) + "/" +
                                                scope + ",SignedHeaders=" + signed_headers +
                                                ",Signature=" + out.signature);
  out.canonical_request = std::move(canonical);
  out.string_to_sign = std::move(to_sign);
  return out;
}

}  // namespace pulse::lake::s3
