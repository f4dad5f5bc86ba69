// Periodic schedules: parsing (and its errors), that of two schedulers sharing a broker only
// the lease holder publishes, at the schedule's rate, and the metrics that say so.
#include <gtest/gtest.h>

#include <thread>

#include "core/metrics.h"
#include "jobs/inprocess_broker.h"
#include "jobs/scheduler.h"

namespace pulse::jobs {
namespace {

// Nine levels of ten aliases each: 10^9 values when expanded (it took 12 GB before a bound).
std::string BillionLaughs() {
  std::string yaml = "x:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 8; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    yaml += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) yaml += (k ? ", " : "") + prev;
    yaml += "]\n";
  }
  return yaml + "schedules:\n  - {name: boom, task: pulse.noop, every: 60, args: [*l8]}\n";
}

TEST(Scheduler, ParsesSchedules) {
  auto s = ParseSchedule(R"(schedules:
  - {name: a, task: pulse.noop, every: 0.5, args: [1, "x"], kwargs: {runs: 10, flag: true}}
  - {name: b, task: pulse.simulate, every: 60, queue: slow}
)",
                         "s.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].every, std::chrono::milliseconds(500));
  EXPECT_EQ((*s)[0].args, nlohmann::json::array({1, "x"}));
  EXPECT_EQ((*s)[0].kwargs["runs"], 10);
  EXPECT_EQ((*s)[0].kwargs["flag"], true);
  EXPECT_EQ((*s)[1].queue, "slow");
  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {"nothing: 1", "'schedules' list"},
           {"schedules:\n  - {task: t, every: 1}", "s.yaml:2: missing 'name'"},
           {"schedules:\n  - {name: a, task: t, every: 0}", "must be > 0"},
           {"schedules:\n  - {name: a, task: t, every: soon}", "number of seconds"},
           {"schedules:\n  - {name: a, task: t, every: 1}\n  - {name: a, task: t, every: 2}", "defined twice"},
           {"schedules:\n  - {name: a, task: t, every: 1, kwargs: [1]}", "'kwargs' must be a map"},
           {"schedules: [", "s.yaml:1"},
           {"schedules:\n  - {name: a, task: t, every: 1e300}", "at most 1e9 seconds"},
           {"schedules:\n  - {name: a, task: t, every: [1]}", "number of seconds"},
           {"schedules:\n  - {name: a, task: t, every: 1, queue: {a: 1}}", "'queue' must be a queue name"},
           {"schedules:\n  - {name: a, task: t, every: 1, queue: ''}", "'queue' must be a queue name"},
           {"schedules:\n  - {name: a, task: t, every: 1, args: " + std::string(300, '[') + std::string(300, ']') + "}",
            "nest deeper than 254 levels"},
           {"schedules:\n  - {name: a, task: t, every: 1, args: " + std::string(100000, '[') + "}", "s.yaml:"},
           // An alias inside its own anchor: a cycle (the unbounded conversion overflowed the stack).
           {"schedules:\n  - {name: s, task: t, every: 60, args: &x [1, *x]}",
            "s.yaml:2: 'args'/'kwargs' nest deeper than 254"},
           {BillionLaughs(),
            "s.yaml:12: 'args'/'kwargs' hold more than 100000 values (aliases counted as expanded)"}}) {
    auto r = ParseSchedule(bad, "s.yaml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().ToString();
  }
}

TEST(Scheduler, OnlyTheLeaseHolderPublishes) {
  InProcessBroker broker;
  std::vector<ScheduleEntry> entries(1);
  entries[0].name = "tick", entries[0].task = "pulse.noop", entries[0].queue = "beat";
  entries[0].every = std::chrono::milliseconds(50);
  // A 200 ms lease: a shorter one expires whenever a loaded machine stalls the holder's thread for
  // longer than the lease, and then the follower rightly takes over (seen at load 13 with 40 ms).
  Scheduler a(broker, broker, entries, "a", std::chrono::milliseconds(200)),
      b(broker, broker, entries, "b", std::chrono::milliseconds(200));
  std::atomic<bool> stop{false};
  std::thread ta([&] { a.Run(stop); }), tb([&] { b.Run(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  stop = true;
  ta.join(), tb.join();
  const int64_t published = a.stats().published + b.stats().published;
  // ~11 periods of 50 ms after the first one; one publisher, not two.
  EXPECT_GE(published, 6);
  EXPECT_LE(published, 13);
  EXPECT_EQ(*broker.QueueLength("beat"), published);
  EXPECT_TRUE(a.stats().published == 0 || b.stats().published == 0);
  EXPECT_GT(a.stats().follower_ticks + b.stats().follower_ticks, 0);
}

TEST(Scheduler, MetricsShowTheLeaderAndWhatItPublished) {
  InProcessBroker broker;
  std::vector<ScheduleEntry> entries(2);
  entries[0].name = "tick", entries[0].task = "pulse.noop", entries[0].every = std::chrono::milliseconds(30);
  entries[1].name = "daily", entries[1].task = "pulse.forecast", entries[1].every = std::chrono::hours(24);
  // a takes the lease first; b, started once a leads, follows (a renews every 100 ms of 400).
  Scheduler a(broker, broker, entries, "a", std::chrono::milliseconds(400)),
      b(broker, broker, entries, "b", std::chrono::milliseconds(400));
  metrics::Registry ra, rb;
  a.ExportMetrics(ra);
  b.ExportMetrics(rb);
  EXPECT_NE(ra.Render().find("pulse_beat_leader 0\n"), std::string::npos) << ra.Render();
  std::atomic<bool> stop{false};
  std::thread ta([&] { a.Run(stop); });
  while (!a.stats().leading) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread tb([&] { b.Run(stop); });
  while (a.schedule_stats(0).published < 1 || b.stats().follower_ticks < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string leader = ra.Render(), follower = rb.Render();
  stop = true;
  ta.join(), tb.join();
  EXPECT_NE(leader.find("pulse_beat_leader 1\n"), std::string::npos) << leader;
  EXPECT_NE(follower.find("pulse_beat_leader 0\n"), std::string::npos) << follower;
  EXPECT_NE(leader.find("pulse_beat_published_total{schedule=\"tick\",task=\"pulse.noop\"} "), std::string::npos);
  EXPECT_EQ(leader.find("pulse_beat_published_total{schedule=\"tick\",task=\"pulse.noop\"} 0\n"), std::string::npos)
      << leader;
  EXPECT_NE(leader.find("pulse_beat_published_total{schedule=\"daily\",task=\"pulse.forecast\"} 0\n"),
            std::string::npos);
  EXPECT_NE(leader.find("pulse_beat_schedule_interval_seconds{schedule=\"daily\"} 86400\n"), std::string::npos);
  EXPECT_NE(leader.find("pulse_beat_schedule_interval_seconds{schedule=\"tick\"} 0.03\n"), std::string::npos);
  // The last publish time: now-ish for tick; absent for daily, which never fired.
  EXPECT_NE(leader.find("pulse_beat_last_published_timestamp_seconds{schedule=\"tick\"} 1"), std::string::npos)
      << leader;
  EXPECT_EQ(leader.find("pulse_beat_last_published_timestamp_seconds{schedule=\"daily\"}"), std::string::npos);
  EXPECT_NE(follower.find("pulse_beat_published_total{schedule=\"tick\",task=\"pulse.noop\"} 0\n"), std::string::npos)
      << follower;
  // Stopped: no longer the leader.
  EXPECT_NE(ra.Render().find("pulse_beat_leader 0\n"), std::string::npos);
}

}  // namespace
}  // namespace pulse::jobs
