// Printable / ValidUtf8 / LossyUtf8: outside text made safe for messages and utf8 columns.
#include "core/printable.h"

#include <gtest/gtest.h>

namespace pulse {
namespace {

TEST(Printable, EscapesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(Printable("plain text"), "plain text");
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\0b");
  EXPECT_EQ(Printable("l1\nl2\r\t\x1b[31m\x7f"), "l1\\nl2\\r\\t\\x1b[31m\\x7f");
  EXPECT_EQ(Printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // valid UTF-8 kept
  EXPECT_EQ(Printable("\xff\xc3"), "\\xff\\xc3");                                // invalid, truncated
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");                                // overlong
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");                       // surrogate
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");              // > U+10FFFF
}

TEST(Printable, CutsLongTextAndSaysHowLong) {
  const std::string long_text(1000, 'x');
  const std::string p = Printable(long_text, 20);
  EXPECT_EQ(p, std::string(20, 'x') + "... (1000 bytes)");
  // Never cuts inside a character or an escape.
  EXPECT_EQ(Printable("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9... (4 bytes)");
  EXPECT_EQ(Printable(std::string("ab\0", 3), 3), "ab... (3 bytes)");
}

TEST(Utf8, ValidAndLossy) {
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_TRUE(ValidUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(ValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(ValidUtf8("\xf0\x9f\x98"));
  EXPECT_FALSE(ValidUtf8("\x80"));
  EXPECT_EQ(LossyUtf8("ok\xff!"), "ok\\xff!");
  EXPECT_EQ(LossyUtf8(std::string("keep\0\n", 6)), std::string("keep\0\n", 6));
  EXPECT_TRUE(ValidUtf8(LossyUtf8("\xe2\x82")));
}

}  // namespace
}  // namespace pulse
