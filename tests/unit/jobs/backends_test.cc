// Opening each jobs backend from its URL (jobs/backends.h) without a server: the in-process kinds
// open and work; Redis URLs that cannot be right are refused before any connection, saying which
// forms are accepted. (redis://… against a real server: tests/integration/jobs.)
#include <gtest/gtest.h>

#include "jobs/backends.h"
#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"
#include "jobs/task_errors.h"

namespace pulse::jobs {
namespace {

TEST(OpenBroker, InprocAndMemoryOpenAnInProcessBroker) {
  for (const char* url : {"inproc", "memory"}) {
    auto broker = OpenBroker(url);
    ASSERT_TRUE(broker.ok()) << url << ": " << broker.status().ToString();
    EXPECT_NE(dynamic_cast<InProcessBroker*>(broker->get()), nullptr) << url;
    TaskMessage m;
    m.task = "t", m.id = "1";
    ASSERT_TRUE((*broker)->Publish("celery", EncodeMessage(m)).ok());
    EXPECT_EQ(*(*broker)->QueueLength("celery"), 1);
    EXPECT_TRUE(IsLocalBrokerUrl(url));
  }
  auto bounded = OpenBroker("inproc", {.inproc_capacity = 1});
  ASSERT_TRUE(bounded.ok());
  ASSERT_TRUE((*bounded)->Publish("q", "{}").ok());
  EXPECT_EQ((*bounded)->Publish("q", "{}").code(), StatusCode::kResourceExhausted);
}

TEST(OpenBroker, CommandsWhosePeersAreOtherProcessesRefuseAnInProcessBroker) {
  auto broker = OpenBroker("inproc", {.shared_only = true});
  ASSERT_FALSE(broker.ok());
  EXPECT_EQ(broker.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broker.status().message().find("lives in this process only"), std::string::npos)
      << broker.status().message();
  EXPECT_NE(broker.status().message().find("redis://"), std::string::npos);
}

TEST(OpenBroker, UnknownSchemesAndTlsAreRefusedNamingTheAcceptedForms) {
  for (const char* url : {"", "kafka://broker:9092", "amqp://guest@rabbit//", "Redis://x", "inproc "}) {
    auto broker = OpenBroker(url);
    ASSERT_FALSE(broker.ok()) << url;
    EXPECT_EQ(broker.status().code(), StatusCode::kInvalidArgument) << url;
    const Status st = broker.status();
    const std::string& why = st.message();
    EXPECT_NE(why.find("inproc, memory or redis://[[user]:password@]host[:port][/db]"), std::string::npos) << why;
  }
  // Credentials are never echoed.
  const Status with_password = OpenBroker("amqp://user:s3cret@rabbit//").status();
  EXPECT_EQ(with_password.message().find("s3cret"), std::string::npos) << with_password.message();
  auto tls = OpenBroker("rediss://:pw@127.0.0.1:6380/0");
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(tls.status().message().find("rediss://… (Redis over TLS) is not supported"), std::string::npos)
      << tls.status().message();
  EXPECT_EQ(tls.status().message().find("pw"), std::string::npos);
  // A malformed redis URL: the client's own parse error, before any connection.
  auto bad_port = OpenBroker("redis://127.0.0.1:99999/0");
  ASSERT_FALSE(bad_port.ok());
  EXPECT_EQ(bad_port.status().code(), StatusCode::kInvalidArgument) << bad_port.status().ToString();
}

TEST(OpenCache, MemoryOpensAnLruCacheAndOtherSchemesAreRefused) {
  auto cache = OpenCache("memory", {.memory_entries = 1});
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  ASSERT_TRUE((*cache)->Put("a", "1", std::chrono::seconds(60)).ok());
  ASSERT_TRUE((*cache)->Put("b", "2", std::chrono::seconds(60)).ok());
  EXPECT_FALSE(*(*cache)->Get("a"));  // one entry kept
  EXPECT_EQ(**(*cache)->Get("b"), "2");
  for (const char* url : {"", "inproc", "memcached://x", "rediss://h:1/0"}) {
    auto refused = OpenCache(url);
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << url;
  }
  const Status inproc = OpenCache("inproc").status();
  EXPECT_NE(inproc.message().find("memory or redis://"), std::string::npos) << inproc.message();
}

TEST(CacheUrlFor, DefaultsToWhereTheBrokerIs) {
  EXPECT_EQ(CacheUrlFor("", "inproc"), "memory");
  EXPECT_EQ(CacheUrlFor("", "memory"), "memory");
  EXPECT_EQ(CacheUrlFor("", "redis://127.0.0.1:6379/2"), "redis://127.0.0.1:6379/2");
  EXPECT_EQ(CacheUrlFor("redis://cache:6379/0", "inproc"), "redis://cache:6379/0");
  EXPECT_EQ(CacheUrlFor("memory", "redis://127.0.0.1:6379/2"), "memory");
  EXPECT_EQ(BackendUrlForDisplay("inproc"), "inproc");
  EXPECT_EQ(BackendUrlForDisplay("redis://:s3cret@127.0.0.1:6379/2"), "redis://127.0.0.1:6379/2");
}

TEST(TaskErrors, EachCodeHasItsCeleryExceptionAndRetryRule) {
  struct Row {
    StatusCode code;
    std::string_view type, module;
    bool retried;
  };
  const Row rows[] = {
      {StatusCode::kInvalidArgument, "ValueError", "builtins", false},
      {StatusCode::kPermissionDenied, "ValueError", "builtins", false},
      {StatusCode::kDeadlineExceeded, "TimeLimitExceeded", "billiard.exceptions", false},
      {StatusCode::kCancelled, "SoftTimeLimitExceeded", "billiard.exceptions", false},
      {StatusCode::kUnavailable, "RuntimeError", "builtins", true},
      {StatusCode::kIoError, "RuntimeError", "builtins", true},
      {StatusCode::kResourceExhausted, "RuntimeError", "builtins", false},
      {StatusCode::kOutOfRange, "RuntimeError", "builtins", false},  // no longer a time limit
      {StatusCode::kNotFound, "RuntimeError", "builtins", false},
      {StatusCode::kConflict, "RuntimeError", "builtins", false},
      {StatusCode::kParseError, "RuntimeError", "builtins", false},
      {StatusCode::kInternal, "RuntimeError", "builtins", false},
  };
  for (const Row& row : rows) {
    const CeleryException e = CeleryExceptionFor(row.code);
    EXPECT_EQ(e.type, row.type) << StatusCodeName(row.code);
    EXPECT_EQ(e.module, row.module) << StatusCodeName(row.code);
    EXPECT_EQ(IsRetryable(row.code), row.retried) << StatusCodeName(row.code);
  }
}

}  // namespace
}  // namespace pulse::jobs
