// The one error of FileSystem::ReadFileAtMost for an object above its bound (filesystem.cc and
// the S3 filesystem share it).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace pulse::lake {

// kInvalidArgument "'URL' holds SIZE bytes, more than the MAX allowed"; size < 0: not known
// (a transfer stopped at the bound), said as "more than MAX".
Status ObjectTooLarge(const std::string& url, int64_t size, int64_t max_bytes);

}  // namespace pulse::lake
