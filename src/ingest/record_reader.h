// RecordReader: streams the records of a CSV (RFC 4180, header row) or JSON-lines file as
// name -> text fields, with the physical line number each record starts on (header = line 1).
//
// CSV: quoted fields may contain commas, doubled quotes and newlines; CRLF and LF line ends; a
// UTF-8 BOM is skipped. A record whose field count differs from the header's is returned with
// `error` set ("expected 6 fields, found 4"). JSON lines: each non-blank line is one object;
// strings are returned as-is, numbers and booleans as their JSON text, null as absent, nested
// objects/arrays as their JSON text; a line that is not an object is returned with `error` set.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::ingest {

enum class FileFormat { kCsv, kJsonLines };

// Picks the format from the extension (.csv; .jsonl, .ndjson, .json); kInvalidArgument otherwise.
Result<FileFormat> FormatFromPath(std::string_view path);

struct Record {
  int64_t line = 0;                 // physical line the record starts on (1-based)
  std::string raw;                  // the record's text, for the rejects table
  std::string error;                // non-empty: the record is malformed (why)
  std::vector<std::string> names;   // field names, in file order
  std::vector<std::string> values;  // field texts, parallel to names
  std::vector<bool> present;        // false for JSON null / absent
  // The field's text, or nullopt if there is no such field (or it is null).
  std::optional<std::string_view> Get(std::string_view name) const;
};

class RecordReader {
 public:
  // Opens the file and reads the CSV header. kNotFound / kIoError name the path.
  static Result<std::unique_ptr<RecordReader>> Open(const std::string& path, FileFormat format);
  // Next record into `out`; false at end of file. I/O errors are reported through status().
  bool Next(Record& out);
  Status status() const { return status_; }
  const std::vector<std::string>& header() const { return header_; }

 private:
  RecordReader(std::string path, FileFormat format) : path_(std::move(path)), format_(format) {}
  bool ReadPhysicalLine(std::string& line);
  // Splits one CSV record (reading continuation lines for quoted newlines).
  bool NextCsv(Record& out);
  bool NextJson(Record& out);

  std::string path_;
  FileFormat format_;
  std::ifstream in_;
  int64_t line_no_ = 0;
  std::vector<std::string> header_;
  Status status_;
};

}  // namespace pulse::ingest
