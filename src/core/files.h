// Reading a whole local file as text (configuration, rules, catalogs).
#pragma once

#include <string>

#include "core/status.h"

namespace pulse {

// kNotFound naming the path when it cannot be opened or read.
Result<std::string> ReadTextFile(const std::string& path);

}  // namespace pulse
