#include "ingest/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/printable.h"

namespace pulse::ingest {
namespace {

std::string Describe(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO or pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

struct Fd {
  int fd = -1;
  bool owned = true;
  ~Fd() {
    if (fd >= 0 && owned) ::close(fd);
  }
};

}  // namespace

Result<InputBytes> ReadInput(const std::string& path, int64_t max_bytes, bool regular_only) {
  if (max_bytes <= 0) return Status::InvalidArgument("the maximum input size must be > 0");
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? std::string("standard input") : "'" + Printable(path, 1024) + "'";
  Fd f;
  if (is_stdin) {
    f.fd = STDIN_FILENO;
    f.owned = false;
  } else {
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    if (regular_only) flags |= O_NONBLOCK;  // a FIFO without a writer must not block the open
    do {
      f.fd = ::open(path.c_str(), flags);
    } while (f.fd < 0 && errno == EINTR);
    if (f.fd < 0) return Status::NotFound("cannot open " + name + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return Status::IoError("cannot stat " + name + ": " + std::strerror(errno));
  InputBytes out;
  out.regular_file = S_ISREG(st.st_mode);
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(name + " is a directory, not a file");
  if (regular_only && !out.regular_file)
    return Status::InvalidArgument(name + " is " + Describe(st.st_mode) + "; only regular files can be ingested here");
  if (regular_only) {
    // Back to blocking reads: O_NONBLOCK only guarded the open.
    const int fl = ::fcntl(f.fd, F_GETFL);
    if (fl >= 0) (void)::fcntl(f.fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  const auto too_big = [&] {
    return Status::InvalidArgument(name + " exceeds the maximum input size of " + std::to_string(max_bytes) +
                                   " bytes (raise ingest.max_file_bytes to ingest it)");
  };
  if (out.regular_file && st.st_size > max_bytes) return too_big();
  if (out.regular_file && st.st_size > 0) out.bytes.reserve(static_cast<size_t>(st.st_size) + 1);
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    const size_t used = out.bytes.size();
    // Read at most one byte past the limit: enough to tell that the input is over it.
    const size_t room = static_cast<size_t>(max_bytes) + 1 - used;
    const size_t want = room < kChunk ? room : kChunk;
    out.bytes.resize(used + want);
    ssize_t n;
    do {
      n = ::read(f.fd, out.bytes.data() + used, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int err = errno;
      out.bytes.resize(used);
      if (err == EISDIR) return Status::InvalidArgument(name + " is a directory, not a file");
      return Status::IoError("error reading " + name + " after " + std::to_string(used) +
                             " bytes: " + std::strerror(err));
    }
    out.bytes.resize(used + static_cast<size_t>(n));
    if (n == 0) break;
    if (static_cast<int64_t>(out.bytes.size()) > max_bytes) return too_big();
  }
  return out;
}

}  // namespace pulse::ingest
