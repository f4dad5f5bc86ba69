// Shared pieces of the pulse._core extension (python/src).
//
// Errors: every Pulse Status that is not OK becomes a Python exception of the class its code maps
// to (pulse.PulseError and its subclasses, created in module.cc), carrying Pulse's own message.
// No C++ exception other than pybind11's own ever crosses into Python.
//
// Tables leave the extension through the Arrow C stream interface: ExportTable wraps an
// arrow::Table in a PyCapsule named "arrow_array_stream" (the Arrow PyCapsule protocol), which
// pyarrow imports without copying the buffers.
#pragma once

#include <arrow/api.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/status.h"

namespace pulse::python {

namespace py = pybind11;

// A non-OK Status on its way to Python (translated by the translator module.cc registers).
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status) : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw StatusError(status);
}

template <class T>
T ValueOrThrow(Result<T> result) {
  if (!result.ok()) throw StatusError(result.status());
  return std::move(*result);
}

// An arrow::Status as a Pulse error (kInternal unless the caller says otherwise).
void ThrowIfArrowError(const arrow::Status& status, StatusCode code = StatusCode::kInternal);

// The table as a PyCapsule "arrow_array_stream" owning an ArrowArrayStream (released by the
// capsule's destructor unless a consumer moved it out).
py::capsule ExportTable(const std::shared_ptr<arrow::Table>& table);

void BindErrors(py::module_& m);
void BindLake(py::module_& m);
void BindSim(py::module_& m);
void BindForecast(py::module_& m);
void BindTrust(py::module_& m);

}  // namespace pulse::python
