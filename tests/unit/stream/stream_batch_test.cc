// Stream batches without a broker: records are validated by the file path's rules, every bad one
// is rejected with its partition and offset, and CommitStreamBatch writes each record once - on a
// replay, with another consumer or group racing, and across a crash between the two commits.
#include "stream/stream_batch.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "signals/signal_schema.h"
#include "stream/topics.h"

namespace pulse::stream {
namespace {

namespace fs = std::filesystem;

// A good JSON record whose value is `i` (timestamps distinct for i < 3600).
std::string Json(int i, const std::string& name = "s") {
  char ts[32];
  std::snprintf(ts, sizeof ts, "2024-01-01T00:%02d:%02dZ", i / 60 % 60, i % 60);
  return R"({"name":")" + name + R"(","ts":")" + ts + R"(","value":)" + std::to_string(i) + "}";
}

class StreamBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_stream_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    lake_ = lake::Lake::Open(dir_.string()).value();
    sink_ = ingest::SignalSink::Open(*lake_).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Add(StreamBatch& b, const TopicPartition& tp, int64_t offset, const std::string& value,
                  std::optional<std::string_view> format = std::nullopt, std::string_view key = "k") {
    b.Add(tp, offset, value.data(), value.size(), key, format);
  }
  int64_t Rows() { return (*sink_->signals().Read())->num_rows(); }
  std::shared_ptr<arrow::Table> Rejects() {
    auto t = lake_->OpenTable(signals::kRejectsTable);
    if (!t.ok()) return nullptr;
    return *(*t)->Read();
  }
  // Sum of the value column: with value = offset, a per-record checksum.
  double ValueSum() {
    auto t = *sink_->signals().Read({.columns = {"value"}});
    double sum = 0;
    for (const auto& chunk : t->column(0)->chunks()) {
      const auto& a = static_cast<const arrow::DoubleArray&>(*chunk);
      for (int64_t i = 0; i < a.length(); ++i) sum += a.Value(i);
    }
    return sum;
  }

  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<ingest::SignalSink> sink_;
  TopicPartition p0_{"pulse.signals.price", 0}, p1_{"pulse.signals.price", 1};
};

TEST(StreamNames, AppIdsAndTableOffsets) {
  EXPECT_EQ(TxnAppId("g", {"t.x", 3}), "pulse-stream:g/t.x/3");
  // The highest version over every group; other app ids and malformed ones are ignored.
  auto offsets = TableOffsets({{"pulse-stream:a/t/0", 10},
                               {"pulse-stream:b/t/0", 25},
                               {"pulse-stream:a/t/1", 7},
                               {"pulse-stream:g/with/slash/u/2", 4},
                               {"pulse-stream:bad", 9},
                               {"pulse-stream:a/t/x", 9},
                               {"pulse-ingest:abc", 0}});
  EXPECT_EQ(offsets.size(), 3u);
  EXPECT_EQ((offsets[{"t", 0}]), 25);
  EXPECT_EQ((offsets[{"t", 1}]), 7);
  EXPECT_EQ((offsets[{"u", 2}]), 4);
  EXPECT_EQ(RejectFileName({"t", 1}), "kafka:t/1");
  EXPECT_EQ(TopicForKind("price"), "pulse.signals.price");
  EXPECT_EQ(TopicForKind("a/b c"), "pulse.signals.a_b_c");
  EXPECT_EQ(KindFromTopic("pulse.signals.macro"), "macro");
  EXPECT_EQ(KindFromTopic("other"), std::nullopt);
}

TEST(StreamNames, KafkaUrls) {
  auto u = ParseKafkaUrl("kafka://127.0.0.1:9092,h2:9093/pulse.signals.*");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->brokers, "127.0.0.1:9092,h2:9093");
  ASSERT_EQ(u->topics.size(), 1u);
  EXPECT_EQ(u->topics[0], "^pulse\\.signals\\..*$");
  EXPECT_EQ(ParseKafkaUrl("kafka://h:1/a,b")->topics, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ParseKafkaUrl("kafka://h:1/^x.*")->topics, (std::vector<std::string>{"^x.*"}));
  EXPECT_TRUE(ParseKafkaUrl("kafka://h:1")->topics.empty());
  EXPECT_EQ(ParseKafkaUrl("redis://h:1/a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKafkaUrl("kafka:///a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKafkaUrl("kafka://h:1/a b").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StreamBatchTest, GoodAndBadRecordsWithTheirOffsets) {
  BatchConfig config;
  config.csv_header = "name,ts,value";
  config.max_record_bytes = 200;
  StreamBatch batch(config);
  Add(batch, p0_, 0, Json(0));
  Add(batch, p0_, 1, R"({"name":"s","ts":"2024-01-01","value":"abc"})");       // parser: unparseable number
  batch.Add(p0_, 2, nullptr, 0, "k", std::nullopt);                            // tombstone
  Add(batch, p0_, 3, std::string(300, 'x'));                                   // oversize
  Add(batch, p0_, 4, Json(4), std::nullopt, "\xff\xfe");                       // non-UTF-8 key
  Add(batch, p0_, 5, Json(5), "avro");                                         // unknown format
  Add(batch, p0_, 6, "  \n");                                                  // empty
  Add(batch, p0_, 7, "{\"name\":\"s\n\",\"ts\":\"2024-01-01\",\"value\":1}");  // line break in a string
  Add(batch, p0_, 8, "{\n  \"name\": \"s\",\n  \"ts\": \"2024-01-02\",\n  \"value\": 8\n}");  // pretty: fine
  Add(batch, p0_, 9, "s,2024-01-03,9", "csv");                                                // CSV record: fine
  Add(batch, p0_, 10, "s,\"2024-01-03,9", "csv");                                             // unbalanced quote
  Add(batch, p0_, 11, "s,2024-01-04", "csv");                                                 // wrong field count
  Add(batch, p0_, 12, "\xc3\x28 not json");                                                   // invalid UTF-8 value
  Add(batch, p1_, 0, Json(1));
  Add(batch, p1_, 1, "[1,2]");  // not an object
  EXPECT_EQ(batch.records(), 15);

  auto outcome = CommitStreamBatch(*sink_, batch, {.group = "g"});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->rows, 4);  // p0 offsets 0, 8, 9; p1 offset 0
  EXPECT_EQ(outcome->rejected, 11);
  EXPECT_EQ(Rows(), 4);
  std::map<std::pair<std::string, int64_t>, std::string> reasons;
  for (const auto& r : outcome->rejects) reasons[{RejectFileName(r.tp), r.offset}] = r.reason;
  auto reason = [&](const TopicPartition& tp, int64_t offset) { return reasons[{RejectFileName(tp), offset}]; };
  EXPECT_NE(reason(p0_, 1).find("unparseable number"), std::string::npos) << reason(p0_, 1);
  EXPECT_NE(reason(p0_, 2).find("tombstone"), std::string::npos);
  EXPECT_NE(reason(p0_, 3).find("over the limit of 200"), std::string::npos);
  EXPECT_NE(reason(p0_, 4).find("key is not valid UTF-8"), std::string::npos);
  EXPECT_NE(reason(p0_, 5).find("unknown record format 'avro'"), std::string::npos);
  EXPECT_EQ(reason(p0_, 6), "empty record");
  EXPECT_NE(reason(p0_, 7).find("line break inside a JSON string"), std::string::npos);
  EXPECT_NE(reason(p0_, 10).find("unterminated quote"), std::string::npos);
  EXPECT_NE(reason(p0_, 11).find("expected 3 fields"), std::string::npos) << reason(p0_, 11);
  EXPECT_FALSE(reason(p0_, 12).empty());
  EXPECT_FALSE(reason(p1_, 1).empty());
  // In signal_rejects with file = kafka:<topic>/<partition> and line = offset.
  auto rejects = Rejects();
  ASSERT_NE(rejects, nullptr);
  EXPECT_EQ(rejects->num_rows(), 11);
  // Kind from the topic when the record has none; source = the topic.
  auto rows = *sink_->signals().Read({.columns = {"kind", "source"}});
  auto kinds = std::static_pointer_cast<arrow::StringArray>(rows->column(0)->chunk(0));
  auto sources = std::static_pointer_cast<arrow::StringArray>(rows->column(1)->chunk(0));
  EXPECT_EQ(kinds->GetString(0), "price");
  EXPECT_EQ(sources->GetString(0), "pulse.signals.price");
  // Offsets recorded per partition: last + 1.
  auto offsets = TableOffsets(sink_->signals().LoadSnapshot()->app_versions);
  EXPECT_EQ(offsets[p0_], 13);
  EXPECT_EQ(offsets[p1_], 2);
  EXPECT_EQ(outcome->next_offsets[p0_], 13);
}

TEST_F(StreamBatchTest, ReplayAndOverlapWriteEachRecordOnce) {
  auto batch_of = [&](int64_t first, int64_t last) {
    StreamBatch b(BatchConfig{});
    for (int64_t o = first; o <= last; ++o) Add(b, p0_, o, Json(static_cast<int>(o)));
    Add(b, p0_, last + 1, "not json");  // one reject per batch, at last + 1
    return b;
  };
  ASSERT_TRUE(CommitStreamBatch(*sink_, batch_of(0, 9), {.group = "g"}).ok());  // offsets 0..10
  // The same batch again (a consumer killed after the Delta commit, before Kafka's): nothing.
  auto again = CommitStreamBatch(*sink_, batch_of(0, 9), {.group = "g"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rows, 0);
  EXPECT_EQ(again->duplicates, 11);
  // An overlapping batch from another group: only offsets 11.. are new.
  auto overlap = CommitStreamBatch(*sink_, batch_of(5, 19), {.group = "other"});
  ASSERT_TRUE(overlap.ok());
  EXPECT_EQ(overlap->rows, 9);  // 11..19
  EXPECT_EQ(overlap->rejected, 1);
  EXPECT_EQ(Rows(), 19);
  EXPECT_EQ(Rejects()->num_rows(), 2);  // offsets 10 and 20
  double expected = 0;
  for (int o = 0; o <= 19; ++o) expected += o == 10 ? 0 : o;
  EXPECT_DOUBLE_EQ(ValueSum(), expected);
}

TEST_F(StreamBatchTest, CrashBetweenRejectsAndRowsLosesNothing) {
  // Simulate a consumer killed after the rejects commit: write the rejects' commit by hand.
  StreamBatch b(BatchConfig{});
  Add(b, p0_, 0, Json(0));
  Add(b, p0_, 1, "bad");
  Add(b, p0_, 2, Json(2));
  {
    std::vector<StreamReject> rejects;
    ASSERT_TRUE(b.Parse({}, 1, rejects).ok());
    ASSERT_EQ(rejects.size(), 1u);
    lake::WriteOptions w;
    w.transactions = {{TxnAppId("g", p0_), 3}};
    ASSERT_TRUE(sink_->AppendRejects({{RejectFileName(p0_), 1, rejects[0].reason, rejects[0].raw}}, 1, w).ok());
  }
  // The restarted consumer reads a longer batch: rows 0, 2, 3 and only the new reject (4).
  Add(b, p0_, 3, Json(3));
  Add(b, p0_, 4, "bad again");
  auto outcome = CommitStreamBatch(*sink_, b, {.group = "g"});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->rows, 3);
  EXPECT_EQ(outcome->rejected, 1);
  EXPECT_EQ(Rows(), 3);
  EXPECT_EQ(Rejects()->num_rows(), 2);
}

TEST_F(StreamBatchTest, RacingConsumersWriteEachRecordOnce) {
  // Four writers (two groups) behave like consumers that were all assigned the partition: each
  // starts at the table's offset (some a little behind it, like a consumer whose position is
  // stale) and commits batches of 50 at once with the others.
  constexpr int kWriters = 4, kRecords = 400;
  std::vector<std::thread> threads;
  std::atomic<int64_t> duplicates{0};
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      auto lake = lake::Lake::Open(dir_.string()).value();
      auto sink = ingest::SignalSink::Open(*lake).value();
      int64_t position = 0;
      while (position < kRecords) {
        auto offsets = TableOffsets(sink->signals().LoadSnapshot()->app_versions);
        position = std::max<int64_t>(0, (offsets.count(p0_) ? offsets[p0_] : 0) - 10 * w);
        StreamBatch b(BatchConfig{});
        for (int64_t o = position; o < std::min<int64_t>(kRecords, position + 50); ++o)
          Add(b, p0_, o, Json(static_cast<int>(o)));
        if (b.empty()) break;
        auto r = CommitStreamBatch(*sink, b, {.group = w % 2 == 0 ? "a" : "b"});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        duplicates += r->duplicates;
        position = r->next_offsets[p0_];
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(Rows(), kRecords);
  EXPECT_DOUBLE_EQ(ValueSum(), kRecords * (kRecords - 1) / 2.0);
  EXPECT_GT(duplicates.load(), 0);  // the race did happen
}

TEST_F(StreamBatchTest, DropAndClearForgetRecords) {
  StreamBatch b(BatchConfig{});
  Add(b, p0_, 0, Json(0));
  Add(b, p1_, 0, Json(1));
  EXPECT_EQ(b.records(), 2);
  b.Drop(p0_);
  EXPECT_EQ(b.records(), 1);
  EXPECT_EQ(b.Ranges().count(p0_), 0u);
  b.Clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.bytes(), 0);
  // Adding after a Drop or Clear of the partition last added to starts it afresh.
  Add(b, p0_, 5, Json(5));
  Add(b, p0_, 6, Json(6));
  b.Drop(p0_);
  Add(b, p0_, 7, Json(7));
  EXPECT_EQ(b.records(), 1);
  EXPECT_EQ((b.Ranges().at(p0_)), (std::pair<int64_t, int64_t>{7, 7}));
}

TEST_F(StreamBatchTest, AMovedBatchCommitsItsRecordsAndTheNewOneStartsEmpty) {
  // The consumer hands a full batch to its commit thread by moving it and fills a new one.
  StreamBatch pending(BatchConfig{});
  for (int i = 0; i < 6; ++i) Add(pending, i % 2 ? p1_ : p0_, i / 2, Json(i));
  StreamBatch inflight(std::move(pending));
  pending = StreamBatch(BatchConfig{});
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(inflight.records(), 6);
  Add(inflight, p0_, 3, Json(6));  // the moved batch keeps its partitions (and its lookup cache)
  Add(pending, p0_, 4, Json(7));
  EXPECT_EQ((inflight.Ranges().at(p0_)), (std::pair<int64_t, int64_t>{0, 3}));
  EXPECT_EQ(pending.records(), 1);
  auto first = CommitStreamBatch(*sink_, inflight, {.group = "g"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rows, 7);
  auto second = CommitStreamBatch(*sink_, pending, {.group = "g"});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->rows, 1);
  EXPECT_EQ(Rows(), 8);
  EXPECT_EQ(ValueSum(), 28.0);  // 0 + 1 + ... + 7: each once
}

}  // namespace
}  // namespace pulse::stream
