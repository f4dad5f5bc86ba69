// The in-process broker in each of its roles (queue, results, leases, journal), its atomic
// Finish / Retry, and the restore helpers every broker shares.
#include <gtest/gtest.h>

#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"
#include "jobs/result_cache.h"

namespace pulse::jobs {
namespace {

std::string Envelope(const std::string& id) {
  TaskMessage m;
  m.task = "t", m.id = id;
  return EncodeMessage(m);
}

TEST(InProcessBroker, UnackedDeliveriesComeBackAfterTheVisibilityTimeout) {
  InProcessBroker broker(2);
  ASSERT_TRUE(broker.Publish("q", Envelope("1")).ok());
  ASSERT_TRUE(broker.Publish("q", Envelope("1")).ok());
  const Status full = broker.Publish("q", Envelope("1"));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full.ToString();  // bounded
  EXPECT_NE(full.message().find("queue 'q' is full (2 messages)"), std::string::npos) << full.message();
  auto d = broker.Fetch({"q"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d);
  EXPECT_EQ(*broker.QueueLength("q"), 1);
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(3600), 0), 0);  // still within the timeout
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 1);     // a dead worker's delivery
  EXPECT_EQ(*broker.QueueLength("q"), 2);
  auto again = broker.Fetch({"q"}, std::chrono::milliseconds(10));  // the restored one: marked
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_TRUE(DecodeMessage((*again)->raw)->redelivered);
  auto empty = broker.Fetch({"other"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
}

TEST(InProcessBroker, FinishStoresTheResultAndAcknowledgesTogether) {
  InProcessBroker broker;
  ASSERT_TRUE(broker.Publish("q", Envelope("f")).ok());
  auto d = broker.Fetch({"q"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d);
  EXPECT_EQ(broker.UnackedCount(), 1u);
  ASSERT_TRUE(broker.Finish(**d, "f", "{\"status\": \"SUCCESS\"}", std::chrono::seconds(60)).ok());
  EXPECT_EQ(broker.UnackedCount(), 0u);
  EXPECT_EQ(**broker.GetResult("f"), "{\"status\": \"SUCCESS\"}");
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 0);  // nothing left to come back
}

TEST(InProcessBroker, ARetryIntoAFullQueueChangesNothing) {
  InProcessBroker broker(1);
  ASSERT_TRUE(broker.Publish("q", Envelope("r")).ok());
  auto d = broker.Fetch({"q"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d);
  ASSERT_TRUE(broker.Publish("q", Envelope("other")).ok());  // the queue is full again
  const Status st = broker.Retry(**d, "q", Envelope("r"), "r", "RETRY", std::chrono::seconds(60));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(*broker.GetResult("r"));    // no RETRY state
  EXPECT_EQ(broker.UnackedCount(), 1u);    // still held: restored later
  EXPECT_EQ(*broker.QueueLength("q"), 1);  // no second copy
  ASSERT_TRUE(broker.Ack(*broker.Fetch({"q"}, std::chrono::milliseconds(10)).value()).ok());
  ASSERT_TRUE(broker.Retry(**d, "q", Envelope("r"), "r", "RETRY", std::chrono::seconds(60)).ok());
  EXPECT_EQ(**broker.GetResult("r"), "RETRY");
  EXPECT_EQ(broker.UnackedCount(), 0u);
  EXPECT_EQ(*broker.QueueLength("q"), 1);
}

TEST(InProcessBroker, RequeueGoesBehindTheWaitingMessages) {
  InProcessBroker broker;
  ASSERT_TRUE(broker.Publish("q", Envelope("first")).ok());
  ASSERT_TRUE(broker.Publish("q", Envelope("second")).ok());
  auto first = broker.Fetch({"q"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(broker.Requeue(**first).ok());
  EXPECT_EQ(DecodeMessage((*broker.Fetch({"q"}, std::chrono::milliseconds(10)))->raw)->id, "second");
  EXPECT_EQ(DecodeMessage((*broker.Fetch({"q"}, std::chrono::milliseconds(10)))->raw)->id, "first");
}

TEST(InProcessBroker, DeadLettersKeepTheMessageAndTheReason) {
  InProcessBroker broker;
  ASSERT_TRUE(broker.Publish("q", "{not json").ok());
  auto d = broker.Fetch({"q"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d);
  EXPECT_FALSE((*d)->delivery_tag.empty());  // a fresh tag for a message without one
  ASSERT_TRUE(broker.DeadLetter(**d, "not JSON").ok());
  ASSERT_EQ(broker.DeadLetters().size(), 1u);
  EXPECT_EQ(broker.DeadLetters()[0], std::make_pair(std::string("{not json"), std::string("not JSON")));
  EXPECT_EQ(broker.UnackedCount(), 0u);
}

TEST(InProcessBroker, ALeaseHasOneHolderUntilItExpires) {
  InProcessBroker broker;
  EXPECT_TRUE(*broker.AcquireLease("lock", "a", std::chrono::milliseconds(50)));
  EXPECT_FALSE(*broker.AcquireLease("lock", "b", std::chrono::milliseconds(50)));
  EXPECT_TRUE(*broker.AcquireLease("lock", "a", std::chrono::milliseconds(0)));  // renewed, expiring now
  EXPECT_TRUE(*broker.AcquireLease("lock", "b", std::chrono::milliseconds(50)));
  EXPECT_TRUE(*broker.AcquireLease("other", "a", std::chrono::milliseconds(50)));  // keys are independent
}

TEST(InProcessBroker, TheJournalKeepsEntriesInOrder) {
  InProcessBroker broker;
  ASSERT_TRUE(broker.Append("log", "1").ok());
  ASSERT_TRUE(broker.Append("log", "2").ok());
  EXPECT_EQ(broker.List("log"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(broker.List("none").empty());
}

TEST(Broker, MarkRedeliveredSetsKombusFlagAndLeavesOtherTextAlone) {
  auto decoded = DecodeMessage(MarkRedelivered(Envelope("1")));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->redelivered);
  EXPECT_EQ(nlohmann::json::parse(MarkRedelivered(R"({"a":1})"))["properties"]["delivery_info"]["redelivered"], true);
  const std::vector<std::string> untouched = {"{not json", "[1,2]", R"({"properties":"text"})",
                                              R"({"properties":{"delivery_info":3}})", "\xff\xfe"};
  for (const std::string& raw : untouched) EXPECT_EQ(MarkRedelivered(raw), raw);
}

TEST(MemoryCache, KeepsTheMostRecentlyUsedEntriesUntilTheyExpire) {
  MemoryCache cache(2);
  ASSERT_TRUE(cache.Put("a", "1", std::chrono::seconds(60)).ok());
  ASSERT_TRUE(cache.Put("b", "2", std::chrono::seconds(60)).ok());
  EXPECT_EQ(**cache.Get("a"), "1");  // a is now the most recently used
  ASSERT_TRUE(cache.Put("c", "3", std::chrono::seconds(60)).ok());
  EXPECT_FALSE(*cache.Get("b"));  // evicted
  EXPECT_EQ(**cache.Get("c"), "3");
  ASSERT_TRUE(cache.Put("a", "new", std::chrono::seconds(0)).ok());
  EXPECT_FALSE(*cache.Get("a"));  // expired at once
  MemoryCache none(0);
  ASSERT_TRUE(none.Put("a", "1", std::chrono::seconds(60)).ok());
  EXPECT_FALSE(*none.Get("a"));
}

}  // namespace
}  // namespace pulse::jobs
