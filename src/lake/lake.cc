#include "lake/lake.h"

#include <cctype>
#include <set>

#include "lake/internal/delta_log.h"

namespace pulse::lake {

namespace {
Status CheckTableName(std::string_view name) {
  if (name.empty() || name.size() > 128) return Status::InvalidArgument("table name must be 1-128 characters");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return Status::InvalidArgument("table name '" + std::string(name) +
                                     "' may contain only letters, digits, '_' and '-'");
    }
  }
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<Lake>> Lake::Open(std::string_view url, const S3Options& s3, TableOptions defaults,
                                         OpenMode mode) {
  if (defaults.checkpoint_interval < 0) return Status::InvalidArgument("checkpoint interval must be >= 0");
  auto fs = OpenFileSystem(url, s3, mode);
  if (!fs.ok()) {
    if (fs.status().code() == StatusCode::kNotFound)
      return Status::NotFound("no lake at " + std::string(url) + " (" + fs.status().message() + ")");
    return fs.status();
  }
  return std::unique_ptr<Lake>(new Lake(std::move(*fs), defaults));
}

Result<std::vector<std::string>> Lake::ListTables() {
  PULSE_ASSIGN_OR_RETURN(auto files, fs_->List(""));
  std::set<std::string> names;
  const std::string marker = std::string("/") + delta::kLogDir;
  for (const auto& f : files) {
    auto pos = f.key.find(marker);
    if (pos == std::string::npos || pos == 0) continue;
    std::string name = f.key.substr(0, pos);
    if (name.find('/') == std::string::npos) names.insert(name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<std::unique_ptr<DeltaTable>> Lake::OpenTable(std::string_view name, std::optional<TableOptions> options) {
  PULSE_RETURN_IF_ERROR(CheckTableName(name));
  auto table = DeltaTable::Open(fs_->Sub(name), options.value_or(defaults_));
  if (table.status().code() == StatusCode::kNotFound)
    return Status::NotFound("no table '" + std::string(name) + "' in lake " + fs_->RootUrl());
  return table;
}

Result<std::unique_ptr<DeltaTable>> Lake::OpenOrCreateTable(std::string_view name,
                                                            const std::shared_ptr<arrow::Schema>& schema,
                                                            const std::vector<std::string>& partition_columns,
                                                            std::optional<TableOptions> options,
                                                            const std::vector<std::string>& sort_columns) {
  PULSE_RETURN_IF_ERROR(CheckTableName(name));
  return DeltaTable::OpenOrCreate(fs_->Sub(name), schema, partition_columns, std::string(name),
                                  options.value_or(defaults_), sort_columns);
}

}  // namespace pulse::lake
