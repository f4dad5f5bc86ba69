// A Redis client speaking RESP2 over TCP (POSIX sockets; no third-party Redis library), and the
// pure RESP pieces it is built on: command encoding, an incremental reply parser, URL parsing.
//
// Contract:
// - RedisClient::Connect("redis://[[user]:password@]host[:port][/db]") connects, then sends AUTH
//   and SELECT when the URL names a password or a db other than 0. It does the same again on every
//   reconnect.
// - Command() sends one command and returns its reply. A server error reply ("-ERR ...") comes back
//   as a Status whose code fits the error (RedisErrorStatus) and whose message is the server's.
//   Pipeline() sends a batch in one write and returns every reply in order, server errors included
//   as RedisReply::Type::kError replies (one failed command does not hide the others' replies).
// - Blocking commands (BRPOP, BLMOVE, ...) go through BlockingCommand() with the server-side
//   timeout: the client waits for the reply for that long plus options.blocking_grace, so it never
//   gives up on a reply the server may still send.
// - Transport failures (connect refused, connection dropped, timeout) are kUnavailable. When a
//   command was written and its reply did not arrive, the connection is closed and the command is
//   NOT retried: it may or may not have run on the server, and only the caller knows whether it is
//   safe to send again (GET, SET with the same value: yes; LPUSH, INCR: no). The next call
//   reconnects, retrying the connect with exponential backoff (options.backoff_*), and fails with
//   kUnavailable when every attempt fails. A connection found closed before anything was written
//   (the server restarted while the client was idle) is replaced transparently: nothing was sent,
//   so nothing can run twice.
// - A reply that breaks the protocol is kParseError; the connection is closed (the stream can no
//   longer be trusted) and the next call reconnects.
// - Bulk strings are binary-safe in both directions (arguments and replies may hold any bytes).
// - Not thread-safe: use one client per thread (connections are cheap). A client may be moved
//   between threads while no call is in progress.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::jobs {

// One RESP2 reply: nil (a nil bulk string or nil array), integer, simple string, bulk string,
// array (of replies) or error. `str` holds the simple string, bulk string or error text.
struct RedisReply {
  enum class Type { kNil, kInteger, kSimpleString, kBulkString, kArray, kError };

  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;
  std::vector<RedisReply> elements;

  static RedisReply Nil() { return {}; }
  static RedisReply Integer(int64_t v) { return {Type::kInteger, v, {}, {}}; }
  static RedisReply Simple(std::string s) { return {Type::kSimpleString, 0, std::move(s), {}}; }
  static RedisReply Bulk(std::string s) { return {Type::kBulkString, 0, std::move(s), {}}; }
  static RedisReply Error(std::string s) { return {Type::kError, 0, std::move(s), {}}; }
  static RedisReply Array(std::vector<RedisReply> e) { return {Type::kArray, 0, {}, std::move(e)}; }

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  // True for a simple or bulk string (the two carry text the same way).
  bool is_string() const { return type == Type::kSimpleString || type == Type::kBulkString; }
  bool operator==(const RedisReply&) const = default;
  // For messages and test failures: `"OK"`, `(integer) 3`, `(nil)`, `(error) ERR ...`, `[a, b]`;
  // bulk strings are printed with non-printable bytes escaped and cut after 200 bytes.
  std::string DebugString() const;
};

std::string_view RedisReplyTypeName(RedisReply::Type type);

// The Status for a server error reply: the message is "<context>: <server's text>", the code is
// chosen from the error's prefix: LOADING, BUSY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN, READONLY, OOM
// -> kUnavailable (retrying later may succeed); NOSCRIPT -> kNotFound; everything else (ERR,
// WRONGTYPE, NOAUTH, WRONGPASS, NOPERM, EXECABORT, ...) -> kInvalidArgument.
Status RedisErrorStatus(std::string_view error_text, std::string_view context);

// RESP2 encoding of one command: *N\r\n then $len\r\n<bytes>\r\n per argument.
std::string EncodeRedisCommand(const std::vector<std::string>& args);
void AppendRedisCommand(const std::vector<std::string>& args, std::string* out);

// Incremental RESP2 reply parser. Feed() bytes as they arrive, in pieces of any size (a reply may
// be split anywhere, even inside "\r\n"); Next() returns the next complete reply, nullopt when more
// bytes are needed, or kParseError for input that is not RESP2 (unknown type byte, malformed or
// overflowing number, negative length other than -1, a missing "\r\n", a CR or LF inside a
// simple line, or a length/element count/nesting depth/line length past the limits). After an
// error the parser stays failed (the stream can no longer be framed): Reset() it with the
// connection. Work is linear in the input: a reply fed one byte at a time is never re-parsed.
class RespParser {
 public:
  struct Limits {
    int64_t max_bulk_bytes = int64_t{512} << 20;  // Redis's own proto-max-bulk-len default
    int64_t max_array_elements = int64_t{1} << 31;
    size_t max_depth = 64;                    // nested arrays
    size_t max_line_bytes = size_t{1} << 20;  // simple strings, errors, headers
  };

  RespParser() = default;
  explicit RespParser(Limits limits) : limits_(limits) {}

  void Feed(std::string_view bytes);
  Result<std::optional<RedisReply>> Next();
  void Reset();
  // Bytes fed and not yet returned as part of a reply.
  size_t buffered_bytes() const { return buf_.size() - pos_; }

 private:
  struct Frame {
    RedisReply array;
    int64_t remaining = 0;
  };
  // The line at pos_ without its "\r\n" (not consumed), or nullopt when it is incomplete.
  Result<std::optional<std::string_view>> ReadLine();
  Status Fail(const std::string& message);

  Limits limits_;
  std::string buf_;
  size_t pos_ = 0;                       // start of the unconsumed bytes
  size_t scanned_ = 0;                   // bytes from pos_ already searched for "\r\n"
  std::optional<int64_t> pending_bulk_;  // a bulk header was read; its payload has this length
  std::vector<Frame> stack_;             // arrays being filled, outermost first
  std::optional<Status> failed_;
  size_t base_offset_ = 0;  // offset of buf_[0] in the stream (for messages)
};

// A parsed redis:// URL.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // ACL user (AUTH user password); empty: AUTH password
  std::string password;  // empty: no AUTH
  int db = 0;
  // "redis://host:port/db" without the credentials, for messages and logs.
  std::string ToString() const;
};

// Parses redis://[[user]:password@]host[:port][/db] (user and password percent-decoded; an IPv6
// host in brackets). kInvalidArgument for another scheme (rediss:// TLS is not supported), a bad
// port (1..65535) or db (0..), or anything after the db.
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);
// The URL for banners and logs: redis://host:port/db without user and password ("redis://(a URL
// that does not parse)" for one that does not parse, which never shows its text).
std::string RedisUrlForDisplay(std::string_view url);

struct RedisOptions {
  std::chrono::milliseconds connect_timeout{2000};
  // The longest wait for the next bytes of a reply (reset whenever bytes arrive).
  std::chrono::milliseconds read_timeout{5000};
  // The longest wait for the socket to take more of a request.
  std::chrono::milliseconds write_timeout{5000};
  // BlockingCommand waits the command's own timeout plus this for the reply.
  std::chrono::milliseconds blocking_grace{1000};
  // Connecting (on Connect and on each reconnect) makes up to connect_attempts tries, sleeping
  // backoff_initial, then twice that, ..., at most backoff_max between them. Only transport
  // failures are retried; an AUTH or SELECT refusal is final.
  int connect_attempts = 6;
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
  // RedisPool::Open waits this long for a server that answers LOADING (loading its dataset after
  // a restart) before giving up.
  std::chrono::milliseconds loading_wait{60000};
  RespParser::Limits limits;
};

class RedisClient {
 public:
  // Parses the URL and connects (with the backoff above). kInvalidArgument for a bad URL or a
  // refused AUTH/SELECT, kUnavailable when the server cannot be reached.
  static Result<RedisClient> Connect(std::string_view url, RedisOptions options = {});
  static Result<RedisClient> Connect(RedisEndpoint endpoint, RedisOptions options = {});

  RedisClient(RedisClient&& other) noexcept;
  RedisClient& operator=(RedisClient&& other) noexcept;
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  ~RedisClient();

  // Sends one command (args[0] is its name) and returns its reply; a server error reply becomes
  // a Status (RedisErrorStatus). kInvalidArgument for an empty command.
  Result<RedisReply> Command(const std::vector<std::string>& args);
  // For commands that block on the server (BRPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...): the caller
  // puts the command's timeout in `args` as Redis expects it and passes the same duration here
  // (zero: the command blocks forever, and so does the wait; negative: kInvalidArgument).
  Result<RedisReply> BlockingCommand(const std::vector<std::string>& args, std::chrono::milliseconds server_timeout);
  // Sends every command in one write and reads all the replies, in order. A transport failure
  // fails the whole call (kUnavailable; some of the commands may have run).
  Result<std::vector<RedisReply>> Pipeline(const std::vector<std::vector<std::string>>& commands);

  bool connected() const { return fd_ >= 0; }
  const RedisEndpoint& endpoint() const { return endpoint_; }
  // Closes the connection; the next call reconnects.
  void Close();

 private:
  RedisClient(RedisEndpoint endpoint, RedisOptions options);

  // Connects (with backoff) unless a live connection is open.
  Status EnsureConnected();
  Status ConnectOnce();
  Status Handshake();
  // Command() and BlockingCommand(): a negative read_timeout waits forever.
  Result<RedisReply> Run(const std::vector<std::string>& args, std::chrono::milliseconds read_timeout);
  // Writes `request`, then reads `replies` replies (reading while writing, so a large pipeline
  // cannot deadlock on full socket buffers). A negative read timeout waits forever.
  Result<std::vector<RedisReply>> Exchange(std::string_view request, size_t replies,
                                           std::chrono::milliseconds read_timeout, std::string_view what);
  bool PeerClosedWhileIdle() const;
  Status Broken(const std::string& message);  // closes the connection, returns kUnavailable

  RedisEndpoint endpoint_;
  RedisOptions options_;
  int fd_ = -1;
  RespParser parser_;
};

}  // namespace pulse::jobs
