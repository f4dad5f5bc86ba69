#include "pipeline/simulation_summary.h"

#include <arrow/api.h>

#include "core/hash.h"
#include "core/time.h"

namespace pulse::pipeline {

std::shared_ptr<arrow::Schema> SimulationSchema() {
  auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({
      arrow::field("sim_id", arrow::utf8(), false),
      arrow::field("step", arrow::int32(), false),
      arrow::field("variable", arrow::utf8(), false),
      arrow::field("mean", arrow::float64(), false),
      arrow::field("sd", arrow::float64(), false),
      arrow::field("min", arrow::float64(), false),
      arrow::field("max", arrow::float64(), false),
      arrow::field("quantile_levels", arrow::list(arrow::float64()), false),
      arrow::field("quantiles", arrow::list(arrow::float64()), false),
      arrow::field("runs", arrow::int64(), false),
      arrow::field("turns", arrow::int32(), false),
      arrow::field("seed", arrow::utf8(), false),
      arrow::field("symbolic", arrow::boolean(), false),
      arrow::field("rules_sha256", arrow::utf8(), false),
      arrow::field("created", ts, false),
  });
}

std::string SimulationId(const nlohmann::json& identity) { return ContentId(identity).substr(0, 16); }

Result<std::optional<int64_t>> SimulationWrittenAt(lake::Lake& lake, const std::string& sim_id) {
  auto table = lake.OpenTable("simulations");
  if (!table.ok()) {
    if (table.status().code() == StatusCode::kNotFound) return std::optional<int64_t>();
    return table.status();
  }
  PULSE_ASSIGN_OR_RETURN(auto snapshot, (*table)->LoadSnapshot());
  if (!snapshot.app_versions.count("pulse-simulate:" + sim_id)) return std::optional<int64_t>();
  return std::optional<int64_t>(snapshot.version);
}

Result<SimulationWrite> WriteSimulationSummary(lake::Lake& lake, const SimulationRecord& record) {
  if (!record.summary) return Status::InvalidArgument("no summary to write");
  const sim::Summary& summary = *record.summary;
  arrow::StringBuilder id_b, var_b, seed_b, rules_b;
  arrow::Int32Builder step_b, turns_b;
  arrow::DoubleBuilder mean_b, sd_b, min_b, max_b;
  arrow::ListBuilder levels_b(arrow::default_memory_pool(), std::make_shared<arrow::DoubleBuilder>());
  arrow::ListBuilder quant_b(arrow::default_memory_pool(), std::make_shared<arrow::DoubleBuilder>());
  arrow::Int64Builder runs_b;
  arrow::BooleanBuilder symbolic_b;
  arrow::TimestampBuilder created_b(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  auto* levels_values = static_cast<arrow::DoubleBuilder*>(levels_b.value_builder());
  auto* quant_values = static_cast<arrow::DoubleBuilder*>(quant_b.value_builder());
  const int64_t now = time::NowMicros();
  int64_t rows = 0;
  for (size_t step = 0; step < summary.steps(); ++step) {
    for (size_t c = 0; c < summary.columns().size(); ++c) {
      const auto s = summary.Get(step, c, record.quantiles);
      bool ok = id_b.Append(record.sim_id).ok() && step_b.Append(static_cast<int32_t>(step)).ok() &&
                var_b.Append(summary.columns()[c]).ok() && mean_b.Append(s.mean).ok() && sd_b.Append(s.sd).ok() &&
                min_b.Append(s.min).ok() && max_b.Append(s.max).ok() && levels_b.Append().ok() &&
                levels_values->AppendValues(record.quantiles).ok() && quant_b.Append().ok() &&
                quant_values->AppendValues(s.quantiles).ok() && runs_b.Append(static_cast<int64_t>(record.runs)).ok() &&
                turns_b.Append(static_cast<int32_t>(record.turns)).ok() &&
                seed_b.Append(std::to_string(record.seed)).ok() && symbolic_b.Append(record.symbolic).ok() &&
                rules_b.Append(record.rules_sha256).ok() && created_b.Append(now).ok();
      if (!ok) return Status::Internal("building the simulations table");
      ++rows;
    }
  }
  std::vector<std::shared_ptr<arrow::Array>> cols(15);
  arrow::ArrayBuilder* builders[] = {&id_b,    &step_b, &var_b,   &mean_b, &sd_b,       &min_b,   &max_b,    &levels_b,
                                     &quant_b, &runs_b, &turns_b, &seed_b, &symbolic_b, &rules_b, &created_b};
  for (size_t c = 0; c < cols.size(); ++c)
    if (!builders[c]->Finish(&cols[c]).ok()) return Status::Internal("building the simulations table");
  auto table = arrow::Table::Make(SimulationSchema(), cols);
  PULSE_ASSIGN_OR_RETURN(auto out, lake.OpenOrCreateTable("simulations", SimulationSchema(), {}));
  lake::WriteOptions write;
  write.app_id = "pulse-simulate:" + record.sim_id;
  write.app_version = 1;
  write.operation = "SIMULATE";
  write.operation_parameters = {
      {"sim_id", record.sim_id}, {"runs", std::to_string(record.runs)}, {"turns", std::to_string(record.turns)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(*table, write));
  return SimulationWrite{commit.version, rows, commit.skipped};
}

std::shared_ptr<arrow::Schema> SimulationPathsSchema() {
  return arrow::schema({arrow::field("sim_id", arrow::utf8(), false), arrow::field("run", arrow::int64(), false),
                        arrow::field("step", arrow::int32(), false), arrow::field("variable", arrow::utf8(), false),
                        arrow::field("value", arrow::float64(), false)});
}

Result<SimulationWrite> WriteSimulationPaths(lake::Lake& lake, const std::string& sim_id,
                                             const std::vector<std::string>& variables, uint64_t runs, size_t steps,
                                             const std::vector<double>& paths) {
  if (paths.size() != runs * steps * variables.size()) {
    return Status::InvalidArgument("paths hold " + std::to_string(paths.size()) + " values, expected " +
                                   std::to_string(runs * steps * variables.size()));
  }
  arrow::StringBuilder id_b, var_b;
  arrow::Int64Builder run_b;
  arrow::Int32Builder step_b;
  arrow::DoubleBuilder value_b;
  size_t i = 0;
  for (uint64_t run = 0; run < runs; ++run) {
    for (size_t step = 0; step < steps; ++step) {
      for (const std::string& variable : variables) {
        bool ok = id_b.Append(sim_id).ok() && run_b.Append(static_cast<int64_t>(run)).ok() &&
                  step_b.Append(static_cast<int32_t>(step)).ok() && var_b.Append(variable).ok() &&
                  value_b.Append(paths[i++]).ok();
        if (!ok) return Status::Internal("building the simulation_paths table");
      }
    }
  }
  std::vector<std::shared_ptr<arrow::Array>> cols(5);
  arrow::ArrayBuilder* builders[] = {&id_b, &run_b, &step_b, &var_b, &value_b};
  for (size_t c = 0; c < cols.size(); ++c)
    if (!builders[c]->Finish(&cols[c]).ok()) return Status::Internal("building the simulation_paths table");
  auto table = arrow::Table::Make(SimulationPathsSchema(), cols);
  PULSE_ASSIGN_OR_RETURN(auto out, lake.OpenOrCreateTable("simulation_paths", SimulationPathsSchema(), {}));
  lake::WriteOptions write;
  write.app_id = "pulse-simulate-paths:" + sim_id;
  write.app_version = 1;
  write.operation = "SIMULATE";
  write.operation_parameters = {{"sim_id", sim_id}, {"sampled_runs", std::to_string(runs)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(*table, write));
  return SimulationWrite{commit.version, table->num_rows(), commit.skipped};
}

}  // namespace pulse::pipeline
