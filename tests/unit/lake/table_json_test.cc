// lake/table_json.h: rows of a table as JSON, the public form `pulse lake show --json` prints.
#include "lake/table_json.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pulse::lake {
namespace {

using nlohmann::json;

std::shared_ptr<arrow::Table> Sample() {
  arrow::StringBuilder name;
  arrow::DoubleBuilder value;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  arrow::Int32Builder step;
  arrow::BooleanBuilder flag;
  EXPECT_TRUE(name.AppendValues({"gdp", "cpi"}).ok());
  EXPECT_TRUE(value.Append(1.5).ok());
  EXPECT_TRUE(value.Append(std::numeric_limits<double>::quiet_NaN()).ok());
  EXPECT_TRUE(ts.Append(1704164645000000).ok());  // 2024-01-02T03:04:05Z
  EXPECT_TRUE(ts.AppendNull().ok());
  EXPECT_TRUE(step.AppendValues({1, -2}).ok());
  EXPECT_TRUE(flag.AppendValues(std::vector<bool>{true, false}).ok());
  auto schema = arrow::schema({arrow::field("name", arrow::utf8()), arrow::field("value", arrow::float64()),
                               arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
                               arrow::field("step", arrow::int32()), arrow::field("flag", arrow::boolean())});
  return arrow::Table::Make(schema, {name.Finish().ValueOrDie(), value.Finish().ValueOrDie(), ts.Finish().ValueOrDie(),
                                     step.Finish().ValueOrDie(), flag.Finish().ValueOrDie()});
}

TEST(TableJson, RowsAreObjectsOfEveryColumn) {
  auto rows = RowsToJson(*Sample());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].dump(), R"({"flag":true,"name":"gdp","step":1,"ts":"2024-01-02T03:04:05Z","value":1.5})");
  // NaN has no JSON form: null. A null timestamp is null.
  EXPECT_EQ((*rows)[1].dump(), R"({"flag":false,"name":"cpi","step":-2,"ts":null,"value":null})");
  EXPECT_TRUE((*rows)[1]["value"].is_null());
}

TEST(TableJson, LimitKeepsTheFirstRows) {
  auto one = RowsToJson(*Sample(), 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0]["name"], "gdp");
  EXPECT_EQ(RowsToJson(*Sample(), 0)->size(), 2u);
  EXPECT_EQ(RowsToJson(*Sample(), 99)->size(), 2u);
}

TEST(TableJson, ChunkedColumnsReadAcrossChunks) {
  auto t = Sample();
  auto doubled = arrow::ConcatenateTables({t, t});
  ASSERT_TRUE(doubled.ok());
  auto rows = RowsToJson(**doubled);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[2], (*rows)[0]);
  EXPECT_EQ((*rows)[3]["name"], "cpi");
}

TEST(TableJson, TimestampsOfEveryUnitAreUtcText) {
  for (auto [unit, ticks] : {std::pair{arrow::TimeUnit::SECOND, int64_t{1704164645}},
                             std::pair{arrow::TimeUnit::MILLI, int64_t{1704164645250}},
                             std::pair{arrow::TimeUnit::NANO, int64_t{1704164645250000000}}}) {
    arrow::TimestampBuilder b(arrow::timestamp(unit), arrow::default_memory_pool());
    ASSERT_TRUE(b.Append(ticks).ok());
    auto array = b.Finish().ValueOrDie();
    auto j = CellToJson(*array, 0);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(*j, unit == arrow::TimeUnit::SECOND ? "2024-01-02T03:04:05Z" : "2024-01-02T03:04:05.250000Z");
  }
}

TEST(TableJson, NestedValuesAndBadInput) {
  auto list_type = arrow::list(arrow::float64());
  arrow::ListBuilder lb(arrow::default_memory_pool(), std::make_shared<arrow::DoubleBuilder>());
  ASSERT_TRUE(lb.Append().ok());
  ASSERT_TRUE(static_cast<arrow::DoubleBuilder*>(lb.value_builder())->AppendValues({0.05, 0.95}).ok());
  auto lists = lb.Finish().ValueOrDie();
  EXPECT_EQ(CellToJson(*lists, 0)->dump(), "[0.05,0.95]");
  // A row outside the column is an error, not a crash.
  EXPECT_EQ(CellToJson(*lists, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(CellToJson(*lists, -1).status().code(), StatusCode::kOutOfRange);
  // A type with no JSON form is refused with its name.
  arrow::Decimal128Builder dec(arrow::decimal128(10, 2), arrow::default_memory_pool());
  ASSERT_TRUE(dec.Append(arrow::Decimal128(12345)).ok());
  auto decimals = dec.Finish().ValueOrDie();
  auto bad = CellToJson(*decimals, 0);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("decimal"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace pulse::lake
