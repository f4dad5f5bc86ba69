#include "lake/internal/arrow_statics.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/io/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include <mutex>

namespace pulse::lake {
namespace {

// A round trip through every path a table uses: type singletons, Parquet write and read with the
// default properties, and the compute kernels (take, sort, dictionary encode, cast). Failures are
// ignored: this only builds caches, the real call reports its own errors later.
void RunWarmUp() {
  (void)parquet::default_writer_properties();
  (void)parquet::default_reader_properties();
  (void)parquet::default_arrow_writer_properties();
  (void)parquet::default_arrow_reader_properties();
  (void)arrow::compute::GetFunctionRegistry();
  const std::shared_ptr<arrow::DataType> types[] = {arrow::boolean(),
                                                    arrow::int8(),
                                                    arrow::int16(),
                                                    arrow::int32(),
                                                    arrow::int64(),
                                                    arrow::float32(),
                                                    arrow::float64(),
                                                    arrow::utf8(),
                                                    arrow::large_utf8(),
                                                    arrow::binary(),
                                                    arrow::date32(),
                                                    arrow::null(),
                                                    arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"),
                                                    arrow::timestamp(arrow::TimeUnit::MICRO),
                                                    arrow::list(arrow::float64())};
  for (const auto& type : types) (void)type->fingerprint();

  arrow::Int64Builder ints;
  arrow::StringBuilder strings;
  arrow::DoubleBuilder doubles;
  if (!ints.AppendValues({3, 1, 2}).ok() || !strings.AppendValues({"b", "a", "b"}).ok() ||
      !doubles.AppendValues({0.5, 1.5, 2.5}).ok())
    return;
  std::shared_ptr<arrow::Array> i, s, d;
  if (!ints.Finish(&i).ok() || !strings.Finish(&s).ok() || !doubles.Finish(&d).ok()) return;
  auto schema = arrow::schema(
      {arrow::field("i", arrow::int64()), arrow::field("s", arrow::utf8()), arrow::field("d", arrow::float64())});
  PinFingerprints(*schema);
  auto table = arrow::Table::Make(schema, {i, s, d});
  auto indices = arrow::compute::SortIndices(*i);
  if (indices.ok()) (void)arrow::compute::Take(table, *indices);
  auto encoded = arrow::compute::DictionaryEncode(s);
  if (encoded.ok() && encoded->is_array()) {
    auto dict = std::static_pointer_cast<arrow::DictionaryArray>(encoded->make_array());
    (void)arrow::compute::Cast(*dict->indices(), arrow::int32());
  }
  (void)arrow::compute::Cast(*i, arrow::float64());
  (void)arrow::compute::MinMax(i);

  auto sink = arrow::io::BufferOutputStream::Create();
  if (!sink.ok()) return;
  if (!parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), *sink, 1024).ok()) return;
  auto buffer = (*sink)->Finish();
  if (!buffer.ok()) return;
  auto reader =
      parquet::arrow::OpenFile(std::make_shared<arrow::io::BufferReader>(*buffer), arrow::default_memory_pool());
  if (!reader.ok()) return;
  std::shared_ptr<arrow::Table> back;
  (void)(*reader)->ReadTable(&back);
}

}  // namespace

void WarmArrowStatics() {
  static std::once_flag once;
  std::call_once(once, RunWarmUp);
}

void PinFingerprints(const arrow::Schema& schema) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  (void)schema.fingerprint();
  for (const auto& field : schema.fields()) {
    (void)field->fingerprint();
    (void)field->type()->fingerprint();
    for (const auto& child : field->type()->fields()) (void)child->fingerprint();
  }
}

}  // namespace pulse::lake
