// Agreement with R's forecast package on the M4 benchmark methods: fixtures made by
// scripts/make-r-fixtures (R 4.2, forecast 8.20, the M4 organisers' method) on windows of M4
// Weekly and Hourly series. Naive2 (seasonality test + decomposition) must agree exactly; the
// fitted methods within tolerances that allow for two optimisers landing on slightly different
// optima of the same likelihood, and ETS-based accuracy must be no worse than R's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "forecast/benchmarks.h"
#include "forecast/exp_smoothing.h"
#include "forecast/metrics.h"
#include "forecast/seasonality.h"

namespace pulse::forecast {
namespace {

nlohmann::json LoadFixtures() {
  std::ifstream in(std::string(PULSE_SOURCE_DIR) + "/tests/fixtures/r_m4_benchmarks.json");
  EXPECT_TRUE(in.good()) << "missing tests/fixtures/r_m4_benchmarks.json (scripts/make-r-fixtures)";
  return nlohmann::json::parse(in);
}

// Largest relative difference over the horizon, relative to the series' scale.
double MaxRelDiff(const std::vector<double>& mine, const std::vector<double>& theirs, double scale) {
  double worst = 0;
  for (size_t i = 0; i < mine.size(); ++i) worst = std::max(worst, std::abs(mine[i] - theirs[i]) / scale);
  return worst;
}

TEST(RAgreement, M4BenchmarkForecastsMatchR) {
  auto fixtures = LoadFixtures();
  const std::map<std::string, Method> methods = {{"Naive2", Method::kNaive2}, {"SES", Method::kSes},
                                                 {"Holt", Method::kHolt},     {"Damped", Method::kDamped},
                                                 {"Theta", Method::kTheta},   {"Comb", Method::kComb}};
  std::map<std::string, std::vector<double>> diffs;
  size_t seasonal_agree = 0, count = 0;
  for (const auto& s : fixtures["series"]) {
    auto y = s["train"].get<std::vector<double>>();
    int period = s["period"].get<int>(), h = s["horizon"].get<int>();
    seasonal_agree += IsSeasonal(y, period) == s["seasonal"].get<bool>();
    ++count;
    auto f = M4Benchmarks(y, period, h);
    ASSERT_TRUE(f.ok()) << s["id"] << ": " << f.status().ToString();
    double scale = 0;
    for (double v : y) scale += std::abs(v) / static_cast<double>(y.size());
    for (const auto& [name, method] : methods)
      diffs[name].push_back(
          MaxRelDiff((*f)[static_cast<size_t>(method)].mean, s[name].get<std::vector<double>>(), scale));
  }
  EXPECT_EQ(seasonal_agree, count) << "the seasonality test disagrees with R on some series";
  auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
  };
  for (const auto& [name, d] : diffs) {
    RecordProperty(name + "_median_rel_diff", std::to_string(quantile(d, 0.5)));
    RecordProperty(name + "_p90_rel_diff", std::to_string(quantile(d, 0.9)));
    std::printf("%-7s median %.2e  p90 %.2e  max %.2e\n", name.c_str(), quantile(d, 0.5), quantile(d, 0.9),
                *std::max_element(d.begin(), d.end()));
  }
  // Differences are relative to the series' mean level, worst step of the horizon.
  EXPECT_LT(quantile(diffs["Naive2"], 1.0), 1e-8);  // exact: same test, same decomposition
  EXPECT_LT(quantile(diffs["SES"], 1.0), 1e-3);     // measured max 1.1e-4
  EXPECT_LT(quantile(diffs["Theta"], 1.0), 2e-3);   // measured max 7.3e-4
  EXPECT_LT(quantile(diffs["Damped"], 0.9), 5e-3);  // measured p90 2.3e-3, max 6.7e-3
  EXPECT_LT(quantile(diffs["Holt"], 0.5), 2e-3);    // measured median 6.2e-4; a few series reach
                                                    // different optima (max 0.26): see BENCHMARKS.md
}

// ets() with automatic selection vs AutoEts, each fitted on a window without its last h values.
// Two checks. The optimiser: refitting the model ets chose, Pulse reaches at least ets's
// likelihood on most windows (ets searches all initial states with Nelder-Mead and often stops
// early; Pulse solves them exactly for linear models, but keeps the seasonal states of
// multiplicative-season models from its additive fit, so ets's search sometimes ends higher
// there - never more than 2% lower). Accuracy on the held-out values: AutoEts no worse than ets
// over the set, within a 3% allowance - on these 32 windows ets's choices are sometimes the
// luckier forecast (it picks damped seasonal models partly because its no-trend fits got
// stuck); BENCHMARKS.md compares both on the whole M4 subsets.
TEST(RAgreement, AutoEtsFitsAtLeastAsWellAsRsEtsAndForecastsAsAccurately) {
  auto fixtures = LoadFixtures();
  double pulse_mase = 0, r_mase = 0, pulse_smape = 0, r_smape = 0;
  size_t count = 0, same_model = 0, likelihood_at_least = 0;
  for (const auto& s : fixtures["series"]) {
    auto y = s["train"].get<std::vector<double>>();
    const int period = s["period"].get<int>();
    const size_t h = s["horizon"].get<size_t>();
    const auto cut = y.end() - static_cast<std::ptrdiff_t>(h);
    std::vector<double> fit_part(y.begin(), cut), actual(cut, y.end());
    auto fit = AutoEts(fit_part, period);
    ASSERT_TRUE(fit.ok()) << s["id"] << ": " << fit.status().ToString();
    std::vector<double> mean(h), sd(h);
    fit->ForecastInto(mean, sd);
    auto scale = MaseScale(fit_part, period);
    ASSERT_TRUE(scale.ok());
    auto theirs = s["ets"].get<std::vector<double>>();
    pulse_mase += Mase(actual, mean, *scale), r_mase += Mase(actual, theirs, *scale);
    pulse_smape += Smape(actual, mean), r_smape += Smape(actual, theirs);
    same_model += fit->spec.Name() == s["ets_model"].get<std::string>();
    // ets's log-likelihood leaves out the constant n (log(2 pi / n) + 1).
    auto spec = ParseEtsSpec(s["ets_model"].get<std::string>());
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto refit = FitEts(fit_part, *spec, period);
    ASSERT_TRUE(refit.ok()) << s["id"] << ": " << refit.status().ToString();
    const double nn = static_cast<double>(fit_part.size());
    const double loglik = -0.5 * (nn * std::log(refit->sse) + 2 * refit->sum_log_forecast);
    const double r_loglik = s["ets_loglik"].get<double>();
    likelihood_at_least += loglik >= r_loglik - 1e-4 * std::abs(r_loglik);
    EXPECT_GE(loglik, r_loglik - 0.02 * std::abs(r_loglik)) << s["id"] << " " << spec->Name();
    ++count;
  }
  const double n = static_cast<double>(count);
  std::printf(
      "AutoEts vs ets: MASE %.4f vs %.4f, sMAPE %.3f vs %.3f, same model on %zu of %zu windows, "
      "likelihood at least ets's on %zu\n",
      pulse_mase / n, r_mase / n, pulse_smape / n, r_smape / n, same_model, count, likelihood_at_least);
  EXPECT_GE(likelihood_at_least, count * 8 / 10);
  EXPECT_LE(pulse_mase, r_mase * 1.03);
  EXPECT_LE(pulse_smape, r_smape * 1.03);
}

}  // namespace
}  // namespace pulse::forecast
