// How a task's error Status becomes what Celery clients see, in one table: whether the worker
// retries it, and the exception type a FAILURE result names ({exc_type, exc_module}: Python's
// AsyncResult.get() re-raises that class, so the names must be ones Python can import).
//
//   code                 retried   exc_type                exc_module
//   kUnavailable         yes       RuntimeError            builtins      (when retries run out)
//   kIoError             yes       RuntimeError            builtins      (when retries run out)
//   kInvalidArgument     no        ValueError              builtins
//   kPermissionDenied    no        ValueError              builtins      (see below)
//   kDeadlineExceeded    no        TimeLimitExceeded       billiard.exceptions  (the hard limit)
//   kCancelled           no        SoftTimeLimitExceeded   billiard.exceptions  (the soft limit)
//   anything else        no        RuntimeError            builtins
//
// kPermissionDenied (a task's path outside what the worker allows, pipeline/task_paths.h) stays
// ValueError as Celery clients have always seen it: the task refused the arguments it was sent.
// (Python's PermissionError is an OSError, which clients catching ValueError would miss.)
#pragma once

#include <string_view>

#include "core/status.h"

namespace pulse::jobs {

struct CeleryException {
  std::string_view type;    // e.g. "ValueError"
  std::string_view module;  // e.g. "builtins"
};

CeleryException CeleryExceptionFor(StatusCode code);
// A transient failure: the worker publishes another attempt (with backoff) while retries remain.
bool IsRetryable(StatusCode code);

}  // namespace pulse::jobs
