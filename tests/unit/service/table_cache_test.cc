// pulse serve's table cache (service/table_cache.h): the latest version follows other writers, the
// rows of a version are read once and kept within the byte budget, projections keep only the
// columns a version has, and a table deleted or re-created under the cache is noticed (no stale
// rows from the table that was there before).
#include "service/table_cache.h"

#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "../ingest/lake_dir_fixture.h"
#include "lake/delta_table.h"

namespace pulse::service {
namespace {

class TableCacheTest : public ingest::LakeDirTest {
 protected:
  static std::shared_ptr<arrow::Table> Rows(const std::string& kind, int n = 2) {
    std::string kinds = "[", values = "[";
    for (int i = 0; i < n; ++i) {
      kinds += (i ? ",\"" : "\"") + kind + "\"";
      values += (i ? "," : "") + std::to_string(i);
    }
    auto schema = arrow::schema({arrow::field("kind", arrow::utf8()), arrow::field("value", arrow::float64())});
    return arrow::Table::Make(schema, {arrow::json::ArrayFromJSONString(arrow::utf8(), kinds + "]").ValueOrDie(),
                                       arrow::json::ArrayFromJSONString(arrow::float64(), values + "]").ValueOrDie()});
  }
  // A writer other than the cache (another process, as far as the cache can tell).
  void Append(lake::Lake& lake, const std::string& kind, int n = 2) {
    auto rows = Rows(kind, n);
    auto table = lake.OpenOrCreateTable("quotes", rows->schema(), {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE((*table)->Append(*rows).ok());
  }
  static std::string Text(const lake::RowJsonWriter& rows) {
    std::string out;
    for (int64_t r = 0; r < rows.num_rows(); ++r) EXPECT_TRUE(rows.AppendRow(r, out).ok());
    return out;
  }
};

TEST_F(TableCacheTest, FollowsOtherWritersAndReadsEachVersionOnce) {
  auto lake = OpenLake("lake");
  TableCache cache(64 << 20);
  EXPECT_EQ(cache.LatestVersion(*lake, "quotes").status().code(), StatusCode::kNotFound);
  Append(*lake, "a");
  auto v1 = cache.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto first = cache.Rows(*lake, "quotes", *v1, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)->num_rows(), 2);
  EXPECT_GT(cache.bytes_held(), 0);
  auto again = cache.Rows(*lake, "quotes", *v1, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());  // kept, not read again

  Append(*lake, "b");
  auto v2 = cache.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, *v1 + 1);
  auto second = cache.Rows(*lake, "quotes", *v2, {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->num_rows(), 4);
  auto old = cache.Rows(*lake, "quotes", *v1, {});  // time travel still answers the old rows
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Text(**old), Text(**first));
}

TEST_F(TableCacheTest, ProjectionsKeepOnlyTheColumnsAVersionHas) {
  auto lake = OpenLake("lake");
  Append(*lake, "a");
  TableCache cache(64 << 20);
  auto v = cache.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(v.ok());
  auto rows = cache.Rows(*lake, "quotes", *v, {"value", "no_such_column"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_NE((*rows)->Column("value"), nullptr);
  EXPECT_EQ((*rows)->Column("kind"), nullptr);
  auto all = cache.Rows(*lake, "quotes", *v, {});
  ASSERT_TRUE(all.ok());
  EXPECT_NE((*all)->Column("kind"), nullptr);  // another projection, another entry
}

TEST_F(TableCacheTest, KeepsWithinItsBudget) {
  auto lake = OpenLake("lake");
  TableCache none(0);
  Append(*lake, "a", 1000);
  auto v = none.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(v.ok());
  auto rows = none.Rows(*lake, "quotes", *v, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)->num_rows(), 1000);
  EXPECT_EQ(none.bytes_held(), 0);

  TableCache small(20000);  // about one version of 1000 rows
  for (int i = 0; i < 4; ++i) {
    Append(*lake, "b", 1000);
    auto latest = small.LatestVersion(*lake, "quotes");
    ASSERT_TRUE(latest.ok());
    ASSERT_TRUE(small.Rows(*lake, "quotes", *latest, {"value"}).ok());
    EXPECT_LE(small.bytes_held(), 20000);
  }
}

TEST_F(TableCacheTest, NoticesATableDeletedOrRecreatedUnderIt) {
  auto lake = OpenLake("lake");
  for (const char* kind : {"a", "b", "c"}) Append(*lake, kind);
  TableCache cache(64 << 20);
  auto v = cache.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(v.ok());
  auto before = cache.Rows(*lake, "quotes", *v, {});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)->num_rows(), 6);

  std::filesystem::remove_all(dir_ / "lake" / "quotes");
  EXPECT_EQ(cache.LatestVersion(*lake, "quotes").status().code(), StatusCode::kNotFound);

  // Re-created with as many versions and more: the versions the cache held are other files now.
  for (const char* kind : {"x", "y", "z", "w"}) Append(*lake, kind, 1);
  auto after_version = cache.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(after_version.ok()) << after_version.status().ToString();
  auto after = cache.Rows(*lake, "quotes", *after_version, {});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->num_rows(), 4);
  EXPECT_EQ(Text(**after).find("\"a\""), std::string::npos);
  auto same_number = cache.Rows(*lake, "quotes", *v, {});  // a version number both tables had
  ASSERT_TRUE(same_number.ok());
  EXPECT_EQ((*same_number)->num_rows(), 3);  // the new table's rows at that version, not the old

  // Replaced between two requests (the commit files differ in modification time; ms resolution).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::filesystem::remove_all(dir_ / "lake" / "quotes");
  for (int i = 0; i < 5; ++i) Append(*lake, "q", 2);
  auto replaced = cache.LatestVersion(*lake, "quotes");
  ASSERT_TRUE(replaced.ok());
  auto rows = cache.Rows(*lake, "quotes", *replaced, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)->num_rows(), 10);
  EXPECT_EQ(Text(**rows).find("\"x\""), std::string::npos);
}

}  // namespace
}  // namespace pulse::service
