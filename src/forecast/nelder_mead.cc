#include "forecast/nelder_mead.h"

#include "forecast/internal/nelder_mead_core.h"

namespace pulse::forecast {

NmResult NelderMead(const std::function<double(const double*)>& f, size_t dims, const double* start, const double* step,
                    int max_iterations, double tolerance) {
  return hd::NelderMead(f, dims, start, step, max_iterations, tolerance);
}

double GoldenSectionMinimize(const std::function<double(double)>& f, double lo, double hi, double tolerance) {
  return hd::GoldenSectionMinimize(f, lo, hi, tolerance);
}

}  // namespace pulse::forecast
