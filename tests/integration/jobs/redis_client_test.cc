// RedisClient against real redis-server processes: the shared one scripts/test starts
// (PULSE_TEST_REDIS_URL; every test fails without it, like the S3 tests) and, for AUTH and restarts, private
// servers these tests start themselves from the redis-server in PATH on free loopback ports.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "jobs/redis_client.h"

extern char** environ;

namespace pulse::jobs {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Type = RedisReply::Type;

std::string SharedUrl() {
  const char* url = std::getenv("PULSE_TEST_REDIS_URL");
  return url != nullptr ? url : "";
}

#define REQUIRE_REDIS()                                                                         \
  if (SharedUrl().empty()) {                                                                    \
    FAIL() << "PULSE_TEST_REDIS_URL is not set: run the integration tier through scripts/test " \
              "(or eval \"$(scripts/start-redis-server DIR)\" and export it)";                  \
  }

// A key no other test (or earlier run) uses.
std::string Key(const std::string& name) { return "pulse-test:" + NewUuid().substr(0, 13) + ":" + name; }

RedisClient MustConnect(const std::string& url, RedisOptions options = {}) {
  auto client = RedisClient::Connect(url, options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) std::abort();
  return std::move(client).value();
}

RedisReply MustRun(RedisClient& client, const std::vector<std::string>& args) {
  auto reply = client.Command(args);
  EXPECT_TRUE(reply.ok()) << args[0] << ": " << reply.status().ToString();
  return reply.ok() ? std::move(reply).value() : RedisReply::Error(reply.status().ToString());
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server of the test's own on a free port, with AOF fsynced on every write (so a kill -9
// loses nothing), killed and its folder removed at the end.
class PrivateRedis {
 public:
  explicit PrivateRedis(std::vector<std::string> extra_args = {}) : port_(FreePort()), extra_(std::move(extra_args)) {
    dir_ = std::filesystem::temp_directory_path() / ("pulse-redis-" + NewUuid().substr(0, 8));
    std::filesystem::create_directories(dir_);
    Start();
  }
  ~PrivateRedis() {
    Kill9();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Url(const std::string& credentials = "", int db = 0) const {
    return "redis://" + credentials + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }

  void Start() {
    std::vector<std::string> args = {"redis-server",
                                     "--bind",
                                     "127.0.0.1",
                                     "--port",
                                     std::to_string(port_),
                                     "--dir",
                                     dir_.string(),
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     "always",
                                     "--save",
                                     "",
                                     "--logfile",
                                     (dir_ / "redis.log").string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(rc, 0) << "cannot start redis-server from PATH";
    // Up when it answers anything (with requirepass, PING answers NOAUTH).
    RedisOptions patient;
    patient.connect_attempts = 100;
    patient.backoff_initial = 20ms;
    patient.backoff_max = 100ms;
    auto client = RedisClient::Connect(Url(), patient);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    // A restarted server answers LOADING while it replays its append-only file (seconds on a busy
    // machine): up once it is done.
    auto pong = client->Command({"PING"});
    for (int i = 0; i < 500 && !pong.ok() && pong.status().message().find("LOADING") != std::string::npos; ++i) {
      std::this_thread::sleep_for(20ms);
      pong = client->Command({"PING"});
    }
    ASSERT_TRUE(pong.ok() || pong.status().code() == StatusCode::kInvalidArgument) << pong.status().ToString();
  }

  void Kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  int port_;
  std::vector<std::string> extra_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

TEST(RedisClient, SetGetBinaryValues) {
  REQUIRE_REDIS();
  RedisClient client = MustConnect(SharedUrl());
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  value += "\r\n$5\r\n*1\r\n";
  const std::string key = Key(std::string("bin\0\r\nkey", 9));
  EXPECT_EQ(MustRun(client, {"SET", key, value}), RedisReply::Simple("OK"));
  EXPECT_EQ(MustRun(client, {"GET", key}), RedisReply::Bulk(value));
  EXPECT_EQ(MustRun(client, {"STRLEN", key}), RedisReply::Integer(static_cast<int64_t>(value.size())));

  const std::string big(3 << 20, '\0');  // 3 MiB of NULs: many TCP reads for one reply
  EXPECT_EQ(MustRun(client, {"SET", key, big}), RedisReply::Simple("OK"));
  EXPECT_EQ(MustRun(client, {"GET", key}).str, big);
  EXPECT_EQ(MustRun(client, {"SET", key, ""}), RedisReply::Simple("OK"));
  EXPECT_EQ(MustRun(client, {"GET", key}), RedisReply::Bulk(""));

  EXPECT_TRUE(MustRun(client, {"GET", Key("absent")}).is_nil());
  EXPECT_EQ(MustRun(client, {"DEL", key}), RedisReply::Integer(1));
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.endpoint().ToString(), SharedUrl());
}

TEST(RedisClient, LpushBrpopAndBlockingTimeouts) {
  REQUIRE_REDIS();
  RedisOptions options;
  options.read_timeout = 300ms;  // shorter than the blocking commands below
  options.blocking_grace = 500ms;
  RedisClient client = MustConnect(SharedUrl(), options);
  const std::string q = Key("queue"), dst = Key("processing");
  EXPECT_EQ(MustRun(client, {"LPUSH", q, "a", "b", "c"}), RedisReply::Integer(3));
  auto popped = client.BlockingCommand({"BRPOP", q, "1"}, 1s);
  ASSERT_TRUE(popped.ok()) << popped.status().ToString();
  EXPECT_EQ(*popped, RedisReply::Array({RedisReply::Bulk(q), RedisReply::Bulk("a")}));  // FIFO
  auto moved = client.BlockingCommand({"BLMOVE", q, dst, "RIGHT", "LEFT", "1"}, 1s);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, RedisReply::Bulk("b"));
  EXPECT_EQ(MustRun(client, {"LRANGE", dst, "0", "-1"}), RedisReply::Array({RedisReply::Bulk("b")}));

  // Empty queues: the server answers nil when its timeout passes. The client waits for that
  // answer even though it is longer than read_timeout.
  EXPECT_EQ(MustRun(client, {"DEL", q}), RedisReply::Integer(1));
  auto start = Clock::now();
  auto nil = client.BlockingCommand({"BRPOP", q, "0.8"}, 800ms);
  ASSERT_TRUE(nil.ok()) << nil.status().ToString();
  EXPECT_TRUE(nil->is_nil()) << nil->DebugString();
  EXPECT_GE(Seconds(Clock::now() - start), 0.75);
  EXPECT_LT(Seconds(Clock::now() - start), 1.3);
  nil = client.BlockingCommand({"BLMOVE", q, dst, "RIGHT", "LEFT", "0.1"}, 100ms);
  ASSERT_TRUE(nil.ok()) << nil.status().ToString();
  EXPECT_TRUE(nil->is_nil());

  // The same command through Command() gives up after read_timeout: kUnavailable, the connection
  // is dropped (the reply may still come), and the next command reconnects.
  start = Clock::now();
  auto timed_out = client.Command({"BRPOP", q, "2"});
  EXPECT_EQ(timed_out.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(timed_out.status().message().find("BRPOP failed: no reply within 300 ms"), std::string::npos)
      << timed_out.status().ToString();
  EXPECT_LT(Seconds(Clock::now() - start), 1.0);
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(MustRun(client, {"PING"}), RedisReply::Simple("PONG"));

  EXPECT_EQ(client.BlockingCommand({"BRPOP", q, "-1"}, -1ms).status().code(), StatusCode::kInvalidArgument);
}

TEST(RedisClient, PipelineOfAThousandCommands) {
  REQUIRE_REDIS();
  RedisClient client = MustConnect(SharedUrl());
  const std::string counter = Key("counter");
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 1000; ++i) commands.push_back({"INCR", counter});
  auto start = Clock::now();
  auto replies = client.Pipeline(commands);
  const double took = Seconds(Clock::now() - start);
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  ASSERT_EQ(replies->size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ((*replies)[static_cast<size_t>(i)], RedisReply::Integer(i + 1));
  EXPECT_LT(took, 2.0);
  std::cout << "[ info ] 1000 pipelined INCRs in " << took * 1000 << " ms\n";

  // Big both ways: 400 x 64 KiB written and read back (25 MiB each way) cannot deadlock on full
  // socket buffers, because the client reads while it writes.
  const std::string blob(64 << 10, 'x');
  commands.clear();
  const std::string hash = Key("blobs");
  for (int i = 0; i < 400; ++i) {
    commands.push_back({"HSET", hash, std::to_string(i), blob});
    commands.push_back({"HGET", hash, std::to_string(i)});
  }
  replies = client.Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  for (size_t i = 0; i < replies->size(); i += 2) {
    EXPECT_EQ((*replies)[i], RedisReply::Integer(1));
    EXPECT_EQ((*replies)[i + 1].str.size(), blob.size());
  }
  EXPECT_EQ(MustRun(client, {"DEL", hash, counter}), RedisReply::Integer(2));
  auto none = client.Pipeline({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(client.Pipeline({{"PING"}, {}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(RedisClient, ServerErrorsAreStatusesAndKeepTheConnection) {
  REQUIRE_REDIS();
  RedisClient client = MustConnect(SharedUrl());
  const std::string key = Key("string");
  MustRun(client, {"SET", key, "v"});
  auto wrong = client.Command({"LPUSH", key, "x"});
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("LPUSH: WRONGTYPE Operation against a key holding the wrong kind of value"),
            std::string::npos)
      << wrong.status().ToString();
  auto unknown = client.Command({"NOSUCHCOMMAND", "secret-argument"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("ERR unknown command"), std::string::npos) << unknown.status().ToString();
  auto arity = client.Command({"GET"});
  EXPECT_NE(arity.status().message().find("wrong number of arguments"), std::string::npos) << arity.status().ToString();
  auto script = client.Command({"EVALSHA", std::string(40, 'a'), "0"});
  EXPECT_EQ(script.status().code(), StatusCode::kNotFound) << script.status().ToString();
  EXPECT_EQ(client.Command({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(client.connected());

  // In a pipeline an error is one reply among the others.
  auto replies = client.Pipeline({{"GET", key}, {"LPUSH", key, "x"}, {"INCR", key}, {"APPEND", key, "w"}});
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  ASSERT_EQ(replies->size(), 4u);
  EXPECT_EQ((*replies)[0], RedisReply::Bulk("v"));
  EXPECT_EQ((*replies)[1].type, Type::kError);
  EXPECT_EQ((*replies)[1].str.rfind("WRONGTYPE", 0), 0u);
  EXPECT_EQ((*replies)[2].type, Type::kError);  // ERR value is not an integer
  EXPECT_EQ((*replies)[3], RedisReply::Integer(2));
  Status st = RedisErrorStatus((*replies)[1].str, "pipeline");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);

  // MULTI/EXEC through a pipeline: one round trip, atomic.
  replies = client.Pipeline({{"MULTI"}, {"SET", key, "1"}, {"INCRBY", key, "41"}, {"EXEC"}});
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  EXPECT_EQ((*replies)[0], RedisReply::Simple("OK"));
  EXPECT_EQ((*replies)[1], RedisReply::Simple("QUEUED"));
  EXPECT_EQ((*replies)[3], RedisReply::Array({RedisReply::Simple("OK"), RedisReply::Integer(42)}));
  MustRun(client, {"DEL", key});
}

TEST(RedisClient, AuthAndSelect) {
  REQUIRE_REDIS();
  PrivateRedis server({"--requirepass", "s3cret"});

  auto start = Clock::now();
  auto refused = RedisClient::Connect(server.Url(":wrong@"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("AUTH: WRONGPASS"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(refused.status().message().find("wrong@"), std::string::npos) << "the password leaked";
  EXPECT_LT(Seconds(Clock::now() - start), 0.5) << "a refused AUTH is final, not retried";

  // No password: the connection opens, commands are refused.
  RedisClient anonymous = MustConnect(server.Url());
  auto noauth = anonymous.Command({"PING"});
  EXPECT_EQ(noauth.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(noauth.status().message().find("NOAUTH"), std::string::npos) << noauth.status().ToString();

  // The right password and db 3: AUTH and SELECT run on connect.
  RedisClient db3 = MustConnect(server.Url(":s3cret@", 3));
  MustRun(db3, {"SET", "where", "three"});
  RedisClient db0 = MustConnect(server.Url(":s3cret@", 0));
  EXPECT_TRUE(MustRun(db0, {"GET", "where"}).is_nil());
  EXPECT_EQ(MustRun(db0, {"SELECT", "3"}), RedisReply::Simple("OK"));
  EXPECT_EQ(MustRun(db0, {"GET", "where"}), RedisReply::Bulk("three"));

  // An ACL user: AUTH user password.
  MustRun(db0, {"ACL", "SETUSER", "worker", "on", ">w-pass", "~*", "+@all"});
  RedisClient worker = MustConnect(server.Url("worker:w-pass@", 3));
  EXPECT_EQ(MustRun(worker, {"GET", "where"}), RedisReply::Bulk("three"));
  EXPECT_EQ(MustRun(worker, {"ACL", "WHOAMI"}), RedisReply::Bulk("worker"));
  auto bad_user = RedisClient::Connect(server.Url("worker:nope@"));
  EXPECT_EQ(bad_user.status().code(), StatusCode::kInvalidArgument);
  auto bad_db = RedisClient::Connect(server.Url(":s3cret@", 999));
  EXPECT_EQ(bad_db.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_db.status().message().find("SELECT: ERR DB index is out of range"), std::string::npos)
      << bad_db.status().ToString();
}

TEST(RedisClient, RecoversAfterTheServerIsKilledAndRestarted) {
  REQUIRE_REDIS();
  PrivateRedis server;
  RedisOptions options;
  options.connect_attempts = 5;  // sleeps 50 + 100 + 200 + 200 ms between tries
  options.backoff_initial = 50ms;
  options.backoff_max = 200ms;
  RedisClient client = MustConnect(server.Url("", 1), options);
  EXPECT_EQ(MustRun(client, {"SET", "k", "before the crash"}), RedisReply::Simple("OK"));

  // Down: the next command retries the connect with backoff, then reports kUnavailable.
  server.Kill9();
  auto start = Clock::now();
  auto down = client.Command({"GET", "k"});
  const double waited = Seconds(Clock::now() - start);
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("gave up after 5 attempts"), std::string::npos) << down.status().ToString();
  EXPECT_GE(waited, 0.5);
  EXPECT_LT(waited, 2.0);
  EXPECT_FALSE(client.connected());

  // Restarted on the same port while the client is backing off: the command gets through, with
  // AUTH/SELECT redone (db 1) and the data back from the append-only file.
  std::thread restart([&] {
    std::this_thread::sleep_for(150ms);
    server.Start();
  });
  start = Clock::now();
  auto back = client.Command({"GET", "k"});
  restart.join();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, RedisReply::Bulk("before the crash"));
  EXPECT_LT(Seconds(Clock::now() - start), 3.0);

  // Killed while a command is in flight: that command fails with kUnavailable and is not
  // retried; the caller decides. The next command reconnects.
  std::thread killer([&] {
    std::this_thread::sleep_for(200ms);
    server.Kill9();
    server.Start();
  });
  auto in_flight = client.BlockingCommand({"BRPOP", "jobs", "5"}, 5s);
  killer.join();
  EXPECT_EQ(in_flight.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(in_flight.status().message().find("BRPOP failed: the server closed the connection"), std::string::npos)
      << in_flight.status().ToString();
  EXPECT_NE(in_flight.status().message().find("may have run on the server; it was not retried"), std::string::npos);
  EXPECT_EQ(MustRun(client, {"GET", "k"}), RedisReply::Bulk("before the crash"));
}

TEST(RedisClient, ConnectionClosedByTheServerWhileIdleIsReplacedTransparently) {
  REQUIRE_REDIS();
  RedisClient client = MustConnect(SharedUrl());
  RedisClient admin = MustConnect(SharedUrl());
  const int64_t id = MustRun(client, {"CLIENT", "ID"}).integer;
  EXPECT_EQ(MustRun(admin, {"CLIENT", "KILL", "ID", std::to_string(id)}), RedisReply::Integer(1));
  std::this_thread::sleep_for(100ms);  // let the FIN arrive
  // Nothing was sent on the dead connection, so sending on a new one cannot run anything twice.
  EXPECT_EQ(MustRun(client, {"PING"}), RedisReply::Simple("PONG"));
  EXPECT_NE(MustRun(client, {"CLIENT", "ID"}).integer, id);

  // Killed while blocked: kUnavailable for that command.
  const int64_t id2 = MustRun(client, {"CLIENT", "ID"}).integer;
  std::thread killer([&] {
    std::this_thread::sleep_for(200ms);
    MustRun(admin, {"CLIENT", "KILL", "ID", std::to_string(id2)});
  });
  auto blocked = client.BlockingCommand({"BLPOP", Key("never"), "5"}, 5s);
  killer.join();
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable) << blocked.status().ToString();
  EXPECT_EQ(MustRun(client, {"PING"}), RedisReply::Simple("PONG"));
}

TEST(RedisClient, UnreachableServerIsUnavailable) {
  REQUIRE_REDIS();
  RedisOptions options;
  options.connect_attempts = 3;
  options.backoff_initial = 10ms;
  auto client = RedisClient::Connect("redis://127.0.0.1:" + std::to_string(FreePort()), options);
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find("Connection refused"), std::string::npos) << client.status().ToString();
  EXPECT_NE(client.status().message().find("gave up after 3 attempts"), std::string::npos);
  auto unresolvable = RedisClient::Connect("redis://no-such-host.invalid:6379", options);
  EXPECT_EQ(unresolvable.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unresolvable.status().message().find("cannot resolve"), std::string::npos)
      << unresolvable.status().ToString();
  EXPECT_EQ(RedisClient::Connect("rediss://127.0.0.1:6379").status().code(), StatusCode::kInvalidArgument);
}

// The client is not thread-safe: one client per thread.
TEST(RedisClient, OneClientPerThread) {
  REQUIRE_REDIS();
  const std::string counter = Key("counter"), queue = Key("queue");
  constexpr int kThreads = 4, kItems = 250;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::multiset<std::string> received;
  std::atomic<int> consumed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {  // producer: INCR one at a time, LPUSH in pipelines
      RedisClient client = MustConnect(SharedUrl());
      std::vector<std::vector<std::string>> pushes;
      for (int i = 0; i < kItems; ++i) {
        MustRun(client, {"INCR", counter});
        pushes.push_back({"LPUSH", queue, std::to_string(t) + "/" + std::to_string(i)});
      }
      auto replies = client.Pipeline(pushes);
      EXPECT_TRUE(replies.ok()) << replies.status().ToString();
    });
    threads.emplace_back([&] {  // consumer: BRPOP until everything is taken
      RedisClient client = MustConnect(SharedUrl());
      while (consumed.load() < kThreads * kItems) {
        auto item = client.BlockingCommand({"BRPOP", queue, "0.2"}, 200ms);
        ASSERT_TRUE(item.ok()) << item.status().ToString();
        if (item->is_nil()) continue;
        ++consumed;
        std::lock_guard<std::mutex> lock(mu);
        received.insert(item->elements.at(1).str);
      }
    });
  }
  for (auto& th : threads) th.join();
  RedisClient client = MustConnect(SharedUrl());
  EXPECT_EQ(MustRun(client, {"GET", counter}), RedisReply::Bulk(std::to_string(kThreads * kItems)));
  ASSERT_EQ(received.size(), static_cast<size_t>(kThreads * kItems));
  EXPECT_EQ(std::set<std::string>(received.begin(), received.end()).size(), received.size()) << "an item twice";
  MustRun(client, {"DEL", counter, queue});
}

}  // namespace
}  // namespace pulse::jobs
