// API tokens: created once (printed, stored only as a SHA-256, file mode 0600), authenticated in
// constant time against every stored hash, scopes parsed strictly, a malformed tokens file refused
// with its name, and a token created while a store is open accepted without a restart.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/files.h"
#include "core/hash.h"
#include "service/tokens.h"

namespace pulse::service {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("pulse-tokens-test-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Tokens, CreatedTokenIsStoredHashedWithMode0600) {
  auto dir = TempDir("create");
  const std::string file = (dir / "t.json").string();
  auto created = CreateToken(file, Scope::kWrite, "ci");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->token.rfind("pulse_", 0), 0u);
  EXPECT_EQ(created->token.size(), 6u + 64u);
  auto text = ReadTextFile(file);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find(created->token), std::string::npos);             // never the token itself
  EXPECT_NE(text->find(Sha256Hex(created->token)), std::string::npos);  // its hash
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto store = TokenStore::Open(file);
  ASSERT_TRUE(store.ok());
  auto who = (*store)->Authenticate(created->token);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "ci");
  EXPECT_EQ(who->scope, Scope::kWrite);
  EXPECT_FALSE((*store)->Authenticate(created->token + "x").has_value());
  EXPECT_FALSE((*store)->Authenticate("").has_value());
  fs::remove_all(dir);
}

TEST(Tokens, NamesAreUniqueAndChecked) {
  auto dir = TempDir("names");
  const std::string file = (dir / "t.json").string();
  ASSERT_TRUE(CreateToken(file, Scope::kRead, "a").ok());
  EXPECT_EQ(CreateToken(file, Scope::kRead, "a").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(CreateToken(file, Scope::kRead, "has space").status().code(), StatusCode::kInvalidArgument);
  auto unnamed = CreateToken(file, Scope::kAdmin);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->stored.name.rfind("token-", 0), 0u);
  auto store = TokenStore::Open(file);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->size(), 2u);
  fs::remove_all(dir);
}

TEST(Tokens, ScopesParseStrictly) {
  EXPECT_EQ(*ParseScope("read"), Scope::kRead);
  EXPECT_EQ(*ParseScope("write"), Scope::kWrite);
  EXPECT_EQ(*ParseScope("admin"), Scope::kAdmin);
  EXPECT_FALSE(ParseScope("Write").ok());
  EXPECT_FALSE(ParseScope("").ok());
}

TEST(Tokens, MissingFileIsEmptyMalformedIsAnError) {
  auto dir = TempDir("malformed");
  auto missing = TokenStore::Open((dir / "none.json").string());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ((*missing)->size(), 0u);
  const std::string bad = (dir / "bad.json").string();
  for (const char* text : {"not json", "[]", R"({"tokens": [{"name": "a", "scope": "root", "sha256": "00"}]})",
                           R"({"tokens": [{"name": "a", "scope": "read", "sha256": "xyz"}]})"}) {
    std::ofstream(bad) << text;
    auto store = TokenStore::Open(bad);
    ASSERT_FALSE(store.ok()) << text;
    EXPECT_NE(store.status().message().find("bad.json"), std::string::npos) << store.status().message();
  }
  fs::remove_all(dir);
}

TEST(Tokens, StoreSeesTokensCreatedLater) {
  auto dir = TempDir("reload");
  const std::string file = (dir / "t.json").string();
  auto store = TokenStore::Open(file);
  ASSERT_TRUE(store.ok());
  auto created = CreateToken(file, Scope::kRead, "late");
  ASSERT_TRUE(created.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the store checks at most once a second
  EXPECT_TRUE((*store)->Authenticate(created->token).has_value());
  fs::remove_all(dir);
}

TEST(Tokens, ConcurrentCreationsAllLand) {
  auto dir = TempDir("concurrent");
  const std::string file = (dir / "t.json").string();
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { EXPECT_TRUE(CreateToken(file, Scope::kRead, "t" + std::to_string(i)).ok()); });
  for (auto& t : threads) t.join();
  auto store = TokenStore::Open(file);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->size(), 8u);
  fs::remove_all(dir);
}

TEST(Tokens, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace pulse::service
