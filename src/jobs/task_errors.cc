#include "jobs/task_errors.h"

namespace pulse::jobs {

CeleryException CeleryExceptionFor(StatusCode code) {
  switch (code) {  // every code listed, so a new one is a compiler warning here until placed
    case StatusCode::kInvalidArgument:
    case StatusCode::kPermissionDenied: return {"ValueError", "builtins"};
    case StatusCode::kDeadlineExceeded: return {"TimeLimitExceeded", "billiard.exceptions"};
    case StatusCode::kCancelled: return {"SoftTimeLimitExceeded", "billiard.exceptions"};
    case StatusCode::kOk:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
    case StatusCode::kIoError:
    case StatusCode::kParseError:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnavailable:
    case StatusCode::kInternal:
    case StatusCode::kResourceExhausted: return {"RuntimeError", "builtins"};
  }
  return {"RuntimeError", "builtins"};
}

bool IsRetryable(StatusCode code) { return code == StatusCode::kUnavailable || code == StatusCode::kIoError; }

}  // namespace pulse::jobs
