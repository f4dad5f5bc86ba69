// Internal to src/lake. AWS Signature Version 4 for S3 requests (header-based signing, signed
// payload hash). Pure functions: no I/O. tests/unit/lake/s3_signer_test.cc checks them against
// the four worked examples AWS publishes for S3 header-based signing (GET object, PUT object,
// GET bucket lifecycle, list objects), step by step: canonical request, string to sign, signature
// and Authorization header. Payload hashes are core/hash.h's Sha256Hex.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pulse::lake::s3 {

// Percent-encodes per SigV4: unreserved A-Z a-z 0-9 - _ . ~ stay; '/' stays when keep_slash.
std::string UriEncode(std::string_view s, bool keep_slash);

struct SignedRequest {
  std::vector<std::pair<std::string, std::string>> headers;  // to send: host, x-amz-*, authorization
  // The intermediate steps, as AWS's documentation names them (for tests and debugging).
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lower-case hex
};

// Who signs, and where: the key pair (and the session token of temporary credentials; empty:
// none) and the region of the signing scope. Views: the strings must outlive the SignV4 call.
struct SigningCredentials {
  std::string_view region;
  std::string_view access_key;
  std::string_view secret_key;
  std::string_view session_token;
};

// Signs `method path?query` for `host`. `path` must already be URI-encoded; `query` is a list of
// raw (unencoded) key/value pairs. `amz_date` is "YYYYMMDDTHHMMSSZ". Extra headers (lower-case
// names) are signed too.
SignedRequest SignV4(std::string_view method, std::string_view host, std::string_view encoded_path,
                     const std::vector<std::pair<std::string, std::string>>& query,
                     const std::vector<std::pair<std::string, std::string>>& extra_headers,
                     std::string_view payload_sha256_hex, std::string_view amz_date,
                     const SigningCredentials& credentials);

// "k1=v1&k2=v2" sorted and encoded exactly as signed.
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> query);

}  // namespace pulse::lake::s3
