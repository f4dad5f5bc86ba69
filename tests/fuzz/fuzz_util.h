// Helpers shared by the libFuzzer targets in this folder (see tests/fuzz/README.md).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace pulse::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// A scratch file for readers that only take a path (RecordReader, ReadM4File): an in-memory
// file (memfd), rewritten for every input and opened by its /proc/self/fd path, so a run leaves
// nothing behind (not even after a crash) and costs no disk I/O.
class ScratchFile {
 public:
  explicit ScratchFile(const char* name) : fd_(::memfd_create(name, 0)) {
    if (fd_ < 0) __builtin_trap();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~ScratchFile() { ::close(fd_); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Replaces the file's content; returns its path.
  const std::string& Write(std::string_view bytes) {
    if (::ftruncate(fd_, 0) != 0) __builtin_trap();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) __builtin_trap();
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

// A file from the source tree (PULSE_SOURCE_DIR is set by tests/fuzz/CMakeLists.txt).
inline std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(PULSE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pulse::fuzz
