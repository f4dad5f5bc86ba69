// pulse worker --broker redis://HOST:PORT/DB [--concurrency N] [--queues a,b] [--visibility-timeout S]
//              [--track-started] [--execution-log KEY] [--cache-max-mb MB] [--metrics-port P]
//              [--max-deaths N]
//   --max-deaths (config jobs.max_deaths, default 3): a message whose worker died N times while
//   running it goes to the dead-letter list instead of being redelivered again.
//   --enable-test-tasks (hidden; tests only) also registers pulse.test.abort (calls abort()) and
//   pulse.test.throw (throws a non-std exception), so tests can kill a worker with a message.
//   A native worker for Pulse's tasks (pipeline/pulse_tasks.h) that joins Celery deployments:
//   it reads Celery protocol v2 messages from the Redis queues and writes results where Celery's
//   Redis backend keeps them, so Python's `send_task('pulse.simulate', ...)` and `AsyncResult.get()`
//   work against it. SIGTERM / SIGINT: finish in-flight tasks, then exit (printing the counters).
// pulse beat --broker URL --schedule FILE [--lease-ms MS] [--metrics-port P]
//   Publishes tasks on periodic schedules (jobs/scheduler.h); run several for availability: a
//   lease in Redis lets only one publish. --metrics-port serves what it published, when, and
//   whether it holds the lease (Scheduler::ExportMetrics), with the process's CPU and memory.
// pulse task send NAME [--args JSON] [--kwargs JSON] [--queue Q] --broker URL [--wait SECONDS]
//   Enqueues a task the way Celery's send_task does (any Celery worker may run it) and, with
//   --wait, prints its result; exit 1 when it failed or did not finish in time.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "cli_options.h"
#include "core/files.h"
#include "core/ids.h"
#include "core/metrics.h"
#include "core/metrics_server.h"
#include "core/otlp_exporter.h"
#include "jobs/backends.h"
#include "jobs/safe_json.h"
#include "jobs/scheduler.h"
#include "jobs/task_client.h"
#include "jobs/worker.h"
#include "lake/commit_metrics.h"
#include "pipeline/task_worker.h"

namespace pulse::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

struct WorkerArgs {
  std::string broker, queues = "celery";
  int concurrency = 0;
  int visibility_timeout = 3600;
  int restore_interval = 10;
  int metrics_port = -1;  // -1: off; 0: any free port
  bool track_started = false;
  std::string execution_log;
  double cache_max_mb = 0;  // 0: entries expire by TTL only
  std::string metrics_host = "127.0.0.1";
  std::optional<int64_t> max_deaths;  // absent: the config's jobs.max_deaths
  bool test_tasks = false;
};

// Tasks that misbehave on purpose, for the tests of the worker's barriers (never registered
// unless --enable-test-tasks is given).
void RegisterTestTasks(jobs::TaskRegistry& registry) {
  registry.Register("pulse.test.abort", {[](const jobs::TaskContext&) -> Result<nlohmann::json> {
                      std::fprintf(stderr, "pulse worker: pulse.test.abort called abort() on purpose\n");
                      std::abort();
                    }});
  registry.Register("pulse.test.throw", {[](const jobs::TaskContext&) -> Result<nlohmann::json> {
                      throw 42;  // not a std::exception
                    }});
}

// "a,b" for the banner: the queues as the worker reads them (trimmed).
std::string JoinQueues(const std::vector<std::string>& queues) {
  std::string out;
  for (const auto& q : queues) out += (out.empty() ? "" : ",") + q;
  return out;
}

// The worker's options from its flags (and jobs.max_deaths): each bad value is a clear error.
Result<jobs::WorkerOptions> WorkerOptionsFrom(const WorkerArgs& args, const Settings& settings) {
  jobs::WorkerOptions options;
  const int64_t max_deaths = args.max_deaths ? *args.max_deaths : settings.jobs.max_deaths;
  if (max_deaths < 1 || max_deaths > 1000000) {
    return Status::InvalidArgument("--max-deaths (jobs.max_deaths) must be 1..1000000, got " +
                                   std::to_string(max_deaths));
  }
  options.max_deaths = static_cast<int>(max_deaths);
  // Trimmed: "celery, other" means the queue "other", not " other" that no producer fills.
  options.queues.clear();
  for (const std::string& q : SplitCommas(args.queues)) {
    const size_t first = q.find_first_not_of(" \t"), last = q.find_last_not_of(" \t");
    if (first == std::string::npos)
      return Status::InvalidArgument("--queues has an empty queue name in '" + args.queues + "'");
    options.queues.push_back(q.substr(first, last - first + 1));
  }
  if (options.queues.empty()) return Status::InvalidArgument("--queues must name at least one queue");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.concurrency = args.concurrency > 0 ? args.concurrency : cores;
  if (args.visibility_timeout < 1) return Status::InvalidArgument("--visibility-timeout must be >= 1 second");
  options.visibility_timeout = std::chrono::seconds(args.visibility_timeout);
  if (args.restore_interval < 1) return Status::InvalidArgument("--restore-interval must be >= 1 second");
  options.restore_interval = std::chrono::seconds(args.restore_interval);
  options.track_started = args.track_started;
  options.execution_log = args.execution_log;
  return options;
}

void PrintWorkerStats(const jobs::WorkerStats& s) {
  std::printf(
      "{\"received\": %lld, \"succeeded\": %lld, \"failed\": %lld, \"retried\": %lld, \"dead_lettered\": %lld, "
      "\"duplicates\": %lld, \"revoked\": %lld, \"restored\": %lld, \"broker_errors\": %lld, "
      "\"cache_hits\": %lld, \"cache_misses\": %lld, \"executed\": %lld}\n",
      static_cast<long long>(s.received.load()), static_cast<long long>(s.succeeded.load()),
      static_cast<long long>(s.failed.load()), static_cast<long long>(s.retried.load()),
      static_cast<long long>(s.dead_lettered.load()), static_cast<long long>(s.duplicates.load()),
      static_cast<long long>(s.revoked.load()), static_cast<long long>(s.restored.load()),
      static_cast<long long>(s.broker_errors.load()), static_cast<long long>(s.cache_hits.load()),
      static_cast<long long>(s.cache_misses.load()), static_cast<long long>(s.executed.load()));
}

int RunWorker(const WorkerArgs& args, const Context& ctx) {
  if (args.broker.empty()) return Fail(Status::InvalidArgument("--broker redis://host:port/db is required"));
  auto broker = jobs::OpenBroker(args.broker, {.shared_only = true});
  if (!broker.ok()) return Fail(broker.status());
  if (!(args.cache_max_mb >= 0)) return Fail(Status::InvalidArgument("--cache-max-mb must be >= 0"));
  auto cache = jobs::OpenCache(jobs::CacheUrlFor(ctx.settings().jobs.cache, args.broker),
                               {.max_bytes = static_cast<int64_t>(args.cache_max_mb * 1024 * 1024)});
  if (!cache.ok()) return Fail(cache.status());
  auto env = pipeline::TaskEnvironmentFromSettings(ctx.settings(), ctx.exe_path);
  if (!env.ok()) return Fail(env.status());
  auto options = WorkerOptionsFrom(args, ctx.settings());
  if (!options.ok()) return Fail(options.status());
  pipeline::TaskWorker worker(**broker, *env, *options,
                              args.test_tasks ? RegisterTestTasks : std::function<void(jobs::TaskRegistry&)>(),
                              cache->get());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  metrics::Registry metrics_registry;
  std::unique_ptr<lake::ScopedCommitHook> lake_metrics;  // removed before the registry goes
  std::unique_ptr<MetricsServer> metrics;
  if (args.metrics_port >= 0) {
    worker.ExportMetrics(metrics_registry);
    lake_metrics = lake::ExportCommitMetrics(metrics_registry);  // the tasks' lake commits
    metrics::RegisterProcessMetrics(metrics_registry);
    trace::RegisterTraceMetrics(metrics_registry);
    auto server = MetricsServer::Start(args.metrics_host, args.metrics_port, metrics_registry);
    if (!server.ok()) return Fail(server.status());
    metrics = std::move(*server);
    std::fprintf(stderr, "pulse worker: metrics on http://%s:%d/metrics\n", args.metrics_host.c_str(), metrics->port());
  }
  worker.Start();
  std::fprintf(stderr, "pulse worker: %d threads on %s, queues %s, tasks", options->concurrency,
               jobs::BackendUrlForDisplay(args.broker).c_str(), JoinQueues(options->queues).c_str());
  for (const auto& name : worker.task_names()) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  worker.Stop();
  metrics.reset();
  lake_metrics.reset();
  PrintWorkerStats(worker.stats());
  return kExitOk;
}

struct BeatArgs {
  std::string broker, schedule;
  int lease_ms = 2000;
  int metrics_port = -1;  // -1: off; 0: any free port
  std::string metrics_host = "127.0.0.1";
};

int RunBeat(const BeatArgs& args) {
  auto text = ReadTextFile(args.schedule);
  if (!text.ok()) return Fail(text.status());
  auto entries = jobs::ParseSchedule(*text, args.schedule);
  if (!entries.ok()) return Fail(entries.status());
  if (args.lease_ms < 10) return Fail(Status::InvalidArgument("--lease-ms must be >= 10"));
  auto broker = jobs::OpenBroker(args.broker, {.shared_only = true});
  if (!broker.ok()) return Fail(broker.status());
  const std::string owner = NewUuid();
  jobs::Scheduler scheduler(**broker, **broker, *entries, owner, std::chrono::milliseconds(args.lease_ms));
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  metrics::Registry metrics_registry;
  std::unique_ptr<MetricsServer> metrics;
  if (args.metrics_port >= 0) {
    scheduler.ExportMetrics(metrics_registry);
    metrics::RegisterProcessMetrics(metrics_registry);
    trace::RegisterTraceMetrics(metrics_registry);
    auto server = MetricsServer::Start(args.metrics_host, args.metrics_port, metrics_registry);
    if (!server.ok()) return Fail(server.status());
    metrics = std::move(*server);
    std::fprintf(stderr, "pulse beat: metrics on http://%s:%d/metrics\n", args.metrics_host.c_str(), metrics->port());
  }
  std::fprintf(stderr, "pulse beat: owner %s, %zu schedules on %s (lease %d ms)\n", owner.c_str(), entries->size(),
               jobs::BackendUrlForDisplay(args.broker).c_str(), args.lease_ms);
  scheduler.Run(g_stop);
  metrics.reset();
  const auto& s = scheduler.stats();
  std::printf("{\"published\": %lld, \"leader_ticks\": %lld, \"follower_ticks\": %lld, \"errors\": %lld}\n",
              static_cast<long long>(s.published.load()), static_cast<long long>(s.leader_ticks.load()),
              static_cast<long long>(s.follower_ticks.load()), static_cast<long long>(s.errors.load()));
  return kExitOk;
}

struct SendArgs {
  std::string name, args = "[]", kwargs = "{}", queue = "celery", broker;
  double wait = 0;
};

int SendTask(const SendArgs& a) {
  if (a.broker.empty()) return Fail(Status::InvalidArgument("--broker redis://host:port/db is required"));
  if (a.queue.empty()) return Fail(Status::InvalidArgument("--queue must name a queue"));
  jobs::TaskMessage m;
  m.task = a.name;
  m.id = NewUuid();
  m.queue = a.queue;
  // Bounded parses: workers refuse deeper messages, and a deeper value would overflow the stack
  // when copied or serialized.
  auto args = jobs::ParseJson(a.args, "--args");
  if (!args.ok()) return Fail(args.status());
  auto kwargs = jobs::ParseJson(a.kwargs, "--kwargs");
  if (!kwargs.ok()) return Fail(kwargs.status());
  m.args = std::move(*args);
  m.kwargs = std::move(*kwargs);
  if (!m.args.is_array()) return Fail(Status::InvalidArgument("--args must be a JSON array"));
  if (!m.kwargs.is_object()) return Fail(Status::InvalidArgument("--kwargs must be a JSON object"));
  auto broker = jobs::OpenBroker(a.broker, {.shared_only = true});
  if (!broker.ok()) return Fail(broker.status());
  auto id = jobs::SubmitTask(**broker, m);
  if (!id.ok()) return Fail(id.status());
  if (a.wait <= 0) {
    std::printf("%s\n", id->c_str());
    return kExitOk;
  }
  auto result = jobs::AwaitResult(**broker, *id, std::chrono::duration<double>(a.wait));
  if (!result.ok()) return Fail(result.status());
  std::printf("%s\n", result->dump().c_str());
  return kExitOk;
}

}  // namespace

void AddWorkerCommands(CLI::App& app, Context& ctx, int& exit_code) {
  auto wargs = std::make_shared<WorkerArgs>();
  auto* worker = app.add_subcommand("worker", "Run Pulse tasks from a Celery-compatible Redis broker");
  worker->add_option("--broker", wargs->broker, "redis://host:port/db")->required();
  AddNumberOption(worker, "--concurrency", wargs->concurrency, "Worker threads (0: all cores)", 0, 4096);
  worker->add_option("--queues", wargs->queues, "Comma-separated queues, earlier first")->capture_default_str();
  AddNumberOption(worker, "--visibility-timeout", wargs->visibility_timeout,
                  "Seconds before an unacknowledged task is redelivered", 1, 366 * 86400);
  AddNumberOption(worker, "--restore-interval", wargs->restore_interval,
                  "Seconds between sweeps that redeliver tasks unacknowledged past the visibility timeout", 1, 86400);
  AddNumberOption(worker, "--metrics-port", wargs->metrics_port,
                  "Serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port; -1: off)", -1, 65535);
  worker->add_option("--metrics-host", wargs->metrics_host, "Address for --metrics-port")->capture_default_str();
  AddNumberOption(worker, "--cache-max-mb", wargs->cache_max_mb,
                  "Bound the Redis result cache to this many MiB of values, evicting the oldest entries "
                  "(0: TTL only)",
                  0.0, 1e9);
  worker->add_flag("--track-started", wargs->track_started,
                   "Store a STARTED state when a task starts (Celery's task_track_started)");
  worker->add_option("--execution-log", wargs->execution_log,
                     "Redis list on which to record every task execution as it starts (an audit of redeliveries; "
                     "default off)");
  worker->add_option("--max-deaths", wargs->max_deaths,
                     "Dead-letter a message once its worker died this many times while running it "
                     "(default: config jobs.max_deaths, 3)");
  worker->add_flag("--enable-test-tasks", wargs->test_tasks, "Register pulse.test.* tasks (tests only)")->group("");
  worker->callback([wargs, &ctx, &exit_code] { exit_code = RunWorker(*wargs, ctx); });

  auto bargs = std::make_shared<BeatArgs>();
  auto* beat = app.add_subcommand("beat", "Publish tasks on periodic schedules (one leader among many, by lease)");
  beat->add_option("--broker", bargs->broker, "redis://host:port/db")->required();
  beat->add_option("--schedule", bargs->schedule, "Schedule YAML (schedules: [{name, task, every, ...}])")->required();
  AddNumberOption(beat, "--lease-ms", bargs->lease_ms, "Leader lease; a standby takes over within it", 10,
                  86400 * 1000);
  AddNumberOption(beat, "--metrics-port", bargs->metrics_port,
                  "Serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port; -1: off)", -1, 65535);
  beat->add_option("--metrics-host", bargs->metrics_host, "Address for --metrics-port")->capture_default_str();
  beat->callback([bargs, &exit_code] { exit_code = RunBeat(*bargs); });

  auto sargs = std::make_shared<SendArgs>();
  auto* task = app.add_subcommand("task", "Send tasks to Celery-compatible workers");
  task->require_subcommand(1);
  auto* send = task->add_subcommand("send", "Enqueue a task by name (as Celery's send_task)");
  send->add_option("name", sargs->name, "Task name, e.g. pulse.simulate")->required();
  send->add_option("--args", sargs->args, "Positional arguments, a JSON array")->capture_default_str();
  send->add_option("--kwargs", sargs->kwargs, "Keyword arguments, a JSON object")->capture_default_str();
  send->add_option("--queue", sargs->queue, "Queue")->capture_default_str();
  send->add_option("--broker", sargs->broker, "redis://host:port/db")->required();
  AddNumberOption(send, "--wait", sargs->wait, "Seconds to wait for the result (0: print the task id and return)", 0.0,
                  366.0 * 86400);
  send->callback([sargs, &exit_code] { exit_code = SendTask(*sargs); });
}

}  // namespace pulse::cli
