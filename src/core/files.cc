#include "core/files.h"

#include <fstream>
#include <sstream>

namespace pulse {

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::NotFound("cannot read '" + path + "'");
  return ss.str();
}

}  // namespace pulse
