// signals/signal_schema.h: the column table its header documents is the schema, column for column
// (name, type, nullability, order), and the layout helpers agree with it.
#include "signals/signal_schema.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace pulse::signals {
namespace {

struct Column {
  std::string name;
  std::shared_ptr<arrow::DataType> type;
  bool nullable;
};

void ExpectColumns(const arrow::Schema& schema, const std::vector<Column>& expected) {
  ASSERT_EQ(schema.num_fields(), static_cast<int>(expected.size())) << schema.ToString();
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& f = *schema.field(static_cast<int>(i));
    EXPECT_EQ(f.name(), expected[i].name) << "column " << i;
    EXPECT_TRUE(f.type()->Equals(*expected[i].type)) << f.name() << ": " << f.type()->ToString();
    EXPECT_EQ(f.nullable(), expected[i].nullable) << f.name();
  }
}

const std::shared_ptr<arrow::DataType> kUtcMicros = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");

TEST(SignalSchema, ColumnsAreTheDocumentedOnes) {
  ExpectColumns(*SignalSchema(), {{"name", arrow::utf8(), false},
                                  {"source", arrow::utf8(), false},
                                  {"kind", arrow::utf8(), false},
                                  {"ts", kUtcMicros, false},
                                  {"value", arrow::float64(), false},
                                  {"unit", arrow::utf8(), true},
                                  {"metadata", arrow::utf8(), true},
                                  {"ingest_time", kUtcMicros, false},
                                  {"date", arrow::utf8(), false}});
}

TEST(SignalSchema, RejectColumnsAreTheDocumentedOnes) {
  ExpectColumns(*RejectSchema(), {{"file", arrow::utf8(), false},
                                  {"line", arrow::int64(), false},
                                  {"reason", arrow::utf8(), false},
                                  {"raw", arrow::utf8(), true},
                                  {"ingest_time", kUtcMicros, false}});
}

// DeltaTable::Create's rules for a layout: partition columns are top-level non-null strings here,
// sort columns are data columns that are not partition columns.
TEST(SignalSchema, LayoutFitsTheSchema) {
  const auto schema = SignalSchema();
  const auto parts = SignalPartitionColumns();
  const auto sorts = SignalSortColumns();
  EXPECT_EQ(parts, (std::vector<std::string>{"kind"}));
  EXPECT_EQ(sorts, (std::vector<std::string>{"name", "ts"}));
  for (const auto& p : parts) {
    auto f = schema->GetFieldByName(p);
    ASSERT_NE(f, nullptr) << p;
    EXPECT_TRUE(f->type()->Equals(*arrow::utf8())) << p;
    EXPECT_FALSE(f->nullable()) << p;
  }
  for (const auto& s : sorts) {
    EXPECT_NE(schema->GetFieldByName(s), nullptr) << s;
    EXPECT_EQ(std::find(parts.begin(), parts.end(), s), parts.end()) << s << " is also a partition column";
  }
  // The older layout's second partition column exists too, so tables created with it still read.
  EXPECT_NE(schema->GetFieldByName("date"), nullptr);
}

TEST(SignalSchema, TableNamesAndFreshSchemas) {
  EXPECT_STREQ(kSignalsTable, "signals");
  EXPECT_STREQ(kRejectsTable, "signal_rejects");
  // Each call returns an equal schema (callers may hold and compare them).
  EXPECT_TRUE(SignalSchema()->Equals(*SignalSchema()));
  EXPECT_TRUE(RejectSchema()->Equals(*RejectSchema()));
  EXPECT_FALSE(SignalSchema()->Equals(*RejectSchema()));
}

}  // namespace
}  // namespace pulse::signals
