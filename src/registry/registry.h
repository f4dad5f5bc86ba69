// The model registry: registered models, their numbered versions with artifacts, aliases
// (`champion`, `challenger`) and tags, and the training runs (params, metrics, tags, artifacts) that
// produced them. One interface, two backends chosen by URL (OpenRegistry):
//   file://DIR or a plain path  embedded (the default): a folder laid out like MLflow's file store
//                               (registry/file_registry.h has the layout and the concurrency rules)
//   http://HOST:PORT, https://  an MLflow tracking server through its REST API 2.0
//                               (registry/mlflow_registry.h)
// Errors are Status values, never exceptions: kNotFound for an unknown model, version, alias or run;
// kAlreadyExists for creating a model twice; kInvalidArgument for a bad name, tag or artifact
// path; kUnavailable when the server cannot be reached; kIoError for the folder.
//
// Model versions are numbered 1, 2, ... per model, and creating one is safe against concurrent
// writers: two processes creating versions at once get different numbers, and a version is
// visible only once complete (its artifacts are stored before the version exists).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "registry/model_artifact.h"

namespace pulse::registry {

using Tags = std::map<std::string, std::string>;

struct RegisteredModel {
  std::string name;
  std::string description;
  Tags tags;
  std::map<std::string, int64_t> aliases;  // alias -> version
  int64_t created_ms = 0;
};

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  std::string source;  // where its artifacts are (the run's artifact location)
  std::string run_id;
  Tags tags;
  std::vector<std::string> aliases;
  int64_t created_ms = 0;
};

// A training run: what went in and what came out.
struct RunRecord {
  std::string experiment = "pulse";  // created when missing
  std::string run_name;
  Tags params;
  std::map<std::string, double> metrics;  // finite values only (others are left out)
  Tags tags;
};

struct RunInfo {
  std::string run_id;
  std::string artifact_uri;
};

class Registry {
 public:
  virtual ~Registry() = default;
  virtual std::string url() const = 0;

  // Registered models. Names: 1..256 characters from [A-Za-z0-9._-] (what both backends accept and
  // what a folder name can hold).
  virtual Result<RegisteredModel> CreateRegisteredModel(const std::string& name, const std::string& description) = 0;
  virtual Result<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  virtual Status SetRegisteredModelTag(const std::string& name, const std::string& key, const std::string& value) = 0;

  // Runs: creates the run (its experiment when missing), logs params, metrics and tags, stores the
  // artifact files under the run's artifact location and marks the run finished.
  virtual Result<RunInfo> LogRun(const RunRecord& run, const std::vector<ArtifactFile>& artifacts) = 0;

  // A new version of a registered model whose artifacts are the run's.
  virtual Result<ModelVersion> CreateModelVersion(const std::string& name, const RunInfo& run, const Tags& tags) = 0;
  virtual Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) = 0;
  // Every version of the model, oldest first (kNotFound for an unknown model).
  virtual Result<std::vector<ModelVersion>> ListModelVersions(const std::string& name) = 0;
  virtual Status SetModelVersionTag(const std::string& name, int64_t version, const std::string& key,
                                    const std::string& value) = 0;
  // The files of a version's artifacts (path -> bytes), read from its source.
  virtual Result<std::map<std::string, std::string>> ReadArtifacts(const ModelVersion& version,
                                                                   const std::vector<std::string>& paths) = 0;

  // Aliases: an alias names at most one version of a model; setting it moves it.
  virtual Status SetAlias(const std::string& name, const std::string& alias, int64_t version) = 0;
  virtual Status DeleteAlias(const std::string& name, const std::string& alias) = 0;
  // kNotFound when the model has no such alias.
  virtual Result<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias) = 0;
};

// Opens the registry a URL names: "file://DIR", a plain folder path (both created when missing), or
// "http(s)://HOST[:PORT][/PREFIX]" (an MLflow tracking server; nothing is sent until first use).
// kInvalidArgument for another scheme or an empty URL.
Result<std::unique_ptr<Registry>> OpenRegistry(const std::string& url);

// Checks a registered model name, an alias or a tag key: kInvalidArgument saying what is allowed.
Status CheckModelName(const std::string& name);
Status CheckAlias(const std::string& alias);
Status CheckTagKey(const std::string& key);

// Loads and verifies a model version's forecasting model (its model.json and manifest.json).
Result<ForecastModel> LoadForecastModel(Registry& registry, const ModelVersion& version);

}  // namespace pulse::registry
