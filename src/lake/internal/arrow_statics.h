// Arrow and Parquet keep lazily built process-wide state: function-local statics (default writer
// and reader properties, data type singletons, the compute function registry, cast tables) and
// fingerprints cached inside shared schema, field and type objects on first use. The library
// publishes them safely, but from code built without ThreadSanitizer (the pyarrow wheel), so TSan
// sees only one side of each publication and reports the first concurrent users as a data race.
//
// These two functions make every such publication happen before the concurrent use, through
// synchronisation TSan understands, at a negligible cost:
// - WarmArrowStatics(): once per process (std::call_once), runs a tiny Parquet write and read and
//   the compute kernels the lake uses, so the statics exist before any table is used. Every
//   DeltaTable calls it on construction.
// - PinFingerprints(schema): computes the fingerprints of `schema`, its fields and their types under
//   one process-wide mutex, so a schema shared by threads is finished before they compare it.
//   Called where a table or a caller's rows enter the lake.
#pragma once

#include <arrow/type_fwd.h>

namespace pulse::lake {

void WarmArrowStatics();
void PinFingerprints(const arrow::Schema& schema);

}  // namespace pulse::lake
