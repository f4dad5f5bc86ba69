// Opening the lake that Pulse's configuration names (core/config_sections.h): lake.url with the
// s3.* settings for an s3:// lake, lake.checkpoint_interval, and `threads` for reading and writing
// files in parallel. The one place that maps the typed lake and s3 sections to lake options.
#pragma once

#include <memory>

#include "core/config_sections.h"
#include "core/status.h"
#include "lake/lake.h"

namespace pulse::lake {

// The s3.* section as the S3 filesystem's options (timeouts and retries keep their defaults).
S3Options S3OptionsFrom(const S3Settings& s3);

// lake.checkpoint_interval, and `threads` (0 = all cores) for parallel file reads and writes.
TableOptions TableOptionsFrom(const Settings& settings);

// Lake::Open(settings.lake.url, S3OptionsFrom(settings.s3), TableOptionsFrom(settings), mode).
Result<std::unique_ptr<Lake>> OpenLake(const Settings& settings, OpenMode mode = OpenMode::kCreateIfMissing);

}  // namespace pulse::lake
