// Confinement of the paths a task names. Whoever can write to the broker chooses a task's kwargs,
// so a worker reads files and opens lakes only where its own configuration allows:
//   - a lake (every task's `lake` kwarg, and the worker's default): the worker's own lake
//     (config lake.url) or any lake at or under one of its lake roots (config jobs.lake_roots);
//   - a file to ingest (pulse.ingest's `path`): a regular file inside the worker's ingest inbox
//     (config ingest.inbox; a relative path resolves inside it), or one of `allowed_files` (the
//     in-process worker of `pulse run` allows the dataset its user named). No inbox: none.
//   - an object to ingest by URL (pulse.ingest's `url`): an object inside the root of the lake the
//     task writes to, in that lake's own store: s3://bucket/prefix/... under an S3 lake
//     s3://bucket/prefix (read with the lake's credentials), or an absolute path / file:///path
//     under a local lake's folder (ConfineLakeObject, then ConfineLakeFile for a local one).
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

// The stable codes of a refused `url` (pulse.ingest): each refusal's message starts with its
// code and ": ", and pulse serve answers the same code in its problem documents (jobs.cc).
namespace url_refusal {
// Empty, a NUL byte, a relative path, a file://HOST URL, an empty, "." or ".." segment, a
// trailing '/' (names no object): kInvalidArgument.
inline constexpr std::string_view kInvalid = "invalid-url";
// A scheme other than s3:// and file:// (http://, ftp://, ...): kInvalidArgument.
inline constexpr std::string_view kScheme = "unsupported-url-scheme";
// Not under the lake's root (another bucket, another prefix, a sibling folder sharing the
// prefix, a local path for an S3 lake, a symbolic link out of a local lake): kPermissionDenied.
inline constexpr std::string_view kOutsideLake = "url-outside-lake";
// Allowed, but no such object (or file): kNotFound.
inline constexpr std::string_view kNotFound = "object-not-found";
// More bytes than the bound (config ingest.max_file_bytes): kInvalidArgument.
inline constexpr std::string_view kTooLarge = "object-too-large";
// A local lake's path that is a directory, FIFO, device...: kInvalidArgument.
inline constexpr std::string_view kNotAFile = "object-not-a-file";
}  // namespace url_refusal

// An object named by a `url` inside a lake's root.
struct LakeObject {
  bool s3 = false;
  std::string key;   // relative to the lake's root, '/'-separated, e.g. "inbox/x.csv"
  std::string path;  // local lake: the absolute, lexically normal path (not yet resolved)
};

// Where `url` lies in the lake at `lake_url` (a lake URL as Lake::Open takes it, e.g. the task's
// confined lake). Checks the text only: the scheme (s3:// or file:// or an absolute path,
// scheme case-insensitive), the segments, and that the object is under the lake's root (local:
// lexically, against the root as written and as resolved); a local lake's root may be resolved
// (realpath) but the object itself is not looked up. pulse serve runs it before enqueueing.
// Nothing is percent-decoded: the URL's text after the scheme is the key or path ("%2e%2e" is an
// object named so, not "..").
// Refusals carry a url_refusal code (the message starts with it); `code`, when given, receives it.
Result<LakeObject> ConfineLakeObject(std::string_view url, std::string_view lake_url, std::string* code = nullptr);

// For a local lake (object.s3 false): the canonical path of the regular file to read, resolved
// (symbolic links followed) and still inside the lake's resolved root `lake_url`: a link that
// leads out is kOutsideLake, a missing file kNotFound, a directory or FIFO kNotAFile.
Result<std::string> ConfineLakeFile(const LakeObject& object, std::string_view lake_url);

}  // namespace pulse::pipeline
