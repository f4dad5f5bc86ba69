#include "ingest/m4_reader.h"

#include <charconv>
#include <cmath>
#include <unordered_map>

#include "core/printable.h"
#include "ingest/input_file.h"
#include "ingest/record_reader.h"

namespace pulse::ingest {

Result<std::vector<M4Series>> ReadM4File(const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(InputBytes input, ReadInput(path, kDefaultMaxFileBytes));
  PULSE_ASSIGN_OR_RETURN(auto reader, RecordReader::Open(input.bytes, path, FileFormat::kCsv));
  std::vector<M4Series> out;
  const std::string where = Printable(path);
  std::unordered_map<std::string, int64_t> first_line;  // series id -> line it first appears on
  Record rec;
  while (reader->Next(rec)) {
    const std::string at = where + ":" + std::to_string(rec.line) + ": ";
    if (!rec.error.empty()) return Status::InvalidArgument(at + rec.error);
    if (rec.values.empty() || rec.values[0].empty())
      return Status::InvalidArgument(at + "a row must start with the series id");
    if (!ValidUtf8(rec.values[0]))
      return Status::InvalidArgument(at + "series id '" + Printable(rec.values[0]) + "' is not valid UTF-8");
    if (const auto [it, fresh] = first_line.emplace(rec.values[0], rec.line); !fresh) {
      return Status::InvalidArgument(at + "series " + Printable(rec.values[0]) + " appears twice (first on line " +
                                     std::to_string(it->second) + ")");
    }
    M4Series s;
    s.id = rec.values[0];
    for (size_t c = 1; c < rec.values.size(); ++c) {
      const std::string& cell = rec.values[c];
      if (cell.empty()) {
        // Padding: every later cell must be empty too.
        for (size_t k = c + 1; k < rec.values.size(); ++k) {
          if (!rec.values[k].empty()) {
            return Status::InvalidArgument(at + "a gap in series " + Printable(s.id) + " at column " +
                                           std::to_string(c + 1));
          }
        }
        break;
      }
      double v = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || end != cell.data() + cell.size() || !std::isfinite(v)) {
        return Status::InvalidArgument(at + "bad number '" + Printable(cell, 64) + "' in column " +
                                       std::to_string(c + 1) + " of series " + Printable(s.id));
      }
      s.values.push_back(v);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<forecast::EvalSeries>> ReadM4TrainTest(const std::string& train_path, const std::string& test_path) {
  PULSE_ASSIGN_OR_RETURN(auto train, ReadM4File(train_path));
  PULSE_ASSIGN_OR_RETURN(auto test, ReadM4File(test_path));
  std::unordered_map<std::string, size_t> test_index;
  for (size_t i = 0; i < test.size(); ++i) test_index[test[i].id] = i;
  if (test_index.size() != train.size()) {
    return Status::InvalidArgument(Printable(train_path) + " has " + std::to_string(train.size()) + " series but " +
                                   Printable(test_path) + " has " + std::to_string(test_index.size()) +
                                   " distinct ones");
  }
  std::vector<forecast::EvalSeries> out;
  for (auto& s : train) {
    auto it = test_index.find(s.id);
    if (it == test_index.end())
      return Status::InvalidArgument("series " + Printable(s.id) + " is not in " + Printable(test_path));
    if (test[it->second].values.empty())
      return Status::InvalidArgument("series " + Printable(s.id) + " has no test values");
    out.push_back({s.id, std::move(s.values), std::move(test[it->second].values)});
  }
  return out;
}

}  // namespace pulse::ingest
