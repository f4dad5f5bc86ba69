// Files shipped in the source tree's data/ folder (the simulation's catalog and rules, the US macro
// dataset and its world mapping), found the same way by every command and worker.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "signals/scoring.h"

namespace pulse::pipeline {

// A bundled file (e.g. "us-macro-quarterly.csv", "sim/rules.yaml"): `explicit_path` when given
// (kNotFound "<flag>: no file '<path>'" when it does not exist), then $PULSE_DATA_DIR/name, then
// data/name (or shared/data/name) found by walking up from the executable `exe_path` and from the
// working directory. kNotFound names what to pass: "pass <flag> FILE or set PULSE_DATA_DIR".
Result<std::string> FindBundledFile(const std::string& name, const std::string& explicit_path,
                                    const std::string& exe_path, const std::string& flag);

// The scoring and gating rules of ingested signals (ingest.scoring_rules): the file `configured`
// names, else the bundled signals/scoring.yaml, else the built-in defaults (which equal that file).
Result<std::shared_ptr<const signals::ScoringRules>> LoadScoringRules(const std::string& configured,
                                                                      const std::string& exe_path);

}  // namespace pulse::pipeline
