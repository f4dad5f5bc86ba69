#include "service/tokens.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/time.h"
#include "jobs/safe_json.h"

namespace pulse::service {
namespace {

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Closes the descriptor (releasing its flock) when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Writes `text` to `path` atomically: a temporary file beside it (mode 0600), fsync, rename.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  Fd out{open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(out.fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      unlink(tmp.c_str());
      return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(out.fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::IoError("cannot replace " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

nlohmann::json ToJson(const std::vector<StoredToken>& tokens) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : tokens)
    list.push_back({{"name", t.name}, {"scope", ScopeName(t.scope)}, {"sha256", t.sha256}, {"created", t.created}});
  return {{"tokens", list}};
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead: return "read";
    case Scope::kWrite: return "write";
    case Scope::kAdmin: return "admin";
  }
  return "read";
}

Result<Scope> ParseScope(std::string_view name) {
  if (name == "read") return Scope::kRead;
  if (name == "write") return Scope::kWrite;
  if (name == "admin") return Scope::kAdmin;
  return Status::InvalidArgument("scope must be read, write or admin, got '" + std::string(name) + "'");
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::vector<StoredToken>> ParseTokensFile(std::string_view text, const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(auto doc, jobs::ParseJson(text, path));
  if (!doc.is_object() || !doc.contains("tokens") || !doc["tokens"].is_array())
    return Status::InvalidArgument(path + ": expected {\"tokens\": [...]}");
  std::vector<StoredToken> tokens;
  size_t i = 0;
  for (const auto& entry : doc["tokens"]) {
    const std::string where = path + ": tokens[" + std::to_string(i++) + "]: ";
    if (!entry.is_object()) return Status::InvalidArgument(where + "expected an object");
    StoredToken t;
    for (const char* key : {"name", "scope", "sha256"}) {
      if (!entry.contains(key) || !entry[key].is_string())
        return Status::InvalidArgument(where + "'" + key + "' must be a string");
    }
    t.name = entry["name"].get<std::string>();
    auto scope = ParseScope(entry["scope"].get<std::string>());
    if (!scope.ok()) return Status::InvalidArgument(where + scope.status().message());
    t.scope = *scope;
    t.sha256 = entry["sha256"].get<std::string>();
    if (!IsHex64(t.sha256)) return Status::InvalidArgument(where + "'sha256' must be 64 lower-case hex digits");
    if (entry.contains("created") && entry["created"].is_string()) t.created = entry["created"].get<std::string>();
    tokens.push_back(std::move(t));
  }
  return tokens;
}

Result<CreatedToken> CreateToken(const std::string& path, Scope scope, std::string name) {
  unsigned char secret[32];
  if (RAND_bytes(secret, sizeof secret) != 1) return Status::Internal("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  CreatedToken created;
  created.token = "pulse_";
  for (unsigned char b : secret) {
    created.token += kHex[b >> 4];
    created.token += kHex[b & 15];
  }
  created.stored.sha256 = Sha256Hex(created.token);
  created.stored.scope = scope;
  created.stored.created = time::FormatTimestamp(time::NowMicros());
  if (name.empty()) name = "token-" + created.stored.sha256.substr(0, 8);
  if (name.size() > 128) return Status::InvalidArgument("--name must be at most 128 bytes");
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e) return Status::InvalidArgument("--name must be printable ASCII without spaces");
  }
  created.stored.name = name;

  const std::string lock_path = path + ".lock";
  Fd lock{open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
  if (lock.fd < 0) return Status::IoError("cannot open " + lock_path + ": " + std::strerror(errno));
  if (flock(lock.fd, LOCK_EX) != 0) return Status::IoError("cannot lock " + lock_path + ": " + std::strerror(errno));
  std::vector<StoredToken> tokens;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    PULSE_ASSIGN_OR_RETURN(auto text, ReadTextFile(path));
    PULSE_ASSIGN_OR_RETURN(tokens, ParseTokensFile(text, path));
  }
  for (const auto& t : tokens)
    if (t.name == name) return Status::AlreadyExists("a token named '" + name + "' exists in " + path);
  tokens.push_back(created.stored);
  PULSE_RETURN_IF_ERROR(WriteFileAtomically(path, ToJson(tokens).dump(2) + "\n"));
  return created;
}

Result<std::unique_ptr<TokenStore>> TokenStore::Open(std::string path) {
  std::unique_ptr<TokenStore> store(new TokenStore(std::move(path)));
  std::lock_guard lock(store->mu_);
  PULSE_RETURN_IF_ERROR(store->Reload(true));
  return store;
}

Status TokenStore::Reload(bool at_start) {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      if (!tokens_.empty()) log::Warn("service", "tokens file is gone: no token is accepted", {{"file", path_}});
      tokens_.clear();
      mtime_ns_ = size_ = -1;
      return Status::Ok();
    }
    return Status::IoError("cannot stat " + path_ + ": " + std::strerror(errno));
  }
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime_ns == mtime_ns_ && st.st_size == size_) return Status::Ok();
  auto text = ReadTextFile(path_);
  Result<std::vector<StoredToken>> parsed = text.ok() ? ParseTokensFile(*text, path_) : text.status();
  if (!parsed.ok()) {
    if (at_start) return parsed.status();
    log::Warn("service", "tokens file unreadable; keeping the tokens loaded before",
              {{"file", path_}, {"error", parsed.status().message()}});
    return Status::Ok();
  }
  tokens_ = std::move(*parsed);
  mtime_ns_ = mtime_ns;
  size_ = st.st_size;
  return Status::Ok();
}

void TokenStore::MaybeReload() {
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1)) return;
  checked_ = now;
  (void)Reload(false);
}

std::optional<StoredToken> TokenStore::Authenticate(std::string_view token) {
  const std::string hash = Sha256Hex(token);
  std::lock_guard lock(mu_);
  MaybeReload();
  std::optional<StoredToken> found;
  for (const auto& t : tokens_)  // every entry, no early exit
    if (ConstantTimeEquals(hash, t.sha256) && !found) found = t;
  return found;
}

size_t TokenStore::size() {
  std::lock_guard lock(mu_);
  return tokens_.size();
}

}  // namespace pulse::service
