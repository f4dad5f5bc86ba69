// UTC time helpers. All instants are int64 microseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pulse::time {

// Current wall-clock time.
int64_t NowMicros();

// Parses ISO-8601 / RFC 3339: "2024-03-01", "2024-03-01T12:30:00", "2024-03-01 12:30:00.123456",
// with an optional "Z" or "+hh:mm"/"-hh:mm" offset (converted to UTC; no offset means UTC), or
// a plain integer of Unix seconds. Rejects impossible dates (2023-02-29, month 13, hour 24) with
// kInvalidArgument naming the text and the problem, and eight digits that also read as a date
// ("20240101": YYYYMMDD or 1970's Unix seconds?) as ambiguous.
Result<int64_t> ParseTimestamp(std::string_view text);

// "2024-03-01T12:30:00.123456Z" (fraction omitted when zero).
std::string FormatTimestamp(int64_t micros);
// Appends FormatTimestamp(micros) to `out` (no allocation of its own for years 0-9999).
void AppendTimestamp(std::string& out, int64_t micros);
// "2024-03-01": the UTC date of an instant.
std::string FormatDate(int64_t micros);

// Midnight UTC of a calendar date; kInvalidArgument for impossible dates.
Result<int64_t> FromCivil(int year, int month, int day);
// The same day and time `months` calendar months later (earlier if negative); the day is clamped
// to the target month's length (Jan 31 + 1 month = Feb 28/29).
int64_t AddMonths(int64_t micros, int months);

// Start of a quarter (quarter 1..4) in UTC, e.g. (1959, 2) -> 1959-04-01T00:00:00Z.
Result<int64_t> QuarterStart(int year, int quarter);

}  // namespace pulse::time
