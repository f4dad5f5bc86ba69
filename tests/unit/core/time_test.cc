#include "core/time.h"

#include <gtest/gtest.h>

namespace pulse::time {
namespace {

int64_t P(std::string_view s) {
  auto r = ParseTimestamp(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.value_or(-1);
}

TEST(Time, ParsesIsoForms) {
  EXPECT_EQ(P("1970-01-01"), 0);
  EXPECT_EQ(P("1970-01-02T00:00:00Z"), 86400LL * 1000000);
  EXPECT_EQ(P("2024-03-01 12:30:00"), P("2024-03-01T12:30:00Z"));
  EXPECT_EQ(P("2024-03-01T12:30:00.5Z"), P("2024-03-01T12:30:00Z") + 500000);
  EXPECT_EQ(P("2024-03-01T12:30:00.123456Z") % 1000000, 123456);
  EXPECT_EQ(P("2024-03-01T12:30:00.1234567Z") % 1000000, 123456);  // beyond µs: truncated
  EXPECT_EQ(P("2024-03-01T14:30:00+02:00"), P("2024-03-01T12:30:00Z"));
  EXPECT_EQ(P("2024-03-01T07:30:00-0500"), P("2024-03-01T12:30:00Z"));
  EXPECT_EQ(P("2024-03-01T12:30Z"), P("2024-03-01T12:30:00Z"));
  EXPECT_EQ(P("1700000000"), 1700000000LL * 1000000);
  EXPECT_EQ(P("  2024-02-29  "), P("2024-02-29T00:00:00Z"));  // leap day
  EXPECT_LT(P("1959-01-01"), 0);
}

TEST(Time, RejectsImpossibleOrMalformed) {
  for (const char* bad :
       {"", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-01-01T24:00:00Z", "2024-01-01T12:60:00Z",
        "2024-01-01T12:00:61Z", "garbage", "2024-01-01Tx", "2024/01/01", "2024-01-01T12:00:00Zjunk",
        "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00+25:00", "1900-02-29"}) {
    auto r = ParseTimestamp(bad);
    EXPECT_FALSE(r.ok()) << "accepted '" << bad << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("invalid timestamp"), std::string::npos);
    }
  }
}

// ISO 8601's basic date form was read as Unix seconds: "20240101" became 1970-08-23, silently.
TEST(Time, EightDigitsThatFormADateAreAmbiguous) {
  for (const char* ambiguous : {"20240101", "19590331", "20240229", " 20240101 "}) {
    auto r = ParseTimestamp(ambiguous);
    ASSERT_FALSE(r.ok()) << ambiguous;
    EXPECT_NE(r.status().message().find("ambiguous: a YYYYMMDD date or Unix seconds?"), std::string::npos);
  }
  EXPECT_EQ(P("20230229"), 20230229LL * 1000000);  // no such date: Unix seconds
  EXPECT_EQ(P("12000000"), 12000000LL * 1000000);
  EXPECT_EQ(P("-20240101"), -20240101LL * 1000000);  // a sign: a number
  EXPECT_EQ(P("0"), 0);
}

TEST(Time, FormatsRoundTrip) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(P("2024-02-29T23:59:59.000001Z")), "2024-02-29T23:59:59.000001Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatDate(P("1959-04-01T00:00:00Z")), "1959-04-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  for (int64_t t : {int64_t{0}, int64_t{1700000000123456}, int64_t{-5000000000000000}, int64_t{253402300799000000}})
    EXPECT_EQ(P(FormatTimestamp(t)), t);
}

TEST(Time, FormatsEveryYearWidth) {
  // Years 0-9999 take the digit-writing path, others snprintf's; both print the same shapes.
  constexpr int64_t kDay = 86400LL * 1000000;
  const int64_t year0 = -62167219200LL * 1000000;      // 0000-01-01T00:00:00Z
  const int64_t year10000 = 253402300800LL * 1000000;  // 10000-01-01T00:00:00Z
  EXPECT_EQ(FormatTimestamp(year0), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(year0 + 1), "0000-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatTimestamp(year0 - kDay), "-001-12-31T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(year10000 - 1), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(year10000), "10000-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(P("0987-06-05T04:03:02.1Z")), "0987-06-05T04:03:02.100000Z");
  std::string out = "x";
  AppendTimestamp(out, 0);
  AppendTimestamp(out, year10000 + 5);
  EXPECT_EQ(out, "x1970-01-01T00:00:00Z10000-01-01T00:00:00.000005Z");
}

TEST(Time, CivilAndQuarters) {
  EXPECT_EQ(*QuarterStart(1959, 2), P("1959-04-01"));
  EXPECT_EQ(*QuarterStart(2009, 4), P("2009-10-01"));
  EXPECT_FALSE(QuarterStart(2009, 5).ok());
  EXPECT_FALSE(QuarterStart(2009, 0).ok());
  EXPECT_EQ(*FromCivil(2000, 2, 29), P("2000-02-29"));
  EXPECT_FALSE(FromCivil(2100, 2, 29).ok());
  EXPECT_GT(NowMicros(), P("2024-01-01"));
  EXPECT_EQ(AddMonths(P("2009-07-01"), 3), P("2009-10-01"));
  EXPECT_EQ(AddMonths(P("2009-10-01T06:00:00Z"), 3), P("2010-01-01T06:00:00Z"));
  EXPECT_EQ(AddMonths(P("2024-01-31"), 1), P("2024-02-29"));
  EXPECT_EQ(AddMonths(P("2024-03-15"), -15), P("2022-12-15"));
}

}  // namespace
}  // namespace pulse::time
