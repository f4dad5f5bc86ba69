// Text and geometry helpers shared by the report's SVG charts (svg_chart.cc) and its page
// (report.cc). Internal to the report module; the public API is report.h and report_data.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::report::markup {

// Escapes & < > " ' so that the text is safe both as element content and inside a quoted
// attribute.
std::string EscapeHtml(std::string_view text);

// A number for people: about 4 significant digits, trailing zeros dropped ("0.1235", "1235",
// "123456789", "1.235e+12", "-2.5"); "—" (an em dash) for NaN and infinities.
std::string ReadableNumber(double v);

// A number for SVG geometry: fixed with at most 2 decimals, trailing zeros dropped, never "-0".
// The caller passes finite values only.
std::string Coord(double v);

// The label of an instant (microseconds since the epoch, UTC) on a chart with this frequency:
// "1959 Q2" when the frequency is quarterly ("quarterly", "Q", "QS", "QE"), otherwise the UTC date
// "1959-04-01".
std::string StepLabel(int64_t micros, std::string_view frequency);

// "Nice" tick values (1, 2 or 5 times a power of ten apart) that cover [lo, hi]: the first tick
// is <= lo and the last >= hi, with about `target` intervals between them (never more than 12
// ticks). lo and hi must be finite with lo < hi; if no sensible step exists (the range is too
// small for the magnitude, or overflows), returns {lo, hi}.
std::vector<double> NiceTicks(double lo, double hi, int target);

// The label of a tick value, with as many decimals as the tick spacing needs ("0.25", "1500",
// "2.5e+06" for very large or very small magnitudes).
std::string TickLabel(double v, double step);

}  // namespace pulse::report::markup
