#include "ingest/m4_reader.h"

#include <charconv>
#include <cmath>
#include <unordered_map>

#include "ingest/record_reader.h"

namespace pulse::ingest {

Result<std::vector<M4Series>> ReadM4File(const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(auto reader, RecordReader::Open(path, FileFormat::kCsv));
  std::vector<M4Series> out;
  Record rec;
  while (reader->Next(rec)) {
    if (!rec.error.empty()) return Status::InvalidArgument(path + ":" + std::to_string(rec.line) + ": " + rec.error);
    if (rec.values.empty() || rec.values[0].empty())
      return Status::InvalidArgument(path + ":" + std::to_string(rec.line) + ": a row must start with the series id");
    M4Series s;
    s.id = rec.values[0];
    for (size_t c = 1; c < rec.values.size(); ++c) {
      const std::string& cell = rec.values[c];
      if (cell.empty()) {
        // Padding: every later cell must be empty too.
        for (size_t k = c + 1; k < rec.values.size(); ++k)
          if (!rec.values[k].empty())
            return Status::InvalidArgument(path + ":" + std::to_string(rec.line) + ": a gap in series " + s.id +
                                           " at column " + std::to_string(c + 1));
        break;
      }
      double v = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || end != cell.data() + cell.size() || !std::isfinite(v))
        return Status::InvalidArgument(path + ":" + std::to_string(rec.line) + ": bad number '" + cell +
                                       "' in column " + std::to_string(c + 1) + " of series " + s.id);
      s.values.push_back(v);
    }
    out.push_back(std::move(s));
  }
  PULSE_RETURN_IF_ERROR(reader->status());
  return out;
}

Result<std::vector<forecast::EvalSeries>> ReadM4TrainTest(const std::string& train_path, const std::string& test_path) {
  PULSE_ASSIGN_OR_RETURN(auto train, ReadM4File(train_path));
  PULSE_ASSIGN_OR_RETURN(auto test, ReadM4File(test_path));
  std::unordered_map<std::string, size_t> test_index;
  for (size_t i = 0; i < test.size(); ++i) test_index[test[i].id] = i;
  if (test_index.size() != train.size())
    return Status::InvalidArgument(train_path + " has " + std::to_string(train.size()) + " series but " + test_path +
                                   " has " + std::to_string(test_index.size()));
  std::vector<forecast::EvalSeries> out;
  for (auto& s : train) {
    auto it = test_index.find(s.id);
    if (it == test_index.end()) return Status::InvalidArgument("series " + s.id + " is not in " + test_path);
    if (test[it->second].values.empty()) return Status::InvalidArgument("series " + s.id + " has no test values");
    out.push_back({s.id, std::move(s.values), std::move(test[it->second].values)});
  }
  return out;
}

}  // namespace pulse::ingest
