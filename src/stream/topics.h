// Naming shared by the producer (pulse publish) and the consumer (pulse ingest --stream): topics
// per signal kind, the record header naming a record's format, and kafka:// URLs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::stream {

// Default topic of a signal kind: "pulse.signals.<kind>" (a kind that is not a legal topic name,
// [A-Za-z0-9._-], has its other bytes replaced by '_').
inline constexpr std::string_view kTopicPrefix = "pulse.signals.";
std::string TopicForKind(std::string_view kind);
// The kind a topic of that form names, for records that carry none; nullopt for other topics.
std::optional<std::string> KindFromTopic(std::string_view topic);

// Record header naming the value's format ("json" or "csv"); records without it use the
// configured format.
inline constexpr const char* kFormatHeader = "pulse-format";
// Record header with the W3C trace context of the producing span (core/trace.h): pulse publish
// sets it; pulse ingest --stream links each batch's span to the traces of its records.
inline constexpr const char* kTraceparentHeader = "traceparent";

// kafka://HOST:PORT[,HOST:PORT...][/TOPICS]. TOPICS: one topic, a comma-separated list, a glob
// with '*' and '?' ("pulse.signals.*"), or a regular expression starting with '^' (librdkafka's
// subscription syntax). Empty when the URL names no topic.
struct KafkaUrl {
  std::string brokers;              // "h1:9092,h2:9092"
  std::vector<std::string> topics;  // as librdkafka subscribes: names, or "^regex" patterns
  std::string text;                 // the URL as given (for messages)
};
Result<KafkaUrl> ParseKafkaUrl(std::string_view url);

}  // namespace pulse::stream
