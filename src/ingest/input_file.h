// ReadInput: the whole content of an ingest input, read ONCE into memory, so that everything
// derived from it (the rows, the content hash that keys idempotent re-ingest) describes the same
// snapshot even while another process appends to or truncates the file.
//
// Contract:
//  - "-" is standard input. Any other path is opened as given; pipes, FIFOs (once a writer has
//    opened them), /dev/stdin and other character devices are read to their end.
//  - At most `max_bytes` are read: an input with more (a huge file, /dev/zero) is refused with
//    kInvalidArgument "... exceeds the maximum input size of N bytes", never read forever.
//  - regular_only (the worker's pulse.ingest): anything but a regular file (FIFO, device,
//    socket, directory) is refused with kInvalidArgument before a single byte is read; the open
//    never blocks (O_NONBLOCK), so a FIFO without a writer cannot hang the worker.
//  - kNotFound when the path cannot be opened, kIoError on a read error; both name the path.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace pulse::ingest {

struct InputBytes {
  std::string bytes;          // the whole content
  bool regular_file = false;  // false for stdin, pipes, FIFOs, devices
};

// The default of ingest.max_file_bytes: 1 GiB.
inline constexpr int64_t kDefaultMaxFileBytes = int64_t{1} << 30;

Result<InputBytes> ReadInput(const std::string& path, int64_t max_bytes, bool regular_only = false);

}  // namespace pulse::ingest
