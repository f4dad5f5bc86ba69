// Local-directory FileSystem: atomic writes by temp file + fsync + rename, create-if-absent by
// link(2), which fails with EEXIST when another writer got there first.
#include <arrow/io/file.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "lake/filesystem.h"

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;

Status Errno(std::string_view what, const fs::path& path) {
  return Status::IoError(std::string(what) + " '" + path.string() + "': " + std::strerror(errno));
}

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) + "." +
         std::to_string(rng() & 0xffffffffu);
}

class LocalFileSystem final : public FileSystem {
 public:
  explicit LocalFileSystem(fs::path root) : root_(std::move(root)) {}

  Result<std::string> ReadFile(std::string_view key) override {
    fs::path p = root_ / fs::path(key);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound("no such file '" + p.string() + "'");
      return Errno("cannot open", p);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status err = Errno("cannot stat", p);
      ::close(fd);
      return err;
    }
    // Read straight into a string of the file's size; keep reading if it grew meanwhile.
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    for (;;) {
      if (done == data.size()) data.resize(data.size() + (1 << 16));
      ssize_t n = ::read(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        Status err = Errno("cannot read", p);
        ::close(fd);
        return err;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    data.resize(done);
    ::close(fd);
    return data;
  }

  Result<std::shared_ptr<arrow::Buffer>> ReadBuffer(std::string_view key) override {
    fs::path p = root_ / fs::path(key);
    auto file = arrow::io::MemoryMappedFile::Open(p.string(), arrow::io::FileMode::READ);
    if (!file.ok()) {
      if (!fs::exists(p)) return Status::NotFound("no such file '" + p.string() + "'");
      return Status::IoError("cannot map '" + p.string() + "': " + file.status().ToString());
    }
    auto size = (*file)->GetSize();
    if (!size.ok()) return Status::IoError("cannot size '" + p.string() + "': " + size.status().ToString());
    auto buffer = (*file)->ReadAt(0, *size);  // zero-copy: the buffer keeps the mapping alive
    if (!buffer.ok()) return Status::IoError("cannot read '" + p.string() + "': " + buffer.status().ToString());
    return *buffer;
  }

  Status WriteFile(std::string_view key, std::string_view data) override {
    fs::path target = root_ / fs::path(key);
    PULSE_ASSIGN_OR_RETURN(fs::path tmp, WriteTemp(target, data));
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      Status st = Errno("cannot rename into", target);
      ::unlink(tmp.c_str());
      return st;
    }
    return SyncDir(target.parent_path());
  }

  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    fs::path target = root_ / fs::path(key);
    PULSE_ASSIGN_OR_RETURN(fs::path tmp, WriteTemp(target, data));
    int rc = ::link(tmp.c_str(), target.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      if (err == EEXIST) return Status::AlreadyExists("'" + target.string() + "' already exists");
      errno = err;
      return Errno("cannot create", target);
    }
    return SyncDir(target.parent_path());
  }

  Result<std::vector<FileInfo>> List(std::string_view prefix) override {
    std::vector<FileInfo> out;
    // The prefix may end inside a file name ("_delta_log/0000"): walk its directory part.
    std::string_view dir_part = prefix.substr(0, prefix.rfind('/') == std::string_view::npos ? 0 : prefix.rfind('/'));
    fs::path start = root_ / fs::path(dir_part);
    std::error_code ec;
    if (!fs::exists(start, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(start, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string key = fs::relative(it->path(), root_, ec).generic_string();
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      if (key.find(".pulse-tmp.") != std::string::npos) continue;  // in-flight temp files
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;  // removed while listing
      out.push_back({std::move(key), static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000});
    }
    if (ec) return Status::IoError("cannot list '" + start.string() + "': " + ec.message());
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Delete(std::string_view key) override {
    fs::path p = root_ / fs::path(key);
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Errno("cannot delete", p);
    return Status::Ok();
  }

  Result<FileInfo> Stat(std::string_view key) override {
    fs::path p = root_ / fs::path(key);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound("no such file '" + p.string() + "'");
      return Errno("cannot stat", p);
    }
    return FileInfo{std::string(key), static_cast<int64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000};
  }

  std::string RootUrl() const override { return "file://" + root_.string(); }

  std::unique_ptr<FileSystem> Sub(std::string_view subdir) const override {
    return NewLocalFileSystem((root_ / fs::path(subdir)).string());
  }

 private:
  // Writes `data` to a unique temp file beside `target` and fsyncs it.
  Result<fs::path> WriteTemp(const fs::path& target, std::string_view data) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Status::IoError("cannot create directory '" + target.parent_path().string() + "': " + ec.message());
    fs::path tmp = target;
    tmp += ".pulse-tmp." + UniqueSuffix();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("cannot create", tmp);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        Status st = Errno("cannot write", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return st;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      Status st = Errno("cannot flush", tmp);
      ::unlink(tmp.c_str());
      return st;
    }
    return tmp;
  }

  static Status SyncDir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open directory", dir);
    ::fsync(fd);
    ::close(fd);
    return Status::Ok();
  }

  fs::path root_;
};

}  // namespace

std::unique_ptr<FileSystem> NewLocalFileSystem(const std::string& root_dir) {
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(root_dir), ec).lexically_normal();
  std::string s = root.string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return std::make_unique<LocalFileSystem>(fs::path(s));
}

}  // namespace pulse::lake
