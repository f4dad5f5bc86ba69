#include "pipeline/task_paths.h"

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

// `trusted` texts come from the worker's own configuration, where ".." is a legitimate way to
// write a path; a task's never are.
Result<Location> Resolve(std::string_view url, bool trusted, std::string_view what) {
  if (url.find('\0') != std::string_view::npos)
    return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
  if (url.starts_with("s3://")) {
    std::string_view rest = url.substr(5);
    std::string out = "s3://";
    bool first = true;
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    for (size_t pos = 0; pos <= rest.size();) {
      size_t slash = rest.find('/', pos);
      if (slash == std::string_view::npos) slash = rest.size();
      const std::string_view segment = rest.substr(pos, slash - pos);
      if (segment.empty() || segment == "." || segment == "..") {
        return Status::InvalidArgument(std::string(what) + " " + Quote(url) +
                                       ": an S3 URL needs a bucket and key segments without '', '.' or '..'");
      }
      out += (first ? "" : "/") + std::string(segment);
      first = false;
      pos = slash + 1;
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
  const fs::path inbox_given = fs::absolute(fs::path(inbox), ec).lexically_normal();
  const fs::path inbox_real = fs::canonical(fs::path(inbox), ec);
  if (ec) {
    return Status::NotFound("the ingest inbox " + Quote(inbox) +
                            " (config ingest.inbox) cannot be used: " + ec.message());
  }
  // Lexically first: a path outside is refused before the file system is asked about it.
  if (!Within(p, inbox_given) && !Within(p, inbox_real)) {
    return Status::PermissionDenied("path " + Quote(path) + " is outside the ingest inbox " + Quote(inbox) +
                                    " (config ingest.inbox)");
  }
  const fs::path real = fs::canonical(p, ec);
  if (ec) return Status::NotFound("no file " + Quote(path) + " in the ingest inbox: " + ec.message());
  if (!Within(real, inbox_real)) {
    return Status::PermissionDenied("path " + Quote(path) + " leads outside the ingest inbox " + Quote(inbox) +
                                    " through a symbolic link (config ingest.inbox)");
  }
  if (!fs::is_regular_file(real, ec)) return Status::InvalidArgument("path " + Quote(path) + " is not a regular file");
  return real.string();
}

}  // namespace pulse::pipeline
