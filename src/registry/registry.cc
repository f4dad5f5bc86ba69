// OpenRegistry, the shared name checks and LoadForecastModel (contracts in registry/registry.h).
#include "registry/registry.h"

#include "registry/internal/backends.h"

namespace pulse::registry {
namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

Status CheckToken(const std::string& text, const char* what, size_t max) {
  if (text.empty() || text.size() > max) {
    return Status::InvalidArgument(std::string(what) + " must be 1.." + std::to_string(max) + " characters, got '" +
                                   text + "'");
  }
  for (char c : text) {
    if (!NameChar(c)) {
      return Status::InvalidArgument(std::string(what) + " '" + text +
                                     "' may hold only letters, digits, '.', '_' and '-'");
    }
  }
  if (text == "." || text == "..") return Status::InvalidArgument(std::string(what) + " must not be '.' or '..'");
  return Status::Ok();
}

}  // namespace

Status CheckModelName(const std::string& name) { return CheckToken(name, "a registered model name", 256); }

Status CheckAlias(const std::string& alias) {
  PULSE_RETURN_IF_ERROR(CheckToken(alias, "an alias", 255));
  // MLflow reserves "latest" and "v<number>" (they name versions).
  bool version_like = alias.size() > 1 && (alias[0] == 'v' || alias[0] == 'V');
  for (size_t i = 1; version_like && i < alias.size(); ++i) version_like = alias[i] >= '0' && alias[i] <= '9';
  if (alias == "latest" || alias == "LATEST" || version_like)
    return Status::InvalidArgument("alias '" + alias + "' is reserved (latest, v<number>)");
  return Status::Ok();
}

Status CheckTagKey(const std::string& key) { return CheckToken(key, "a tag or param key", 250); }

Result<std::unique_ptr<Registry>> OpenRegistry(const std::string& url) {
  if (url.empty()) return Status::InvalidArgument("registry URL is empty");
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    std::string base = url;
    while (base.size() > 8 && base.back() == '/') base.pop_back();
    const size_t host = base.find("://") + 3;
    if (host >= base.size() || base[host] == '/')
      return Status::InvalidArgument("registry URL '" + url + "' names no host");
    return internal::NewMlflowRegistry(base);
  }
  std::string path = url;
  if (url.rfind("file://", 0) == 0) {
    path = url.substr(7);
  } else if (url.find("://") != std::string::npos) {
    return Status::InvalidArgument("registry URL '" + url + "': expected file://DIR, a folder or http(s)://HOST");
  }
  if (path.empty()) return Status::InvalidArgument("registry URL '" + url + "' names no folder");
  return internal::NewFileRegistry(path);
}

Result<ForecastModel> LoadForecastModel(Registry& registry, const ModelVersion& version) {
  auto files = registry.ReadArtifacts(version, {kManifestFile, kModelFile});
  if (!files.ok()) {
    return Status(files.status().code(), "model " + version.name + " version " + std::to_string(version.version) +
                                             ": " + files.status().message());
  }
  auto model = LoadModelArtifacts(*files);
  if (!model.ok()) {
    return Status(model.status().code(), "model " + version.name + " version " + std::to_string(version.version) +
                                             ": " + model.status().message());
  }
  return model;
}

}  // namespace pulse::registry
