#include "core/time.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace pulse::time {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year, month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2), m, d};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// A cursor over the text being parsed.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  // Reads exactly n digits; false if they are not there.
  bool Digits(size_t n, int64_t& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += n;
    return true;
  }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
};

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("invalid timestamp '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<int64_t> FromCivil(int year, int month, int day) {
  if (month < 1 || month > 12) return Status::InvalidArgument("month " + std::to_string(month) + " is not 1-12");
  if (day < 1 || day > DaysInMonth(year, month)) {
    return Status::InvalidArgument("day " + std::to_string(day) + " does not exist in " + std::to_string(year) + "-" +
                                   std::to_string(month));
  }
  return DaysFromCivil(year, month, day) * kSecondsPerDay * kMicrosPerSecond;
}

Result<int64_t> QuarterStart(int year, int quarter) {
  if (quarter < 1 || quarter > 4) return Status::InvalidArgument("quarter " + std::to_string(quarter) + " is not 1-4");
  return FromCivil(year, 3 * (quarter - 1) + 1, 1);
}

Result<int64_t> ParseTimestamp(std::string_view text) {
  // Trim surrounding blanks.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return Bad(text, "empty");

  // Plain integer: Unix seconds.
  std::string_view unsigned_part = text.front() == '-' ? text.substr(1) : text;
  if (!unsigned_part.empty() && unsigned_part.find_first_not_of("0123456789") == std::string_view::npos) {
    if (unsigned_part.size() > 12) return Bad(text, "not a date and out of range for Unix seconds");
    // Eight digits that form a date (20240101) are far likelier ISO 8601's basic YYYYMMDD than a
    // time in 1970-1973; neither reading is taken silently.
    if (text.size() == 8) {
      const auto digits = [&](size_t at, size_t n) { return std::stoll(std::string(text.substr(at, n))); };
      const int64_t y = digits(0, 4), m = digits(4, 2), d = digits(6, 2);
      if (y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m))
        return Bad(text, "ambiguous: a YYYYMMDD date or Unix seconds? Write the date as YYYY-MM-DD");
    }
    return static_cast<int64_t>(std::stoll(std::string(text))) * kMicrosPerSecond;
  }

  Cursor c{text};
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  if (!c.Digits(4, year) || !c.Eat('-') || !c.Digits(2, month) || !c.Eat('-') || !c.Digits(2, day))
    return Bad(text, "expected YYYY-MM-DD");
  if (month < 1 || month > 12) return Bad(text, "month must be 01-12");
  if (day < 1 || day > DaysInMonth(year, month)) return Bad(text, "no such day in that month");
  if (c.peek() == 'T' || c.peek() == 't' || c.peek() == ' ') {
    ++c.i;
    if (!c.Digits(2, hour) || !c.Eat(':') || !c.Digits(2, minute)) return Bad(text, "expected HH:MM after the date");
    if (c.Eat(':')) {
      if (!c.Digits(2, second)) return Bad(text, "expected seconds as SS");
      if (c.Eat('.') || c.Eat(',')) {
        size_t digits = 0;
        while (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
          if (digits < 6) micros = micros * 10 + (c.peek() - '0');
          ++digits;
          ++c.i;
        }
        if (digits == 0) return Bad(text, "expected digits after the decimal point");
        if (digits > 9) return Bad(text, "more than 9 fractional digits");
        for (size_t k = digits; k < 6; ++k) micros *= 10;
      }
    }
    if (hour > 23) return Bad(text, "hour must be 00-23");
    if (minute > 59) return Bad(text, "minute must be 00-59");
    if (second > 59) return Bad(text, "second must be 00-59");
  }
  int64_t offset_minutes = 0;
  if (c.Eat('Z') || c.Eat('z')) {
    // UTC
  } else if (c.peek() == '+' || c.peek() == '-') {
    int64_t sign = c.peek() == '-' ? -1 : 1;
    ++c.i;
    int64_t oh = 0, om = 0;
    if (!c.Digits(2, oh)) return Bad(text, "expected a UTC offset as +hh:mm");
    c.Eat(':');
    if (!c.done() && !c.Digits(2, om)) return Bad(text, "expected a UTC offset as +hh:mm");
    if (oh > 23 || om > 59) return Bad(text, "UTC offset out of range");
    offset_minutes = sign * (oh * 60 + om);
  }
  if (!c.done()) return Bad(text, "unexpected text after the timestamp");
  int64_t seconds =
      DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * kMicrosPerSecond + micros;
}

void AppendTimestamp(std::string& out, int64_t micros) {
  int64_t seconds = FloorDiv(micros, kMicrosPerSecond);
  int64_t frac = micros - seconds * kMicrosPerSecond;
  int64_t days = FloorDiv(seconds, kSecondsPerDay);
  int64_t sod = seconds - days * kSecondsPerDay;
  Civil d = CivilFromDays(days);
  char buf[64];
  if (d.year >= 0 && d.year <= 9999) {  // the common case, without snprintf (a hot path of reads)
    char* p = buf;
    const auto put = [&p](int64_t v, int width) {
      for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
      p += width;
    };
    put(d.year, 4);
    *p++ = '-';
    put(d.month, 2);
    *p++ = '-';
    put(d.day, 2);
    *p++ = 'T';
    put(sod / 3600, 2);
    *p++ = ':';
    put(sod / 60 % 60, 2);
    *p++ = ':';
    put(sod % 60, 2);
    if (frac != 0) {
      *p++ = '.';
      put(frac, 6);
    }
    *p++ = 'Z';
    out.append(buf, static_cast<size_t>(p - buf));
    return;
  }
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(d.year),
                  static_cast<long long>(d.month), static_cast<long long>(d.day), static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(d.year),
                  static_cast<long long>(d.month), static_cast<long long>(d.day), static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60),
                  static_cast<long long>(frac));
  }
  out += buf;
}

std::string FormatTimestamp(int64_t micros) {
  std::string out;
  AppendTimestamp(out, micros);
  return out;
}

int64_t AddMonths(int64_t micros, int months) {
  int64_t days = FloorDiv(FloorDiv(micros, kMicrosPerSecond), kSecondsPerDay);
  int64_t within_day = micros - days * kSecondsPerDay * kMicrosPerSecond;
  Civil d = CivilFromDays(days);
  int64_t month_index = d.year * 12 + (d.month - 1) + months;
  int64_t year = FloorDiv(month_index, 12), month = month_index - year * 12 + 1;
  int64_t day = std::min<int64_t>(d.day, DaysInMonth(year, month));
  return DaysFromCivil(year, month, day) * kSecondsPerDay * kMicrosPerSecond + within_day;
}

std::string FormatDate(int64_t micros) {
  Civil d = CivilFromDays(FloorDiv(FloorDiv(micros, kMicrosPerSecond), kSecondsPerDay));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(d.year),
                static_cast<long long>(d.month), static_cast<long long>(d.day));
  return buf;
}

}  // namespace pulse::time
