#include "cli.h"

#include <cstdlib>
#include <filesystem>

#include <arrow/api.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/time.h"
#include "lake/arrow_json.h"

namespace pulse::cli {

lake::S3Options S3OptionsFrom(const Context& ctx) {
  lake::S3Options s3;
  s3.endpoint = ctx.config.GetString("s3.endpoint");
  s3.region = ctx.config.GetString("s3.region");
  s3.access_key = ctx.config.GetString("s3.access_key");
  s3.secret_key = ctx.config.GetString("s3.secret_key");
  s3.path_style = ctx.config.GetBool("s3.path_style");
  return s3;
}

Result<std::unique_ptr<lake::Lake>> OpenLake(const Context& ctx) {
  const lake::S3Options s3 = S3OptionsFrom(ctx);
  lake::TableOptions tables;
  tables.checkpoint_interval = static_cast<int>(ctx.config.GetInt("lake.checkpoint_interval"));
  tables.read_threads = tables.write_threads = static_cast<int>(ctx.config.GetInt("threads"));
  return lake::Lake::Open(ctx.config.GetString("lake.url"), s3, tables);
}

Result<std::string> FindBundledFile(const std::string& name, const std::string& explicit_path,
                                    const std::string& exe_path, const std::string& flag) {
  namespace fs = std::filesystem;
  if (!explicit_path.empty()) {
    if (!fs::exists(explicit_path)) return Status::NotFound(flag + ": no file '" + explicit_path + "'");
    return explicit_path;
  }
  if (const char* dir = std::getenv("PULSE_DATA_DIR")) {
    fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
    return Status::NotFound("PULSE_DATA_DIR is set but has no " + name);
  }
  std::error_code ec;
  for (fs::path start : {fs::weakly_canonical(fs::path(exe_path), ec).parent_path(), fs::current_path(ec)}) {
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
      for (const char* sub : {"data", "shared/data", "../shared/data"}) {
        fs::path p = dir / sub / name;
        if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
      }
      if (dir == dir.parent_path()) break;
    }
  }
  return Status::NotFound("cannot find the bundled file " + name + "; pass " + flag + " FILE or set PULSE_DATA_DIR");
}

Result<std::shared_ptr<const signals::ScoringRules>> LoadScoringRules(const Context& ctx) {
  const std::string configured = ctx.config.GetString("ingest.scoring_rules");
  auto path = FindBundledFile("signals/scoring.yaml", configured, ctx.exe_path, "ingest.scoring_rules");
  if (!path.ok()) {
    if (configured.empty() && path.status().code() == StatusCode::kNotFound)
      return std::make_shared<const signals::ScoringRules>();  // the built-in defaults equal the bundled file
    return path.status();
  }
  PULSE_ASSIGN_OR_RETURN(std::string text, ReadTextFile(*path));
  PULSE_ASSIGN_OR_RETURN(auto rules, signals::ParseScoringRules(text, *path));
  return std::make_shared<const signals::ScoringRules>(std::move(rules));
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t comma = text.find(',', pos);
    out.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    pos = comma == std::string::npos ? text.size() : comma + 1;
  }
  return out;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "pulse: %s\n", status.message().c_str());
  return kExitError;
}

std::string CellText(const arrow::Array& column, int64_t row) {
  if (column.IsNull(row)) return "";
  switch (column.type_id()) {
    case arrow::Type::TIMESTAMP:
      return time::FormatTimestamp(static_cast<const arrow::TimestampArray&>(column).Value(row));
    case arrow::Type::DOUBLE: {
      char buf[64];
      double v = static_cast<const arrow::DoubleArray&>(column).Value(row);
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
      return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
    }
    case arrow::Type::STRING:
      return std::string(static_cast<const arrow::StringArray&>(column).GetView(row));
    default: {
      auto j = lake::ArrayElementToJson(column, row);
      if (!j.ok()) return "?";
      return j->is_string() ? j->get<std::string>() : j->dump();
    }
  }
}

namespace {
// Columns of the table as single arrays (tables read from the lake arrive in chunks).
std::vector<std::shared_ptr<arrow::Array>> Flat(const arrow::Table& table) {
  std::vector<std::shared_ptr<arrow::Array>> out;
  for (const auto& col : table.columns()) {
    auto joined = arrow::Concatenate(col->chunks());
    out.push_back(joined.ok() ? *joined : nullptr);
  }
  return out;
}

bool IsNumeric(const arrow::DataType& t) { return arrow::is_integer(t.id()) || arrow::is_floating(t.id()); }
}  // namespace

void PrintTable(std::FILE* out, const arrow::Table& table, int64_t limit) {
  int64_t rows = limit > 0 ? std::min(limit, table.num_rows()) : table.num_rows();
  auto cols = Flat(table);
  const int ncols = table.num_columns();
  std::vector<std::vector<std::string>> cells(static_cast<size_t>(ncols));
  std::vector<size_t> width(static_cast<size_t>(ncols));
  for (int c = 0; c < ncols; ++c) {
    auto& col = cells[static_cast<size_t>(c)];
    col.push_back(table.schema()->field(c)->name());
    const auto& array = cols[static_cast<size_t>(c)];
    for (int64_t r = 0; r < rows; ++r) {
      if (!array) {
        col.push_back("?");
      } else if (array->type_id() == arrow::Type::DOUBLE && !array->IsNull(r)) {
        char buf[32];  // 7 significant digits are enough to read; --json keeps full precision
        std::snprintf(buf, sizeof buf, "%.7g", static_cast<const arrow::DoubleArray&>(*array).Value(r));
        col.push_back(buf);
      } else {
        col.push_back(CellText(*array, r));
      }
    }
    for (const auto& s : col) width[static_cast<size_t>(c)] = std::max(width[static_cast<size_t>(c)], std::min<size_t>(s.size(), 60));
  }
  // cells[c][0] is the header; a rule of dashes follows it.
  auto print_line = [&](auto cell_of) {
    std::string line;
    for (int c = 0; c < ncols; ++c) {
      const size_t w = width[static_cast<size_t>(c)];
      auto [text, right] = cell_of(c);
      if (text.size() > w) text = text.substr(0, w - 1) + "~";
      std::string pad(w - text.size(), ' ');
      line += right ? pad + text : text + pad;
      if (c + 1 < ncols) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::fprintf(out, "%s\n", line.c_str());
  };
  print_line([&](int c) { return std::pair{cells[static_cast<size_t>(c)][0], false}; });
  print_line([&](int c) { return std::pair{std::string(width[static_cast<size_t>(c)], '-'), false}; });
  for (int64_t r = 1; r <= rows; ++r)
    print_line([&](int c) {
      return std::pair{cells[static_cast<size_t>(c)][static_cast<size_t>(r)],
                       IsNumeric(*table.schema()->field(c)->type())};
    });
  if (rows < table.num_rows())
    std::fprintf(out, "(%lld of %lld rows; --limit 0 shows all)\n", static_cast<long long>(rows),
                 static_cast<long long>(table.num_rows()));
}

void PrintJsonRows(std::FILE* out, const arrow::Table& table, int64_t limit) {
  int64_t rows = limit > 0 ? std::min(limit, table.num_rows()) : table.num_rows();
  auto cols = Flat(table);
  std::fputs("[", out);
  for (int64_t r = 0; r < rows; ++r) {
    nlohmann::json row = nlohmann::json::object();
    for (int c = 0; c < table.num_columns(); ++c) {
      const auto& col = cols[static_cast<size_t>(c)];
      const std::string& name = table.schema()->field(c)->name();
      if (!col || col->IsNull(r)) {
        row[name] = nullptr;
      } else if (col->type_id() == arrow::Type::TIMESTAMP || col->type_id() == arrow::Type::STRING) {
        row[name] = CellText(*col, r);
      } else {
        auto j = lake::ArrayElementToJson(*col, r);
        row[name] = j.ok() ? *j : nlohmann::json();
      }
    }
    std::fprintf(out, "%s%s", r ? ",\n" : "\n", row.dump().c_str());
  }
  std::fputs(rows ? "\n]\n" : "]\n", out);
}

}  // namespace pulse::cli
