#include "stream/kafka_client.h"

#include "core/log.h"
#include "core/printable.h"

namespace pulse::stream {
namespace {

void LogLine(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* text) noexcept {
  try {
    // syslog levels: 0-3 errors, 4 warnings, 5-6 notices and info, 7 debug.
    const nlohmann::json fields = {{"facility", Printable(facility != nullptr ? facility : "", 64)}};
    const std::string message = Printable(text != nullptr ? text : "", 1024);
    if (level <= 3) {
      log::Error("kafka", message, fields);
    } else if (level == 4) {
      log::Warn("kafka", message, fields);
    } else if (level <= 6) {
      log::Info("kafka", message, fields);
    } else {
      log::Debug("kafka", message, fields);
    }
  } catch (...) {
    // A log line is not worth crossing back into librdkafka with an exception.
  }
}

}  // namespace

Result<KafkaConf> NewKafkaConf(const std::map<std::string, std::string>& settings) {
  KafkaConf conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("Kafka setting " + Printable(key, 128) + "=" + Printable(value, 256) + ": " +
                                     Printable(err));
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), LogLine);
  return conf;
}

Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, KafkaConf conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) return Status::InvalidArgument("creating the Kafka client: " + Printable(err));
  (void)conf.release();  // rd_kafka_new took it over
  return KafkaHandle(rk);
}

rd_kafka_resp_err_t Produce(rd_kafka_t* rk, const char* topic, std::string_view key, std::string_view value,
                            std::initializer_list<std::pair<const char*, std::string_view>> headers) {
  std::vector<rd_kafka_vu_t> vus(4 + headers.size());
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[n++].u.cstr = topic;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = const_cast<char*>(key.data());  // copied by librdkafka (RD_KAFKA_MSG_F_COPY)
  vus[n++].u.mem.size = key.size();
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<char*>(value.data());
  vus[n++].u.mem.size = value.size();
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  for (const auto& [name, v] : headers) {
    vus[n].vtype = RD_KAFKA_VTYPE_HEADER;
    vus[n].u.header.name = name;
    vus[n].u.header.val = v.data();
    vus[n++].u.header.size = static_cast<ssize_t>(v.size());
  }
  rd_kafka_error_t* error = rd_kafka_produceva(rk, vus.data(), n);
  if (error == nullptr) return RD_KAFKA_RESP_ERR_NO_ERROR;
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return code;
}

Status KafkaError(rd_kafka_resp_err_t err, const std::string& context) {
  return Status::Unavailable(context + ": " + rd_kafka_err2name(err) + ": " + rd_kafka_err2str(err));
}

}  // namespace pulse::stream
