#include "signals/score_batch.h"

#include <arrow/api.h>

#include <algorithm>
#include <unordered_set>

#include "signals/signal_schema.h"

namespace pulse::signals {
namespace {

Status FromArrow(const arrow::Status& st) { return st.ok() ? Status::Ok() : Status::Internal(st.ToString()); }

struct Columns {
  std::shared_ptr<arrow::StringArray> name, source, kind;
  std::shared_ptr<arrow::TimestampArray> ts, ingest_time;
  std::shared_ptr<arrow::DoubleArray> value;
};

template <class T>
Result<std::shared_ptr<T>> Column(const arrow::RecordBatch& batch, const char* name) {
  auto column = std::dynamic_pointer_cast<T>(batch.GetColumnByName(name));
  if (!column) return Status::InvalidArgument(std::string("signals to score lack a valid '") + name + "' column");
  if (column->null_count() > 0) return Status::InvalidArgument(std::string("signals to score have null ") + name + "s");
  return column;
}

Result<Columns> GetColumns(const arrow::RecordBatch& batch, bool all) {
  Columns c;
  PULSE_ASSIGN_OR_RETURN(c.name, Column<arrow::StringArray>(batch, "name"));
  PULSE_ASSIGN_OR_RETURN(c.source, Column<arrow::StringArray>(batch, "source"));
  PULSE_ASSIGN_OR_RETURN(c.ts, Column<arrow::TimestampArray>(batch, "ts"));
  PULSE_ASSIGN_OR_RETURN(c.value, Column<arrow::DoubleArray>(batch, "value"));
  if (all) {
    PULSE_ASSIGN_OR_RETURN(c.kind, Column<arrow::StringArray>(batch, "kind"));
    PULSE_ASSIGN_OR_RETURN(c.ingest_time, Column<arrow::TimestampArray>(batch, "ingest_time"));
  }
  return c;
}

// (source, name) of a row, viewing the batch's buffers: hashing it allocates nothing.
struct SeriesRef {
  std::string_view source, name;
  bool operator==(const SeriesRef&) const = default;
};
struct SeriesRefHash {
  size_t operator()(const SeriesRef& r) const {
    const size_t h = std::hash<std::string_view>{}(r.source);
    return h ^ (std::hash<std::string_view>{}(r.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

Result<std::shared_ptr<arrow::RecordBatch>> Combine(const arrow::Table& rows) {
  auto combined = rows.CombineChunksToBatch();
  if (!combined.ok()) return Status::Internal(combined.status().ToString());
  return *combined;
}

}  // namespace

std::string SeriesHistory::Key(std::string_view source, std::string_view name) {
  std::string key;
  key.reserve(source.size() + name.size() + 1);
  key.append(source).push_back('\0');
  key.append(name);
  return key;
}

namespace {
bool ObservationLess(const Observation& a, const Observation& b) {
  return a.ts != b.ts ? a.ts < b.ts : a.value < b.value;
}
}  // namespace

void SeriesHistory::Series::Push(Observation o) {
  if (sorted && !obs.empty() && ObservationLess(o, obs.back())) sorted = false;
  obs.push_back(o);
}

void SeriesHistory::Add(std::string_view source, std::string_view name, Observation obs) {
  auto& s = series_[Key(source, name)];
  s.Push(obs);
  all_sorted_ = all_sorted_ && s.sorted;
}

std::span<const Observation> SeriesHistory::Get(std::string_view source, std::string_view name) const {
  auto it = series_.find(Key(source, name));
  if (it == series_.end()) return {};
  return it->second.obs;
}

void SeriesHistory::Sort() {
  if (all_sorted_) return;
  for (auto& [key, s] : series_) {
    if (s.sorted) continue;
    std::sort(s.obs.begin(), s.obs.end(), ObservationLess);
    s.sorted = true;
  }
  all_sorted_ = true;
}

std::span<const Observation> SeriesHistory::Window(std::string_view source, std::string_view name, int64_t t_min,
                                                   int64_t t_max, int64_t window) const {
  auto it = series_.find(Key(source, name));
  if (it == series_.end()) return {};
  const std::vector<Observation>& h = it->second.obs;
  if (!it->second.sorted) return h;
  // The first index holding a ts >= t (the number of values before t).
  auto before = [&](int64_t t) {
    return static_cast<int64_t>(
        std::lower_bound(h.begin(), h.end(), t, [](const Observation& o, int64_t v) { return o.ts < v; }) - h.begin());
  };
  // As ScoreSeries: g0 is where the earliest row's timestamp group starts; the rows' windows
  // reach back to g0 - window, whose group starts at a; the flags of the values from a on need
  // their own windows, back to a - window. Values from t_max on are in no row's window.
  const int64_t g0 = before(t_min);
  int64_t start = 0;
  if (g0 > 0) {
    const int64_t p = std::max<int64_t>(0, g0 - window);
    const int64_t a = before(h[static_cast<size_t>(p)].ts);
    start = std::max<int64_t>(0, a - window);
  }
  const int64_t end = std::max(before(t_max), start);
  return std::span<const Observation>(h.data() + start, static_cast<size_t>(end - start));
}

void SeriesHistory::Erase(std::string_view source, std::string_view name) { series_.erase(Key(source, name)); }

size_t SeriesHistory::observations() const {
  size_t n = 0;
  for (const auto& [key, s] : series_) n += s.obs.size();
  return n;
}

void SeriesHistory::Ensure(std::string_view source, std::string_view name) { series_[Key(source, name)]; }

bool SeriesHistory::Contains(std::string_view source, std::string_view name) const {
  return series_.count(Key(source, name)) > 0;
}

Status SeriesHistory::AddRows(const arrow::Table& rows) {
  if (rows.num_rows() == 0) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(auto batch, Combine(rows));
  PULSE_ASSIGN_OR_RETURN(Columns c, GetColumns(*batch, false));
  // One key per series, not per row (the map's values stay where they are when it grows).
  std::unordered_map<SeriesRef, Series*, SeriesRefHash> slots;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    const SeriesRef ref{c.source->GetView(i), c.name->GetView(i)};
    auto [it, fresh] = slots.try_emplace(ref, nullptr);
    if (fresh) it->second = &series_[Key(ref.source, ref.name)];
    it->second->Push({c.ts->Value(i), c.value->Value(i)});
    all_sorted_ = all_sorted_ && it->second->sorted;
  }
  return Status::Ok();
}

Status SeriesHistory::AddStoredRows(const arrow::Table& stored) {
  for (const auto& batch_or : arrow::TableBatchReader(stored)) {
    if (!batch_or.ok()) return Status::Internal(batch_or.status().ToString());
    const auto& batch = **batch_or;
    auto source = std::dynamic_pointer_cast<arrow::StringArray>(batch.GetColumnByName("source"));
    auto name = std::dynamic_pointer_cast<arrow::StringArray>(batch.GetColumnByName("name"));
    auto ts = std::dynamic_pointer_cast<arrow::TimestampArray>(batch.GetColumnByName("ts"));
    auto value = std::dynamic_pointer_cast<arrow::DoubleArray>(batch.GetColumnByName("value"));
    if (!source || !name || !ts || !value)
      return Status::InvalidArgument("stored signals lack a valid source, name, ts or value column");
    std::unordered_map<SeriesRef, Series*, SeriesRefHash> slots;  // null: not held
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      if (name->IsNull(i) || source->IsNull(i) || ts->IsNull(i) || value->IsNull(i)) continue;
      const SeriesRef ref{source->GetView(i), name->GetView(i)};
      auto [it, fresh] = slots.try_emplace(ref, nullptr);
      if (fresh) {
        auto held = series_.find(Key(ref.source, ref.name));
        if (held != series_.end()) it->second = &held->second;
      }
      if (it->second != nullptr) {
        it->second->Push({ts->Value(i), value->Value(i)});
        all_sorted_ = all_sorted_ && it->second->sorted;
      }
    }
  }
  return Status::Ok();
}

Result<bool> NewerThanHistory(const arrow::Table& rows, const SeriesHistory& history) {
  if (rows.num_rows() == 0) return true;
  PULSE_ASSIGN_OR_RETURN(auto batch, Combine(rows));
  PULSE_ASSIGN_OR_RETURN(Columns c, GetColumns(*batch, false));
  std::unordered_map<SeriesRef, int64_t, SeriesRefHash> oldest;  // per series of `rows`
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    auto [it, fresh] = oldest.try_emplace({c.source->GetView(i), c.name->GetView(i)}, c.ts->Value(i));
    if (!fresh) it->second = std::min(it->second, c.ts->Value(i));
  }
  for (const auto& [series, ts] : oldest) {
    for (const auto& o : history.Get(series.source, series.name)) {
      if (o.ts >= ts) return false;
    }
  }
  return true;
}

void SeriesHistory::Trim(int64_t depth) {
  const auto keep = static_cast<size_t>(std::max<int64_t>(depth, 0));
  for (auto& [key, s] : series_) {
    if (s.obs.size() <= keep) continue;
    if (!s.sorted) std::sort(s.obs.begin(), s.obs.end(), ObservationLess);
    s.sorted = true;
    s.obs.erase(s.obs.begin(), s.obs.end() - static_cast<std::ptrdiff_t>(keep));
  }
}

Result<std::vector<std::pair<std::string, std::string>>> SeriesOf(const arrow::Table& rows) {
  std::vector<std::pair<std::string, std::string>> out;
  if (rows.num_rows() == 0) return out;
  PULSE_ASSIGN_OR_RETURN(auto batch, Combine(rows));
  PULSE_ASSIGN_OR_RETURN(Columns c, GetColumns(*batch, false));
  std::unordered_set<SeriesRef, SeriesRefHash> seen;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    const SeriesRef ref{c.source->GetView(i), c.name->GetView(i)};
    if (seen.insert(ref).second) out.emplace_back(std::string(ref.source), std::string(ref.name));
  }
  return out;
}

Result<std::shared_ptr<arrow::Table>> ScoreBatch(const arrow::Table& rows, const SeriesHistory& history,
                                                 const ScoringRules& rules, GateCounts* counts) {
  if (!rows.schema()->Equals(*SignalSchema(), /*check_metadata=*/false)) {
    // Nullability may differ (e.g. rows read back from a table); names and types may not.
    const auto want = SignalSchema();
    bool same = rows.schema()->num_fields() == want->num_fields();
    for (int i = 0; same && i < want->num_fields(); ++i) {
      same = rows.schema()->field(i)->name() == want->field(i)->name() &&
             rows.schema()->field(i)->type()->Equals(*want->field(i)->type());
    }
    if (!same)
      return Status::InvalidArgument("signals to score must have the signals schema, got " + rows.schema()->ToString());
  }
  const int64_t n = rows.num_rows();
  std::shared_ptr<arrow::RecordBatch> batch;
  if (n > 0) {
    PULSE_ASSIGN_OR_RETURN(batch, Combine(rows));
  } else {
    PULSE_ASSIGN_OR_RETURN(batch, [&]() -> Result<std::shared_ptr<arrow::RecordBatch>> {
      auto empty = arrow::RecordBatch::MakeEmpty(rows.schema());
      if (!empty.ok()) return Status::Internal(empty.status().ToString());
      return *empty;
    }());
  }
  PULSE_ASSIGN_OR_RETURN(Columns c, GetColumns(*batch, true));

  // Anomaly scores, series by series.
  std::unordered_map<SeriesRef, std::vector<int64_t>, SeriesRefHash> by_series;
  for (int64_t i = 0; i < n; ++i) by_series[{c.source->GetView(i), c.name->GetView(i)}].push_back(i);
  std::vector<SeriesScore> scores(static_cast<size_t>(n));
  std::vector<Observation> obs;
  for (const auto& [series, indices] : by_series) {
    obs.clear();
    int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    for (int64_t i : indices) {
      obs.push_back({c.ts->Value(i), c.value->Value(i)});
      t_min = std::min(t_min, c.ts->Value(i));
      t_max = std::max(t_max, c.ts->Value(i));
    }
    auto s = ScoreSeries(history.Window(series.source, series.name, t_min, t_max, rules.anomaly_window), obs, rules);
    for (size_t j = 0; j < indices.size(); ++j) scores[static_cast<size_t>(indices[j])] = s[j];
  }

  arrow::DoubleBuilder recency_b, z_b, sti_b;
  arrow::BooleanBuilder anomaly_b;
  arrow::StringBuilder tag_b, gate_b, reason_b;
  PULSE_RETURN_IF_ERROR(FromArrow(recency_b.Reserve(n)));
  PULSE_RETURN_IF_ERROR(FromArrow(z_b.Reserve(n)));
  PULSE_RETURN_IF_ERROR(FromArrow(sti_b.Reserve(n)));
  PULSE_RETURN_IF_ERROR(FromArrow(anomaly_b.Reserve(n)));
  std::unordered_map<std::string_view, std::string_view> tag_of;  // name (a view of the batch) -> tag
  for (int64_t i = 0; i < n; ++i) {
    const SeriesScore& s = scores[static_cast<size_t>(i)];
    const int64_t reference = rules.as_of_us ? *rules.as_of_us : c.ingest_time->Value(i);
    const int64_t ts = c.ts->Value(i);
    // Saturating age: instants are years 0001-9999, but as_of and ingest times come from outside.
    const int64_t age = (ts < 0 && reference > INT64_MAX + ts)   ? INT64_MAX
                        : (ts > 0 && reference < INT64_MIN + ts) ? INT64_MIN
                                                                 : reference - ts;
    const double recency = Recency(age, rules.RecencyWindow(c.kind->GetView(i)));
    const double sti = SymbolicTensionIndex(recency, s.anomaly.anomaly);
    auto [it, fresh] = tag_of.try_emplace(c.name->GetView(i));
    if (fresh) it->second = SymbolicTag(it->first, rules.tags);
    const std::string_view tag = it->second;
    const GateResult gate = Decide(sti, tag, s.anomalies_in_window, rules);
    if (counts) counts->Add(gate.gate);
    recency_b.UnsafeAppend(recency);
    if (s.anomaly.z) {
      z_b.UnsafeAppend(*s.anomaly.z);
    } else {
      z_b.UnsafeAppendNull();
    }
    anomaly_b.UnsafeAppend(s.anomaly.anomaly);
    sti_b.UnsafeAppend(sti);
    PULSE_RETURN_IF_ERROR(FromArrow(tag_b.Append(tag.data(), static_cast<int32_t>(tag.size()))));
    const std::string_view g = GateName(gate.gate);
    PULSE_RETURN_IF_ERROR(FromArrow(gate_b.Append(g.data(), static_cast<int32_t>(g.size()))));
    PULSE_RETURN_IF_ERROR(FromArrow(gate.reason.empty() ? reason_b.AppendNull() : reason_b.Append(gate.reason)));
  }
  std::vector<std::shared_ptr<arrow::Array>> columns = batch->columns();
  std::shared_ptr<arrow::Array> a;
  for (arrow::ArrayBuilder* b :
       std::initializer_list<arrow::ArrayBuilder*>{&recency_b, &z_b, &anomaly_b, &sti_b, &tag_b, &gate_b, &reason_b}) {
    PULSE_RETURN_IF_ERROR(FromArrow(b->Finish(&a)));
    columns.push_back(a);
  }
  return arrow::Table::Make(ScoredSignalSchema(), columns, n);
}

}  // namespace pulse::signals
