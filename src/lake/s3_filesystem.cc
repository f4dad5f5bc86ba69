#include "lake/filesystem.h"

namespace pulse::lake {

Result<std::unique_ptr<FileSystem>> NewS3FileSystem(std::string bucket, std::string, S3Options) {
  return Status::Unavailable("S3 support is being written; bucket '" + bucket + "'");
}

}  // namespace pulse::lake
