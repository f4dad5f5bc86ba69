// PublishFile: reads a signals file exactly as `pulse ingest` does (CSV or JSON lines, long or wide
// layout, same validation) and produces its accepted rows to Kafka, one JSON object per record
// ({"name","source","kind","ts","value","unit","metadata"}, header pulse-format: json) - what
// `pulse ingest --stream` reads back into the same rows.
//
// Contract:
//  - Idempotent producer (enable.idempotence: no duplicates or reordering from retries), keyed by
//    "<source>/<name>", so every record of a series lands in one partition, in file order.
//  - Topic: `topic` when set, else one per kind, TopicForKind(kind) ("pulse.signals.<kind>").
//  - Returns once every record is acknowledged by the broker (acks=all), or the first delivery
//    error (records before it may have been delivered; publishing the file again duplicates them
//    in Kafka, which the consumer stores again: publish is at-least-once per call).
//  - Rejected rows are reported like ingest's (line, reason) and not produced.
#pragma once

#include <map>
#include <string>

#include "core/status.h"
#include "ingest/file_ingest.h"

namespace pulse::stream {

struct PublishOptions {
  std::string brokers;                       // host:port[,host:port]
  std::string topic;                         // "" = per kind
  ingest::IngestOptions parse;               // as for pulse ingest
  std::map<std::string, std::string> kafka;  // extra librdkafka properties
  int64_t timeout_ms = 120000;               // for the final flush
};

struct PublishReport {
  ingest::IngestReport parse;  // accepted / rejected rows of the file
  int64_t published = 0;
  std::map<std::string, int64_t> topics;  // records per topic
  double seconds = 0;
};

Result<PublishReport> PublishFile(const std::string& path, const PublishOptions& options);

}  // namespace pulse::stream
