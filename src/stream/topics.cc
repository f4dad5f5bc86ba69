#include "stream/topics.h"

#include "core/printable.h"

namespace pulse::stream {
namespace {

bool TopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// A glob ('*' any run, '?' one character) as an anchored librdkafka regular expression.
std::string GlobToRegex(std::string_view glob) {
  std::string out = "^";
  for (char c : glob) {
    if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else if (c == '.') {
      out += "\\.";
    } else {
      out += c;
    }
  }
  return out + "$";
}

}  // namespace

std::string TopicForKind(std::string_view kind) {
  std::string topic(kTopicPrefix);
  for (char c : kind) topic += TopicChar(c) ? c : '_';
  return topic;
}

std::optional<std::string> KindFromTopic(std::string_view topic) {
  if (!topic.starts_with(kTopicPrefix) || topic.size() == kTopicPrefix.size()) return std::nullopt;
  std::string_view kind = topic.substr(kTopicPrefix.size());
  if (kind.size() > 64) return std::nullopt;
  return std::string(kind);
}

Result<KafkaUrl> ParseKafkaUrl(std::string_view url) {
  KafkaUrl out;
  out.text = Printable(url, 512);
  constexpr std::string_view kScheme = "kafka://";
  if (!url.starts_with(kScheme))
    return Status::InvalidArgument("'" + out.text + "' is not a kafka:// URL (kafka://HOST:PORT[,HOST:PORT]/TOPICS)");
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  out.brokers = std::string(rest.substr(0, slash));
  if (out.brokers.empty()) return Status::InvalidArgument("'" + out.text + "' names no broker");
  for (char c : out.brokers) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '@')
      return Status::InvalidArgument("'" + out.text + "': bad character in the broker list");
  }
  if (slash == std::string_view::npos) return out;
  std::string_view topics = rest.substr(slash + 1);
  if (topics.starts_with('^')) {
    out.topics.emplace_back(topics);
    return out;
  }
  size_t start = 0;
  while (start <= topics.size()) {
    size_t comma = topics.find(',', start);
    if (comma == std::string_view::npos) comma = topics.size();
    std::string_view topic = topics.substr(start, comma - start);
    start = comma + 1;
    if (topic.empty()) continue;
    bool glob = false;
    for (char c : topic) {
      if (c == '*' || c == '?') {
        glob = true;
      } else if (!TopicChar(c)) {
        return Status::InvalidArgument("'" + out.text + "': topic '" + Printable(topic, 256) +
                                       "' has a character Kafka does not allow (A-Z a-z 0-9 . _ -)");
      }
    }
    if (topic.size() > 249) return Status::InvalidArgument("'" + out.text + "': topic name over 249 characters");
    out.topics.push_back(glob ? GlobToRegex(topic) : std::string(topic));
  }
  return out;
}

}  // namespace pulse::stream
