// Confinement of the paths a task names. Whoever can write to the broker chooses a task's kwargs,
// so a worker reads files and opens lakes only where its own configuration allows:
//   - a lake (every task's `lake` kwarg, and the worker's default): the worker's own lake
//     (config lake.url) or any lake at or under one of its lake roots (config jobs.lake_roots);
//   - a file to ingest (pulse.ingest's `path`): a regular file inside the worker's ingest inbox
//     (config ingest.inbox; a relative path resolves inside it), or one of `allowed_files` (the
//     in-process worker of `pulse run` allows the dataset its user named). No inbox: none.
//
// Local paths are resolved canonically (symbolic links followed, as realpath does) before they are
// compared, and callers open the resolved path, so a symlink inside the inbox that leads outside is
// refused. Any `..` component is refused outright, and so is a NUL byte. A file outside the inbox
// is refused before the file system is asked about it (the error does not reveal whether it
// exists). S3 lakes (s3://bucket/prefix) are compared by bucket and key segments; ".", ".." and
// empty segments are refused.
//
// A path outside what the configuration allows (outside the inbox, through a symbolic link that
// leads out, no inbox at all, a lake neither the worker's nor under a root) is kPermissionDenied;
// a malformed one ('..', a NUL byte, empty, an unsupported scheme, unresolvable, not a regular
// file) is kInvalidArgument. Each names the path, what is allowed and the config key that allows
// more, and each is a task FAILURE that is not retried (ValueError to Celery clients,
// jobs/task_errors.h). A path that is allowed but absent is kNotFound.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::pipeline {

// The lake URL to open for a task that names `url`: a canonical local path or a normalised
// s3:// URL. `worker_lake` is the worker's lake.url, `roots` its jobs.lake_roots.
Result<std::string> ConfineLake(std::string_view url, std::string_view worker_lake,
                                const std::vector<std::string>& roots);

// The canonical path of the file pulse.ingest may read for `path`. `inbox` may be empty (none).
Result<std::string> ConfineIngestFile(std::string_view path, std::string_view inbox,
                                      const std::vector<std::string>& allowed_files);

}  // namespace pulse::pipeline
