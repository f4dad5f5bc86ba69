// RecordReader: the records of a CSV (RFC 4180, header row) or JSON-lines text held in memory, as
// name -> text fields, with the physical lines each record spans (header = line 1).
//
// Lines end with "\n", "\r\n" or a lone "\r" (old Mac files); a UTF-8 BOM at the start is skipped;
// a UTF-16 or UTF-32 one makes Open fail ("save it as UTF-8") rather than every line.
//
// CSV: quoted fields may contain commas, doubled quotes and line breaks (kept as "\n"). Malformed
// records come back with `error` set and are never allowed to swallow the rows after them:
//  - wrong field count ("expected 6 fields, found 4"), a stray quote inside an unquoted field,
//    text after a closing quote: the record is that one line;
//  - a quote that opens a field spanning lines but never closes (before the end of the text, or
//    within limits.max_field_bytes), or whose record is malformed once closed: the reader
//    rejects just the line the quote opened on ("unterminated quote in field 2") and resumes at
//    the next line, so every later good row is still read.
// Blank lines carry no record. Every physical line is either blank, the header, or part of
// exactly one record: nothing is dropped silently.
//
// JSON lines: each non-blank line is one object; strings are returned as-is, numbers and booleans
// as their JSON text, null as absent, nested objects and arrays as their JSON text. A line that
// is not valid JSON (invalid UTF-8, a raw NUL byte and numbers beyond a double included), not an object, nested
// deeper than limits.max_json_depth, or that repeats a key, is returned with `error` set. Depth
// is checked before parsing, so no input can exhaust the stack.
//
// Header lookups are hashed: a CSV with 10^5 columns reads in linear time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace pulse::ingest {

enum class FileFormat { kCsv, kJsonLines };

// Picks the format from the extension (.csv; .jsonl, .ndjson, .json); kInvalidArgument otherwise.
Result<FileFormat> FormatFromPath(std::string_view path);
// Guesses the format of extension-less input (standard input, a pipe): JSON lines when the first
// non-blank character is '{', CSV otherwise.
FileFormat SniffFormat(std::string_view bytes);

struct ReaderLimits {
  int64_t max_field_bytes = 65536;  // a quoted field spanning lines longer than this is unterminated
  int max_json_depth = 64;          // deepest accepted nesting of a JSON line (the line's object = 1)
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using ColumnIndex = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;

// NOLINTBEGIN(misc-non-private-member-variables-in-classes): a Record is a value the reader fills
// and callers read field by field; its private members are only the reader's lookup tables for Get().
struct Record {
  int64_t line = 0;                 // first physical line of the record (1-based)
  int64_t last_line = 0;            // last physical line (> line when a quoted field spans lines)
  std::string_view raw;             // the record's text (into the reader's input), no line end
  std::string error;                // non-empty: the record is malformed (why; printable)
  std::vector<std::string> values;  // field texts, in file order
  std::vector<bool> present;        // false for JSON null
  // NOLINTEND(misc-non-private-member-variables-in-classes)
  // Field names, parallel to values (the header for CSV; may be shorter when `error` is set).
  const std::vector<std::string>& names() const { return header_ ? *header_ : json_names_; }
  // The field's text, or nullopt if there is no such field (or it is null).
  std::optional<std::string_view> Get(std::string_view name) const;

 private:
  friend class RecordReader;
  const std::vector<std::string>* header_ = nullptr;
  const ColumnIndex* index_ = nullptr;
  std::vector<std::string> json_names_;
};

class RecordReader {
 public:
  // A reader over `bytes`, which must outlive it; records read from it refer to both (their raw
  // text and field names), so they are valid while the reader is. `name` (the file) prefixes
  // errors. CSV: reads and checks the header (kInvalidArgument "name:1: ..." when it is missing,
  // malformed, has an empty, invalid UTF-8, NUL-holding or repeated column name).
  static Result<std::unique_ptr<RecordReader>> Open(std::string_view bytes, std::string name, FileFormat format,
                                                    ReaderLimits limits = {});
  // Next record into `out`; false at the end of the input.
  bool Next(Record& out);
  // JSON lines, in two steps (for a caller with a faster path for common lines, flat_json.h):
  // the next non-blank line (false at the end), then, if wanted, that line as Next would read it.
  // ParseJsonLine must be given the line NextJsonLine returned last (it numbers the record).
  bool NextJsonLine(std::string_view& line);
  void ParseJsonLine(std::string_view line, Record& out) const;
  const std::vector<std::string>& header() const { return header_; }
  // Physical lines read so far (the whole input's, once Next returned false).
  int64_t lines() const { return line_no_; }

 private:
  RecordReader(std::string_view bytes, std::string name, FileFormat format, ReaderLimits limits)
      : data_(bytes), name_(std::move(name)), format_(format), limits_(limits) {}
  bool NextCsv(Record& out);
  bool NextJson(Record& out);
  // Splits the CSV record starting at pos_ into out.values; returns the position after it and
  // the number of line breaks inside quoted fields, or sets out.error.
  size_t ScanCsv(Record& out, int64_t& breaks, size_t& first_multiline_field);
  size_t LineEnd(size_t from) const;   // position of the next line break (or size)
  size_t AfterBreak(size_t at) const;  // position after the line break at `at`
  size_t NextQuote(size_t from);       // position of the next '"' (or npos), memoised

  std::string_view data_;
  std::string name_;
  FileFormat format_;
  ReaderLimits limits_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;  // physical lines consumed
  std::vector<std::string> header_;
  ColumnIndex index_;
  // Memo of the last quote search: no '"' in [quote_from_, quote_at_), and quote_at_ is a '"'
  // or npos. Makes repeated scans for a quote that never comes constant time.
  bool quote_memo_ = false;
  size_t quote_from_ = 0, quote_at_ = 0;
};

}  // namespace pulse::ingest
