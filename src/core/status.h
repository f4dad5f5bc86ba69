// Status and Result<T>: the error type used at every module boundary.
//
// Contract: functions that can fail return Status (no value) or Result<T>. Exceptions never cross
// a module boundary. A Status carries a code (what kind of failure, so callers can branch: retry on
// kConflict or kUnavailable, report on kInvalidArgument, tell a time limit (kDeadlineExceeded) from
// a refusal (kPermissionDenied) or a full queue (kResourceExhausted)) and a message meant for a
// person: it names the file, key, line or field that is wrong and why. Pick the code by what the
// caller should do about it; the message says what happened.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pulse {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong (bad config value, bad row, bad flag)
  kNotFound,           // a file, table, key or version does not exist
  kAlreadyExists,      // create-if-absent found something there
  kConflict,           // lost an optimistic-concurrency race; retrying may succeed
  kIoError,            // the filesystem or network failed
  kParseError,         // a document could not be parsed (YAML, JSON, CSV, Delta log)
  kOutOfRange,         // a number or index outside its allowed range
  kUnavailable,        // a service is down or unreachable; retrying later may succeed
  kInternal,           // a bug: an invariant does not hold
  kDeadlineExceeded,   // a time limit passed before the work finished (a task's hard limit, a wait)
  kCancelled,          // the work stopped because it was asked to (a task's soft time limit)
  kResourceExhausted,  // a bound was reached (a full bounded queue); retrying after it drains may succeed
  kPermissionDenied,   // refused by policy, not malformed (a task's path outside what the worker allows)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status ParseError(std::string m) { return {StatusCode::kParseError, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: config key 'lake' ..." ; "OK" when ok.
  std::string ToString() const;
  // Returns a copy whose message is "context: message" (code unchanged).
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pulse

#define PULSE_CONCAT_INNER(a, b) a##b
#define PULSE_CONCAT(a, b) PULSE_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define PULSE_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::pulse::Status _pulse_st = (expr);    \
    if (!_pulse_st.ok()) return _pulse_st; \
  } while (false)

// `lhs = value of expr` (a Result<T>), or return its Status from the enclosing function.
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration ("auto x") and `tmp` is a
// generated name, neither of which can be parenthesised.
#define PULSE_ASSIGN_OR_RETURN(lhs, expr) PULSE_ASSIGN_OR_RETURN_IMPL(PULSE_CONCAT(_pulse_res_, __LINE__), lhs, expr)
#define PULSE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
