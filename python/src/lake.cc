// pulse._core lake bindings: open a lake as the CLI does (configuration layers, file:// and s3://
// URLs) and read a table snapshot as an Arrow C stream (bindings.h).
#include <pybind11/stl.h>
#include <unistd.h>  // environ

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "core/config.h"
#include "lake/open_lake.h"

namespace pulse::python {
namespace {

// One lake, opened once; every read opens the table's newest (or requested) snapshot.
class PyLake {
 public:
  explicit PyLake(std::unique_ptr<lake::Lake> lake) : lake_(std::move(lake)) {}

  std::string url() const { return lake_->url(); }

  std::vector<std::string> Tables() {
    py::gil_scoped_release release;
    return ValueOrThrow(lake_->ListTables());
  }

  int64_t Version(const std::string& name) {
    py::gil_scoped_release release;
    auto table = ValueOrThrow(lake_->OpenTable(name));
    return ValueOrThrow(table->LatestVersion());
  }

  py::capsule Read(const std::string& name, const std::optional<std::vector<std::string>>& columns,
                   std::optional<int64_t> version, const std::map<std::string, std::vector<std::string>>& partitions) {
    lake::ReadOptions options;
    options.version = version;
    if (columns) options.columns = *columns;
    for (const auto& [column, values] : partitions) options.partition_filters.push_back({column, values});
    std::shared_ptr<arrow::Table> table;
    {
      py::gil_scoped_release release;
      auto delta = ValueOrThrow(lake_->OpenTable(name));
      table = ValueOrThrow(delta->Read(options));
    }
    return ExportTable(table);
  }

 private:
  std::unique_ptr<lake::Lake> lake_;
};

// The CLI's layers: defaults < YAML file < PULSE_* environment < url < `settings` (key: value).
std::unique_ptr<PyLake> OpenLake(const std::optional<std::string>& url, const std::optional<std::string>& config_file,
                                 const std::map<std::string, std::string>& settings, bool environment, bool create) {
  Config config = Config::Defaults();
  if (config_file) ThrowIfError(config.LoadYamlFile(*config_file));
  if (environment) ThrowIfError(config.LoadEnvironment(environ));
  if (url) ThrowIfError(config.Set("lake.url", *url, "url"));
  for (const auto& [key, value] : settings) ThrowIfError(config.Set(key, value, "settings"));
  py::gil_scoped_release release;
  auto lake = ValueOrThrow(
      lake::OpenLake(config.settings(), create ? lake::OpenMode::kCreateIfMissing : lake::OpenMode::kMustExist));
  return std::make_unique<PyLake>(std::move(lake));
}

}  // namespace

void BindLake(py::module_& m) {
  py::class_<PyLake>(m, "Lake")
      .def_property_readonly("url", &PyLake::url)
      .def("tables", &PyLake::Tables)
      .def("version", &PyLake::Version, py::arg("table"))
      .def("_read_stream", &PyLake::Read, py::arg("table"), py::arg("columns") = py::none(),
           py::arg("version") = py::none(), py::arg("partitions") = std::map<std::string, std::vector<std::string>>{});
  m.def("open_lake", &OpenLake, py::arg("url") = py::none(), py::arg("config") = py::none(),
        py::arg("settings") = std::map<std::string, std::string>{}, py::arg("environment") = true,
        py::arg("create") = false);
}

}  // namespace pulse::python
