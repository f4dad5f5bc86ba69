// pulse._core forecasting bindings: what `pulse forecast` does per series (pipeline/
// forecast_signals.cc), on arrays from Python. fit_series fits many series in parallel with the GIL
// released - the accuracy-weighted ensemble of the M4 benchmark methods, or one member, with its
// out-of-sample backtest scores - and calibrate turns pooled scores into split-conformal interval
// multipliers. Fitting and calibrating are separate so that a batch split over workers (pulse.dask)
// pools every partition's scores and gets the same bands as one process.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bindings.h"
#include "core/thread_pool.h"
#include "forecast/calibration.h"
#include "forecast/ensemble.h"
#include "forecast/metrics.h"

namespace pulse::python {
namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using OffsetArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

constexpr size_t kEnsembleIndex = forecast::kAllMethods.size();

// The candidate index of `method`: a member (forecast/benchmarks.h MethodName, case-insensitive) or
// "ensemble" (the default of `pulse forecast`).
size_t CandidateIndex(const std::string& method) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  if (lower(method) == "ensemble") return kEnsembleIndex;
  std::string known = "ensemble";
  for (size_t i = 0; i < forecast::kAllMethods.size(); ++i) {
    const std::string name(forecast::MethodName(forecast::kAllMethods[i]));
    if (lower(name) == lower(method)) return i;
    known += ", " + name;
  }
  throw StatusError(Status::InvalidArgument("unknown forecast method '" + method + "' (one of: " + known + ")"));
}

std::string CandidateName(size_t i) {
  return i == kEnsembleIndex ? "Ensemble" : std::string(forecast::MethodName(forecast::kAllMethods[i]));
}

struct SeriesFit {
  bool ok = false;
  std::string problem;
  forecast::BacktestedForecast result;
};

template <class Builder, class Value>
void Append(Builder& b, const Value& v) {
  ThrowIfArrowError(b.Append(v));
}

std::shared_ptr<arrow::Array> Finish(arrow::ArrayBuilder& b) {
  std::shared_ptr<arrow::Array> out;
  ThrowIfArrowError(b.Finish(&out));
  return out;
}

py::tuple FitSeries(const std::vector<std::string>& names, const DoubleArray& values, const OffsetArray& offsets,
                    int horizon, int period, const std::string& method, int min_points) {
  if (horizon < 1 || horizon > 10000) throw StatusError(Status::InvalidArgument("horizon must be 1..10000"));
  if (period < 1) throw StatusError(Status::InvalidArgument("period must be >= 1"));
  if (min_points < 4) throw StatusError(Status::InvalidArgument("min_points must be >= 4"));
  const size_t candidate = CandidateIndex(method);
  if (values.ndim() != 1 || offsets.ndim() != 1)
    throw StatusError(Status::InvalidArgument("values and offsets must be one-dimensional"));
  const size_t n = names.size();
  const auto* v = values.data();
  const auto* off = offsets.data();
  const auto total = static_cast<int64_t>(values.shape(0));
  if (static_cast<size_t>(offsets.shape(0)) != n + 1 || off[0] != 0 || off[n] != total)
    throw StatusError(Status::InvalidArgument("offsets must have one more entry than names, from 0 to len(values)"));
  for (size_t i = 0; i < n; ++i)
    if (off[i + 1] < off[i]) throw StatusError(Status::InvalidArgument("offsets must not decrease"));

  std::vector<SeriesFit> fits(n);
  std::shared_ptr<arrow::Table> points, models;
  std::vector<double> scores;
  std::vector<std::string> skipped;
  {
    py::gil_scoped_release release;
    DefaultThreadPool().ParallelFor(n, [&](size_t i) {
      std::span<const double> y(v + off[i], static_cast<size_t>(off[i + 1] - off[i]));
      SeriesFit& f = fits[i];
      if (static_cast<int>(y.size()) < min_points) {
        f.problem = names[i] + ": " + std::to_string(y.size()) + " points, fewer than " + std::to_string(min_points);
        return;
      }
      auto scale = forecast::MaseScale(y, 1);
      auto r = forecast::ForecastWithBacktest(y, period, horizon, scale.ok() ? *scale : 1.0);
      if (!r.ok()) {
        f.problem = names[i] + ": " + r.status().message();
        return;
      }
      f.result = std::move(*r);
      f.ok = true;
    });
    arrow::StringBuilder p_series, m_series, m_method;
    arrow::Int32Builder p_step;
    arrow::DoubleBuilder p_mean, p_sd, m_weight, m_mase;
    for (size_t i = 0; i < n; ++i) {
      const SeriesFit& f = fits[i];
      if (!f.ok) {
        skipped.push_back(f.problem);
        continue;
      }
      const forecast::MethodForecast& chosen =
          candidate == kEnsembleIndex ? f.result.ensemble : f.result.members[candidate];
      for (size_t k = 0; k < chosen.mean.size(); ++k) {
        Append(p_series, names[i]);
        Append(p_step, static_cast<int32_t>(k + 1));
        Append(p_mean, chosen.mean[k]);
        Append(p_sd, chosen.sd[k]);
      }
      const auto& s = f.result.scores[candidate];
      scores.insert(scores.end(), s.begin(), s.end());
      for (size_t c = 0; c <= kEnsembleIndex; ++c) {
        Append(m_series, names[i]);
        Append(m_method, CandidateName(c));
        Append(m_weight, c == kEnsembleIndex ? 1.0 : f.result.weights.weight[c]);
        Append(m_mase, f.result.backtest_mase[c]);
      }
    }
    points = arrow::Table::Make(
        arrow::schema({arrow::field("series", arrow::utf8(), false), arrow::field("step", arrow::int32(), false),
                       arrow::field("mean", arrow::float64(), false), arrow::field("sd", arrow::float64(), false)}),
        {Finish(p_series), Finish(p_step), Finish(p_mean), Finish(p_sd)});
    models = arrow::Table::Make(
        arrow::schema({arrow::field("series", arrow::utf8(), false), arrow::field("method", arrow::utf8(), false),
                       arrow::field("weight", arrow::float64(), false),
                       arrow::field("backtest_mase", arrow::float64(), false)}),
        {Finish(m_series), Finish(m_method), Finish(m_weight), Finish(m_mase)});
  }
  DoubleArray score_array(static_cast<py::ssize_t>(scores.size()));
  std::copy(scores.begin(), scores.end(), score_array.mutable_data());
  return py::make_tuple(ExportTable(points), ExportTable(models), score_array, skipped);
}

// Split-conformal multipliers per level from pooled scores (any order: the multiplier is an order
// statistic); the Gaussian one, calibrated = False, where too few scores.
std::vector<std::tuple<double, double, bool>> Calibrate(const DoubleArray& scores, const std::vector<double>& levels) {
  for (double l : levels)
    if (!(l > 0 && l < 1)) throw StatusError(Status::InvalidArgument("interval levels must be in (0, 1)"));
  forecast::ConformalCalibrator calibrator;
  const auto* s = scores.data();
  for (py::ssize_t i = 0; i < scores.size(); ++i) calibrator.Add(s[i]);
  std::vector<std::tuple<double, double, bool>> out;
  py::gil_scoped_release release;
  for (double level : levels) {
    auto q = calibrator.Multiplier(level);
    out.emplace_back(level, q.ok() ? *q : forecast::GaussianMultiplier(level), q.ok());
  }
  return out;
}

std::span<const double> Span(const DoubleArray& a, const char* what) {
  if (a.ndim() != 1) throw StatusError(Status::InvalidArgument(std::string(what) + " must be one-dimensional"));
  return {a.data(), static_cast<size_t>(a.shape(0))};
}

// M4 accuracy of one series' forecast against its outcomes (forecast/metrics.h): sMAPE, MASE (scale
// from `train` with seasonal period `period`) and, with a band, MSIS at `level` and coverage.
py::dict Accuracy(const DoubleArray& actual, const DoubleArray& mean, const DoubleArray& train, int period,
                  const std::optional<DoubleArray>& lower, const std::optional<DoubleArray>& upper, double level) {
  const auto y = Span(actual, "actual"), f = Span(mean, "forecast");
  if (y.empty() || y.size() != f.size())
    throw StatusError(Status::InvalidArgument("actual and forecast must be non-empty and of equal length"));
  if (period < 1) throw StatusError(Status::InvalidArgument("period must be >= 1"));
  if (lower.has_value() != upper.has_value())
    throw StatusError(Status::InvalidArgument("pass both lower and upper, or neither"));
  if (!(level > 0 && level < 1)) throw StatusError(Status::InvalidArgument("level must be in (0, 1)"));
  const double scale = ValueOrThrow(forecast::MaseScale(Span(train, "train"), period));
  py::dict out;
  out["smape"] = forecast::Smape(y, f);
  out["mase"] = forecast::Mase(y, f, scale);
  if (lower) {
    const auto lo = Span(*lower, "lower"), hi = Span(*upper, "upper");
    if (lo.size() != y.size() || hi.size() != y.size())
      throw StatusError(Status::InvalidArgument("lower and upper must have the length of actual"));
    out["msis"] = forecast::Msis(y, lo, hi, 1 - level, scale);
    out["coverage"] = forecast::Coverage(y, lo, hi);
  }
  return out;
}

}  // namespace

void BindForecast(py::module_& m) {
  m.def("fit_series", &FitSeries, py::arg("names"), py::arg("values"), py::arg("offsets"), py::arg("horizon"),
        py::arg("period"), py::arg("method") = "ensemble", py::arg("min_points") = 8);
  m.def("accuracy", &Accuracy, py::arg("actual"), py::arg("forecast"), py::arg("train"), py::arg("period") = 1,
        py::arg("lower") = py::none(), py::arg("upper") = py::none(), py::arg("level") = 0.95);
  m.def("calibrate", &Calibrate, py::arg("scores"), py::arg("levels"));
  std::vector<std::string> methods = {"Ensemble"};
  for (auto method : forecast::kAllMethods) methods.emplace_back(forecast::MethodName(method));
  m.attr("FORECAST_METHODS") = methods;
}

}  // namespace pulse::python
