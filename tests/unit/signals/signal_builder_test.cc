// SignalBatchBuilder: rows become a table with the signals schema, the date partition column is
// the UTC day of ts (before 1970 too), metadata defaults to "{}", and Finish resets the builder.
#include "signals/signal_builder.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "core/time.h"
#include "signals/signal_schema.h"

namespace pulse::signals {
namespace {

std::string DateAt(const arrow::Table& t, int64_t row) {
  auto batch = t.CombineChunksToBatch().ValueOrDie();
  return std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("date"))->GetString(row);
}

TEST(SignalBatchBuilder, BuildsRowsWithTheirUtcDate) {
  SignalBatchBuilder b;
  const int64_t day = 86400LL * 1000000;
  ASSERT_TRUE(b.Append("gdp", "f.csv", "macro", *time::ParseTimestamp("2024-02-29T23:59:59Z"), 1.5, "", "", 7).ok());
  ASSERT_TRUE(b.Append("gdp", "f.csv", "macro", *time::ParseTimestamp("2024-03-01"), 2.5, "usd", "{\"k\":1}", 7).ok());
  ASSERT_TRUE(b.Append("old", "f.csv", "macro", -1, 3, "", "", 7).ok());        // 1969-12-31T23:59:59.999999
  ASSERT_TRUE(b.Append("old", "f.csv", "macro", -day, 4, "", "", 7).ok());      // 1969-12-31 exactly
  ASSERT_TRUE(b.Append("old", "f.csv", "macro", -day - 1, 5, "", "", 7).ok());  // 1969-12-30
  EXPECT_EQ(b.size(), 5);
  auto t = b.Finish();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->schema()->Equals(*SignalSchema()));
  EXPECT_TRUE((*t)->ValidateFull().ok());
  EXPECT_EQ(DateAt(**t, 0), "2024-02-29");
  EXPECT_EQ(DateAt(**t, 1), "2024-03-01");
  EXPECT_EQ(DateAt(**t, 2), "1969-12-31");
  EXPECT_EQ(DateAt(**t, 3), "1969-12-31");
  EXPECT_EQ(DateAt(**t, 4), "1969-12-30");
  auto batch = (*t)->CombineChunksToBatch().ValueOrDie();
  auto metadata = std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("metadata"));
  EXPECT_EQ(metadata->GetString(0), "{}");
  EXPECT_EQ(metadata->GetString(1), "{\"k\":1}");
  // Finish resets: the next table holds only what follows.
  EXPECT_EQ(b.size(), 0);
  ASSERT_TRUE(b.Append("x", "s", "k", 0, 1, "", "", 7).ok());
  auto next = b.Finish();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)->num_rows(), 1);
  auto empty = b.Finish();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->num_rows(), 0);
}

TEST(SignalSchema, TablesAndPartitions) {
  EXPECT_EQ(SignalPartitionColumns(), (std::vector<std::string>{"kind"}));  // few files; stats prune by time
  EXPECT_EQ(SignalSortColumns(), (std::vector<std::string>{"name", "ts"}));
  for (const auto& c : SignalSortColumns()) EXPECT_NE(SignalSchema()->GetFieldByName(c), nullptr);
  for (const auto& c : SignalPartitionColumns()) EXPECT_NE(SignalSchema()->GetFieldByName(c), nullptr);
  EXPECT_EQ(RejectSchema()->num_fields(), 5);
  EXPECT_NE(RejectSchema()->GetFieldByName("raw"), nullptr);
}

}  // namespace
}  // namespace pulse::signals
