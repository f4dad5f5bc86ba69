// pipeline/simulate_job.h and pipeline/task_worker.h: `pulse simulate`'s library call checks its
// request against the typed settings, is deterministic (same request, same id and numbers), writes
// once to the lake the settings name, and refuses bad forks, events, quantiles and combinations
// before anything runs; the task worker set-up runs Pulse's tasks from an in-process broker.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "jobs/broker.h"
#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"
#include "jobs/task_client.h"
#include "lake/open_lake.h"
#include "pipeline/simulate_job.h"
#include "pipeline/task_worker.h"

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

class SimulateJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("pulse_simulate_job_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    settings_.lake.url = (root_ / "lake").string();
    settings_.threads = 2;
  }
  void TearDown() override { fs::remove_all(root_); }

  SimulateRequest Request() const {
    SimulateRequest r;
    r.world.catalog = std::string(PULSE_SOURCE_DIR) + "/data/sim/catalog.yaml";
    r.world.rules = std::string(PULSE_SOURCE_DIR) + "/data/sim/rules.yaml";
    r.runs = 200;
    r.turns = 6;
    r.seed = 7;
    r.write_lake = false;
    return r;
  }
  std::string Error(const SimulateRequest& r) const {
    auto out = RunSimulateJob(settings_, r);
    EXPECT_FALSE(out.ok());
    return out.ok() ? std::string() : out.status().message();
  }

  fs::path root_;
  Settings settings_;
};

TEST_F(SimulateJobTest, RunsAndTurnsAreCheckedAgainstTheSimSettings) {
  settings_.sim.max_runs = 10;
  EXPECT_EQ(Error(Request()), "--runs must be 1..10 (config sim.max_runs), got 200");
  settings_.sim.max_runs = 1000;
  settings_.sim.max_turns = 5;
  EXPECT_EQ(Error(Request()), "--turns must be 1..5 (config sim.max_turns), got 6");
}

TEST_F(SimulateJobTest, SameRequestSameIdAndNumbersAndOneWrite) {
  auto a = RunSimulateJob(settings_, Request());
  auto b = RunSimulateJob(settings_, Request());
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->sim_id.size(), 16u);
  EXPECT_EQ(a->sim_id, b->sim_id);
  EXPECT_EQ(a->base.summary.Serialize(), b->base.summary.Serialize());
  EXPECT_FALSE(a->written);  // write_lake = false: the lake is not even created
  EXPECT_FALSE(fs::exists(root_ / "lake"));
  SimulateRequest other = Request();
  other.seed = 8;
  auto c = RunSimulateJob(settings_, other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->sim_id, a->sim_id);
  settings_.sim.decay_rate = 0.02;  // part of the identity
  auto d = RunSimulateJob(settings_, Request());
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->sim_id, a->sim_id);
  EXPECT_EQ(d->turn.decay_rate, 0.02);

  SimulateRequest to_lake = Request();
  to_lake.write_lake = true;
  auto first = RunSimulateJob(settings_, to_lake);
  auto again = RunSimulateJob(settings_, to_lake);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(first->written && again->written);
  EXPECT_FALSE(first->written->duplicate);
  EXPECT_TRUE(again->written->duplicate);
  EXPECT_EQ(again->written->version, first->written->version);
  const nlohmann::json doc = SimulationJson(to_lake, *first);
  EXPECT_EQ(doc["sim_id"], first->sim_id);
  EXPECT_EQ(doc["lake"]["table"], "simulations");
  EXPECT_EQ(doc["variables"]["hope"]["mean"].size(), 7u);  // turns + 1 steps
  EXPECT_FALSE(ShownColumns(*first, {}).empty());
  EXPECT_EQ(ShownColumns(*first, {"hope"}).size(), 1u);
}

TEST_F(SimulateJobTest, ForkReportsDivergenceAndSymbolicFollowsSettings) {
  SimulateRequest r = Request();
  r.forks = {"energy_price_index=1.6"};
  settings_.sim.symbolic = true;
  auto out = RunSimulateJob(settings_, r);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_TRUE(out->forked);
  EXPECT_TRUE(out->turn.symbolic);
  EXPECT_TRUE(SimulationJson(r, *out).contains("fork"));
  r.symbolic = false;  // the flag wins over the setting
  auto plain = RunSimulateJob(settings_, r);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->turn.symbolic);
  EXPECT_NE(plain->sim_id, out->sim_id);
}

TEST_F(SimulateJobTest, BadRequestsAreClearErrorsBeforeAnythingRuns) {
  SimulateRequest r = Request();
  r.forks = {"energy_price_index"};
  EXPECT_EQ(Error(r), "--fork expects name=value, got 'energy_price_index'");
  r.forks = {"no_such_variable=1"};
  EXPECT_EQ(Error(r), "--fork: unknown variable 'no_such_variable'");
  r.forks = {"energy_price_index=high"};
  EXPECT_EQ(Error(r), "--fork: 'energy_price_index' needs a number, got 'high'");
  r = Request();
  r.quantiles = "5,100";
  EXPECT_EQ(Error(r), "--quantiles expects percentages in (0, 100), got '100'");
  r = Request();
  r.events = {"nothing@2"};
  EXPECT_NE(Error(r).find("--event expects NAME@TURN with a turn in 1..6"), std::string::npos);
  r = Request();
  r.world.rules = (root_ / "missing.yaml").string();
  EXPECT_EQ(Error(r), "--rules: no file '" + r.world.rules + "'");
  r = Request();
  r.world.state = (root_ / "state.yaml").string();
  std::ofstream(r.world.state) << "hope: lots\n";
  EXPECT_EQ(Error(r), r.world.state + ": 'hope' needs a number, got 'lots'");
  r = Request();
  r.noise_file = (root_ / "noise.yaml").string();
  std::ofstream(r.noise_file) << "hope: {turn_sd: -1}\n";
  EXPECT_EQ(Error(r), r.noise_file + ":1: turn_sd must be >= 0");
  // Chunk tasks run the workers' bundled world: refused before any connection is tried.
  r = Request();
  r.broker = "redis://127.0.0.1:1/0";
  r.forks = {"energy_price_index=1.6"};
  EXPECT_NE(Error(r).find("--broker runs the workers' bundled rules and catalog"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "lake"));
}

TEST_F(SimulateJobTest, RetrodictRefusesBadOptionsAndReportsEveryBadRow) {
  RetrodictRequest r;
  r.world.catalog = std::string(PULSE_SOURCE_DIR) + "/data/sim/catalog.yaml";
  r.world.rules = std::string(PULSE_SOURCE_DIR) + "/data/sim/rules.yaml";
  r.grid = "hourly";
  auto bad = RunRetrodictJob(settings_, r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--grid is daily or weekly, got 'hourly'");
  r.grid = "weekly";
  r.maps = {"gdp=hope/0"};
  EXPECT_EQ(RunRetrodictJob(settings_, r).status().message(), "--map: bad scale in 'gdp=hope/0'");
  r.maps = {"gdp=nothing"};
  EXPECT_EQ(RunRetrodictJob(settings_, r).status().message(), "--map: unknown variable 'nothing'");
  r.maps.clear();
  r.csv = (root_ / "signals.csv").string();
  std::ofstream(r.csv) << "name,ts,value\nhope,2024-01-01,0.5\nhope,not-a-date,0.6\nhope,2024-01-15,x\n";
  std::vector<int64_t> lines;
  r.on_csv_reject = [&lines](int64_t line, const std::string&) { lines.push_back(line); };
  auto rejected = RunRetrodictJob(settings_, r);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().message(), r.csv + ": 2 bad rows (listed above)");
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 4}));
  std::ofstream(r.csv) << "name,ts,value\nhope,2024-01-01,0.5\nhope,2024-01-08,0.6\nhope,2024-01-15,0.55\n";
  auto good = RunRetrodictJob(settings_, r);
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->report.turns, 2u);
}

TEST_F(SimulateJobTest, OpenLakeFromSettings) {
  auto lake = lake::OpenLake(settings_);
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  EXPECT_EQ((*lake)->url(), "file://" + (root_ / "lake").string());
  settings_.s3.region = "eu-west-1";
  settings_.s3.path_style = false;
  const lake::S3Options s3 = lake::S3OptionsFrom(settings_.s3);
  EXPECT_EQ(s3.region, "eu-west-1");
  EXPECT_FALSE(s3.path_style);
  settings_.lake.checkpoint_interval = 3;
  EXPECT_EQ(lake::TableOptionsFrom(settings_).checkpoint_interval, 3);
  EXPECT_EQ(lake::TableOptionsFrom(settings_).read_threads, 2);
  settings_.lake.url = "ftp://nowhere";
  EXPECT_FALSE(lake::OpenLake(settings_).ok());
}

TEST(TaskWorker, RunsPulseTasksFromAnInProcessBroker) {
  Settings settings;
  settings.sim.decay_rate = 0.05;
  settings.jobs.lake_roots = {"/srv/lakes"};
  settings.ingest.inbox = "/srv/inbox";
  auto env = TaskEnvironmentFromSettings(settings, std::string(PULSE_SOURCE_DIR) + "/build/x/pulse");
  ASSERT_TRUE(env.ok()) << env.status().message();
  EXPECT_EQ(env->decay_rate, 0.05);
  EXPECT_EQ(env->lake_url, "pulse-lake");
  EXPECT_EQ(env->lake_roots, settings.jobs.lake_roots);
  EXPECT_EQ(env->ingest_inbox, "/srv/inbox");
  ASSERT_TRUE(env->catalog && env->rules);
  jobs::InProcessBroker broker;
  TaskWorker worker(broker, std::move(*env), EmbeddedWorkerOptions());
  const auto names = worker.task_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "pulse.simulate"), names.end());
  worker.Start();
  jobs::TaskMessage m;
  m.task = "pulse.noop";
  m.args = nlohmann::json::array({1, "two"});
  auto id = jobs::SubmitTask(broker, m);
  ASSERT_TRUE(id.ok());
  auto result = jobs::AwaitResult(broker, *id, std::chrono::seconds(30));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, m.args);
  worker.Stop();
  worker.Stop();  // idempotent
  EXPECT_EQ(worker.stats().succeeded.load(), 1);
}

}  // namespace
}  // namespace pulse::pipeline
