// `pulse run` as one library call: Pulse's main job (pipeline/main_job.h) as the settings configure
// it, then its report. Resolves the inputs (the dataset and world mapping, bundled by default),
// checks the output folder is writable before any stage runs, opens the lake, runs the stages
// through the broker the settings or request name - "inproc": a TaskWorker thread of this process
// (pipeline/task_worker.h); redis://…: remote `pulse worker`s that share the lake - and writes
// report.html and summary.json (report/report_data.h), whose summary lists each stage's result.
#pragma once

#include <functional>
#include <string>

#include "core/config_sections.h"
#include "core/status.h"
#include "pipeline/main_job.h"
#include "report/report_data.h"

namespace pulse::pipeline {

struct PulseRunRequest {
  // Empty: run.dataset (else the bundled us-macro-quarterly.csv), run.mapping (else the bundled
  // us-macro-world.yaml), run.out, jobs.broker.
  std::string data, mapping, out, broker;
  std::string exe_path;  // to find bundled files
};

// What the run works on, known once everything is set up and before the first stage.
struct PulseRunPlan {
  std::string dataset;  // absolute path
  std::string lake_url;
  std::string broker;          // "inproc" or the redis:// URL
  std::string broker_display;  // "inproc" or the URL without its password
  std::string out;             // the output folder
};

struct PulseRunOutcome {
  PulseRunPlan plan;
  MainJobResult job;
  report::Report report;
  double report_seconds = 0;
};

struct PulseRunHooks {
  std::function<void(const PulseRunPlan&)> started;  // before the first stage
  StageCallback stage;                               // before and after each stage (main_job.h)
  // After the last stage, before the report (the ingest stage's result lists rejected rows).
  std::function<void(const MainJobResult&)> stages_done;
};

// Errors: kInvalidArgument for a broker that is neither inproc nor redis://, kNotFound for input
// files (naming --data / --mapping), kIoError for an output folder that cannot be written, and
// the first failing stage's or the report's error.
Result<PulseRunOutcome> RunPulse(const Settings& settings, const PulseRunRequest& request, const PulseRunHooks& hooks);

}  // namespace pulse::pipeline
