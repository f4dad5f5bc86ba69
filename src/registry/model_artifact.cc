#include "registry/model_artifact.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/hash.h"

namespace pulse::registry {
namespace {

using nlohmann::json;

// Numbers: non-finite values (a series without a backtest has a NaN MASE) are stored as null and
// read back as NaN, so the JSON stays standard.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// Strict field readers over a parsed object; each names the field on error.
class Reader {
 public:
  Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}
  Status status() const { return status_; }

  std::string String(const char* key) {
    const json* v = Field(key);
    if (v == nullptr) return {};
    if (!v->is_string()) return Fail(key, "a string"), std::string();
    return v->get<std::string>();
  }
  int64_t Int(const char* key) {
    const json* v = Field(key);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) return Fail(key, "an integer"), 0;
    return v->get<int64_t>();
  }
  // A finite number, or null (NaN) when nullable.
  double Double(const char* key, bool nullable = false) {
    const json* v = Field(key);
    if (v == nullptr) return 0;
    if (v->is_null() && nullable) return std::nan("");
    if (!v->is_number()) return Fail(key, nullable ? "a number or null" : "a number"), 0.0;
    return v->get<double>();
  }
  bool Bool(const char* key) {
    const json* v = Field(key);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return Fail(key, "true or false"), false;
    return v->get<bool>();
  }
  const json* Object(const char* key) {
    const json* v = Field(key);
    if (v != nullptr && !v->is_object()) return Fail(key, "an object"), nullptr;
    return v;
  }
  const json* Array(const char* key) {
    const json* v = Field(key);
    if (v != nullptr && !v->is_array()) return Fail(key, "an array"), nullptr;
    return v;
  }

 private:
  const json* Field(const char* key) {
    if (!status_.ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      status_ = Status::InvalidArgument(where_ + ": missing field '" + key + "'");
      return nullptr;
    }
    return &*it;
  }
  void Fail(const char* key, const char* expected) {
    status_ = Status::InvalidArgument(where_ + ": field '" + key + "' must be " + expected);
  }
  const json& j_;
  std::string where_;
  Status status_;
};

Result<json> ParseObject(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::ParseError(where + ": not valid JSON");
  if (!j.is_object()) return Status::ParseError(where + ": not a JSON object");
  return j;
}

}  // namespace

std::string ModelToJson(const ForecastModel& m) {
  json bands = json::array();
  for (const auto& b : m.bands)
    bands.push_back({{"level", b.level}, {"multiplier", Number(b.multiplier)}, {"calibrated", b.calibrated}});
  json weights = json::object();
  for (const auto& [name, w] : m.weights) weights[name] = w;
  const json j = {{"format", kModelFormat},
                  {"kind", m.kind},
                  {"series", m.series},
                  {"method", m.method},
                  {"weights", weights},
                  {"period", m.period},
                  {"horizon", m.horizon},
                  {"frequency", m.frequency},
                  {"bands", bands},
                  {"signals_version", m.signals_version},
                  {"data_digest", m.data_digest},
                  {"observations", m.observations},
                  {"last_observation_us", m.last_observation_us},
                  {"trained_at_us", m.trained_at_us},
                  {"backtest",
                   {{"mase", Number(m.backtest.mase)},
                    {"naive_mase", Number(m.backtest.naive_mase)},
                    {"coverage80", Number(m.backtest.coverage80)},
                    {"points", m.backtest.points}}},
                  {"identity", m.identity}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<ForecastModel> ModelFromJson(const std::string& text) {
  PULSE_ASSIGN_OR_RETURN(json j, ParseObject(text, kModelFile));
  Reader r(j, kModelFile);
  ForecastModel m;
  const std::string format = r.String("format");
  m.kind = r.String("kind");
  m.series = r.String("series");
  m.method = r.String("method");
  const json* weights = r.Object("weights");
  m.period = static_cast<int>(r.Int("period"));
  m.horizon = static_cast<int>(r.Int("horizon"));
  m.frequency = r.String("frequency");
  const json* bands = r.Array("bands");
  m.signals_version = r.Int("signals_version");
  m.data_digest = r.String("data_digest");
  m.observations = r.Int("observations");
  m.last_observation_us = r.Int("last_observation_us");
  m.trained_at_us = r.Int("trained_at_us");
  const json* backtest = r.Object("backtest");
  m.identity = r.String("identity");
  PULSE_RETURN_IF_ERROR(r.status());
  if (format != kModelFormat)
    return Status::InvalidArgument(std::string(kModelFile) + ": format '" + format + "' is not " + kModelFormat);
  if (m.kind.empty() || m.series.empty() || m.method.empty())
    return Status::InvalidArgument(std::string(kModelFile) + ": kind, series and method must not be empty");
  if (m.period < 1 || m.horizon < 1 || m.horizon > 10000)
    return Status::InvalidArgument(std::string(kModelFile) + ": period must be >= 1 and horizon 1..10000");
  for (const auto& [name, w] : weights->items()) {
    if (!w.is_number() || !std::isfinite(w.get<double>()) || w.get<double>() < 0)
      return Status::InvalidArgument(std::string(kModelFile) + ": weight of '" + name + "' must be a number >= 0");
    m.weights[name] = w.get<double>();
  }
  for (const auto& b : *bands) {
    if (!b.is_object()) return Status::InvalidArgument(std::string(kModelFile) + ": bands must hold objects");
    Reader br(b, std::string(kModelFile) + " bands");
    IntervalBand band{br.Double("level"), br.Double("multiplier", true), br.Bool("calibrated")};
    PULSE_RETURN_IF_ERROR(br.status());
    if (!(band.level > 0 && band.level < 1) || !(band.multiplier >= 0)) {
      return Status::InvalidArgument(std::string(kModelFile) +
                                     ": a band needs a level in (0, 1) and a multiplier >= 0");
    }
    m.bands.push_back(band);
  }
  Reader b(*backtest, std::string(kModelFile) + " backtest");
  m.backtest = {b.Double("mase", true), b.Double("naive_mase", true), b.Double("coverage80", true), b.Int("points")};
  PULSE_RETURN_IF_ERROR(b.status());
  return m;
}

bool SafeArtifactPath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos)
    return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::vector<ArtifactFile> ModelArtifacts(const ForecastModel& model) {
  ArtifactFile model_file{kModelFile, ModelToJson(model)};
  const json manifest = {{"format", kModelFormat},
                         {"identity", model.identity},
                         {"files", json::array({{{"path", model_file.path},
                                                 {"bytes", model_file.bytes.size()},
                                                 {"sha256", Sha256Hex(model_file.bytes)}}})}};
  return {std::move(model_file), {kManifestFile, manifest.dump(2) + "\n"}};
}

Result<ForecastModel> LoadModelArtifacts(const std::map<std::string, std::string>& files) {
  auto manifest_it = files.find(kManifestFile);
  if (manifest_it == files.end())
    return Status::InvalidArgument(std::string("artifact ") + kManifestFile + " is missing");
  PULSE_ASSIGN_OR_RETURN(json manifest, ParseObject(manifest_it->second, kManifestFile));
  Reader r(manifest, kManifestFile);
  const std::string format = r.String("format");
  const std::string identity = r.String("identity");
  const json* listed = r.Array("files");
  PULSE_RETURN_IF_ERROR(r.status());
  if (format != kModelFormat)
    return Status::InvalidArgument(std::string(kManifestFile) + ": format '" + format + "' is not " + kModelFormat);
  bool has_model = false;
  for (const auto& entry : *listed) {
    if (!entry.is_object()) return Status::InvalidArgument(std::string(kManifestFile) + ": files must hold objects");
    Reader e(entry, std::string(kManifestFile) + " files");
    const std::string path = e.String("path");
    const int64_t bytes = e.Int("bytes");
    const std::string sha = e.String("sha256");
    PULSE_RETURN_IF_ERROR(e.status());
    auto file = files.find(path);
    if (file == files.end())
      return Status::InvalidArgument(std::string(kManifestFile) + " lists '" + path + "', which is missing");
    if (static_cast<int64_t>(file->second.size()) != bytes || Sha256Hex(file->second) != sha) {
      return Status::InvalidArgument("artifact '" + path + "' does not match " + kManifestFile + " (" +
                                     std::to_string(file->second.size()) + " bytes, sha256 " + Sha256Hex(file->second) +
                                     "; recorded " + std::to_string(bytes) + " bytes, sha256 " + sha + ")");
    }
    has_model = has_model || path == kModelFile;
  }
  if (!has_model) return Status::InvalidArgument(std::string(kManifestFile) + " does not list " + kModelFile);
  PULSE_ASSIGN_OR_RETURN(ForecastModel model, ModelFromJson(files.at(kModelFile)));
  if (model.identity != identity) {
    return Status::InvalidArgument(std::string(kModelFile) + "'s identity " + model.identity + " is not " +
                                   kManifestFile + "'s " + identity);
  }
  return model;
}

}  // namespace pulse::registry
