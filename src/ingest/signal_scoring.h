// The one step between validated signals and the signals table, shared by every ingest path
// (files: ingest/file_ingest.h; streams): open the table (creating it, or adding the score
// columns to a table written before they existed), read each series' history from it, and score
// and gate the rows (signals/scoring.h, docs/signals.md). Appending stays with the caller, which
// owns its commit (idempotency txn, operation name).
//
// State across restarts lives in the table itself: a series' rolling window is the last values
// of that series stored in `signals`, so a restarted or second ingester scores the next rows as
// the first would have. Two writers racing on the SAME series each see only what was committed
// when they read; scores then follow the order of their reads, not of their commits.
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "lake/lake.h"
#include "signals/score_batch.h"
#include "signals/scoring.h"

namespace pulse::ingest {

// Opens the lake's signals table for appending scored rows: creates it with
// ScoredSignalSchema() if absent; a table holding the nine unscored columns gains the score
// columns (DeltaTable::AddColumns: one metaData commit; old rows read them as null). Any other
// schema is kInvalidArgument naming it.
Result<std::unique_ptr<lake::DeltaTable>> OpenSignalsTable(lake::Lake& lake);

// Adds to `history` every stored observation (source, name, ts, value) of the series in `rows`
// that `history` does not hold yet, reading the table once (at its latest version, or `version`).
Status LoadSeriesHistory(lake::DeltaTable& table, const arrow::Table& rows, signals::SeriesHistory& history,
                         std::optional<int64_t> version = std::nullopt);

struct ScoredSignals {
  std::shared_ptr<arrow::Table> rows;  // ScoredSignalSchema(), the input rows in their order
  signals::GateCounts gate;
};

// Scores validated `rows` (SignalSchema()) against the history of their series in `table`.
// A long-running ingester may pass its own `history`: series it lacks are loaded from the table
// into it, series it holds are not re-read; the caller adds the rows to it (AddRows) after its
// commit succeeds, and may Trim it to rules.HistoryDepth() per series.
// `version`: read the series it lacks from the table at that version (latest if unset).
Result<ScoredSignals> ScoreSignals(lake::DeltaTable& table, const arrow::Table& rows,
                                   const signals::ScoringRules& rules, signals::SeriesHistory* history = nullptr,
                                   std::optional<int64_t> version = std::nullopt);

}  // namespace pulse::ingest
