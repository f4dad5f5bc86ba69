// SignalBatchBuilder keeps every value it is given, in order, in the column the schema names; its
// one-day date cache never leaks a date into a row of another day.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/time.h"
#include "signals/signal_builder.h"
#include "signals/signal_schema.h"

namespace pulse::signals {
namespace {

template <class A>
std::shared_ptr<A> Column(const arrow::RecordBatch& b, const char* name) {
  return std::static_pointer_cast<A>(b.GetColumnByName(name));
}

TEST(SignalBatchBuilderValues, EveryFieldLandsInItsColumn) {
  SignalBatchBuilder b;
  const int64_t t0 = *time::ParseTimestamp("2023-07-01T12:00:00Z");
  const int64_t ingest = *time::ParseTimestamp("2024-01-01T00:00:00.5Z");
  ASSERT_TRUE(b.Append("realgdp", "us-macro.csv", "macro", t0, -0.25, "pct", R"({"q":2})", ingest).ok());
  ASSERT_TRUE(b.Append("btc", "feed", "price", t0 + 1, 1e300, "", "", ingest + 1).ok());
  auto t = b.Finish();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE((*t)->ValidateFull().ok());
  auto batch = (*t)->CombineChunksToBatch().ValueOrDie();
  ASSERT_EQ(batch->num_rows(), 2);
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "name")->GetString(0), "realgdp");
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "source")->GetString(0), "us-macro.csv");
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "kind")->GetString(1), "price");
  EXPECT_EQ(Column<arrow::TimestampArray>(*batch, "ts")->Value(0), t0);
  EXPECT_EQ(Column<arrow::TimestampArray>(*batch, "ts")->Value(1), t0 + 1);
  EXPECT_EQ(Column<arrow::DoubleArray>(*batch, "value")->Value(0), -0.25);
  EXPECT_EQ(Column<arrow::DoubleArray>(*batch, "value")->Value(1), 1e300);
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "unit")->GetString(0), "pct");
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "unit")->GetString(1), "");  // empty, not null
  EXPECT_FALSE(Column<arrow::StringArray>(*batch, "unit")->IsNull(1));
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "metadata")->GetString(0), R"({"q":2})");
  EXPECT_EQ(Column<arrow::TimestampArray>(*batch, "ingest_time")->Value(1), ingest + 1);
  EXPECT_EQ(Column<arrow::StringArray>(*batch, "date")->GetString(0), "2023-07-01");
  // No column has a null: the schema's non-null columns hold.
  for (int c = 0; c < batch->num_columns(); ++c) EXPECT_EQ(batch->column(c)->null_count(), 0) << c;
}

TEST(SignalBatchBuilderValues, DateFollowsEachRowNotTheCache) {
  SignalBatchBuilder b;
  const int64_t a = *time::ParseTimestamp("2020-01-01T10:00:00Z");
  const int64_t c = *time::ParseTimestamp("2020-01-02T00:00:00Z");
  // Same day twice, the next day, back to the first day, then a day across a year boundary.
  for (int64_t ts : {a, a + 1, c, a, *time::ParseTimestamp("2019-12-31T23:59:59.999999Z")})
    ASSERT_TRUE(b.Append("s", "f", "k", ts, 1, "", "", 0).ok());
  auto t = b.Finish();
  ASSERT_TRUE(t.ok());
  auto dates = Column<arrow::StringArray>(*(*t)->CombineChunksToBatch().ValueOrDie(), "date");
  std::vector<std::string> got;
  for (int64_t i = 0; i < dates->length(); ++i) got.push_back(dates->GetString(i));
  EXPECT_EQ(got, (std::vector<std::string>{"2020-01-01", "2020-01-01", "2020-01-02", "2020-01-01", "2019-12-31"}));
}

TEST(SignalBatchBuilderValues, ManyRowsKeepTheirOrder) {
  SignalBatchBuilder b;
  constexpr int kRows = 10000;
  const int64_t day = 86400LL * 1000000;
  for (int i = 0; i < kRows; ++i)
    ASSERT_TRUE(b.Append("s" + std::to_string(i % 7), "f", "k", i * (day / 3), i, "", "", 0).ok());
  EXPECT_EQ(b.size(), kRows);
  auto t = b.Finish();
  ASSERT_TRUE(t.ok());
  ASSERT_EQ((*t)->num_rows(), kRows);
  auto batch = (*t)->CombineChunksToBatch().ValueOrDie();
  auto values = Column<arrow::DoubleArray>(*batch, "value");
  auto dates = Column<arrow::StringArray>(*batch, "date");
  for (int i = 0; i < kRows; i += 997) {
    EXPECT_EQ(values->Value(i), i);
    EXPECT_EQ(dates->GetString(i), time::FormatDate(i * (day / 3))) << i;
  }
}

}  // namespace
}  // namespace pulse::signals
