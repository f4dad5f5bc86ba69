// The metrics registry's Prometheus text exposition, asserted byte for byte: HELP/TYPE lines,
// label and help escaping, number formatting, histogram buckets, function-backed series, and
// thread safety of the updates.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"

namespace pulse::metrics {
namespace {

TEST(Metrics, RendersCountersAndGaugesExactly) {
  Registry r;
  auto& tasks = r.AddCounter("jobs_tasks_total", "Tasks handled, by outcome.", {"outcome"});
  tasks.With({"succeeded"}).Inc();
  tasks.With({"succeeded"}).Inc(2);
  tasks.With({"failed"}).Inc();
  tasks.With({"failed"}).Inc(-5);  // ignored: a counter only goes up
  tasks.With({"failed"}).Inc(std::nan(""));
  auto& depth = r.AddGauge("jobs_queue_length", "Messages waiting.", {"queue"});
  depth.With({"celery"}).Set(7);
  depth.With({"celery"}).Add(-2.5);
  r.AddGauge("jobs_idle", "An unlabelled gauge starts at zero.");
  EXPECT_EQ(r.Render(),
            "# HELP jobs_idle An unlabelled gauge starts at zero.\n"
            "# TYPE jobs_idle gauge\n"
            "jobs_idle 0\n"
            "# HELP jobs_queue_length Messages waiting.\n"
            "# TYPE jobs_queue_length gauge\n"
            "jobs_queue_length{queue=\"celery\"} 4.5\n"
            "# HELP jobs_tasks_total Tasks handled, by outcome.\n"
            "# TYPE jobs_tasks_total counter\n"
            "jobs_tasks_total{outcome=\"failed\"} 1\n"
            "jobs_tasks_total{outcome=\"succeeded\"} 3\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry r;
  r.AddGauge("odd", "Help with a \\ backslash\nand a newline.", {"path", "quote"})
      .With({"C:\\tmp\nx", "say \"hi\""})
      .Set(1);
  EXPECT_EQ(r.Render(),
            "# HELP odd Help with a \\\\ backslash\\nand a newline.\n"
            "# TYPE odd gauge\n"
            "odd{path=\"C:\\\\tmp\\nx\",quote=\"say \\\"hi\\\"\"} 1\n");
}

TEST(Metrics, FormatsNumbersAsPrometheusReadsThem) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-1.5), "-1.5");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e21), "1e+21");
  EXPECT_EQ(FormatValue(1234567890123), "1234567890123");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(Metrics, RendersHistogramBucketsCumulativelyWithInf) {
  Registry r;
  auto& h = r.AddHistogram("task_duration_seconds", "Task run time.", {"task"}, {0.1, 1, 10});
  auto& add = h.With({"t.add"});
  add.Observe(0.05);
  add.Observe(0.1);  // le is inclusive
  add.Observe(0.5);
  add.Observe(100);
  add.Observe(std::nan(""));  // ignored
  EXPECT_EQ(r.Render(),
            "# HELP task_duration_seconds Task run time.\n"
            "# TYPE task_duration_seconds histogram\n"
            "task_duration_seconds_bucket{task=\"t.add\",le=\"0.1\"} 2\n"
            "task_duration_seconds_bucket{task=\"t.add\",le=\"1\"} 3\n"
            "task_duration_seconds_bucket{task=\"t.add\",le=\"10\"} 3\n"
            "task_duration_seconds_bucket{task=\"t.add\",le=\"+Inf\"} 4\n"
            "task_duration_seconds_sum{task=\"t.add\"} 100.65\n"
            "task_duration_seconds_count{task=\"t.add\"} 4\n");
  Registry unlabelled;
  unlabelled.AddHistogram("wait_seconds", "Waits.", {}, {1, std::numeric_limits<double>::infinity()})
      .With({})
      .Observe(2);
  EXPECT_EQ(unlabelled.Render(),
            "# HELP wait_seconds Waits.\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{le=\"1\"} 0\n"
            "wait_seconds_bucket{le=\"+Inf\"} 1\n"
            "wait_seconds_sum 2\n"
            "wait_seconds_count 1\n");
}

TEST(Metrics, BoundSeriesAreReadAtRenderAndLeftOutWhenUnknown) {
  Registry r;
  int64_t done = 3;
  std::optional<double> length;
  r.AddCounter("done_total", "Read from elsewhere.").Bind({}, [&]() -> std::optional<double> { return done; });
  auto& lengths = r.AddGauge("length", "Asked at scrape time.", {"queue"});
  lengths.Bind({"q"}, [&] { return length; });
  EXPECT_EQ(r.Render(), "# HELP done_total Read from elsewhere.\n# TYPE done_total counter\ndone_total 3\n");
  done = 5, length = 2;
  EXPECT_EQ(r.Render(),
            "# HELP done_total Read from elsewhere.\n# TYPE done_total counter\ndone_total 5\n"
            "# HELP length Asked at scrape time.\n# TYPE length gauge\nlength{queue=\"q\"} 2\n");
  lengths.Remove({"q"});
  EXPECT_EQ(r.Render().find("length{"), std::string::npos);
}

TEST(Metrics, DeclaringTheSameFamilyTwiceReturnsIt) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.", {"k"});
  auto& b = r.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  a.With({"v"}).Inc();
  EXPECT_EQ(b.With({"v"}).Value(), 1);
}

TEST(MetricsDeathTest, BadDeclarationsAreBugsReportedAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Registry().AddCounter("tasks", "A counter without _total."), "does not end in _total");
  EXPECT_DEATH(Registry().AddGauge("bad name", "."), "not a Prometheus metric name");
  EXPECT_DEATH(Registry().AddGauge("queue_total", "."), "ends in _total");
  EXPECT_DEATH(Registry().AddGauge("g", ".", {"__reserved"}), "not a label name");
  EXPECT_DEATH(Registry().AddHistogram("h_seconds", ".", {"le"}), "cannot have the label 'le'");
  EXPECT_DEATH(Registry().AddHistogram("h_seconds", ".", {}, {1, 0.5}), "finite and increasing");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddGauge("g", "one help");
        r.AddGauge("g", "another help");
      },
      "declared twice");
  EXPECT_DEATH(Registry().AddGauge("g", ".", {"a"}).With({"x", "y"}), "2 label values for 1 labels");
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& c = r.AddCounter("hits_total", "Hits.", {"t"});
  auto& h = r.AddHistogram("d_seconds", "D.", {"t"}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.With({std::to_string(t % 2)}).Inc();
        h.With({"x"}).Observe(0.5);
        if (i % 1000 == 0) (void)r.Render();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.With({"0"}).Value() + c.With({"1"}).Value(), 40000);
  EXPECT_EQ(h.With({"x"}).Read().count, 40000u);
}

TEST(Metrics, ProcessMetricsAreExported) {
  Registry r;
  RegisterProcessMetrics(r);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "), std::string::npos)
      << text;
}

TEST(Status, NamesTheCodesCallersBranchOn) {
  EXPECT_EQ(Status::DeadlineExceeded("t").ToString(), "DeadlineExceeded: t");
  EXPECT_EQ(Status::Cancelled("t").ToString(), "Cancelled: t");
  EXPECT_EQ(Status::ResourceExhausted("t").ToString(), "ResourceExhausted: t");
  EXPECT_EQ(Status::PermissionDenied("t").ToString(), "PermissionDenied: t");
  EXPECT_EQ(Status::Conflict("t").code(), StatusCode::kConflict);
  EXPECT_EQ(Status::Unavailable("t").code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pulse::metrics
