// Reader for the M4 competition's CSV files (Mcompetitions/M4-methods, Dataset/Train and Test):
// a quoted header "V1","V2",..., then one row per series: its id ("H3", "W12") and its values,
// quoted, padded with empty cells ("") to the longest row.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "forecast/evaluation.h"

namespace pulse::ingest {

struct M4Series {
  std::string id;
  std::vector<double> values;
};

// Every row of the file, read once (at most 1 GiB); the first malformed row is an error naming
// the file, line and cell ("bad number 'x' in column 7"), as is a series id given twice.
Result<std::vector<M4Series>> ReadM4File(const std::string& path);

// Pairs train and test files by series id, in the train file's order. kInvalidArgument when an
// id is missing from either file or a test row is empty.
Result<std::vector<forecast::EvalSeries>> ReadM4TrainTest(const std::string& train_path, const std::string& test_path);

}  // namespace pulse::ingest
