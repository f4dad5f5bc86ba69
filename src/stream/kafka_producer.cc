#include "stream/kafka_producer.h"

#include <arrow/api.h>

#include <atomic>
#include <charconv>
#include <chrono>

#include "core/time.h"
#include "core/trace.h"
#include "stream/kafka_client.h"
#include "stream/topics.h"

namespace pulse::stream {
namespace {

// Appends `s` as a JSON string (s is valid UTF-8: the parser checked every field).
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

struct Delivery {
  std::atomic<int64_t> delivered{0};
  std::atomic<int> first_error{RD_KAFKA_RESP_ERR_NO_ERROR};
};

void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) noexcept {
  auto* d = static_cast<Delivery*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    d->delivered.fetch_add(1);
  } else {
    int none = RD_KAFKA_RESP_ERR_NO_ERROR;
    d->first_error.compare_exchange_strong(none, msg->err);
  }
}

}  // namespace

Result<PublishReport> PublishFile(const std::string& path, const PublishOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  PublishReport report;
  PULSE_ASSIGN_OR_RETURN(auto rows, ingest::ParseSignalsFile(path, options.parse, report.parse));
  if (options.brokers.empty()) return Status::InvalidArgument("pulse publish: no Kafka broker given");

  // One producer span over the whole file; every record carries it as its traceparent header.
  trace::Span span = trace::Span::Start("stream.publish", trace::SpanKind::kProducer);
  span.SetAttribute("pulse.stream.rows", rows->num_rows());
  const std::string traceparent = span.traceparent();
  Delivery delivery;
  std::map<std::string, std::string> settings = {{"bootstrap.servers", options.brokers},
                                                 {"enable.idempotence", "true"},
                                                 {"linger.ms", "10"},
                                                 {"batch.size", "1000000"},
                                                 {"compression.codec", "lz4"}};
  for (const auto& [k, v] : options.kafka) settings[k] = v;
  PULSE_ASSIGN_OR_RETURN(auto conf, NewKafkaConf(settings));
  rd_kafka_conf_set_opaque(conf.get(), &delivery);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  PULSE_ASSIGN_OR_RETURN(auto rk, NewKafkaClient(RD_KAFKA_PRODUCER, std::move(conf)));

  auto combined = rows->CombineChunksToBatch();
  if (!combined.ok()) return Status::Internal(combined.status().ToString());
  const auto& batch = **combined;
  auto col = [&](const char* name) { return batch.GetColumnByName(name); };
  auto names = std::static_pointer_cast<arrow::StringArray>(col("name"));
  auto sources = std::static_pointer_cast<arrow::StringArray>(col("source"));
  auto kinds = std::static_pointer_cast<arrow::StringArray>(col("kind"));
  auto tss = std::static_pointer_cast<arrow::TimestampArray>(col("ts"));
  auto values = std::static_pointer_cast<arrow::DoubleArray>(col("value"));
  auto units = std::static_pointer_cast<arrow::StringArray>(col("unit"));
  auto metadata = std::static_pointer_cast<arrow::StringArray>(col("metadata"));

  std::string value, key, topic;
  for (int64_t i = 0; i < batch.num_rows(); ++i) {
    value.clear();
    value += "{\"name\":";
    AppendJsonString(value, names->GetView(i));
    value += ",\"source\":";
    AppendJsonString(value, sources->GetView(i));
    value += ",\"kind\":";
    AppendJsonString(value, kinds->GetView(i));
    value += ",\"ts\":";
    AppendJsonString(value, time::FormatTimestamp(tss->Value(i)));
    char number[32];
    auto [end, ec] = std::to_chars(number, number + sizeof number, values->Value(i));
    (void)ec;  // a double always fits in 32 characters
    value += ",\"value\":";
    value.append(number, end);
    if (!units->IsNull(i) && units->value_length(i) > 0) {
      value += ",\"unit\":";
      AppendJsonString(value, units->GetView(i));
    }
    if (!metadata->IsNull(i) && metadata->GetView(i) != "{}") {
      value += ",\"metadata\":";
      value += metadata->GetView(i);  // a JSON object the parser checked
    }
    value += '}';
    key.assign(sources->GetView(i)).append("/").append(names->GetView(i));
    topic = options.topic.empty() ? TopicForKind(kinds->GetView(i)) : options.topic;
    for (;;) {
      rd_kafka_resp_err_t err = traceparent.empty()
                                    ? Produce(rk.get(), topic.c_str(), key, value, {{kFormatHeader, "json"}})
                                    : Produce(rk.get(), topic.c_str(), key, value,
                                              {{kFormatHeader, "json"}, {kTraceparentHeader, traceparent}});
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk.get(), 50);
        continue;
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "producing to " + topic);
      break;
    }
    ++report.topics[topic];
    rd_kafka_poll(rk.get(), 0);
    if (delivery.first_error.load() != RD_KAFKA_RESP_ERR_NO_ERROR) break;
  }
  rd_kafka_resp_err_t flushed = rd_kafka_flush(rk.get(), static_cast<int>(options.timeout_ms));
  if (delivery.first_error.load() != RD_KAFKA_RESP_ERR_NO_ERROR)
    return KafkaError(static_cast<rd_kafka_resp_err_t>(delivery.first_error.load()), "delivering to Kafka");
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(flushed,
                      "waiting for Kafka to acknowledge " + std::to_string(rd_kafka_outq_len(rk.get())) + " records");
  }
  report.published = delivery.delivered.load();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace pulse::stream
