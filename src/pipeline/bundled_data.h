// Files shipped in the source tree's data/ folder (the simulation's catalog and rules, the US macro
// dataset and its world mapping), found the same way by every command and worker.
#pragma once

#include <string>

#include "core/status.h"

namespace pulse::pipeline {

// A bundled file (e.g. "us-macro-quarterly.csv", "sim/rules.yaml"): `explicit_path` when given
// (kNotFound "<flag>: no file '<path>'" when it does not exist), then $PULSE_DATA_DIR/name, then
// data/name (or shared/data/name) found by walking up from the executable `exe_path` and from the
// working directory. kNotFound names what to pass: "pass <flag> FILE or set PULSE_DATA_DIR".
Result<std::string> FindBundledFile(const std::string& name, const std::string& explicit_path,
                                    const std::string& exe_path, const std::string& flag);

}  // namespace pulse::pipeline
