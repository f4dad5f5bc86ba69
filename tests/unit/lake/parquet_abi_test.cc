// Proves the Arrow/Parquet C++ ABI works with this toolchain: build a table, write Parquet into
// memory and to disk, read both back, compare.
#include <arrow/api.h>
#include <arrow/io/api.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>

#include <filesystem>

namespace {

std::shared_ptr<arrow::Table> MakeTable() {
  arrow::StringBuilder names;
  arrow::DoubleBuilder values;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(names.Append("gdp_" + std::to_string(i % 7)).ok());
    EXPECT_TRUE(values.Append(i * 0.5).ok());
    EXPECT_TRUE(ts.Append(int64_t{1700000000000000} + i).ok());
  }
  auto schema = arrow::schema({arrow::field("name", arrow::utf8()), arrow::field("value", arrow::float64()),
                               arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"))});
  return arrow::Table::Make(schema,
                            {names.Finish().ValueOrDie(), values.Finish().ValueOrDie(), ts.Finish().ValueOrDie()});
}

TEST(ParquetAbi, WriteAndReadBackThroughFile) {
  auto table = MakeTable();
  auto path = std::filesystem::temp_directory_path() / ("pulse_abi_" + std::to_string(::getpid()) + ".parquet");
  {
    auto out = arrow::io::FileOutputStream::Open(path.string()).ValueOrDie();
    ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, 256).ok());
    ASSERT_TRUE(out->Close().ok());
  }
  auto in = arrow::io::ReadableFile::Open(path.string()).ValueOrDie();
  auto reader = parquet::arrow::OpenFile(in, arrow::default_memory_pool()).ValueOrDie();
  std::shared_ptr<arrow::Table> back;
  ASSERT_TRUE(reader->ReadTable(&back).ok());
  EXPECT_EQ(reader->num_row_groups(), 4);
  EXPECT_TRUE(back->Equals(*table)) << back->ToString();
  std::filesystem::remove(path);
}

}  // namespace
