// Small RAII pieces over librdkafka's C API shared by the consumer and the producer: handles that
// free themselves, configuration from a key/value map with errors as Status, and librdkafka's log
// lines routed to Pulse's log. librdkafka's C API throws nothing; the callbacks installed here
// catch everything, so no exception crosses back into librdkafka.
#pragma once

#include <librdkafka/rdkafka.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pulse::stream {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;

// A configuration with `settings` applied (kInvalidArgument naming the bad key) and librdkafka's
// logs sent to Pulse's log (module "kafka").
Result<KafkaConf> NewKafkaConf(const std::map<std::string, std::string>& settings);

// A client from `conf` (which it takes over, also on failure).
Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, KafkaConf conf);

// Produces one record (copied; queued for delivery): `topic` NUL-terminated, then key, value and
// headers (name, value). RD_KAFKA_RESP_ERR__QUEUE_FULL when the local queue is full (poll, retry).
rd_kafka_resp_err_t Produce(rd_kafka_t* rk, const char* topic, std::string_view key, std::string_view value,
                            std::initializer_list<std::pair<const char*, std::string_view>> headers);

// "librdkafka: <name of err>: <text>".
Status KafkaError(rd_kafka_resp_err_t err, const std::string& context);

}  // namespace pulse::stream
