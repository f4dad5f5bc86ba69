// pulse._core trust bindings: the original Pulse's trust heuristics (trust/trust_engine.h) and its
// Bayesian tracker (trust/bayesian_trust.h), pure functions of their evidence.
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "trust/bayesian_trust.h"
#include "trust/trust_engine.h"

namespace pulse::python {
namespace {

py::dict Score(const trust::Change& change, std::optional<double> fragility, bool has_overlays,
               std::optional<double> capital_movement, const std::vector<trust::Change>& memory, bool fragmented,
               double arc_volatility) {
  trust::Evidence e;
  e.change = change, e.fragility = fragility, e.has_overlays = has_overlays;
  e.capital_movement = capital_movement, e.memory = memory, e.fragmented = fragmented;
  e.arc_volatility = arc_volatility;
  const trust::TrustScore s = trust::Score(e);
  py::dict out;
  out["confidence"] = s.confidence, out["risk"] = s.risk, out["fragility"] = s.fragility;
  out["baseline"] = s.baseline, out["hist"] = s.hist, out["novelty"] = s.novelty;
  out["label"] = s.label, out["licence"] = s.licence;
  return out;
}

py::dict TrackRecord(const std::vector<bool>& outcomes, double decay) {
  if (!(decay > 0 && decay <= 1)) throw StatusError(Status::InvalidArgument("decay must be in (0, 1]"));
  trust::BetaTrust beta;
  for (bool hit : outcomes) {
    beta.Decay(decay);
    beta.Update(hit);
  }
  const auto [low, high] = beta.Interval();
  py::dict out;
  out["alpha"] = beta.alpha, out["beta"] = beta.beta, out["trust"] = beta.Mean();
  out["low"] = low, out["high"] = high, out["strength"] = beta.Strength();
  return out;
}

}  // namespace

void BindTrust(py::module_& m) {
  m.def("trust_score", &Score, py::arg("change"), py::arg("fragility") = py::none(), py::arg("has_overlays") = false,
        py::arg("capital_movement") = py::none(), py::arg("memory") = std::vector<trust::Change>{},
        py::arg("fragmented") = false, py::arg("arc_volatility") = 0.0);
  m.def("tension", &trust::Tension, py::arg("hope"), py::arg("despair"), py::arg("rage"), py::arg("fatigue"),
        py::arg("trust"));
  m.def("fragility_index", &trust::FragilityIndex, py::arg("tension"), py::arg("change"));
  m.def("track_record", &TrackRecord, py::arg("outcomes"), py::arg("decay") = 0.99);
}

}  // namespace pulse::python
