#include "forecast/metrics.h"

#include <algorithm>
#include <cmath>

namespace pulse::forecast {

double Smape(std::span<const double> actual, std::span<const double> forecast) {
  double sum = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double denom = std::abs(actual[i]) + std::abs(forecast[i]);
    if (denom > 0) sum += 200.0 * std::abs(actual[i] - forecast[i]) / denom;
  }
  return actual.empty() ? 0 : sum / static_cast<double>(actual.size());
}

Result<double> MaseScale(std::span<const double> train, int m) {
  if (m < 1) return Status::InvalidArgument("MASE needs a seasonal period >= 1");
  const size_t lag = static_cast<size_t>(m);
  if (train.size() <= lag)
    return Status::InvalidArgument("MASE needs more than " + std::to_string(m) + " training values");
  double sum = 0;
  for (size_t t = lag; t < train.size(); ++t) sum += std::abs(train[t] - train[t - lag]);
  double scale = sum / static_cast<double>(train.size() - lag);
  if (!(scale > 0))
    return Status::InvalidArgument("MASE is undefined for a series whose seasonal differences are all 0");
  return scale;
}

double Mase(std::span<const double> actual, std::span<const double> forecast, double scale) {
  double sum = 0;
  for (size_t i = 0; i < actual.size(); ++i) sum += std::abs(actual[i] - forecast[i]);
  return actual.empty() ? 0 : sum / static_cast<double>(actual.size()) / scale;
}

double Msis(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper, double alpha,
            double scale) {
  double sum = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    sum += upper[i] - lower[i];
    if (actual[i] < lower[i]) sum += 2.0 / alpha * (lower[i] - actual[i]);
    if (actual[i] > upper[i]) sum += 2.0 / alpha * (actual[i] - upper[i]);
  }
  return actual.empty() ? 0 : sum / static_cast<double>(actual.size()) / scale;
}

double Coverage(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper) {
  size_t inside = 0;
  for (size_t i = 0; i < actual.size(); ++i) inside += actual[i] >= lower[i] && actual[i] <= upper[i];
  return actual.empty() ? 0 : static_cast<double>(inside) / static_cast<double>(actual.size());
}

double Pinball(std::span<const double> actual, std::span<const double> quantile_forecast, double q) {
  double sum = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double d = actual[i] - quantile_forecast[i];
    sum += std::max(q * d, (q - 1) * d);
  }
  return actual.empty() ? 0 : sum / static_cast<double>(actual.size());
}

double Owa(double smape, double mase, double smape_naive2, double mase_naive2) {
  return 0.5 * (smape / smape_naive2 + mase / mase_naive2);
}

}  // namespace pulse::forecast
