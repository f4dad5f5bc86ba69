// lake/table_json.h RowJsonWriter and core/json_text.h: rows written straight to JSON text must be
// byte for byte what dumping RowsToJson's values prints (the replies of `pulse serve` before the
// writer), on the values where the two could part: non-finite and edge doubles, quotes and
// backslashes, control characters, UTF-8 (valid and not), nulls, every flat type, nested values,
// duplicate column names, chunked and empty tables.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/json_text.h"
#include "lake/table_json.h"

namespace pulse::lake {
namespace {

std::string Dump(const nlohmann::json& v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// Every row of `table` written by RowJsonWriter equals the dumped RowsToJson row.
void ExpectSameText(const arrow::Table& table) {
  auto old_rows = RowsToJson(table);
  ASSERT_TRUE(old_rows.ok()) << old_rows.status().ToString();
  auto writer = RowJsonWriter::Make(table);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_EQ(writer->num_rows(), static_cast<int64_t>(old_rows->size()));
  for (int64_t r = 0; r < writer->num_rows(); ++r) {
    std::string text;
    ASSERT_TRUE(writer->AppendRow(r, text).ok());
    EXPECT_EQ(text, Dump((*old_rows)[static_cast<size_t>(r)])) << "row " << r;
  }
}

const std::vector<std::string>& TrickyStrings() {
  static const std::vector<std::string> kStrings = {
      "",
      "plain",
      "quote \" and backslash \\ and slash /",
      std::string("nul \0 inside", 12),
      "\b\f\n\r\t\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // valid UTF-8: é € 😀
      "bad \xff byte",
      "truncated \xe2\x82",
      "lone continuation \x80\x80 then ok \xc3\xa9",
      "overlong \xc0\xaf",
      "surrogate \xed\xa0\x80",
      "\xe2\x82",  // ends mid-sequence
  };
  return kStrings;
}

TEST(JsonText, StringsMatchNlohmann) {
  for (const auto& s : TrickyStrings()) {
    std::string out;
    AppendJsonString(out, s);
    EXPECT_EQ(out, Dump(nlohmann::json(s)))
        << nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  }
}

TEST(JsonText, NumbersMatchNlohmann) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double v : {0.0, -0.0, 1.0, -2.5, 0.1, 1.0 / 3.0, 1e20, 1e21, 1e-7, 123456789012345678.0, 5e-324,
                   std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                   std::numeric_limits<double>::quiet_NaN(), inf, -inf}) {
    std::string out;
    AppendJsonNumber(out, v);
    EXPECT_EQ(out, Dump(nlohmann::json(v))) << v;
  }
  for (int64_t v :
       {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    std::string out;
    AppendJsonNumber(out, v);
    EXPECT_EQ(out, Dump(nlohmann::json(v)));
  }
  std::string out;
  AppendJsonNumber(out, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(out, Dump(nlohmann::json(std::numeric_limits<uint64_t>::max())));
}

TEST(RowJsonWriter, FlatTypesMatchDumpedRows) {
  const auto& strings = TrickyStrings();
  const int64_t n = static_cast<int64_t>(strings.size());
  arrow::StringBuilder text;
  arrow::LargeStringBuilder large;
  arrow::BinaryBuilder binary;
  arrow::DoubleBuilder dbl;
  arrow::FloatBuilder flt;
  arrow::Int8Builder i8;
  arrow::Int64Builder i64;
  arrow::UInt64Builder u64;
  arrow::UInt16Builder u16;
  arrow::BooleanBuilder flag;
  arrow::Date32Builder day;
  arrow::TimestampBuilder us(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  arrow::TimestampBuilder ns(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::NullBuilder nothing;
  const double doubles[] = {1.5,
                            std::nan(""),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            0.1,
                            2.0,
                            -0.0,
                            1e300,
                            1e-300,
                            42.0};
  for (int64_t r = 0; r < n; ++r) {
    const bool null = r % 5 == 4;  // every fifth row: nulls everywhere but the strings
    const auto& s = strings[static_cast<size_t>(r)];
    ASSERT_TRUE(text.Append(s).ok());
    ASSERT_TRUE((r % 3 == 2 ? large.AppendNull() : large.Append(s)).ok());
    ASSERT_TRUE(binary.Append(s).ok());
    ASSERT_TRUE((null ? dbl.AppendNull() : dbl.Append(doubles[r % 10])).ok());
    ASSERT_TRUE((null ? flt.AppendNull() : flt.Append(static_cast<float>(doubles[r % 10]) / 3.0f)).ok());
    ASSERT_TRUE((null ? i8.AppendNull() : i8.Append(static_cast<int8_t>(-r))).ok());
    ASSERT_TRUE(
        (null ? i64.AppendNull() : i64.Append(r == 0 ? std::numeric_limits<int64_t>::min() : r * 1000003)).ok());
    ASSERT_TRUE(
        (null ? u64.AppendNull() : u64.Append(std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(r))).ok());
    ASSERT_TRUE((null ? u16.AppendNull() : u16.Append(static_cast<uint16_t>(r * 7))).ok());
    ASSERT_TRUE((null ? flag.AppendNull() : flag.Append(r % 2 == 0)).ok());
    ASSERT_TRUE((null ? day.AppendNull() : day.Append(static_cast<int32_t>(19000 + r))).ok());
    ASSERT_TRUE((null ? us.AppendNull() : us.Append(1704164645000000 + r * 250000)).ok());
    ASSERT_TRUE((null ? ns.AppendNull() : ns.Append(1704164645123456789 + r)).ok());
    ASSERT_TRUE(nothing.AppendNull().ok());
  }
  // Columns out of name order, one name twice (the later column's value wins in RowsToJson), a key
  // that needs escaping.
  auto schema = arrow::schema(
      {arrow::field("zeta", arrow::utf8()), arrow::field("large", arrow::large_utf8()),
       arrow::field("bin", arrow::binary()), arrow::field("value", arrow::float64()),
       arrow::field("f32", arrow::float32()), arrow::field("i8", arrow::int8()), arrow::field("dup", arrow::int64()),
       arrow::field("u64", arrow::uint64()), arrow::field("u16", arrow::uint16()),
       arrow::field("flag", arrow::boolean()), arrow::field("day", arrow::date32()),
       arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
       arrow::field("ts_ns", arrow::timestamp(arrow::TimeUnit::NANO)), arrow::field("dup", arrow::utf8()),
       arrow::field("we\"ird\n", arrow::null()), arrow::field("Upper", arrow::utf8())});
  auto strings_again = text.Finish().ValueOrDie();
  auto table = arrow::Table::Make(
      schema,
      {strings_again, large.Finish().ValueOrDie(), binary.Finish().ValueOrDie(), dbl.Finish().ValueOrDie(),
       flt.Finish().ValueOrDie(), i8.Finish().ValueOrDie(), i64.Finish().ValueOrDie(), u64.Finish().ValueOrDie(),
       u16.Finish().ValueOrDie(), flag.Finish().ValueOrDie(), day.Finish().ValueOrDie(), us.Finish().ValueOrDie(),
       ns.Finish().ValueOrDie(), strings_again, nothing.Finish().ValueOrDie(), strings_again});
  ExpectSameText(*table);
  // The same rows in two chunks per column.
  ExpectSameText(*arrow::ConcatenateTables({table->Slice(0, 5), table->Slice(5)}).ValueOrDie());
  // No rows.
  ExpectSameText(*table->Slice(0, 0));
}

TEST(RowJsonWriter, NestedValuesMatchDumpedRows) {
  auto list_type = arrow::list(arrow::float64());
  arrow::ListBuilder list(arrow::default_memory_pool(), std::make_shared<arrow::DoubleBuilder>(), list_type);
  auto& values = static_cast<arrow::DoubleBuilder&>(*list.value_builder());
  ASSERT_TRUE(list.Append().ok());
  ASSERT_TRUE(values.AppendValues({1.0, std::nan(""), 0.5}).ok());
  ASSERT_TRUE(list.AppendNull().ok());
  ASSERT_TRUE(list.Append().ok());
  auto struct_type = arrow::struct_({arrow::field("b", arrow::utf8()), arrow::field("a", arrow::int32())});
  auto sb = arrow::MakeBuilder(struct_type).ValueOrDie();
  auto& st = static_cast<arrow::StructBuilder&>(*sb);
  for (const char* s : {"x\"\x01", "caf\xc3\xa9", "bad\xff"}) {
    ASSERT_TRUE(st.Append().ok());
    ASSERT_TRUE(static_cast<arrow::StringBuilder&>(*st.field_builder(0)).Append(s).ok());
    ASSERT_TRUE(static_cast<arrow::Int32Builder&>(*st.field_builder(1)).AppendNull().ok());
  }
  auto schema = arrow::schema({arrow::field("bands", list_type), arrow::field("meta", struct_type)});
  auto table = arrow::Table::Make(schema, {list.Finish().ValueOrDie(), sb->Finish().ValueOrDie()});
  ExpectSameText(*table);
}

}  // namespace
}  // namespace pulse::lake
