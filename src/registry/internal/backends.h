// The two registry backends behind OpenRegistry (registry/registry.h), and the checks they share.
#pragma once

#include <memory>
#include <string>

#include "registry/registry.h"

namespace pulse::registry::internal {

// The embedded registry in folder `root` (created when missing). Layout (MLflow's file store
// layout, with JSON where MLflow writes YAML):
//   ROOT/mlruns/<experiment id>/meta.json                 {id, name}
//   ROOT/mlruns/<experiment id>/<run id>/meta.json        {run_id, experiment_id, run_name, status,
//                                                          start_ms, end_ms, artifact_uri}
//   ROOT/mlruns/<experiment id>/<run id>/params/<key>     the value
//   ROOT/mlruns/<experiment id>/<run id>/metrics/<key>    "<timestamp ms> <value> <step>"
//   ROOT/mlruns/<experiment id>/<run id>/tags/<key>       the value
//   ROOT/mlruns/<experiment id>/<run id>/artifacts/...    the artifact files
//   ROOT/mlruns/models/<name>/meta.json                   {name, description, created_ms}
//   ROOT/mlruns/models/<name>/tags/<key>, aliases/<alias> (the version number)
//   ROOT/mlruns/models/<name>/version-<n>/meta.json       {name, version, source, run_id, created_ms}
//   ROOT/mlruns/models/<name>/version-<n>/tags/<key>
// An experiment's id is the first 16 hex digits of SHA-256 of its name, so concurrent writers
// creating the same experiment agree on it. Two writers: every file is written to a unique
// temporary name in its folder and renamed into place (atomic on POSIX), so a reader sees the old
// or the new content, never a mix; a version number is claimed by mkdir of version-<n>, which
// exactly one writer wins (the loser tries n + 1), and a version exists for readers only once its
// meta.json (written last, after its run's artifacts and its tags) is in place. A writer that dies
// in between leaves a version-<n> folder without meta.json: skipped by readers, its number never
// reused. Aliases and tags are last-writer-wins files.
std::unique_ptr<Registry> NewFileRegistry(const std::string& root);

// An MLflow tracking server at base_url (http(s)://host:port[/prefix], no trailing '/').
std::unique_ptr<Registry> NewMlflowRegistry(std::string base_url);

}  // namespace pulse::registry::internal
