#include "ingest/record_reader.h"

#include <cstring>

#include <nlohmann/json.hpp>

namespace pulse::ingest {

Result<FileFormat> FormatFromPath(std::string_view path) {
  auto ends = [&](std::string_view suffix) {
    if (path.size() < suffix.size()) return false;
    for (size_t i = 0; i < suffix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(path[path.size() - suffix.size() + i])) != suffix[i]) return false;
    return true;
  };
  if (ends(".csv")) return FileFormat::kCsv;
  if (ends(".jsonl") || ends(".ndjson") || ends(".json")) return FileFormat::kJsonLines;
  return Status::InvalidArgument("cannot tell the format of '" + std::string(path) +
                                 "' from its extension; use --format csv or --format jsonl");
}

std::optional<std::string_view> Record::Get(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) {
      if (!present[i]) return std::nullopt;
      return std::string_view(values[i]);
    }
  return std::nullopt;
}

Result<std::unique_ptr<RecordReader>> RecordReader::Open(const std::string& path, FileFormat format) {
  std::unique_ptr<RecordReader> r(new RecordReader(path, format));
  r->in_.open(path, std::ios::binary);
  if (!r->in_) {
    std::error_code ec;
    return Status::NotFound("cannot open '" + path + "': " + std::strerror(errno));
  }
  if (format == FileFormat::kCsv) {
    Record header;
    if (!r->NextCsv(header)) {
      if (!r->status_.ok()) return r->status_;
      return Status::InvalidArgument(path + ": empty file (a CSV file needs a header line)");
    }
    if (!header.error.empty()) return Status::InvalidArgument(path + ":1: bad header: " + header.error);
    r->header_ = std::move(header.values);
    if (!r->header_.empty() && r->header_[0].starts_with("\xEF\xBB\xBF")) r->header_[0].erase(0, 3);
    for (size_t i = 0; i < r->header_.size(); ++i) {
      if (r->header_[i].empty())
        return Status::InvalidArgument(path + ":1: header column " + std::to_string(i + 1) + " has no name");
      for (size_t j = 0; j < i; ++j)
        if (r->header_[j] == r->header_[i])
          return Status::InvalidArgument(path + ":1: header names column '" + r->header_[i] + "' twice");
    }
  }
  return r;
}

bool RecordReader::ReadPhysicalLine(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) status_ = Status::IoError("error reading '" + path_ + "' after line " + std::to_string(line_no_));
    return false;
  }
  ++line_no_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool RecordReader::Next(Record& out) {
  return format_ == FileFormat::kCsv ? NextCsv(out) : NextJson(out);
}

bool RecordReader::NextCsv(Record& out) {
  out.error.clear();
  out.values.clear();
  std::string line;
  do {
    if (!ReadPhysicalLine(line)) return false;
  } while (line.empty());  // blank lines carry no record
  out.line = line_no_;
  out.raw = line;
  std::string field;
  bool in_quotes = false, quoted = false;
  size_t i = 0;
  for (;;) {
    if (i >= line.size()) {
      if (in_quotes) {  // a quoted field spans lines
        std::string next;
        if (!ReadPhysicalLine(next)) {
          out.error = "unterminated quoted field";
          break;
        }
        field += '\n';
        out.raw += '\n';
        out.raw += next;
        line = std::move(next);
        i = 0;
        continue;
      }
      out.values.push_back(std::move(field));
      break;
    }
    char c = line[i++];
    if (in_quotes) {
      if (c == '"') {
        if (i < line.size() && line[i] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
    } else if (c == ',') {
      out.values.push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == '"') {
      out.error = "stray quote in field " + std::to_string(out.values.size() + 1);
      field += c;
    } else {
      field += c;
    }
  }
  if (!header_.empty()) {
    if (out.error.empty() && out.values.size() != header_.size())
      out.error = "expected " + std::to_string(header_.size()) + " fields, found " + std::to_string(out.values.size());
    out.names = header_;
    out.names.resize(out.values.size(), "");
    out.present.assign(out.values.size(), true);
  }
  return true;
}

bool RecordReader::NextJson(Record& out) {
  using nlohmann::json;
  out.error.clear();
  out.names.clear();
  out.values.clear();
  out.present.clear();
  std::string line;
  do {
    if (!ReadPhysicalLine(line)) return false;
  } while (line.find_first_not_of(" \t") == std::string::npos);
  out.line = line_no_;
  out.raw = line;
  json obj = json::parse(line, nullptr, false);
  if (obj.is_discarded()) {
    out.error = "not valid JSON";
    return true;
  }
  if (!obj.is_object()) {
    out.error = "a JSON line must be an object";
    return true;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    out.names.push_back(it.key());
    out.present.push_back(!it.value().is_null());
    out.values.push_back(it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  return true;
}

}  // namespace pulse::ingest
