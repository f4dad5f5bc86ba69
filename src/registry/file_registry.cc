// The embedded registry: a folder laid out like MLflow's file store (layout and the rules for
// concurrent writers in registry/internal/backends.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/hash.h"
#include "core/ids.h"
#include "core/time.h"
#include "registry/internal/backends.h"

namespace pulse::registry::internal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t NowMs() { return time::NowMicros() / 1000; }

Status IoFailure(const std::string& what, const fs::path& path, int err) {
  return Status::IoError(what + " " + path.string() + ": " + std::strerror(err));
}

// Writes `bytes` to a unique temporary file next to `path`, flushes it to disk and renames it over
// `path`: readers see the old or the new content, never a partial one.
Status WriteFileAtomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.parent_path() / (".tmp-" + path.filename().string() + "-" + NewUuid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoFailure("creating", tmp, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoFailure("writing", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoFailure("flushing", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoFailure("renaming into", path, err);
  }
  return Status::Ok();
}

// kNotFound when absent.
Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Status::IoError("reading " + path.string());
  return out.str();
}

Result<json> ReadJson(const fs::path& path) {
  PULSE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::ParseError(path.string() + ": not a JSON object (corrupt)");
  return j;
}

Status MakeDirs(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::IoError("creating folder " + path.string() + ": " + ec.message());
  return Status::Ok();
}

// A folder's regular files (name -> content), skipping temporary files.
Result<Tags> ReadKeyFiles(const fs::path& dir) {
  Tags out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(".tmp-", 0) == 0 || !it->is_regular_file(ec)) continue;
    PULSE_ASSIGN_OR_RETURN(out[name], ReadFile(it->path()));
  }
  if (ec) return Status::IoError("listing " + dir.string() + ": " + ec.message());
  return out;
}

template <class T>
Result<T> Field(const json& j, const char* key, const fs::path& where) {
  auto it = j.find(key);
  if (it == j.end()) return Status::ParseError(where.string() + ": missing '" + key + "' (corrupt)");
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return Status::ParseError(where.string() + ": '" + key + "' is not a string (corrupt)");
  } else {
    if (!it->is_number_integer())
      return Status::ParseError(where.string() + ": '" + key + "' is not an integer (corrupt)");
  }
  return it->get<T>();
}

class FileRegistry final : public Registry {
 public:
  explicit FileRegistry(const std::string& root) {
    std::error_code ec;
    root_ = fs::absolute(fs::path(root), ec).lexically_normal();
    if (ec) root_ = fs::path(root).lexically_normal();
  }

  std::string url() const override { return "file://" + root_.string(); }

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name, const std::string& description) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_RETURN_IF_ERROR(MakeDirs(Models()));
    const fs::path dir = ModelDir(name);
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno == EEXIST) return Status::AlreadyExists("registered model '" + name + "' already exists");
      return IoFailure("creating", dir, errno);
    }
    RegisteredModel m{name, description, {}, {}, NowMs()};
    PULSE_RETURN_IF_ERROR(WriteFileAtomic(
        dir / "meta.json", json{{"name", name}, {"description", description}, {"created_ms", m.created_ms}}.dump()));
    return m;
  }

  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    const fs::path dir = ModelDir(name);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Status::NotFound("registered model '" + name + "' does not exist");
    RegisteredModel m{name, "", {}, {}, 0};
    auto meta = ReadJson(dir / "meta.json");
    if (meta.ok()) {
      PULSE_ASSIGN_OR_RETURN(m.description, Field<std::string>(*meta, "description", dir / "meta.json"));
      PULSE_ASSIGN_OR_RETURN(m.created_ms, Field<int64_t>(*meta, "created_ms", dir / "meta.json"));
    } else if (meta.status().code() != StatusCode::kNotFound) {
      return meta.status();  // corrupt; absent: a creator between mkdir and its meta.json
    }
    PULSE_ASSIGN_OR_RETURN(m.tags, ReadKeyFiles(dir / "tags"));
    PULSE_ASSIGN_OR_RETURN(Tags aliases, ReadKeyFiles(dir / "aliases"));
    for (const auto& [alias, text] : aliases) {
      PULSE_ASSIGN_OR_RETURN(m.aliases[alias], ParseVersion(text, dir / "aliases" / alias));
    }
    return m;
  }

  Status SetRegisteredModelTag(const std::string& name, const std::string& key, const std::string& value) override {
    PULSE_RETURN_IF_ERROR(CheckTagKey(key));
    PULSE_RETURN_IF_ERROR(GetRegisteredModel(name).status());
    PULSE_RETURN_IF_ERROR(MakeDirs(ModelDir(name) / "tags"));
    return WriteFileAtomic(ModelDir(name) / "tags" / key, value);
  }

  Result<RunInfo> LogRun(const RunRecord& run, const std::vector<ArtifactFile>& artifacts) override {
    for (const auto& [k, v] : run.params) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    for (const auto& [k, v] : run.metrics) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    for (const auto& [k, v] : run.tags) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    for (const auto& a : artifacts) {
      if (!SafeArtifactPath(a.path)) return Status::InvalidArgument("unsafe artifact path '" + a.path + "'");
    }
    if (run.experiment.empty()) return Status::InvalidArgument("a run needs an experiment name");
    const std::string experiment_id = Sha256Hex(run.experiment).substr(0, 16);
    const fs::path exp_dir = root_ / "mlruns" / experiment_id;
    PULSE_RETURN_IF_ERROR(MakeDirs(exp_dir));
    if (!fs::exists(exp_dir / "meta.json")) {
      PULSE_RETURN_IF_ERROR(
          WriteFileAtomic(exp_dir / "meta.json", json{{"id", experiment_id}, {"name", run.experiment}}.dump()));
    }
    std::string run_id = NewUuid();
    run_id.erase(std::remove(run_id.begin(), run_id.end(), '-'), run_id.end());
    const fs::path dir = exp_dir / run_id;
    const int64_t start = NowMs();
    PULSE_RETURN_IF_ERROR(MakeDirs(dir / "artifacts"));
    for (const auto& a : artifacts) {
      const fs::path path = dir / "artifacts" / a.path;
      PULSE_RETURN_IF_ERROR(MakeDirs(path.parent_path()));
      PULSE_RETURN_IF_ERROR(WriteFileAtomic(path, a.bytes));
    }
    PULSE_RETURN_IF_ERROR(WriteKeyFiles(dir / "params", run.params));
    PULSE_RETURN_IF_ERROR(WriteKeyFiles(dir / "tags", run.tags));
    PULSE_RETURN_IF_ERROR(MakeDirs(dir / "metrics"));
    for (const auto& [k, v] : run.metrics) {
      if (!std::isfinite(v)) continue;
      std::ostringstream line;
      line.precision(17);
      line << start << ' ' << v << " 0\n";
      PULSE_RETURN_IF_ERROR(WriteFileAtomic(dir / "metrics" / k, line.str()));
    }
    RunInfo info{run_id, "file://" + (dir / "artifacts").string()};
    PULSE_RETURN_IF_ERROR(WriteFileAtomic(dir / "meta.json", json{{"run_id", run_id},
                                                                  {"experiment_id", experiment_id},
                                                                  {"run_name", run.run_name},
                                                                  {"status", "FINISHED"},
                                                                  {"start_ms", start},
                                                                  {"end_ms", NowMs()},
                                                                  {"artifact_uri", info.artifact_uri}}
                                                                 .dump()));
    return info;
  }

  Result<ModelVersion> CreateModelVersion(const std::string& name, const RunInfo& run, const Tags& tags) override {
    for (const auto& [k, v] : tags) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    PULSE_RETURN_IF_ERROR(GetRegisteredModel(name).status());
    if (run.artifact_uri.rfind("file://", 0) != 0) {
      return Status::InvalidArgument("a file registry's version needs file:// artifacts, got '" + run.artifact_uri +
                                     "'");
    }
    PULSE_ASSIGN_OR_RETURN(int64_t next, HighestVersionFolder(name));
    // Claim a number: mkdir succeeds for exactly one writer.
    fs::path dir;
    for (int64_t n = next + 1;; ++n) {
      dir = ModelDir(name) / ("version-" + std::to_string(n));
      if (::mkdir(dir.c_str(), 0755) == 0) {
        next = n;
        break;
      }
      if (errno != EEXIST) return IoFailure("creating", dir, errno);
    }
    ModelVersion v{name, next, run.artifact_uri, run.run_id, tags, {}, NowMs()};
    PULSE_RETURN_IF_ERROR(WriteKeyFiles(dir / "tags", tags));
    PULSE_RETURN_IF_ERROR(WriteFileAtomic(dir / "meta.json", json{{"name", name},
                                                                  {"version", v.version},
                                                                  {"source", v.source},
                                                                  {"run_id", v.run_id},
                                                                  {"created_ms", v.created_ms}}
                                                                 .dump()));
    return v;
  }

  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override {
    PULSE_ASSIGN_OR_RETURN(RegisteredModel model, GetRegisteredModel(name));
    return ReadVersion(model, version);
  }

  Result<std::vector<ModelVersion>> ListModelVersions(const std::string& name) override {
    PULSE_ASSIGN_OR_RETURN(RegisteredModel model, GetRegisteredModel(name));
    PULSE_ASSIGN_OR_RETURN(int64_t highest, HighestVersionFolder(name));
    std::vector<ModelVersion> out;
    for (int64_t n = 1; n <= highest; ++n) {
      auto v = ReadVersion(model, n);
      if (v.ok()) {
        out.push_back(std::move(*v));
      } else if (v.status().code() != StatusCode::kNotFound) {
        return v.status();
      }
    }
    return out;
  }

  Status SetModelVersionTag(const std::string& name, int64_t version, const std::string& key,
                            const std::string& value) override {
    PULSE_RETURN_IF_ERROR(CheckTagKey(key));
    PULSE_RETURN_IF_ERROR(GetModelVersion(name, version).status());
    const fs::path dir = ModelDir(name) / ("version-" + std::to_string(version)) / "tags";
    PULSE_RETURN_IF_ERROR(MakeDirs(dir));
    return WriteFileAtomic(dir / key, value);
  }

  Result<std::map<std::string, std::string>> ReadArtifacts(const ModelVersion& version,
                                                           const std::vector<std::string>& paths) override {
    if (version.source.rfind("file://", 0) != 0)
      return Status::InvalidArgument("cannot read artifacts at '" + version.source + "' from a file registry");
    const fs::path dir = version.source.substr(7);
    std::map<std::string, std::string> out;
    for (const auto& p : paths) {
      if (!SafeArtifactPath(p)) return Status::InvalidArgument("unsafe artifact path '" + p + "'");
      auto bytes = ReadFile(dir / p);
      if (!bytes.ok()) return Status::NotFound("artifact '" + p + "' is missing from " + version.source);
      out[p] = std::move(*bytes);
    }
    return out;
  }

  Status SetAlias(const std::string& name, const std::string& alias, int64_t version) override {
    PULSE_RETURN_IF_ERROR(CheckAlias(alias));
    PULSE_RETURN_IF_ERROR(GetModelVersion(name, version).status());
    PULSE_RETURN_IF_ERROR(MakeDirs(ModelDir(name) / "aliases"));
    return WriteFileAtomic(ModelDir(name) / "aliases" / alias, std::to_string(version));
  }

  Status DeleteAlias(const std::string& name, const std::string& alias) override {
    PULSE_RETURN_IF_ERROR(CheckAlias(alias));
    PULSE_RETURN_IF_ERROR(GetRegisteredModel(name).status());
    std::error_code ec;
    fs::remove(ModelDir(name) / "aliases" / alias, ec);
    if (ec) return Status::IoError("deleting alias " + alias + " of " + name + ": " + ec.message());
    return Status::Ok();
  }

  Result<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias) override {
    PULSE_RETURN_IF_ERROR(CheckAlias(alias));
    PULSE_ASSIGN_OR_RETURN(RegisteredModel model, GetRegisteredModel(name));
    auto it = model.aliases.find(alias);
    if (it == model.aliases.end())
      return Status::NotFound("registered model '" + name + "' has no alias '" + alias + "'");
    return ReadVersion(model, it->second);
  }

 private:
  fs::path Models() const { return root_ / "mlruns" / "models"; }
  fs::path ModelDir(const std::string& name) const { return Models() / name; }

  static Result<int64_t> ParseVersion(const std::string& text, const fs::path& where) {
    int64_t v = 0;
    for (char c : text) {
      if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10)
        return Status::ParseError(where.string() + ": not a version number (corrupt)");
      v = v * 10 + (c - '0');
    }
    if (text.empty() || v < 1) return Status::ParseError(where.string() + ": not a version number (corrupt)");
    return v;
  }

  static Status WriteKeyFiles(const fs::path& dir, const Tags& values) {
    PULSE_RETURN_IF_ERROR(MakeDirs(dir));
    for (const auto& [k, v] : values) PULSE_RETURN_IF_ERROR(WriteFileAtomic(dir / k, v));
    return Status::Ok();
  }

  // The largest n with a version-<n> folder (complete or not), 0 when none.
  Result<int64_t> HighestVersionFolder(const std::string& name) const {
    int64_t highest = 0;
    std::error_code ec;
    for (fs::directory_iterator it(ModelDir(name), ec), end; !ec && it != end; it.increment(ec)) {
      const std::string f = it->path().filename().string();
      if (f.rfind("version-", 0) != 0) continue;
      auto n = ParseVersion(f.substr(8), it->path());
      if (n.ok()) highest = std::max(highest, *n);
    }
    if (ec) return Status::IoError("listing " + ModelDir(name).string() + ": " + ec.message());
    return highest;
  }

  // kNotFound for a version that does not exist or is not complete.
  Result<ModelVersion> ReadVersion(const RegisteredModel& model, int64_t version) const {
    const fs::path dir = ModelDir(model.name) / ("version-" + std::to_string(version));
    auto meta = ReadJson(dir / "meta.json");
    if (!meta.ok()) {
      if (meta.status().code() == StatusCode::kNotFound)
        return Status::NotFound("registered model '" + model.name + "' has no version " + std::to_string(version));
      return meta.status();
    }
    ModelVersion v;
    v.name = model.name;
    PULSE_ASSIGN_OR_RETURN(v.version, Field<int64_t>(*meta, "version", dir / "meta.json"));
    PULSE_ASSIGN_OR_RETURN(v.source, Field<std::string>(*meta, "source", dir / "meta.json"));
    PULSE_ASSIGN_OR_RETURN(v.run_id, Field<std::string>(*meta, "run_id", dir / "meta.json"));
    PULSE_ASSIGN_OR_RETURN(v.created_ms, Field<int64_t>(*meta, "created_ms", dir / "meta.json"));
    if (v.version != version) {
      return Status::ParseError((dir / "meta.json").string() + ": records version " + std::to_string(v.version) +
                                " (corrupt)");
    }
    PULSE_ASSIGN_OR_RETURN(v.tags, ReadKeyFiles(dir / "tags"));
    for (const auto& [alias, n] : model.aliases) {
      if (n == version) v.aliases.push_back(alias);
    }
    return v;
  }

  fs::path root_;
};

}  // namespace

std::unique_ptr<Registry> NewFileRegistry(const std::string& root) { return std::make_unique<FileRegistry>(root); }

}  // namespace pulse::registry::internal
