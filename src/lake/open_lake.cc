#include "lake/open_lake.h"

namespace pulse::lake {

S3Options S3OptionsFrom(const S3Settings& s3) {
  S3Options out;
  out.endpoint = s3.endpoint;
  out.region = s3.region;
  out.access_key = s3.access_key;
  out.secret_key = s3.secret_key;
  out.path_style = s3.path_style;
  return out;
}

TableOptions TableOptionsFrom(const Settings& settings) {
  TableOptions tables;
  tables.checkpoint_interval = settings.lake.checkpoint_interval;
  tables.read_threads = tables.write_threads = settings.threads;
  return tables;
}

Result<std::unique_ptr<Lake>> OpenLake(const Settings& settings, OpenMode mode) {
  return Lake::Open(settings.lake.url, S3OptionsFrom(settings.s3), TableOptionsFrom(settings), mode);
}

}  // namespace pulse::lake
