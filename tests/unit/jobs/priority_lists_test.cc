// kombu's priority lists on the Redis transport: which list a message of a given priority is on,
// and the order a consumer reads them in (kombu/transport/redis.py: _q_for_pri, _brpop_start).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jobs/redis_broker.h"

namespace pulse::jobs {
namespace {

using namespace std::string_literals;

TEST(PriorityLists, MapPrioritiesToKombusSteps) {
  EXPECT_EQ(PriorityList("celery", 0), "celery");
  EXPECT_EQ(PriorityList("celery", 2), "celery");
  EXPECT_EQ(PriorityList("celery", 3), "celery\x06\x16"s + "3");
  EXPECT_EQ(PriorityList("celery", 5), "celery\x06\x16"s + "3");
  EXPECT_EQ(PriorityList("celery", 8), "celery\x06\x16"s + "6");
  EXPECT_EQ(PriorityList("celery", 9), "celery\x06\x16"s + "9");
  EXPECT_EQ(PriorityList("celery", 255), "celery\x06\x16"s + "9");
  EXPECT_EQ(PriorityList("celery", -4), "celery");
}

TEST(PriorityLists, ConsumersReadEveryQueuesOwnListFirst) {
  const std::string sep = "\x06\x16";
  EXPECT_EQ(ConsumedLists({"a", "b"}),
            (std::vector<std::string>{"a", "b", "a" + sep + "3", "b" + sep + "3", "a" + sep + "6", "b" + sep + "6",
                                      "a" + sep + "9", "b" + sep + "9"}));
}

}  // namespace
}  // namespace pulse::jobs
