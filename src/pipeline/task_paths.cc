#include "pipeline/task_paths.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

// A task-supplied text as it appears in a message: quoted, control bytes as '?', at most 200 bytes.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < 200; ++i)
    out += static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7f ? '?' : text[i];
  return out + (text.size() > 200 ? "...'" : "'");
}

bool HasDotDot(const fs::path& p) {
  for (const auto& part : p)
    if (part == "..") return true;
  return false;
}

// p at or below root; both absolute and free of "." / ".." (canonical or lexically normal).
bool Within(const fs::path& p, const fs::path& root) {
  const fs::path rel = p.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

// A lake location: a canonical local path, or a normalised s3://bucket/key/segments URL.
struct Location {
  bool s3 = false;
  std::string text;  // the normalised URL (s3) or path (local)
};

// The '/'-separated segments of `text` ("a//b" -> a, "", b; "" -> one empty segment).
std::vector<std::string_view> Segments(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t pos = 0; pos <= text.size();) {
    size_t slash = text.find('/', pos);
    if (slash == std::string_view::npos) slash = text.size();
    out.push_back(text.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool BadSegment(std::string_view segment) { return segment.empty() || segment == "." || segment == ".."; }

// `trusted` texts come from the worker's own configuration, where ".." is a legitimate way to
// write a path; a task's never are.
Result<Location> Resolve(std::string_view url, bool trusted, std::string_view what) {
  if (url.find('\0') != std::string_view::npos)
    return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
  if (url.starts_with("s3://")) {
    std::string_view rest = url.substr(5);
    std::string out = "s3://";
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    for (const std::string_view segment : Segments(rest)) {
      if (BadSegment(segment)) {
        return Status::InvalidArgument(std::string(what) + " " + Quote(url) +
                                       ": an S3 URL needs a bucket and key segments without '', '.' or '..'");
      }
      out += (out.size() == 5 ? "" : "/") + std::string(segment);
    }
    return Location{true, out};
  }
  std::string_view path = url;
  if (path.starts_with("file://")) {
    path.remove_prefix(7);
  } else if (path.find("://") != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " " + Quote(url) +
                                   " has an unsupported scheme (expected a path, file:// or s3://)");
  }
  if (path.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  if (!trusted && HasDotDot(fs::path(path)))
    return Status::InvalidArgument(std::string(what) + " " + Quote(url) + ": '..' is not allowed in a task's paths");
  std::error_code ec;
  const fs::path absolute = fs::absolute(fs::path(path), ec);
  if (ec) return Status::InvalidArgument(std::string(what) + " " + Quote(url) + " cannot be resolved: " + ec.message());
  if (!trusted) {
    // weakly_canonical treats a dangling symbolic link as a name still to be created; a lake
    // created through it would land wherever it points. Refuse one on the path.
    fs::path prefix;
    for (const auto& part : absolute) {
      prefix /= part;
      const fs::file_status link = fs::symlink_status(prefix, ec);
      if (ec || !fs::exists(link)) break;
      if (fs::is_symlink(link) && !fs::exists(fs::status(prefix, ec)))
        return Status::InvalidArgument(std::string(what) + " " + Quote(url) + " goes through a dangling symbolic link");
    }
    ec.clear();
  }
  fs::path resolved = fs::weakly_canonical(absolute, ec);
  if (ec) return Status::InvalidArgument(std::string(what) + " " + Quote(url) + " cannot be resolved: " + ec.message());
  resolved = resolved.lexically_normal();
  if (!resolved.has_filename() && resolved.has_relative_path()) resolved = resolved.parent_path();  // "a/b/" -> "a/b"
  return Location{false, resolved.string()};
}

bool Contains(const Location& root, const Location& target, bool exact) {
  if (root.s3 != target.s3) return false;
  if (root.text == target.text) return true;
  if (exact) return false;
  if (root.s3) return target.text.starts_with(root.text + "/");
  return Within(fs::path(target.text), fs::path(root.text));
}

std::string List(const std::vector<std::string>& items) {
  if (items.empty()) return "none configured";
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + Quote(i);
  return out;
}

// The canonical path of the regular file `p` (absolute, lexically normal; named `shown` by the
// task, which messages call `noun`, e.g. path 'x.csv') inside `folder` (`where` describes it, e.g.
// "the ingest inbox '/in' (config ingest.inbox)"). A path outside is refused before the file
// system is asked about it: the answer does not reveal whether it exists.
Result<std::string> ConfineFileIn(const fs::path& p, std::string_view noun, std::string_view shown,
                                  std::string_view folder, const std::string& where) {
  const std::string subject = std::string(noun) + " " + Quote(shown);
  std::error_code ec;
  const fs::path folder_given = fs::absolute(fs::path(folder), ec).lexically_normal();
  const fs::path folder_real = fs::canonical(fs::path(folder), ec);
  if (ec) return Status::NotFound(where + " cannot be used: " + ec.message());
  if (!Within(p, folder_given) && !Within(p, folder_real))
    return Status::PermissionDenied(subject + " is outside " + where);
  const fs::path real = fs::canonical(p, ec);
  if (ec) return Status::NotFound("no file " + Quote(shown) + " in " + where + ": " + ec.message());
  if (!Within(real, folder_real))
    return Status::PermissionDenied(subject + " leads outside " + where + " through a symbolic link");
  if (!fs::is_regular_file(real, ec)) return Status::InvalidArgument(subject + " is not a regular file");
  return real.string();
}

// `status` with its message prefixed by `code` (a url_refusal code), which `out` receives.
Status Refuse(const Status& status, std::string_view code, std::string* out) {
  if (out != nullptr) *out = std::string(code);
  return {status.code(), std::string(code) + ": " + status.message()};
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

Result<std::string> ConfineLake(std::string_view url, std::string_view worker_lake,
                                const std::vector<std::string>& roots) {
  PULSE_ASSIGN_OR_RETURN(Location target, Resolve(url, false, "lake"));
  if (!worker_lake.empty()) {
    auto own = Resolve(worker_lake, true, "lake.url");
    if (own.ok() && Contains(*own, target, true)) return target.text;
  }
  for (const auto& root : roots) {
    auto r = Resolve(root, true, "jobs.lake_roots entry");
    if (r.ok() && Contains(*r, target, false)) return target.text;
  }
  return Status::PermissionDenied("lake " + Quote(url) + " is not allowed: a task may name this worker's lake (" +
                                  Quote(worker_lake) + ", config lake.url) or a lake under one of its lake roots (" +
                                  List(roots) + ", config jobs.lake_roots)");
}

Result<std::string> ConfineIngestFile(std::string_view path, std::string_view inbox,
                                      const std::vector<std::string>& allowed_files) {
  if (path.find('\0') != std::string_view::npos) return Status::InvalidArgument("path contains a NUL byte");
  if (path.empty()) return Status::InvalidArgument("path is empty");
  fs::path p(path);
  if (HasDotDot(p)) return Status::InvalidArgument("path " + Quote(path) + ": '..' is not allowed in a task's paths");
  std::error_code ec;
  if (p.is_relative() && !inbox.empty()) p = fs::path(inbox) / p;
  p = fs::absolute(p, ec).lexically_normal();
  if (ec) return Status::InvalidArgument("path " + Quote(path) + " cannot be resolved: " + ec.message());

  // Files the worker's owner allowed by name (pulse run's dataset).
  for (const auto& file : allowed_files) {
    const fs::path given = fs::absolute(fs::path(file), ec).lexically_normal();
    const fs::path real = fs::weakly_canonical(fs::path(file), ec);
    if (p != given && p != real) continue;
    fs::path c = fs::canonical(p, ec);
    if (ec) return Status::NotFound("no file " + Quote(path) + ": " + ec.message());
    if (!fs::is_regular_file(c, ec)) return Status::InvalidArgument("path " + Quote(path) + " is not a regular file");
    return c.string();
  }

  if (inbox.empty()) {
    return Status::PermissionDenied("path " + Quote(path) +
                                    " refused: this worker reads files only from its ingest inbox, and it has none "
                                    "(set config ingest.inbox, e.g. PULSE_INGEST_INBOX=/srv/pulse/inbox)");
  }
  return ConfineFileIn(p, "path", path, inbox, "the ingest inbox " + Quote(inbox) + " (config ingest.inbox)");
}

Result<LakeObject> ConfineLakeObject(std::string_view url, std::string_view lake_url, std::string* code) {
  const auto invalid = [&](const std::string& why) {
    return Refuse(Status::InvalidArgument("url " + Quote(url) + " " + why), url_refusal::kInvalid, code);
  };
  if (url.find('\0') != std::string_view::npos)
    return Refuse(Status::InvalidArgument("url contains a NUL byte"), url_refusal::kInvalid, code);
  if (url.empty()) return Refuse(Status::InvalidArgument("url is empty"), url_refusal::kInvalid, code);
  const bool s3 = StartsWithNoCase(url, "s3://");
  const bool file = StartsWithNoCase(url, "file://");
  if (!s3 && !file && url.find("://") != std::string_view::npos) {
    return Refuse(
        Status::InvalidArgument("url " + Quote(url) +
                                " has an unsupported scheme: pulse.ingest reads objects of the lake's own "
                                "store only (s3:// for an S3 lake; file:// or an absolute path for a local one)"),
        url_refusal::kScheme, code);
  }
  if (lake_url.empty())
    return Refuse(Status::InvalidArgument("no lake to read url " + Quote(url) + " from"), url_refusal::kInvalid, code);
  auto lake = Resolve(lake_url, true, "lake");
  if (!lake.ok()) return Refuse(lake.status(), url_refusal::kInvalid, code);
  const auto outside = [&](const std::string& why) {
    return Refuse(Status::PermissionDenied("url " + Quote(url) + " is outside the lake " + Quote(lake->text) + why),
                  url_refusal::kOutsideLake, code);
  };
  // The object's segments: never empty, "." or ".."; no trailing '/' (that names no object).
  std::string_view rest = url.substr(s3 ? 5 : file ? 7 : 0);
  if (file) {
    if (!rest.starts_with('/')) return invalid("is not a local file URL (file:///absolute/path)");
  } else if (!s3 && !rest.starts_with('/')) {
    return invalid("is a relative path (give an absolute path, file:///path or s3://bucket/key)");
  }
  if (rest.ends_with('/')) return invalid("ends with '/': it names a folder, not an object");
  const std::vector<std::string_view> segments = Segments(s3 ? rest : rest.substr(1));
  if (std::any_of(segments.begin(), segments.end(), BadSegment))
    return invalid("has an empty, '.' or '..' segment (an object's URL names it directly)");

  LakeObject object;
  object.s3 = s3;
  if (s3) {
    if (!lake->s3) return outside(": that lake is a local folder, not an S3 bucket");
    if (segments.size() < 2) return invalid("names a bucket, not an object");
    // The lake's root as bucket and key segments ("s3://bucket/a/b" -> bucket, a, b).
    const std::vector<std::string_view> root = Segments(std::string_view(lake->text).substr(5));
    if (segments.size() <= root.size() || !std::equal(root.begin(), root.end(), segments.begin()))
      return outside(segments[0] != root[0] ? ": another bucket" : ": another prefix");
    for (size_t i = root.size(); i < segments.size(); ++i)
      object.key += (i == root.size() ? "" : "/") + std::string(segments[i]);
    return object;
  }
  if (lake->s3) return outside(": that lake is an S3 bucket, and a local path is not in it");
  const fs::path p = fs::path(rest).lexically_normal();
  std::error_code ec;
  const fs::path root_given =
      fs::absolute(fs::path(lake_url.starts_with("file://") ? lake_url.substr(7) : lake_url), ec).lexically_normal();
  const fs::path root_real(lake->text);
  fs::path rel;
  for (const auto& root : {root_real, root_given}) {
    if (!root.empty() && Within(p, root)) {
      rel = p.lexically_relative(root);
      break;
    }
  }
  if (rel.empty() || rel == ".") return outside("");
  object.path = p.string();
  object.key = rel.generic_string();
  return object;
}

Result<std::string> ConfineLakeFile(const LakeObject& object, std::string_view lake_url) {
  if (object.s3 || lake_url.starts_with("s3://"))
    return Status::InvalidArgument("ConfineLakeFile: an S3 object has no local file");
  // The folder as written (a symbolic link to it included) and as resolved both hold the object.
  const std::string_view folder = lake_url.starts_with("file://") ? lake_url.substr(7) : lake_url;
  auto file = ConfineFileIn(fs::path(object.path), "url", object.path, folder, "the lake " + Quote(lake_url));
  if (file.ok()) return file;
  switch (file.status().code()) {
    case StatusCode::kPermissionDenied: return Refuse(file.status(), url_refusal::kOutsideLake, nullptr);
    case StatusCode::kNotFound: return Refuse(file.status(), url_refusal::kNotFound, nullptr);
    case StatusCode::kInvalidArgument: return Refuse(file.status(), url_refusal::kNotAFile, nullptr);
    default: return file.status();
  }
}

}  // namespace pulse::pipeline
