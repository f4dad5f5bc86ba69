#include "core/hash.h"

#include <gtest/gtest.h>

namespace pulse {
namespace {

TEST(Sha256Hex, MatchesFips180Examples) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1, '\0')), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST(ContentId, KeyOrderDoesNotMatterAndFieldsNeverRunTogether) {
  nlohmann::json a = {{"runs", 100}, {"seed", 7}};
  nlohmann::json b;
  b["seed"] = 7;
  b["runs"] = 100;
  EXPECT_EQ(ContentId(a), ContentId(b));
  EXPECT_NE(ContentId({{"x", "ab"}, {"y", "c"}}), ContentId({{"x", "a"}, {"y", "bc"}}));
  EXPECT_NE(ContentId({{"noise", 0.1}}), ContentId({{"noise", 0.10000000000000002}}));
  EXPECT_EQ(ContentId({{"a", 1}}).size(), 64u);
}

TEST(ContentId, InvalidUtf8StillHashesStably) {
  nlohmann::json bad = {{"name", std::string("a\xff"
                                             "b")}};
  EXPECT_EQ(ContentId(bad), ContentId(bad));
  EXPECT_EQ(ContentId(bad).size(), 64u);
}

}  // namespace
}  // namespace pulse
