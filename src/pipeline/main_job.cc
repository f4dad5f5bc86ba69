#include "pipeline/main_job.h"

#include "core/trace.h"
#include "jobs/task_client.h"

namespace pulse::pipeline {

Result<MainJobResult> RunMainJob(jobs::TaskQueue& queue, jobs::ResultBackend& results, const MainJobOptions& options,
                                 const StageCallback& on_stage) {
  MainJobResult out;
  auto run = [&](const std::string& name, const std::string& task, nlohmann::json kwargs) -> Result<nlohmann::json> {
    const int index = static_cast<int>(out.stages.size());
    if (on_stage) on_stage(index, name, nullptr);
    // One span per stage: the enqueue and (through the message's traceparent) the task run below it.
    trace::Span span = trace::Span::Start("pipeline.stage/" + name);
    span.SetAttribute("pulse.stage", name);
    span.SetAttribute("pulse.stage.index", index);
    const auto started = std::chrono::steady_clock::now();
    kwargs["lake"] = options.lake_url;
    jobs::TaskMessage message;
    message.task = task;
    message.queue = options.queue;
    message.kwargs = std::move(kwargs);
    PULSE_ASSIGN_OR_RETURN(auto id, jobs::SubmitTask(queue, std::move(message)));
    auto result = jobs::AwaitResult(results, id, options.timeout);
    if (!result.ok()) {
      span.SetError(result.status().message());
      std::string hint;
      if (result.status().code() == StatusCode::kDeadlineExceeded)
        hint = " (is a pulse worker consuming queue '" + options.queue + "' on this broker?)";
      return Status(result.status().code(), name + " stage: " + result.status().message() + hint);
    }
    StageResult stage{name, task, *result,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
    out.stages.push_back(stage);
    if (on_stage) on_stage(index, name, &out.stages.back());
    return *result;
  };
  PULSE_ASSIGN_OR_RETURN(auto ingested, run("ingest", "pulse.ingest",
                                            {{"path", options.dataset},
                                             {"kind", "macro"},
                                             {"source", options.source},
                                             {"wide", true},
                                             {"time_columns", {"year", "quarter"}},
                                             {"only_new", true}}));
  out.rejected = ingested.value("rejected", int64_t{0});
  if (ingested.value("accepted", int64_t{0}) == 0 && !ingested.value("duplicate", false)) {
    std::string first;
    if (const auto& rejects = ingested.value("rejects", nlohmann::json::array()); !rejects.empty()) {
      first = "; first: line " + std::to_string(rejects[0].value("line", int64_t{0})) + ": " +
              rejects[0].value("reason", std::string());
    }
    return Status::InvalidArgument("ingest stage: " + options.dataset + " has no valid rows (" +
                                   std::to_string(out.rejected) + " rejected" + first + ")");
  }
  PULSE_ASSIGN_OR_RETURN(auto forecast, run("forecast", "pulse.forecast", nlohmann::json::object()));
  out.signals_version = forecast.value("signals_version", int64_t{-1});
  PULSE_ASSIGN_OR_RETURN(auto world, run("simulate", "pulse.world",
                                         {{"mapping", options.mapping.ToJson()},
                                          {"kind", "macro"},
                                          {"signals_version", out.signals_version},
                                          {"runs", options.sim_runs},
                                          {"turns", options.sim_turns},
                                          {"seed", options.seed},
                                          {"noise", options.noise}}));
  out.sim_id = world.value("sim_id", std::string());
  PULSE_ASSIGN_OR_RETURN(
      auto trust, run("trust", "pulse.trust", {{"signals_version", out.signals_version}, {"sim_id", out.sim_id}}));
  (void)trust;
  return out;
}

}  // namespace pulse::pipeline
