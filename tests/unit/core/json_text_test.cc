// JsonStringTracker / JsonNestingDepth: JSON text scanned without parsing it.
#include "core/json_text.h"

#include <string>

#include <gtest/gtest.h>

namespace pulse {
namespace {

// Which characters of `text` the tracker calls outside every string ('o') or inside one ('s').
std::string Outside(std::string_view text) {
  JsonStringTracker strings;
  std::string out;
  for (const char c : text) out.push_back(strings.Feed(c) ? 'o' : 's');
  return out;
}

TEST(JsonStringTracker, MarksStringsWithTheirQuotesAndEscapes) {
  EXPECT_EQ(Outside(R"({"a": 1})"), "osssoooo");
  EXPECT_EQ(Outside(R"(["\"]", 2])"), "osssssoooo");
  EXPECT_EQ(Outside(R"("\\" ])"), "ssssoo");  // an escaped backslash does not escape the quote
}

TEST(JsonStringTracker, KnowsWhenTheTextStopsInsideAString) {
  JsonStringTracker strings;
  for (const char c : std::string_view(R"({"open": "never closed)")) strings.Feed(c);
  EXPECT_TRUE(strings.in_string());
}

TEST(JsonNestingDepth, CountsOnlyBracketsOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth(R"(["[[[[", "\"[[[", {"a": "}}}]]"}])", 10), 2u);
  EXPECT_EQ(JsonNestingDepth("", 10), 0u);
  EXPECT_EQ(JsonNestingDepth("]]][[", 10), 2u);  // closers with nothing open are ignored
}

TEST(JsonNestingDepth, StopsAtLimitPlusOne) {
  EXPECT_EQ(JsonNestingDepth(std::string(20, '[') + std::string(20, ']'), 10), 11u);
  EXPECT_EQ(JsonNestingDepth(std::string(300000, '{'), 256), 257u);
  EXPECT_EQ(JsonNestingDepth(std::string(10, '[') + std::string(10, ']'), 10), 10u);
}

}  // namespace
}  // namespace pulse
