// Scoring a batch of validated signals (an Arrow table with SignalSchema()) into rows of the
// signals table (ScoredSignalSchema()): the per-row formulas of signals/scoring.h applied with
// each series' history. Pure: the history comes from the caller (ingest/signal_scoring.h reads it
// from the lake; a long-running consumer may keep one SeriesHistory across batches).
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "signals/scoring.h"

namespace pulse::signals {

// Stored observations per series (source, name). Names and sources hold no NUL (validated).
class SeriesHistory {
 public:
  void Add(std::string_view source, std::string_view name, Observation obs);
  // The series' observations in insertion order; empty when unknown.
  std::span<const Observation> Get(std::string_view source, std::string_view name) const;
  bool Contains(std::string_view source, std::string_view name) const;
  // Records a series as known even when it has no observations (so it is not looked up again).
  void Ensure(std::string_view source, std::string_view name);
  // Adds every row of `rows` (SignalSchema columns source, name, ts, value).
  Status AddRows(const arrow::Table& rows);
  // Adds the rows of `stored` (columns source, name, ts, value as read from the signals table;
  // rows with a null among them are skipped) whose series this history already holds.
  Status AddStoredRows(const arrow::Table& stored);
  // Keeps the `depth` newest observations (by ts, value) of every series: enough for scoring
  // later rows when depth >= ScoringRules::HistoryDepth() and rows arrive in time order.
  void Trim(int64_t depth);
  // Orders every series' observations by (ts, value) (cheap when they already are: rows added in
  // that order keep a series ordered).
  void Sort();
  // The part of a series' observations that scoring rows of it with timestamps in
  // [t_min, t_max] reads (ScoreSeries with `window` = anomaly_window): the values before t_min's
  // window and the windows of those values, and everything up to t_max. Scoring the rows against
  // it gives exactly what scoring them against Get() gives; it saves the sorting and scanning of
  // a long history. The whole series when it is not ordered (see Sort()).
  std::span<const Observation> Window(std::string_view source, std::string_view name, int64_t t_min, int64_t t_max,
                                      int64_t window) const;
  // Forgets one series (it is read again when next needed).
  void Erase(std::string_view source, std::string_view name);
  size_t series() const { return series_.size(); }
  // Observations held, all series together.
  size_t observations() const;

  static std::string Key(std::string_view source, std::string_view name);

 private:
  struct Series {
    std::vector<Observation> obs;
    bool sorted = true;  // obs ordered by (ts, value)
    void Push(Observation o);
  };
  std::unordered_map<std::string, Series> series_;
  bool all_sorted_ = true;
};

// True when every row of `rows` (SignalSchema) is newer than every observation `history` holds
// of its series (series without observations there pass): `history` then scores them exactly.
Result<bool> NewerThanHistory(const arrow::Table& rows, const SeriesHistory& history);

// The (source, name) keys of `rows` (SignalSchema).
Result<std::vector<std::pair<std::string, std::string>>> SeriesOf(const arrow::Table& rows);

// `rows` (SignalSchema, any order) with the score columns appended (ScoredSignalSchema, same
// row order), scored against `history`; `counts` (optional) receives the gate decisions.
Result<std::shared_ptr<arrow::Table>> ScoreBatch(const arrow::Table& rows, const SeriesHistory& history,
                                                 const ScoringRules& rules, GateCounts* counts = nullptr);

}  // namespace pulse::signals
