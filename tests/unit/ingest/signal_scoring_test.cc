// Scoring on the ingest path (ingest/signal_scoring.h): every ingested row carries its scores,
// state comes from the table (one file or several give the same scores), a table written before
// scoring existed gains the columns and keeps working, and gated rows are kept with their reason.
#include "ingest/signal_scoring.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/time.h"
#include "ingest/file_ingest.h"
#include "lake_dir_fixture.h"
#include "signals/signal_schema.h"

namespace pulse::ingest {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1800000000LL * 1000000;  // 2027-01-15

class SignalScoringTest : public LakeDirTest {
 public:
  static std::shared_ptr<arrow::RecordBatch> ReadAll(lake::Lake& lake, std::optional<int64_t> version = std::nullopt) {
    auto table = lake.OpenTable("signals").value();
    auto rows = table->Read({.version = version}).value();
    return rows->CombineChunksToBatch().ValueOrDie();
  }
  // Every row as "source|name|ts -> recency|z|anomaly|sti|tag|gate|reason" (order-free comparison).
  static std::map<std::string, std::string> Scores(lake::Lake& lake) {
    auto b = ReadAll(lake);
    std::map<std::string, std::string> out;
    for (int64_t i = 0; i < b->num_rows(); ++i) {
      std::ostringstream key, value;
      auto cell = [&](const char* col) {
        auto s = b->GetColumnByName(col)->GetScalar(i).ValueOrDie();
        return s->is_valid ? s->ToString() : std::string("null");
      };
      key << cell("source") << "|" << cell("name") << "|" << cell("ts");
      for (const char* c : {"recency", "anomaly_z", "anomaly", "sti", "tag", "gate", "gate_reason"})
        value << cell(c) << "|";
      out[key.str()] = value.str();
    }
    return out;
  }
};

// Two monthly series with a few spikes: `from`..`to` (exclusive) of 80 rows each.
std::string SeriesCsv(int from, int to) {
  std::string text = "name,source,kind,ts,value\n";
  for (int i = from; i < to; ++i) {
    const int64_t ts = time::AddMonths(*time::FromCivil(2000, 1, 1), i);
    const double calm = 100 + (i % 5) - 2;
    const double a = (i == 30 || i == 31 || i == 62) ? calm + 40 : calm;
    const double b = i == 45 ? -50.0 : 0.5 * (i % 3);
    text += "gdp,fred,macro," + time::FormatTimestamp(ts) + "," + std::to_string(a) + "\n";
    text += "hope_index,survey,sentiment," + time::FormatTimestamp(ts) + "," + std::to_string(b) + "\n";
  }
  return text;
}

TEST_F(SignalScoringTest, IngestScoresEveryRow) {
  auto lake = OpenLake("lake");
  auto r = IngestFile(*lake, Write("s.csv", SeriesCsv(0, 80)), {.now_us = kNow});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->accepted, 160);
  EXPECT_EQ(r->gate.accept + r->gate.escalate + r->gate.suppress, 160);
  EXPECT_EQ(r->gate.suppress, 0);  // the defaults never suppress (STI >= 0.4)
  EXPECT_GT(r->gate.escalate, 0);  // the spikes
  auto b = ReadAll(*lake);
  EXPECT_TRUE(b->schema()->Equals(*signals::ScoredSignalSchema(), false)) << b->schema()->ToString();
  auto gate = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("gate"));
  auto reason = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("gate_reason"));
  auto anomaly = std::static_pointer_cast<arrow::BooleanArray>(b->GetColumnByName("anomaly"));
  auto name = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("name"));
  auto tag = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("tag"));
  int64_t escalated = 0, anomalies = 0;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    EXPECT_FALSE(gate->IsNull(i));
    EXPECT_EQ(reason->IsNull(i), gate->GetView(i) == "accept") << i;
    escalated += gate->GetView(i) == "escalate";
    anomalies += anomaly->Value(i);
    EXPECT_EQ(tag->GetView(i), name->GetView(i) == "hope_index" ? "hope" : "neutral");
  }
  EXPECT_EQ(escalated, r->gate.escalate);
  EXPECT_GE(anomalies, 3);
  // The ingest commit records the gate counts.
  auto history = lake->OpenTable("signals").value()->History().value();
  EXPECT_NE(history.front().operation_parameters["gate"].find("accept " + std::to_string(r->gate.accept)),
            std::string::npos);
}

TEST_F(SignalScoringTest, OneFileOrSeveralGiveTheSameScores) {
  auto one = OpenLake("one");
  ASSERT_TRUE(IngestFile(*one, Write("all.csv", SeriesCsv(0, 80)), {.now_us = kNow}).ok());
  auto several = OpenLake("several");
  int part = 0;
  for (auto [from, to] : {std::pair{0, 7}, {7, 31}, {31, 32}, {32, 61}, {61, 80}}) {
    auto r =
        IngestFile(*several, Write("part" + std::to_string(part++) + ".csv", SeriesCsv(from, to)), {.now_us = kNow});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  // A restart between files changes nothing either: every ingest re-opened the lake's state.
  auto a = Scores(*one), b = Scores(*several);
  ASSERT_EQ(a.size(), 160u);
  EXPECT_EQ(a, b);
}

TEST_F(SignalScoringTest, TableWrittenBeforeScoringGainsTheColumns) {
  // A signals table written by main before this change (tests/fixtures/signals_table_v1).
  fs::create_directories(dir_ / "lake");
  fs::copy(fs::path(PULSE_SOURCE_DIR) / "tests/fixtures/signals_table_v1/signals", dir_ / "lake/signals",
           fs::copy_options::recursive);
  auto lake = OpenLake("lake");
  EXPECT_EQ(lake->OpenTable("signals").value()->schema()->num_fields(), 9);
  // gdp was 100..111 monthly in 2020: 150 is far out (z = 44.5 / sqrt(143/12)); cpi 2.1 is not.
  auto r = IngestFile(*lake,
                      Write("new.csv",
                            "name,source,kind,ts,value\n"
                            "gdp,fixture,macro,2021-01-01,150\n"
                            "cpi,fixture,macro,2021-01-01,2.1\n"),
                      {.now_us = kNow});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->gate.accept, 1);
  EXPECT_EQ(r->gate.escalate, 1);
  auto table = lake->OpenTable("signals").value();
  EXPECT_TRUE(table->schema()->Equals(*signals::ScoredSignalSchema(), false));
  auto versions = table->History().value();
  ASSERT_EQ(versions.size(), 4u);  // create, ingest (main), add columns, ingest
  EXPECT_EQ(versions[1].operation, "ADD COLUMNS");
  EXPECT_EQ(versions[0].operation, "INGEST");

  auto b = ReadAll(*lake);
  ASSERT_EQ(b->num_rows(), 26);
  auto name = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("name"));
  auto ts = std::static_pointer_cast<arrow::TimestampArray>(b->GetColumnByName("ts"));
  auto gate = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("gate"));
  auto z = std::static_pointer_cast<arrow::DoubleArray>(b->GetColumnByName("anomaly_z"));
  auto sti = std::static_pointer_cast<arrow::DoubleArray>(b->GetColumnByName("sti"));
  const int64_t new_ts = *time::FromCivil(2021, 1, 1);
  int old_rows = 0;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    if (ts->Value(i) < new_ts) {  // written by main: no scores
      ++old_rows;
      EXPECT_TRUE(gate->IsNull(i));
      EXPECT_TRUE(sti->IsNull(i));
      continue;
    }
    ASSERT_FALSE(z->IsNull(i));  // scored against the 12 old values of its series
    if (name->GetView(i) == "gdp") {
      EXPECT_NEAR(z->Value(i), 44.5 / std::sqrt(143.0 / 12.0), 1e-9);
      EXPECT_EQ(gate->GetView(i), "escalate");
      EXPECT_DOUBLE_EQ(sti->Value(i), 0.4);
    } else {
      EXPECT_EQ(gate->GetView(i), "accept");
    }
  }
  EXPECT_EQ(old_rows, 24);
  // Time travel to main's version still reads its nine columns.
  EXPECT_EQ(ReadAll(*lake, 1)->num_columns(), 9);
  // And the next ingest neither evolves again nor loses anything.
  ASSERT_TRUE(IngestFile(*lake, Write("more.csv", "name,source,kind,ts,value\ngdp,fixture,macro,2021-02-01,112\n"),
                         {.now_us = kNow})
                  .ok());
  EXPECT_EQ(lake->OpenTable("signals").value()->History().value().size(), 5u);
}

TEST_F(SignalScoringTest, SuppressedAndEscalatedRowsAreKeptWithTheirReason) {
  auto rules = std::make_shared<signals::ScoringRules>();
  rules->default_threshold = {0.7, 2};
  rules->escalate_min_sti = 0.65;  // years-old rows: sti 0.6 -> suppressed
  auto lake = OpenLake("lake");
  auto r = IngestFile(*lake, Write("s.csv", "name,ts,value\nold,2001-01-01,1\nold,2001-02-01,2\nnew,2027-01-15,3\n"),
                      {.now_us = kNow, .scoring = rules});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->accepted, 3);  // validation: every row written
  EXPECT_EQ(r->gate.suppress, 2);
  EXPECT_EQ(r->gate.accept, 1);  // ingested the moment it happened: recency 1, sti 0.9
  auto b = ReadAll(*lake);
  ASSERT_EQ(b->num_rows(), 3);
  auto name = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("name"));
  auto gate = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("gate"));
  auto reason = std::static_pointer_cast<arrow::StringArray>(b->GetColumnByName("gate_reason"));
  for (int64_t i = 0; i < 3; ++i) {
    if (name->GetView(i) == "old") {
      EXPECT_EQ(gate->GetView(i), "suppress");
      EXPECT_EQ(reason->GetView(i), "sti 0.6 < 0.7 (min_sti for tag neutral); sti 0.6 < 0.65 (escalate_min_sti)");
    } else {
      EXPECT_EQ(gate->GetView(i), "accept");
    }
  }
}

TEST_F(SignalScoringTest, ReingestingTheSameContentScoresNothing) {
  auto lake = OpenLake("lake");
  const std::string path = Write("s.csv", SeriesCsv(0, 20));
  auto first = IngestFile(*lake, path, {.now_us = kNow});
  ASSERT_TRUE(first.ok());
  auto again = IngestFile(*lake, path, {.now_us = kNow + 1});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(again->gate.accept + again->gate.escalate + again->gate.suppress, 0);
  EXPECT_EQ(ReadAll(*lake)->num_rows(), 40);
}

TEST_F(SignalScoringTest, ForeignSignalsTableIsRefusedUntouched) {
  auto lake = OpenLake("lake");
  auto foreign = arrow::schema({arrow::field("name", arrow::utf8(), false), arrow::field("x", arrow::float64())});
  ASSERT_TRUE(lake->OpenOrCreateTable("signals", foreign, {}).ok());
  auto r = IngestFile(*lake, Write("s.csv", "name,ts,value\na,2024-01-01,1\n"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("has columns Pulse does not write"), std::string::npos);
  EXPECT_EQ(lake->OpenTable("signals").value()->LatestVersion().value(), 0);
  // The same for a table that has the nine columns in another type.
  auto lake2 = OpenLake("lake2");
  auto fields = signals::SignalSchema()->fields();
  fields[4] = arrow::field("value", arrow::utf8(), false);
  ASSERT_TRUE(lake2->OpenOrCreateTable("signals", arrow::schema(fields), {"kind"}).ok());
  EXPECT_EQ(OpenSignalsTable(*lake2).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SignalScoringTest, BundledMacroHistoryIsAcceptedOrEscalatedNeverSuppressed) {
  auto lake = OpenLake("lake");
  auto r = IngestFile(*lake, std::string(PULSE_SOURCE_DIR) + "/data/us-macro-quarterly.csv",
                      {.kind = "macro", .wide = true, .time_columns = {"year", "quarter"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // 12 series x 203 quarters, all years old (recency 0, sti 0.6). The 1970s inflation and rates,
  // 1980's T-bill rate and 2008-09 are anomalous (sti 0.4): those rows, and rows with more than
  // two anomalies among the 50 before them, are escalated. None is suppressed, so every row still
  // feeds the forecasts.
  EXPECT_EQ(r->accepted, 2436);
  EXPECT_EQ(r->gate.suppress, 0);
  EXPECT_EQ(r->gate.accept, 2152);
  EXPECT_EQ(r->gate.escalate, 284);
}

TEST_F(SignalScoringTest, StreamHistoryIsLoadedOncePerSeries) {
  // A long-running ingester keeps a SeriesHistory: series it holds are not re-read, and scoring
  // with it equals scoring from the table.
  auto lake = OpenLake("lake");
  ASSERT_TRUE(IngestFile(*lake, Write("a.csv", SeriesCsv(0, 40)), {.now_us = kNow}).ok());
  auto table = OpenSignalsTable(*lake).value();
  IngestReport parsed;
  auto rows = ParseSignalsBytes(SeriesCsv(40, 41), "b.csv", false, {.now_us = kNow}, parsed);
  ASSERT_TRUE(rows.ok());
  signals::SeriesHistory history;
  auto with = ScoreSignals(*table, **rows, signals::ScoringRules{}, &history);
  auto without = ScoreSignals(*table, **rows, signals::ScoringRules{});
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_TRUE((*with).rows->Equals(*(*without).rows));
  EXPECT_EQ(history.series(), 2u);
  EXPECT_EQ(history.Get("fred", "gdp").size(), 40u);
}

}  // namespace
}  // namespace pulse::ingest
