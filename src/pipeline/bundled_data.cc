#include "pipeline/bundled_data.h"

#include "core/files.h"

#include <cstdlib>
#include <filesystem>

namespace pulse::pipeline {

Result<std::string> FindBundledFile(const std::string& name, const std::string& explicit_path,
                                    const std::string& exe_path, const std::string& flag) {
  namespace fs = std::filesystem;
  if (!explicit_path.empty()) {
    if (!fs::exists(explicit_path)) return Status::NotFound(flag + ": no file '" + explicit_path + "'");
    return explicit_path;
  }
  if (const char* dir = std::getenv("PULSE_DATA_DIR")) {
    fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
    return Status::NotFound("PULSE_DATA_DIR is set but has no " + name);
  }
  std::error_code ec;
  for (const fs::path& start : {fs::weakly_canonical(fs::path(exe_path), ec).parent_path(), fs::current_path(ec)}) {
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
      for (const char* sub : {"data", "shared/data", "../shared/data"}) {
        fs::path p = dir / sub / name;
        if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
      }
      if (dir == dir.parent_path()) break;
    }
  }
  return Status::NotFound("cannot find the bundled file " + name + "; pass " + flag + " FILE or set PULSE_DATA_DIR");
}

Result<std::shared_ptr<const signals::ScoringRules>> LoadScoringRules(const std::string& configured,
                                                                      const std::string& exe_path) {
  auto path = FindBundledFile("signals/scoring.yaml", configured, exe_path, "ingest.scoring_rules");
  if (!path.ok()) {
    if (configured.empty() && path.status().code() == StatusCode::kNotFound)
      return std::make_shared<const signals::ScoringRules>();  // the built-in defaults equal the bundled file
    return path.status();
  }
  PULSE_ASSIGN_OR_RETURN(std::string text, ReadTextFile(*path));
  PULSE_ASSIGN_OR_RETURN(auto rules, signals::ParseScoringRules(text, *path));
  return std::make_shared<const signals::ScoringRules>(std::move(rules));
}

}  // namespace pulse::pipeline
