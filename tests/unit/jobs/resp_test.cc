// The pure parts of the Redis client: RESP2 command encoding, the incremental reply parser (fed
// whole, one byte at a time and in random pieces), server error mapping and redis:// URLs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "jobs/redis_client.h"

namespace pulse::jobs {
namespace {

using namespace std::string_literals;
using Type = RedisReply::Type;

// Feeds `bytes` in pieces whose sizes come from `split` and collects every reply.
std::vector<RedisReply> ParseAll(const std::string& bytes, const std::function<size_t()>& split) {
  RespParser parser;
  std::vector<RedisReply> out;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t n = std::min(std::max<size_t>(split(), 1), bytes.size() - at);
    parser.Feed(std::string_view(bytes).substr(at, n));
    at += n;
    while (true) {
      auto next = parser.Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !next->has_value()) break;
      out.push_back(std::move(**next));
    }
  }
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  return out;
}

std::vector<RedisReply> ParseWhole(const std::string& bytes) {
  return ParseAll(bytes, [&] { return bytes.size(); });
}

Status ParseError(const std::string& bytes, RespParser::Limits limits = {}) {
  RespParser parser(limits);
  parser.Feed(bytes);
  while (true) {
    auto next = parser.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return Status::Ok();
  }
}

TEST(RespEncode, CommandIsAnArrayOfBulkStrings) {
  EXPECT_EQ(EncodeRedisCommand({"SET", "key", "value"}), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  EXPECT_EQ(EncodeRedisCommand({"GET", ""}), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
  // Binary-safe: NUL, CR and LF travel inside the counted bytes.
  const std::string binary = "a\0b\r\nc"s;
  EXPECT_EQ(EncodeRedisCommand({"SET", "k", binary}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n" + binary + "\r\n");
  std::string out = "prefix";
  AppendRedisCommand({"PING"}, &out);
  EXPECT_EQ(out, "prefix*1\r\n$4\r\nPING\r\n");
}

TEST(RespParser, EveryReplyType) {
  auto replies = ParseWhole(
      "+OK\r\n-ERR unknown command 'FOO'\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n"
      "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n$-1\r\n");
  ASSERT_EQ(replies.size(), 10u);
  EXPECT_EQ(replies[0], RedisReply::Simple("OK"));
  EXPECT_EQ(replies[1], RedisReply::Error("ERR unknown command 'FOO'"));
  EXPECT_EQ(replies[2], RedisReply::Integer(42));
  EXPECT_EQ(replies[3], RedisReply::Integer(-7));
  EXPECT_EQ(replies[4], RedisReply::Bulk("hello"));
  EXPECT_EQ(replies[5], RedisReply::Bulk(""));
  EXPECT_TRUE(replies[6].is_nil());
  EXPECT_TRUE(replies[7].is_nil());
  EXPECT_EQ(replies[8], RedisReply::Array({}));
  EXPECT_EQ(replies[9], RedisReply::Array({RedisReply::Integer(1),
                                           RedisReply::Array({RedisReply::Simple("a"), RedisReply::Bulk("b")}),
                                           RedisReply::Nil()}));
  EXPECT_EQ(replies[9].DebugString(), "[(integer) 1, [a, \"b\"], (nil)]");
  EXPECT_TRUE(replies[4].is_string());
  EXPECT_TRUE(replies[0].is_string());
  EXPECT_FALSE(replies[1].is_string());
  EXPECT_EQ(RedisReplyTypeName(replies[9].type), "array");
}

TEST(RespParser, IntegerExtremes) {
  auto replies = ParseWhole(":9223372036854775807\r\n:-9223372036854775808\r\n:0\r\n");
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].integer, INT64_MAX);
  EXPECT_EQ(replies[1].integer, INT64_MIN);
  EXPECT_EQ(replies[2].integer, 0);
}

TEST(RespParser, BulkStringsAreBinarySafe) {
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  payload += "\r\n$3\r\n*1\r\n";  // looks like RESP, is data
  auto replies = ParseWhole("$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, Type::kBulkString);
  EXPECT_EQ(replies[0].str, payload);
  EXPECT_NE(replies[0].DebugString().find("\\x00\\x01"), std::string::npos);
}

// A stream covering every type, nesting, binary data and a reply larger than one TCP read.
std::string MixedStream(std::vector<RedisReply>* expected) {
  std::string s;
  std::string big(200000, 'z');
  big[100] = '\r';
  big[101] = '\n';
  s += "+PONG\r\n";
  expected->push_back(RedisReply::Simple("PONG"));
  s += "$" + std::to_string(big.size()) + "\r\n" + big + "\r\n";
  expected->push_back(RedisReply::Bulk(big));
  s += "*2\r\n$4\r\nq\r\n1\r\n*3\r\n:-1\r\n$-1\r\n-WRONGTYPE bad\r\n";
  expected->push_back(RedisReply::Array(
      {RedisReply::Bulk("q\r\n1"),
       RedisReply::Array({RedisReply::Integer(-1), RedisReply::Nil(), RedisReply::Error("WRONGTYPE bad")})}));
  std::vector<RedisReply> many;
  s += "*1000\r\n";
  for (int i = 0; i < 1000; ++i) {
    s += ":" + std::to_string(i * 7919) + "\r\n";
    many.push_back(RedisReply::Integer(i * 7919));
  }
  expected->push_back(RedisReply::Array(std::move(many)));
  s += "*0\r\n:5\r\n";
  expected->push_back(RedisReply::Array({}));
  expected->push_back(RedisReply::Integer(5));
  return s;
}

TEST(RespParser, OneByteAtATime) {
  std::vector<RedisReply> expected;
  const std::string stream = MixedStream(&expected);
  EXPECT_EQ(ParseAll(stream, [] { return size_t{1}; }), expected);
  EXPECT_EQ(ParseWhole(stream), expected);
}

TEST(RespParser, RandomSplits) {
  std::vector<RedisReply> expected;
  const std::string stream = MixedStream(&expected);
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> size(1, seed % 2 ? 7 : 70000);
    EXPECT_EQ(ParseAll(stream, [&] { return size(rng); }), expected) << "seed " << seed;
  }
}

TEST(RespParser, IncompleteInputWaitsForMore) {
  RespParser parser;
  for (std::string piece : {"$1", "0\r", "\n0123", "456789\r"}) {
    parser.Feed(piece);
    auto next = parser.Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_FALSE(next->has_value()) << "after " << piece;
  }
  parser.Feed("\n+OK\r");
  auto next = parser.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, RedisReply::Bulk("0123456789"));
  EXPECT_FALSE(parser.Next()->has_value());
  EXPECT_EQ(parser.buffered_bytes(), 4u);  // "+OK\r"
  parser.Feed("\n");
  EXPECT_EQ(**parser.Next(), RedisReply::Simple("OK"));
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(RespParser, RejectsMalformedInput) {
  struct Case {
    std::string bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"?what\r\n", "unknown reply type byte '?'"},
      {"\x01\r\n", "unknown reply type byte '\\x01'"},
      {"\r\n", "empty line"},
      {":12a\r\n", "malformed integer reply '12a'"},
      {":\r\n", "malformed integer reply ''"},
      {":+5\r\n", "malformed integer reply"},
      {": 5\r\n", "malformed integer reply"},
      {":99999999999999999999\r\n", "malformed integer reply"},
      {"$-2\r\n", "malformed bulk string length '-2'"},
      {"$x\r\n", "malformed bulk string length 'x'"},
      {"$3\r\nabcX\r\n", "bulk string of 3 bytes not followed by \\r\\n"},
      {"$3\r\nabc\n\r", "bulk string of 3 bytes not followed by \\r\\n"},
      {"*-5\r\n", "malformed array length '-5'"},
      {"*2\r\n:1\r\n?\r\n", "unknown reply type byte '?'"},
      {"+O\rK\r\n", "CR or LF inside"},
      {"-ERR a\nb\r\n", "CR or LF inside"},
  };
  for (const Case& c : cases) {
    Status st = ParseError(c.bytes);
    EXPECT_EQ(st.code(), StatusCode::kParseError) << c.bytes;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << c.bytes << " -> " << st.ToString();
    EXPECT_EQ(st.message().rfind("RESP: ", 0), 0u) << st.ToString();
  }
}

TEST(RespParser, ErrorNamesTheOffsetAndSticksUntilReset) {
  RespParser parser;
  parser.Feed("+OK\r\n:1\r\n!bad\r\n");
  EXPECT_EQ(**parser.Next(), RedisReply::Simple("OK"));
  EXPECT_EQ(**parser.Next(), RedisReply::Integer(1));
  auto bad = parser.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("at byte 9 "), std::string::npos) << bad.status().ToString();
  parser.Feed("+OK\r\n");
  EXPECT_FALSE(parser.Next().ok());  // still failed: the stream cannot be re-framed
  parser.Reset();
  parser.Feed("+OK\r\n");
  EXPECT_EQ(**parser.Next(), RedisReply::Simple("OK"));
}

TEST(RespParser, EnforcesLimits) {
  RespParser::Limits limits;
  limits.max_bulk_bytes = 10;
  limits.max_array_elements = 3;
  limits.max_depth = 2;
  limits.max_line_bytes = 16;
  EXPECT_TRUE(ParseError("$10\r\n0123456789\r\n", limits).ok());
  EXPECT_NE(ParseError("$11\r\n", limits).message().find("bulk string of 11 bytes exceeds the limit of 10"),
            std::string::npos);
  EXPECT_TRUE(ParseError("*3\r\n:1\r\n:2\r\n:3\r\n", limits).ok());
  EXPECT_NE(ParseError("*4\r\n", limits).message().find("array of 4 elements exceeds"), std::string::npos);
  EXPECT_TRUE(ParseError("*1\r\n*1\r\n:1\r\n", limits).ok());
  EXPECT_NE(ParseError("*1\r\n*1\r\n*1\r\n:1\r\n", limits).message().find("nested deeper than 2"), std::string::npos);
  EXPECT_TRUE(ParseError("+" + std::string(15, 'a') + "\r\n", limits).ok());
  // A line that never ends is refused once it passes the limit, not buffered forever.
  EXPECT_NE(ParseError("+" + std::string(40, 'a'), limits).message().find("line longer than 16 bytes"),
            std::string::npos);
  // A huge announced count costs nothing until elements arrive.
  RespParser parser;
  parser.Feed("*2000000000\r\n:1\r\n");
  auto next = parser.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
}

TEST(RespParser, LongStreamFedByteByByteStaysFast) {
  // 100,000 pipelined replies, one byte at a time: linear work (a re-parsing parser would take
  // minutes here).
  std::string stream;
  for (int i = 0; i < 100000; ++i) stream += "$6\r\nvalue" + std::to_string(i % 10) + "\r\n";
  auto replies = ParseAll(stream, [] { return size_t{1}; });
  ASSERT_EQ(replies.size(), 100000u);
  EXPECT_EQ(replies[99999], RedisReply::Bulk("value9"));
}

TEST(RedisErrors, CodeFollowsThePrefix) {
  Status st = RedisErrorStatus("WRONGTYPE Operation against a key holding the wrong kind of value", "redis x: GET");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "redis x: GET: WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(RedisErrorStatus("ERR unknown command", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RedisErrorStatus("ERR unknown command", "").message(), "ERR unknown command");
  EXPECT_EQ(RedisErrorStatus("WRONGPASS invalid username-password pair", "c").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RedisErrorStatus("NOAUTH Authentication required.", "c").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RedisErrorStatus("LOADING Redis is loading the dataset in memory", "c").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorStatus("BUSY Redis is busy running a script", "c").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorStatus("READONLY You can't write against a read only replica.", "c").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorStatus("OOM command not allowed", "c").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorStatus("NOSCRIPT No matching script", "c").code(), StatusCode::kNotFound);
  EXPECT_EQ(RedisErrorStatus("LOADINGX is not LOADING", "c").code(), StatusCode::kInvalidArgument);
}

TEST(RedisUrl, Forms) {
  auto ep = ParseRedisUrl("redis://127.0.0.1:6380/2");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 2);
  EXPECT_EQ(ep->password, "");
  EXPECT_EQ(ep->ToString(), "redis://127.0.0.1:6380/2");

  ep = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "localhost");
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0);
  EXPECT_TRUE(ParseRedisUrl("redis://localhost/").ok());

  ep = ParseRedisUrl("redis://:s3cr%40t:x@cache.internal:7000/15");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->username, "");
  EXPECT_EQ(ep->password, "s3cr@t:x");
  EXPECT_EQ(ep->host, "cache.internal");
  EXPECT_EQ(ep->db, 15);
  EXPECT_EQ(ep->ToString(), "redis://cache.internal:7000/15");  // no credentials

  ep = ParseRedisUrl("redis://worker:pw@[::1]:6379/1");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->username, "worker");
  EXPECT_EQ(ep->password, "pw");
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->ToString(), "redis://[::1]:6379/1");
}

TEST(RedisUrl, RejectsWhatItCannotHonour) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://localhost:6379", "must start with redis://, got 'http://...'"},
      {"rediss://:pw@host:6380", "TLS (rediss://) is not supported"},
      {"redis://host:0", "port must be 1..65535"},
      {"redis://host:65536", "port must be 1..65535"},
      {"redis://host:-1", "port must be 1..65535"},
      {"redis://host:abc", "port must be 1..65535"},
      {"redis://host:", "empty port"},
      {"redis://host/x", "database number"},
      {"redis://host/-1", "database number"},
      {"redis://host/0/1", "database number"},
      {"redis://host/0?timeout=1", "database number"},
      {"redis://host?db=1", "query strings"},
      {"redis://:6379", "no host"},
      {"redis://password@host", "':password@' or 'user:password@'"},
      {"redis://:@host", "empty password"},
      {"redis://:p%4@host", "truncated %-escape"},
      {"redis://:p%zz@host", "bad %-escape"},
      {"redis://[::1", "unclosed '['"},
  };
  for (const auto& [url, message] : cases) {
    auto ep = ParseRedisUrl(url);
    ASSERT_FALSE(ep.ok()) << url;
    EXPECT_EQ(ep.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(ep.status().message().find(message), std::string::npos) << url << " -> " << ep.status().ToString();
  }
  // The password never appears in a message.
  EXPECT_EQ(ParseRedisUrl("redis://:hunter2@host:x").status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace pulse::jobs
