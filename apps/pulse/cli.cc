#include "cli.h"

#include <arrow/api.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "lake/open_lake.h"
#include "lake/table_json.h"

namespace pulse::cli {

Result<std::unique_ptr<lake::Lake>> OpenLake(const Context& ctx, lake::OpenMode mode) {
  return lake::OpenLake(ctx.settings(), mode);
}

void AddFileLayoutOptions(CLI::App* cmd, FileLayoutArgs& args) {
  cmd->add_option("--format", args.format, "csv or jsonl (default: from the extension)");
  cmd->add_option("--kind", args.kind, "Signal kind when the file has no kind column");
  cmd->add_option("--source", args.source, "Source when the file has no source column (default: file name)");
  cmd->add_option("--unit", args.unit, "Unit when the file has no unit column");
  cmd->add_flag("--wide", args.wide, "One row per time point, one signal per numeric column");
  cmd->add_option("--time", args.time, "Wide layout time columns: COLUMN or year,quarter");
}

Status ApplyFileLayout(const FileLayoutArgs& args, const IngestSettings& settings, ingest::IngestOptions& options) {
  if (args.format == "csv") {
    options.format = ingest::FileFormat::kCsv;
  } else if (args.format == "jsonl" || args.format == "json") {
    options.format = ingest::FileFormat::kJsonLines;
  } else if (!args.format.empty()) {
    return Status::InvalidArgument("--format must be csv or jsonl, got '" + args.format + "'");
  }
  options.kind = args.kind.empty() ? settings.kind : args.kind;
  options.source = args.source;
  options.unit = args.unit;
  options.wide = args.wide;
  options.time_columns = SplitCommas(args.time);
  if (!options.time_columns.empty() && !options.wide) {
    return Status::InvalidArgument("--time applies to --wide files only");
  }
  options.max_field_bytes = settings.max_field_bytes;
  options.max_file_bytes = settings.max_file_bytes;
  return Status::Ok();
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
    case arrow::Type::STRING: return std::string(static_cast<const arrow::StringArray&>(column).GetView(row));
    default: {
      auto j = lake::CellToJson(column, row);
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
    for (const auto& s : col)
      width[static_cast<size_t>(c)] = std::max(width[static_cast<size_t>(c)], std::min<size_t>(s.size(), 60));
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
  for (int64_t r = 1; r <= rows; ++r) {
    print_line([&](int c) {
      return std::pair{cells[static_cast<size_t>(c)][static_cast<size_t>(r)],
                       IsNumeric(*table.schema()->field(c)->type())};
    });
  }
  if (rows < table.num_rows()) {
    std::fprintf(out, "(%lld of %lld rows; --limit 0 shows all)\n", static_cast<long long>(rows),
                 static_cast<long long>(table.num_rows()));
  }
}

Status PrintJsonRows(std::FILE* out, const arrow::Table& table, int64_t limit) {
  PULSE_ASSIGN_OR_RETURN(auto rows, lake::RowsToJson(table, limit));
  std::fputs("[", out);
  for (size_t r = 0; r < rows.size(); ++r) std::fprintf(out, "%s%s", r ? ",\n" : "\n", rows[r].dump().c_str());
  std::fputs(rows.empty() ? "]\n" : "\n]\n", out);
  return Status::Ok();
}

}  // namespace pulse::cli
