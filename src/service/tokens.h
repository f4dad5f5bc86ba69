// API tokens of pulse serve: scopes, the tokens file, creation and authentication.
//
// A token is "pulse_" followed by 64 hex digits (32 bytes from OpenSSL's RAND_bytes). Only its
// SHA-256 (core/hash.h Sha256Hex of the whole token text) is stored, in a JSON file
//   {"tokens": [{"name": "ci", "scope": "write", "sha256": "<hex>", "created": "<ISO time>"}]}
// written with mode 0600 by CreateToken, which prints the token once; it cannot be shown again.
//
// Scopes are ordered: read < write < admin; a token satisfies every scope up to its own.
//
// Contract:
//  - Authenticate hashes the presented token and compares the hash with EVERY stored hash in
//    constant time (CRYPTO_memcmp, no early exit), so timing reveals neither which hash nor how
//    much of it matched.
//  - TokenStore re-reads the file when its modification time or size changes (checked at most
//    once a second), so a token created while the server runs works without a restart; a file
//    that became unreadable or malformed keeps the last good set and logs a warning.
//  - A missing file is an empty set (every authenticated route answers 401) at start; a malformed
//    one is an error naming the file and the problem.
//  - CreateToken holds an exclusive lock (flock on "<file>.lock") while it reads, appends and
//    atomically replaces (write to a temporary file, rename) the file, so concurrent creations
//    all land.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::service {

enum class Scope { kRead = 0, kWrite = 1, kAdmin = 2 };
std::string_view ScopeName(Scope scope);
// "read" | "write" | "admin"; kInvalidArgument otherwise.
Result<Scope> ParseScope(std::string_view name);

struct StoredToken {
  std::string name;
  Scope scope = Scope::kRead;
  std::string sha256;  // lower-case hex of the token's SHA-256
  std::string created;
};

// Parses the tokens file's text (`path` names it in errors).
Result<std::vector<StoredToken>> ParseTokensFile(std::string_view text, const std::string& path);

struct CreatedToken {
  std::string token;  // the secret: shown once
  StoredToken stored;
};
// Creates a token with `scope` and `name` (default "token-<first 8 hex of its hash>"), appends it
// to `path` (created if absent, mode 0600). kInvalidArgument for a name that is empty after
// defaulting, longer than 128 bytes or not printable ASCII; kAlreadyExists for a name in use.
Result<CreatedToken> CreateToken(const std::string& path, Scope scope, std::string name = {});

// True when `a` and `b` are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class TokenStore {
 public:
  // Loads `path` (missing: empty); kInvalidArgument / kParseError for a malformed file.
  static Result<std::unique_ptr<TokenStore>> Open(std::string path);
  // The stored token whose hash matches `token`, or nullopt. Thread-safe.
  std::optional<StoredToken> Authenticate(std::string_view token);
  size_t size();

 private:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}
  Status Reload(bool at_start);  // mu_ held
  void MaybeReload();            // mu_ held

  const std::string path_;
  std::mutex mu_;
  std::vector<StoredToken> tokens_;
  int64_t mtime_ns_ = -1, size_ = -1;
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace pulse::service
