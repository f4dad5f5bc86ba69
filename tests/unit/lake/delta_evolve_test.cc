// DeltaTable::AddColumns: schema evolution by a metaData commit. Old files read the new columns
// as null, new appends carry them, checkpoints keep the evolved schema, repeating it is a no-op,
// a racing writer with the old schema fails without writing, and bad requests change nothing.
#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "lake/delta_table.h"

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;

class DeltaEvolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_evolve_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::shared_ptr<arrow::Schema> Base() {
    return arrow::schema({arrow::field("name", arrow::utf8(), false), arrow::field("kind", arrow::utf8(), false),
                          arrow::field("value", arrow::float64())});
  }
  static std::vector<std::shared_ptr<arrow::Field>> Extra() {
    return {arrow::field("score", arrow::float64()), arrow::field("gate", arrow::utf8())};
  }
  static std::shared_ptr<arrow::Array> Json(const std::shared_ptr<arrow::DataType>& type, const std::string& text) {
    return arrow::json::ArrayFromJSONString(type, text).ValueOrDie();
  }
  static std::shared_ptr<arrow::Table> OldRows() {
    return arrow::Table::Make(Base(), {Json(arrow::utf8(), R"(["a","b"])"), Json(arrow::utf8(), R"(["k","k"])"),
                                       Json(arrow::float64(), "[1,2]")});
  }
  static std::shared_ptr<arrow::Table> NewRows(const std::shared_ptr<arrow::Schema>& schema) {
    return arrow::Table::Make(
        schema, {Json(arrow::utf8(), R"(["c"])"), Json(arrow::utf8(), R"(["k"])"), Json(arrow::float64(), "[3]"),
                 Json(arrow::float64(), "[0.5]"), Json(arrow::utf8(), R"(["accept"])")});
  }
  std::unique_ptr<DeltaTable> Open(TableOptions options = {}) {
    return DeltaTable::Open(NewLocalFileSystem(dir_.string()), options).value();
  }
  fs::path dir_;
};

TEST_F(DeltaEvolveTest, AddedColumnsReadNullInOldFiles) {
  TableOptions options;
  options.checkpoint_interval = 3;  // version 3 (the second append) writes a checkpoint
  auto table = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Base(), {"kind"}, "t", options).value();
  ASSERT_TRUE(table->Append(*OldRows()).ok());
  auto added = table->AddColumns(Extra());
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ(added->version, 2);
  EXPECT_FALSE(added->skipped);
  ASSERT_EQ(table->schema()->num_fields(), 5);
  EXPECT_EQ(table->schema()->field(3)->name(), "score");
  EXPECT_EQ(table->partition_columns(), std::vector<std::string>{"kind"});
  ASSERT_TRUE(table->Append(*NewRows(table->schema())).ok());

  auto reopened = Open(options);  // from the checkpoint at version 3
  EXPECT_TRUE(reopened->schema()->Equals(*table->schema()));
  auto rows = reopened->Read({.columns = {"name", "score", "gate"}}).value()->CombineChunksToBatch().ValueOrDie();
  ASSERT_EQ(rows->num_rows(), 3);
  auto name = std::static_pointer_cast<arrow::StringArray>(rows->column(0));
  auto score = std::static_pointer_cast<arrow::DoubleArray>(rows->column(1));
  for (int64_t i = 0; i < 3; ++i) {
    if (name->GetView(i) == "c")
      EXPECT_EQ(score->Value(i), 0.5);
    else
      EXPECT_TRUE(score->IsNull(i));
  }
  EXPECT_EQ(reopened->Read({.version = 1}).value()->num_columns(), 3);  // time travel: the old schema
  auto history = reopened->History().value();
  EXPECT_EQ(history[1].operation, "ADD COLUMNS");
  EXPECT_EQ(history[1].operation_parameters["columns"], R"(["score","gate"])");
}

TEST_F(DeltaEvolveTest, RepeatingOrRacingIsANoOp) {
  auto first = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Base(), {"kind"}).value();
  auto second = Open();  // opened before the evolution
  ASSERT_TRUE(first->AddColumns(Extra()).ok());
  auto again = second->AddColumns(Extra());  // catches up first: the columns exist
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(again->version, 1);
  auto partial = second->AddColumns({arrow::field("gate", arrow::utf8()), arrow::field("more", arrow::int64())});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->version, 2);
  EXPECT_EQ(second->schema()->num_fields(), 6);
}

TEST_F(DeltaEvolveTest, AnAppendWithTheOldSchemaFailsWithoutWriting) {
  auto writer = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Base(), {"kind"}).value();
  auto evolver = Open();
  ASSERT_TRUE(evolver->AddColumns(Extra()).ok());
  auto stale = writer->Append(*OldRows());  // catches up, sees the new schema: refused
  EXPECT_EQ(stale.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Open()->LatestVersion().value(), 1);
  EXPECT_EQ(Open()->Read().value()->num_rows(), 0);
}

TEST_F(DeltaEvolveTest, BadRequestsChangeNothing) {
  auto table = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Base(), {"kind"}).value();
  auto retyped = table->AddColumns({arrow::field("value", arrow::utf8())});
  EXPECT_EQ(retyped.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(retyped.status().message().find("already exists with type double"), std::string::npos);
  auto required = table->AddColumns({arrow::field("x", arrow::float64(), false)});
  EXPECT_EQ(required.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(required.status().message().find("must be nullable"), std::string::npos);
  auto unsupported = table->AddColumns({arrow::field("x", arrow::float16())});
  EXPECT_EQ(unsupported.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table->AddColumns({nullptr}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Open()->LatestVersion().value(), 0);
  EXPECT_EQ(Open()->schema()->num_fields(), 3);
}

}  // namespace
}  // namespace pulse::lake
