// pulse._core: the module, its exception classes and the Arrow C stream export (bindings.h).
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>

#include <array>

#include "bindings.h"

namespace pulse::python {
namespace {

// Exception classes by StatusCode, created once in BindErrors (the module's attributes own them).
struct ErrorClass {
  StatusCode code = StatusCode::kOk;
  const char* name = nullptr;
  PyObject* extra_base = nullptr;  // a builtin exception the class also derives from, or nullptr
  PyObject* type = nullptr;
};
PyObject* g_pulse_error = nullptr;
std::array<ErrorClass, 8> g_classes = {{
    {StatusCode::kInvalidArgument, "InvalidArgumentError", nullptr},
    {StatusCode::kNotFound, "NotFoundError", nullptr},
    {StatusCode::kParseError, "ParseError", nullptr},
    {StatusCode::kIoError, "IoError", nullptr},
    {StatusCode::kOutOfRange, "OutOfRangeError", nullptr},
    {StatusCode::kConflict, "ConflictError", nullptr},
    {StatusCode::kUnavailable, "UnavailableError", nullptr},
    {StatusCode::kPermissionDenied, "PermissionDeniedError", nullptr},
}};

PyObject* ClassFor(StatusCode code) {
  for (const auto& c : g_classes)
    if (c.code == code && c.type != nullptr) return c.type;
  return g_pulse_error;
}

void ReleaseStreamCapsule(PyObject* capsule) {
  auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule, "arrow_array_stream"));
  if (stream == nullptr) {  // cannot happen for our own capsules; never leave an error set here
    PyErr_Clear();
    return;
  }
  if (stream->release != nullptr) stream->release(stream);  // not consumed
  delete stream;
}

}  // namespace

void ThrowIfArrowError(const arrow::Status& status, StatusCode code) {
  if (!status.ok()) throw StatusError(Status(code, status.ToString()));
}

py::capsule ExportTable(const std::shared_ptr<arrow::Table>& table) {
  auto reader = std::make_shared<arrow::TableBatchReader>(table);
  auto stream = std::make_unique<ArrowArrayStream>();
  ThrowIfArrowError(arrow::ExportRecordBatchReader(reader, stream.get()));
  PyObject* capsule = PyCapsule_New(stream.get(), "arrow_array_stream", &ReleaseStreamCapsule);
  if (capsule == nullptr) {
    stream->release(stream.get());
    throw py::error_already_set();
  }
  static_cast<void>(stream.release());  // owned by the capsule now
  return py::reinterpret_steal<py::capsule>(capsule);
}

void BindErrors(py::module_& m) {
  g_pulse_error = PyErr_NewExceptionWithDoc("pulse._core.PulseError",
                                            "An error reported by Pulse (its message as the CLI prints it).",
                                            PyExc_Exception, nullptr);
  if (g_pulse_error == nullptr) throw py::error_already_set();
  m.add_object("PulseError", py::handle(g_pulse_error));
  g_classes[0].extra_base = PyExc_ValueError;
  g_classes[1].extra_base = PyExc_LookupError;
  g_classes[2].extra_base = PyExc_ValueError;
  g_classes[3].extra_base = PyExc_OSError;
  g_classes[4].extra_base = PyExc_ValueError;
  g_classes[7].extra_base = PyExc_PermissionError;
  for (auto& c : g_classes) {
    py::tuple bases = c.extra_base != nullptr
                          ? py::tuple(py::make_tuple(py::handle(g_pulse_error), py::handle(c.extra_base)))
                          : py::tuple(py::make_tuple(py::handle(g_pulse_error)));
    const std::string qualified = std::string("pulse._core.") + c.name;
    c.type = PyErr_NewException(qualified.c_str(), bases.ptr(), nullptr);
    if (c.type == nullptr) throw py::error_already_set();
    m.add_object(c.name, py::handle(c.type));
  }
  // pybind11's translator type takes the exception_ptr by value.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      PyErr_SetString(ClassFor(e.status().code()), e.status().message().c_str());
    }
  });
}

}  // namespace pulse::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "Pulse's C++ lake, forecast, Monte Carlo and trust modules (use the `pulse` package).";
  pulse::python::BindErrors(m);
  pulse::python::BindLake(m);
  pulse::python::BindSim(m);
  pulse::python::BindForecast(m);
  pulse::python::BindTrust(m);
}
