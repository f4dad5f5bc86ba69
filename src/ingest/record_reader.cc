#include "ingest/record_reader.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/printable.h"

namespace pulse::ingest {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool IsBreak(char c) { return c == '\n' || c == '\r'; }

bool HasBreak(std::string_view d, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (IsBreak(d[i])) return true;
  return false;
}

// The useful part of an nlohmann error: "column 5: syntax error while parsing ...", "number
// overflow parsing '1e999'" (without the "[json.exception...]" prefix).
std::string JsonErrorText(const nlohmann::json::exception& e) {
  std::string what = e.what();
  if (const auto at = what.find("parse error at line 1, "); at != std::string::npos) {
    what = what.substr(at + std::strlen("parse error at line 1, "));
  } else if (const auto bracket = what.find("] ");
             what.starts_with("[json.exception") && bracket != std::string::npos) {
    what = what.substr(bracket + 2);
  }
  return Printable(what, 160);
}

}  // namespace

Result<FileFormat> FormatFromPath(std::string_view path) {
  auto ends = [&](std::string_view suffix) {
    if (path.size() < suffix.size()) return false;
    for (size_t i = 0; i < suffix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(path[path.size() - suffix.size() + i])) != suffix[i]) return false;
    return true;
  };
  if (ends(".csv")) return FileFormat::kCsv;
  if (ends(".jsonl") || ends(".ndjson") || ends(".json")) return FileFormat::kJsonLines;
  return Status::InvalidArgument("cannot tell the format of '" + Printable(path) +
                                 "' from its extension; use --format csv or --format jsonl");
}

FileFormat SniffFormat(std::string_view bytes) {
  if (bytes.starts_with(kBom)) bytes.remove_prefix(kBom.size());
  for (char c : bytes) {
    if (c == ' ' || c == '\t' || IsBreak(c)) continue;
    return c == '{' ? FileFormat::kJsonLines : FileFormat::kCsv;
  }
  return FileFormat::kCsv;
}

std::optional<std::string_view> Record::Get(std::string_view name) const {
  if (index_) {
    const auto it = index_->find(name);
    if (it == index_->end() || it->second >= values.size()) return std::nullopt;
    return std::string_view(values[it->second]);
  }
  for (size_t i = 0; i < json_names_.size() && i < values.size(); ++i) {
    if (json_names_[i] == name) {
      if (!present[i]) return std::nullopt;
      return std::string_view(values[i]);
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<RecordReader>> RecordReader::Open(std::string_view bytes, std::string name, FileFormat format,
                                                         ReaderLimits limits) {
  if (limits.max_field_bytes <= 0 || limits.max_json_depth <= 0)
    return Status::InvalidArgument("reader limits must be > 0");
  std::unique_ptr<RecordReader> r(new RecordReader(bytes, std::move(name), format, limits));
  if (bytes.starts_with(kBom)) r->pos_ = kBom.size();
  const std::string where = Printable(r->name_);
  // UTF-32 LE starts like UTF-16 LE; either way the text is not UTF-8 and no line of it would be.
  for (std::string_view mark :
       {std::string_view("\xFF\xFE"), std::string_view("\xFE\xFF"), std::string_view("\0\0\xFE\xFF", 4)}) {
    if (bytes.starts_with(mark)) {
      return Status::InvalidArgument(where +
                                     ": the file is UTF-16 or UTF-32 (it starts with that byte order mark); "
                                     "save it as UTF-8");
    }
  }
  if (format != FileFormat::kCsv) return r;
  Record header;
  if (!r->NextCsv(header)) return Status::InvalidArgument(where + ": empty file (a CSV file needs a header line)");
  const std::string at = where + ":" + std::to_string(header.line) + ": ";
  if (!header.error.empty()) return Status::InvalidArgument(at + "bad header: " + header.error);
  r->header_ = std::move(header.values);
  r->index_.reserve(r->header_.size());
  for (size_t i = 0; i < r->header_.size(); ++i) {
    const std::string& column = r->header_[i];
    if (column.empty()) return Status::InvalidArgument(at + "header column " + std::to_string(i + 1) + " has no name");
    if (!ValidUtf8(column)) {
      return Status::InvalidArgument(at + "header column " + std::to_string(i + 1) + " ('" + Printable(column) +
                                     "') is not valid UTF-8");
    }
    if (column.find('\0') != std::string::npos) {
      return Status::InvalidArgument(at + "header column " + std::to_string(i + 1) + " ('" + Printable(column) +
                                     "') contains a NUL character");
    }
    if (!r->index_.emplace(column, i).second)
      return Status::InvalidArgument(at + "header names column '" + Printable(column) + "' twice");
  }
  return r;
}

size_t RecordReader::LineEnd(size_t from) const {
  const char* p = data_.data();
  for (size_t i = from; i < data_.size(); ++i)
    if (IsBreak(p[i])) return i;
  return data_.size();
}

size_t RecordReader::AfterBreak(size_t at) const {
  if (at >= data_.size()) return data_.size();
  if (data_[at] == '\r' && at + 1 < data_.size() && data_[at + 1] == '\n') return at + 2;
  return at + 1;
}

size_t RecordReader::NextQuote(size_t from) {
  if (quote_memo_ && quote_from_ <= from && (quote_at_ == std::string_view::npos || from <= quote_at_))
    return quote_at_;
  const void* hit = from < data_.size() ? std::memchr(data_.data() + from, '"', data_.size() - from) : nullptr;
  quote_memo_ = true;
  quote_from_ = from;
  quote_at_ = hit ? static_cast<size_t>(static_cast<const char*>(hit) - data_.data()) : std::string_view::npos;
  return quote_at_;
}

bool RecordReader::Next(Record& out) { return format_ == FileFormat::kCsv ? NextCsv(out) : NextJson(out); }

size_t RecordReader::ScanCsv(Record& out, int64_t& breaks, size_t& first_multiline_field) {
  const char* d = data_.data();
  const size_t n = data_.size();
  size_t p = pos_;
  breaks = 0;
  first_multiline_field = 0;
  std::string field;
  for (;;) {  // one field per pass
    field.clear();
    const size_t number = out.values.size() + 1;  // 1-based field number, for messages
    if (p < n && d[p] == '"') {
      const size_t content = ++p;
      bool spans_lines = false;
      for (;;) {
        const size_t q = NextQuote(p);
        if (q == std::string_view::npos) {
          out.error = "unterminated quote in field " + std::to_string(number);
          if (!spans_lines && LineEnd(p) < n) spans_lines = true;  // the rest of the input has a line break
          if (spans_lines && first_multiline_field == 0) first_multiline_field = number;
          if (spans_lines) ++breaks;  // make the caller resynchronise at the next line
          return n;
        }
        // A quoted field that runs over lines may not run on without bound: past the limit the
        // quote is taken as unterminated and the reader resynchronises at the next line.
        if (static_cast<int64_t>(q - content) > limits_.max_field_bytes && (spans_lines || HasBreak(data_, p, q))) {
          out.error = "unterminated quote in field " + std::to_string(number) + " (no closing quote within " +
                      std::to_string(limits_.max_field_bytes) + " bytes)";
          if (first_multiline_field == 0) first_multiline_field = number;
          ++breaks;
          return n;
        }
        for (size_t i = p; i < q; ++i) {
          if (d[i] == '\r') {
            field += '\n';
            ++breaks;
            spans_lines = true;
            if (i + 1 < q && d[i + 1] == '\n') ++i;
          } else {
            if (d[i] == '\n') {
              ++breaks;
              spans_lines = true;
            }
            field += d[i];
          }
        }
        if (spans_lines && first_multiline_field == 0) first_multiline_field = number;
        if (q + 1 < n && d[q + 1] == '"') {  // a doubled quote stands for one
          field += '"';
          p = q + 2;
          continue;
        }
        p = q + 1;
        break;
      }
      if (p < n && d[p] != ',' && !IsBreak(d[p])) {
        out.error = "text after the closing quote of field " + std::to_string(number);
        return n;
      }
    } else {
      const size_t start = p;
      while (p < n && d[p] != ',' && !IsBreak(d[p])) {
        if (d[p] == '"') {
          out.error =
              "stray quote in field " + std::to_string(number) + " (quote the whole field and double the quote)";
          return n;
        }
        ++p;
      }
      field.assign(d + start, p - start);
    }
    out.values.push_back(std::move(field));
    if (p < n && d[p] == ',') {
      ++p;
      continue;
    }
    return p;  // at a line break or the end
  }
}

bool RecordReader::NextCsv(Record& out) {
  out.error.clear();
  out.values.clear();
  out.header_ = nullptr;
  out.index_ = nullptr;
  out.json_names_.clear();
  const size_t n = data_.size();
  while (pos_ < n && IsBreak(data_[pos_])) {  // blank lines carry no record
    pos_ = AfterBreak(pos_);
    ++line_no_;
  }
  if (pos_ >= n) return false;
  const size_t start = pos_;
  out.line = line_no_ + 1;
  int64_t breaks = 0;
  size_t multiline_field = 0;
  size_t end = ScanCsv(out, breaks, multiline_field);
  if (out.error.empty() && !header_.empty() && out.values.size() != header_.size())
    out.error = "expected " + std::to_string(header_.size()) + " fields, found " + std::to_string(out.values.size());
  if (!out.error.empty()) {
    // The record is the first line only; reading resumes at the next one.
    if (breaks > 0 && multiline_field > 0 && !out.error.starts_with("unterminated quote")) {
      out.error = "unterminated quote in field " + std::to_string(multiline_field) +
                  ": the quoted text runs over lines into a malformed record (" + out.error + ")";
    }
    end = LineEnd(start);
    breaks = 0;
    out.values.clear();
  }
  out.raw = data_.substr(start, end - start);
  out.last_line = out.line + breaks;
  line_no_ = out.last_line;
  pos_ = end;
  if (pos_ < n) {  // consume the line break that ends the record
    pos_ = AfterBreak(pos_);
  }
  if (!header_.empty()) {
    out.header_ = &header_;
    out.index_ = &index_;
    out.present.assign(out.values.size(), true);
  }
  return true;
}

bool RecordReader::NextJsonLine(std::string_view& line) {
  const size_t n = data_.size();
  for (;;) {
    if (pos_ >= n) return false;
    const size_t end = LineEnd(pos_);
    line = data_.substr(pos_, end - pos_);
    pos_ = AfterBreak(end);
    ++line_no_;
    if (line.find_first_not_of(" \t") != std::string_view::npos) return true;  // blank lines carry no record
  }
}

bool RecordReader::NextJson(Record& out) {
  std::string_view line;
  if (!NextJsonLine(line)) return false;
  ParseJsonLine(line, out);
  return true;
}

void RecordReader::ParseJsonLine(std::string_view line, Record& out) const {
  using nlohmann::json;
  out.error.clear();
  out.values.clear();
  out.present.clear();
  out.json_names_.clear();
  out.header_ = nullptr;
  out.index_ = nullptr;
  out.line = out.last_line = line_no_;
  out.raw = line;
  if (const auto limit = static_cast<size_t>(std::max(limits_.max_json_depth, 0));
      JsonNestingDepth(line, limit) > limit) {
    out.error = "nested deeper than " + std::to_string(limits_.max_json_depth) + " levels";
    return;
  }
  // A raw NUL is never valid JSON text, but nlohmann's parser stops at one as if the line ended
  // there: '{..}\0{..}' would land its first object and silently drop the second.
  if (const size_t nul = line.find('\0'); nul != std::string_view::npos) {
    out.error = "not valid JSON: a NUL byte at column " + std::to_string(nul + 1);
    return;
  }
  bool duplicate = false;
  std::unordered_set<std::string> keys;
  const json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() &&
        !keys.insert(parsed.get_ref<const std::string&>()).second)
      duplicate = true;
    return true;
  };
  json obj;
  try {
    obj = json::parse(line, note_keys);
  } catch (const json::exception& e) {
    out.error = "not valid JSON: " + JsonErrorText(e);
    return;
  }
  if (!obj.is_object()) {
    out.error = "a JSON line must be an object";
    return;
  }
  if (duplicate) {
    out.error = "a key appears twice in the object";
    return;
  }
  out.json_names_.reserve(obj.size());
  out.values.reserve(obj.size());
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const json& v = it.value();
    out.json_names_.push_back(it.key());
    out.present.push_back(!v.is_null());
    out.values.push_back(v.is_string() ? v.get_ref<const std::string&>() : v.dump());
  }
}

}  // namespace pulse::ingest
