// pulse._core Monte Carlo bindings: a world (catalog + rules + initial overrides) parsed from its
// texts, a batch or a chunk of one (runs first_run .. first_run + runs - 1) run with the GIL
// released, and its exact summary (sim/monte_carlo.h), which merges bit-identically in any split
// and order and travels as bytes (pickle uses them).
#include <pybind11/stl.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bindings.h"
#include "core/config_sections.h"
#include "sim/monte_carlo.h"
#include "sim/turn.h"
#include "sim/world.h"

namespace pulse::python {
namespace {

// The catalog and rules as parsed from their texts; `state` replaces catalog initial values.
class PyWorld {
 public:
  PyWorld(std::string catalog_text, std::string catalog_file, std::string rules_text, std::string rules_file,
          std::map<std::string, double> state)
      : catalog_text_(std::move(catalog_text)),
        catalog_file_(std::move(catalog_file)),
        rules_text_(std::move(rules_text)),
        rules_file_(std::move(rules_file)),
        state_(std::move(state)),
        catalog_(ValueOrThrow(sim::Catalog::Parse(catalog_text_, catalog_file_))),
        rules_(ValueOrThrow(sim::ParseRules(rules_text_, rules_file_, catalog_))),
        initial_(catalog_.Initial()) {
    for (const auto& [name, value] : state_) {
      const auto slot = catalog_.Find(name);
      if (!slot) throw StatusError(Status::InvalidArgument("state: unknown variable '" + name + "'"));
      if (!std::isfinite(value))
        throw StatusError(Status::InvalidArgument("state: '" + name + "' needs a finite number"));
      initial_[*slot] = value;
    }
  }

  const sim::Catalog& catalog() const { return catalog_; }
  const sim::RuleSet& rules() const { return rules_; }
  const std::vector<double>& initial() const { return initial_; }

  std::vector<std::string> Variables() const {
    std::vector<std::string> out;
    for (const auto& slot : catalog_.slots()) out.push_back(slot.name);
    return out;
  }
  std::vector<std::string> Rules() const {
    std::vector<std::string> out;
    for (const auto& rule : rules_.rules) out.push_back(rule.id);
    return out;
  }
  py::tuple State() const { return py::make_tuple(catalog_text_, catalog_file_, rules_text_, rules_file_, state_); }

 private:
  std::string catalog_text_, catalog_file_, rules_text_, rules_file_;
  std::map<std::string, double> state_;
  sim::Catalog catalog_;
  sim::RuleSet rules_;
  std::vector<double> initial_;
};

constexpr std::string_view kSummaryMagic = "pulse-mc-1\n";

// A batch's (or chunk's) exact summary with the per-rule fired counts.
struct PySummary {
  sim::Summary summary;
  std::vector<uint64_t> rule_fired;
  double seconds = 0;

  uint64_t Runs() const {
    if (summary.steps() == 0 || summary.columns().empty()) return 0;
    return summary.Get(0, 0, {}).count;
  }

  void Merge(const PySummary& other) {
    if (other.summary.steps() == 0) return;
    if (summary.steps() != 0 &&
        (summary.steps() != other.summary.steps() || summary.columns() != other.summary.columns() ||
         rule_fired.size() != other.rule_fired.size())) {
      throw StatusError(Status::InvalidArgument(
          "cannot merge summaries of different simulations: " + std::to_string(summary.steps()) + " steps x " +
          std::to_string(summary.columns().size()) + " columns vs " + std::to_string(other.summary.steps()) +
          " steps x " + std::to_string(other.summary.columns().size()) + " columns"));
    }
    summary.Merge(other.summary);
    if (rule_fired.empty()) rule_fired.assign(other.rule_fired.size(), 0);
    for (size_t i = 0; i < rule_fired.size(); ++i) rule_fired[i] += other.rule_fired[i];
    seconds += other.seconds;
  }

  // kSummaryMagic, the rule counts on one line, then Summary::Serialize's exact text.
  py::bytes ToBytes() const {
    std::string out(kSummaryMagic);
    for (size_t i = 0; i < rule_fired.size(); ++i) out += (i ? "," : "") + std::to_string(rule_fired[i]);
    out += "\n";
    out += summary.Serialize();
    return py::bytes(out);
  }

  static PySummary FromBytes(const std::string& data) {
    if (data.compare(0, kSummaryMagic.size(), kSummaryMagic) != 0)
      throw StatusError(Status::InvalidArgument("not a Pulse Monte Carlo summary (bad header)"));
    const size_t eol = data.find('\n', kSummaryMagic.size());
    if (eol == std::string::npos) throw StatusError(Status::InvalidArgument("truncated Monte Carlo summary"));
    PySummary out;
    std::string_view counts(data.data() + kSummaryMagic.size(), eol - kSummaryMagic.size());
    while (!counts.empty()) {
      const size_t comma = std::min(counts.find(','), counts.size());
      const auto n = ParseUint64Strict(counts.substr(0, comma));
      if (!n) throw StatusError(Status::InvalidArgument("malformed rule counts in Monte Carlo summary"));
      out.rule_fired.push_back(*n);
      counts.remove_prefix(std::min(comma + 1, counts.size()));
    }
    out.summary = ValueOrThrow(sim::Summary::Deserialize(std::string_view(data).substr(eol + 1)));
    return out;
  }

  static std::optional<uint64_t> ParseUint64Strict(std::string_view text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
      v = v * 10 + digit;
    }
    return v;
  }

  size_t Column(const std::string& name) const {
    const auto& cols = summary.columns();
    for (size_t c = 0; c < cols.size(); ++c)
      if (cols[c] == name) return c;
    throw StatusError(Status::NotFound("no variable '" + name + "' in the summary"));
  }

  py::dict Stats(const std::string& name, size_t step, const std::vector<double>& quantiles) const {
    CheckQuantiles(quantiles);
    if (summary.steps() == 0) throw StatusError(Status::InvalidArgument("the summary is empty (no runs merged)"));
    if (step >= summary.steps()) {
      throw StatusError(Status::OutOfRange("step must be 0.." + std::to_string(summary.steps() - 1) + ", got " +
                                           std::to_string(step)));
    }
    const auto s = summary.Get(step, Column(name), quantiles);
    py::dict out;
    out["count"] = s.count, out["mean"] = s.mean, out["sd"] = s.sd, out["min"] = s.min, out["max"] = s.max;
    out["quantiles"] = s.quantiles;
    return out;
  }

  static void CheckQuantiles(const std::vector<double>& quantiles) {
    for (double q : quantiles) {
      if (!(q > 0 && q < 1))
        throw StatusError(Status::InvalidArgument("quantiles must be in (0, 1), got " + std::to_string(q)));
    }
  }

  // One row per (step, variable): count, mean, sd, min, max and a column per quantile ("q0.05").
  py::capsule Table(const std::vector<double>& quantiles, const std::optional<std::vector<std::string>>& names) const {
    CheckQuantiles(quantiles);
    std::vector<size_t> columns;
    if (names) {
      for (const auto& n : *names) columns.push_back(Column(n));
    } else {
      for (size_t c = 0; c < summary.columns().size(); ++c) columns.push_back(c);
    }
    std::shared_ptr<arrow::Table> table;
    {
      py::gil_scoped_release release;
      arrow::Int32Builder step_b;
      arrow::StringBuilder name_b;
      arrow::UInt64Builder count_b;
      std::vector<arrow::DoubleBuilder> stat_b(4 + quantiles.size());
      for (size_t step = 0; step < summary.steps(); ++step) {
        for (size_t c : columns) {
          const auto s = summary.Get(step, c, quantiles);
          ThrowIfArrowError(step_b.Append(static_cast<int32_t>(step)));
          ThrowIfArrowError(name_b.Append(summary.columns()[c]));
          ThrowIfArrowError(count_b.Append(s.count));
          ThrowIfArrowError(stat_b[0].Append(s.mean));
          ThrowIfArrowError(stat_b[1].Append(s.sd));
          ThrowIfArrowError(stat_b[2].Append(s.min));
          ThrowIfArrowError(stat_b[3].Append(s.max));
          for (size_t q = 0; q < quantiles.size(); ++q) ThrowIfArrowError(stat_b[4 + q].Append(s.quantiles[q]));
        }
      }
      arrow::FieldVector fields = {arrow::field("step", arrow::int32(), false),
                                   arrow::field("variable", arrow::utf8(), false),
                                   arrow::field("count", arrow::uint64(), false)};
      for (const char* n : {"mean", "sd", "min", "max"}) fields.push_back(arrow::field(n, arrow::float64(), false));
      for (double q : quantiles) {
        std::ostringstream name;
        name << "q" << q;
        fields.push_back(arrow::field(name.str(), arrow::float64(), false));
      }
      arrow::ArrayVector arrays(3);
      ThrowIfArrowError(step_b.Finish(&arrays[0]));
      ThrowIfArrowError(name_b.Finish(&arrays[1]));
      ThrowIfArrowError(count_b.Finish(&arrays[2]));
      for (auto& b : stat_b) {
        std::shared_ptr<arrow::Array> a;
        ThrowIfArrowError(b.Finish(&a));
        arrays.push_back(std::move(a));
      }
      table = arrow::Table::Make(arrow::schema(fields), arrays);
    }
    return ExportTable(table);
  }
};

// One parameter per keyword of pulse.simulate (the Python signature), hence more than eight.
// NOLINTNEXTLINE(readability-function-size)
PySummary Simulate(const PyWorld& world, uint64_t runs, uint32_t turns, uint64_t seed, uint64_t first_run, double noise,
                   bool symbolic, double decay_rate, int threads) {
  if (!(noise >= 0) || !std::isfinite(noise))
    throw StatusError(Status::InvalidArgument("noise must be a finite number >= 0"));
  if (!(decay_rate >= 0 && decay_rate <= 1)) throw StatusError(Status::InvalidArgument("decay_rate must be in [0, 1]"));
  if (threads < 0) throw StatusError(Status::InvalidArgument("threads must be >= 0 (0: every core)"));
  if (first_run > UINT64_MAX - runs) throw StatusError(Status::InvalidArgument("first_run + runs overflows"));
  sim::MonteCarloOptions options;
  options.runs = runs, options.turns = turns, options.seed = seed, options.first_run = first_run;
  options.noise_scale = noise, options.threads = threads;
  PySummary out;
  py::gil_scoped_release release;
  sim::TurnEngine engine(world.catalog(), world.rules(), {.decay_rate = decay_rate, .symbolic = symbolic});
  auto result = ValueOrThrow(sim::RunMonteCarlo(engine, world.initial(), options));
  out.summary = std::move(result.summary);
  out.rule_fired = std::move(result.rule_fired);
  out.seconds = result.seconds;
  return out;
}

}  // namespace

void BindSim(py::module_& m) {
  py::class_<PyWorld>(m, "World")
      .def(py::init<std::string, std::string, std::string, std::string, std::map<std::string, double>>(),
           py::arg("catalog_text"), py::arg("catalog_file"), py::arg("rules_text"), py::arg("rules_file"),
           py::arg("state") = std::map<std::string, double>{})
      .def_property_readonly("variables", &PyWorld::Variables)
      .def_property_readonly("rules", &PyWorld::Rules)
      .def_property_readonly("initial", [](const PyWorld& w) { return w.initial(); })
      .def(py::pickle([](const PyWorld& w) { return w.State(); },
                      [](const py::tuple& t) {
                        if (t.size() != 5) throw StatusError(Status::InvalidArgument("bad pickled World"));
                        return PyWorld(t[0].cast<std::string>(), t[1].cast<std::string>(), t[2].cast<std::string>(),
                                       t[3].cast<std::string>(), t[4].cast<std::map<std::string, double>>());
                      }));

  py::class_<PySummary>(m, "Summary")
      .def(py::init<>())
      .def_property_readonly("runs", &PySummary::Runs)
      .def_property_readonly("steps", [](const PySummary& s) { return s.summary.steps(); })
      .def_property_readonly("variables", [](const PySummary& s) { return s.summary.columns(); })
      .def_readonly("rule_fired", &PySummary::rule_fired)
      .def_readonly("seconds", &PySummary::seconds)
      .def("merge", &PySummary::Merge, py::arg("other"))
      .def("to_bytes", &PySummary::ToBytes)
      .def_static(
          "from_bytes", [](const py::bytes& b) { return PySummary::FromBytes(std::string(b)); }, py::arg("data"))
      .def("stats", &PySummary::Stats, py::arg("variable"), py::arg("step"),
           py::arg("quantiles") = std::vector<double>{0.05, 0.5, 0.95})
      .def("_table_stream", &PySummary::Table, py::arg("quantiles"), py::arg("variables") = py::none())
      .def("__eq__",
           [](const PySummary& a, const py::object& b) {
             if (!py::isinstance<PySummary>(b)) return false;
             const auto& other = b.cast<const PySummary&>();
             return a.rule_fired == other.rule_fired && a.summary.Serialize() == other.summary.Serialize();
           })
      .def(py::pickle([](const PySummary& s) { return s.ToBytes(); },
                      [](const py::bytes& b) { return PySummary::FromBytes(std::string(b)); }));

  const SimSettings defaults;
  m.def("simulate", &Simulate, py::arg("world"), py::arg("runs"), py::arg("turns") = 52, py::arg("seed") = 0,
        py::arg("first_run") = 0, py::arg("noise") = 0.01, py::arg("symbolic") = defaults.symbolic,
        py::arg("decay_rate") = defaults.decay_rate, py::arg("threads") = 0);
}

}  // namespace pulse::python
