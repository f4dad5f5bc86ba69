// RESP2 encoding and parsing, redis:// URLs, and the socket client (see redis_client.h).
#include "jobs/redis_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <thread>
#include <utility>

namespace pulse::jobs {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kCrlf = "\r\n";

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void AppendEscaped(std::string_view s, size_t limit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out->push_back(static_cast<char>(c));
    } else {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
  if (s.size() > limit) out->append("...(" + std::to_string(s.size()) + " bytes)");
}

// poll() takes an int of milliseconds; negative waits forever.
int PollMillis(Clock::time_point deadline, bool forever) {
  if (forever) return -1;
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  // Round up so a wait never ends a hair before the deadline and spins.
  return static_cast<int>(std::clamp<int64_t>(left + 1, 0, INT_MAX));
}

std::string ErrnoText(int err) { return std::strerror(err); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return Status::InvalidArgument("redis URL: truncated %-escape in the " + std::string(what));
    }
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("redis URL: bad %-escape in the " + std::string(what));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

// ---- RedisReply -------------------------------------------------------------------------------

std::string_view RedisReplyTypeName(RedisReply::Type type) {
  switch (type) {
    case RedisReply::Type::kNil: return "nil";
    case RedisReply::Type::kInteger: return "integer";
    case RedisReply::Type::kSimpleString: return "simple string";
    case RedisReply::Type::kBulkString: return "bulk string";
    case RedisReply::Type::kArray: return "array";
    case RedisReply::Type::kError: return "error";
  }
  return "unknown";
}

std::string RedisReply::DebugString() const {
  switch (type) {
    case Type::kNil: return "(nil)";
    case Type::kInteger: return "(integer) " + std::to_string(integer);
    case Type::kSimpleString: return str;
    case Type::kError: return "(error) " + str;
    case Type::kBulkString: {
      std::string out = "\"";
      AppendEscaped(str, 200, &out);
      out.push_back('"');
      return out;
    }
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) out.append(", ");
        out.append(elements[i].DebugString());
      }
      out.push_back(']');
      return out;
    }
  }
  return "(unknown)";
}

Status RedisErrorStatus(std::string_view error_text, std::string_view context) {
  const std::string_view prefix = error_text.substr(0, error_text.find(' '));
  static constexpr std::string_view kTransient[] = {"LOADING",     "BUSY",     "MASTERDOWN", "TRYAGAIN",
                                                    "CLUSTERDOWN", "READONLY", "OOM"};
  StatusCode code = StatusCode::kInvalidArgument;
  if (std::find(std::begin(kTransient), std::end(kTransient), prefix) != std::end(kTransient)) {
    code = StatusCode::kUnavailable;
  } else if (prefix == "NOSCRIPT") {
    code = StatusCode::kNotFound;
  }
  std::string message(context);
  if (!message.empty()) message.append(": ");
  message.append(error_text);
  return Status(code, std::move(message));
}

// ---- Encoding ---------------------------------------------------------------------------------

void AppendRedisCommand(const std::vector<std::string>& args, std::string* out) {
  out->push_back('*');
  out->append(std::to_string(args.size()));
  out->append(kCrlf);
  for (const std::string& a : args) {
    out->push_back('$');
    out->append(std::to_string(a.size()));
    out->append(kCrlf);
    out->append(a);
    out->append(kCrlf);
  }
}

std::string EncodeRedisCommand(const std::vector<std::string>& args) {
  std::string out;
  AppendRedisCommand(args, &out);
  return out;
}

// ---- RespParser -------------------------------------------------------------------------------

void RespParser::Feed(std::string_view bytes) {
  if (failed_) return;
  // Drop consumed bytes once they are most of the buffer, so memory stays proportional to what
  // is pending and a long stream is not copied over and over.
  if (pos_ > 0 && (pos_ == buf_.size() || (pos_ >= 4096 && pos_ * 2 >= buf_.size()))) {
    buf_.erase(0, pos_);
    base_offset_ += pos_;
    pos_ = 0;
  }
  buf_.append(bytes);
}

void RespParser::Reset() {
  buf_.clear();
  pos_ = 0;
  scanned_ = 0;
  pending_bulk_.reset();
  stack_.clear();
  failed_.reset();
  base_offset_ = 0;
}

Status RespParser::Fail(const std::string& message) {
  failed_ = Status::ParseError("RESP: " + message + " (at byte " + std::to_string(base_offset_ + pos_) +
                               " of the reply stream)");
  return *failed_;
}

Result<std::optional<std::string_view>> RespParser::ReadLine() {
  const size_t avail = buf_.size() - pos_;
  const size_t from = pos_ + scanned_;
  const size_t at = buf_.find(kCrlf, from);
  if (at == std::string::npos) {
    if (avail > limits_.max_line_bytes) {
      return Fail("line longer than " + std::to_string(limits_.max_line_bytes) + " bytes without \\r\\n");
    }
    // A trailing '\r' may be the first half of the terminator: search it again next time.
    scanned_ = avail > 0 ? avail - 1 : 0;
    return std::optional<std::string_view>();
  }
  std::string_view line(buf_.data() + pos_, at - pos_);
  if (line.empty()) return Fail("empty line where a reply was expected");
  if (line.size() > limits_.max_line_bytes) {
    return Fail("line longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
  }
  return std::optional<std::string_view>(line);
}

Result<std::optional<RedisReply>> RespParser::Next() {
  if (failed_) return *failed_;
  while (true) {
    RedisReply value;
    if (pending_bulk_) {
      const auto len = static_cast<size_t>(*pending_bulk_);
      if (buf_.size() - pos_ < len + 2) return std::optional<RedisReply>();
      if (buf_[pos_ + len] != '\r' || buf_[pos_ + len + 1] != '\n') {
        pos_ += len;
        return Fail("bulk string of " + std::to_string(len) + " bytes not followed by \\r\\n");
      }
      value = RedisReply::Bulk(buf_.substr(pos_, len));
      pos_ += len + 2;
      pending_bulk_.reset();
    } else {
      PULSE_ASSIGN_OR_RETURN(std::optional<std::string_view> line, ReadLine());
      if (!line) return std::optional<RedisReply>();
      const char type = line->front();
      const std::string_view rest = line->substr(1);
      const size_t line_end = pos_ + line->size() + 2;
      switch (type) {
        case '+':
        case '-':
          if (rest.find_first_of("\r\n") != std::string_view::npos) {
            return Fail("CR or LF inside a simple string or error line");
          }
          value = type == '+' ? RedisReply::Simple(std::string(rest)) : RedisReply::Error(std::string(rest));
          break;
        case ':': {
          std::optional<int64_t> v = ParseInt64(rest);
          if (!v) return Fail("malformed integer reply '" + std::string(rest.substr(0, 32)) + "'");
          value = RedisReply::Integer(*v);
          break;
        }
        case '$': {
          std::optional<int64_t> n = ParseInt64(rest);
          if (!n || *n < -1) return Fail("malformed bulk string length '" + std::string(rest.substr(0, 32)) + "'");
          if (*n > limits_.max_bulk_bytes) {
            return Fail("bulk string of " + std::to_string(*n) + " bytes exceeds the limit of " +
                        std::to_string(limits_.max_bulk_bytes));
          }
          pos_ = line_end;
          scanned_ = 0;
          if (*n == -1) break;  // nil bulk string
          pending_bulk_ = *n;
          continue;
        }
        case '*': {
          std::optional<int64_t> n = ParseInt64(rest);
          if (!n || *n < -1) return Fail("malformed array length '" + std::string(rest.substr(0, 32)) + "'");
          if (*n > limits_.max_array_elements) {
            return Fail("array of " + std::to_string(*n) + " elements exceeds the limit of " +
                        std::to_string(limits_.max_array_elements));
          }
          if (*n == -1) break;  // nil array
          if (*n == 0) {
            value = RedisReply::Array({});
            break;
          }
          if (stack_.size() >= limits_.max_depth) {
            return Fail("arrays nested deeper than " + std::to_string(limits_.max_depth));
          }
          pos_ = line_end;
          scanned_ = 0;
          Frame frame{RedisReply::Array({}), *n};
          // Never trust a count for memory: reserve a little, grow as elements arrive.
          frame.array.elements.reserve(static_cast<size_t>(std::min<int64_t>(*n, 1024)));
          stack_.push_back(std::move(frame));
          continue;
        }
        default: {
          std::string shown;
          AppendEscaped(std::string_view(&type, 1), 1, &shown);
          return Fail("unknown reply type byte '" + shown + "'");
        }
      }
      pos_ = line_end;
      scanned_ = 0;
    }
    // A complete value: it is the reply, or the next element of the innermost open array.
    while (true) {
      if (stack_.empty()) return std::optional<RedisReply>(std::move(value));
      Frame& top = stack_.back();
      top.array.elements.push_back(std::move(value));
      if (--top.remaining > 0) break;
      value = std::move(top.array);
      stack_.pop_back();
    }
  }
}

// ---- URLs -------------------------------------------------------------------------------------

std::string RedisEndpoint::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "redis://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" + std::to_string(db);
}

std::string RedisUrlForDisplay(std::string_view url) {
  auto endpoint = ParseRedisUrl(url);
  return endpoint.ok() ? endpoint->ToString() : "redis://(a URL that does not parse)";
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, 9) == "rediss://") {
    return Status::InvalidArgument("redis URL '" + std::string(url.substr(0, 9)) +
                                   "...': TLS (rediss://) is not supported");
  }
  if (url.substr(0, kScheme.size()) != kScheme) {
    // Show the scheme only: the rest may hold a password.
    const size_t sep = url.find("://");
    const std::string_view shown = url.substr(0, sep == std::string_view::npos ? 16 : sep + 3);
    return Status::InvalidArgument("redis URL must start with redis://, got '" + std::string(shown) + "...'");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);

  RedisEndpoint ep;
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("redis URL: credentials must be ':password@' or 'user:password@'");
    }
    PULSE_ASSIGN_OR_RETURN(ep.username, PercentDecode(userinfo.substr(0, colon), "user name"));
    PULSE_ASSIGN_OR_RETURN(ep.password, PercentDecode(userinfo.substr(colon + 1), "password"));
    if (ep.password.empty()) return Status::InvalidArgument("redis URL: empty password after ':'");
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("redis URL: unclosed '[' in the host");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::InvalidArgument("redis URL: expected ':port' after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return Status::InvalidArgument("redis URL: empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Status::InvalidArgument("redis URL: empty port");
    }
  }
  if (ep.host.empty()) return Status::InvalidArgument("redis URL '" + ep.ToString() + "': no host");
  if (!port_text.empty()) {
    std::optional<int64_t> port = ParseInt64(port_text);
    if (!port || *port < 1 || *port > 65535 || port_text.front() == '-') {
      return Status::InvalidArgument("redis URL: port must be 1..65535, got '" + std::string(port_text) + "'");
    }
    ep.port = static_cast<int>(*port);
  }
  if (!path.empty()) {
    if (path.front() != '/') {
      return Status::InvalidArgument("redis URL: query strings and fragments are not supported ('" + std::string(path) +
                                     "')");
    }
    std::string_view db_text = path.substr(1);
    if (!db_text.empty()) {
      std::optional<int64_t> db = ParseInt64(db_text);
      if (!db || *db < 0 || *db > INT_MAX || db_text.front() == '-') {
        return Status::InvalidArgument("redis URL: the path must be a database number (/0, /1, ...), got '" +
                                       std::string(path) + "'");
      }
      ep.db = static_cast<int>(*db);
    }
  }
  return ep;
}

// ---- RedisClient ------------------------------------------------------------------------------

RedisClient::RedisClient(RedisEndpoint endpoint, RedisOptions options)
    : endpoint_(std::move(endpoint)), options_(options), parser_(options.limits) {}

RedisClient::RedisClient(RedisClient&& other) noexcept
    : endpoint_(std::move(other.endpoint_)),
      options_(other.options_),
      fd_(std::exchange(other.fd_, -1)),
      parser_(std::move(other.parser_)) {}

RedisClient& RedisClient::operator=(RedisClient&& other) noexcept {
  if (this != &other) {
    Close();
    endpoint_ = std::move(other.endpoint_);
    options_ = other.options_;
    fd_ = std::exchange(other.fd_, -1);
    parser_ = std::move(other.parser_);
  }
  return *this;
}

RedisClient::~RedisClient() { Close(); }

void RedisClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  parser_.Reset();
}

Result<RedisClient> RedisClient::Connect(std::string_view url, RedisOptions options) {
  PULSE_ASSIGN_OR_RETURN(RedisEndpoint endpoint, ParseRedisUrl(url));
  return Connect(std::move(endpoint), options);
}

Result<RedisClient> RedisClient::Connect(RedisEndpoint endpoint, RedisOptions options) {
  RedisClient client(std::move(endpoint), options);
  PULSE_RETURN_IF_ERROR(client.EnsureConnected());
  return client;
}

Status RedisClient::Broken(const std::string& message) {
  Close();
  return Status::Unavailable("redis " + endpoint_.ToString() + ": " + message);
}

Status RedisClient::ConnectOnce() {
  Close();
  const std::string where = "redis " + endpoint_.ToString();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint_.port);
  if (int rc = ::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable(where + ": cannot resolve host: " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + ErrnoText(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int rc = 0;
        do {
          rc = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(options_.connect_timeout.count(), 0, INT_MAX)));
        } while (rc < 0 && errno == EINTR);
        if (rc == 0) {
          err = ETIMEDOUT;
        } else if (rc < 0) {
          err = errno;
        } else {
          socklen_t len = sizeof(err);
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
    }
    if (err != 0) {
      last_error = err == ETIMEDOUT
                       ? "connect timed out after " + std::to_string(options_.connect_timeout.count()) + " ms"
                       : "connect: " + ErrnoText(err);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    fd_ = fd;
    break;
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return Status::Unavailable(where + ": " + last_error);
  return Handshake();
}

Status RedisClient::Handshake() {
  std::vector<std::vector<std::string>> commands;
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      commands.push_back({"AUTH", endpoint_.password});
    } else {
      commands.push_back({"AUTH", endpoint_.username, endpoint_.password});
    }
  }
  if (endpoint_.db != 0) commands.push_back({"SELECT", std::to_string(endpoint_.db)});
  if (commands.empty()) return Status::Ok();
  std::string request;
  for (const auto& c : commands) AppendRedisCommand(c, &request);
  PULSE_ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                         Exchange(request, commands.size(), options_.read_timeout, "connection handshake"));
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      // The first refusal explains the rest (SELECT after a failed AUTH answers NOAUTH).
      Status st = RedisErrorStatus(replies[i].str, "redis " + endpoint_.ToString() + ": " + commands[i][0]);
      Close();
      return st;
    }
  }
  return Status::Ok();
}

bool RedisClient::PeerClosedWhileIdle() const {
  pollfd p{fd_, POLLIN, 0};
  int rc = ::poll(&p, 1, 0);
  if (rc < 0) return errno != EINTR;
  if (rc == 0) return false;
  if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return true;
  // Readable while no command is outstanding: either EOF (the server closed the connection) or
  // bytes nobody asked for. Either way the connection cannot be used; nothing was sent on it yet.
  char byte = 0;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return true;
}

Status RedisClient::EnsureConnected() {
  if (fd_ >= 0) {
    if (!PeerClosedWhileIdle()) return Status::Ok();
    Close();
  }
  const int attempts = std::max(1, options_.connect_attempts);
  milliseconds delay = options_.backoff_initial;
  Status last;
  for (int attempt = 1;; ++attempt) {
    last = ConnectOnce();
    if (last.ok() || last.code() != StatusCode::kUnavailable) return last;
    if (attempt >= attempts) break;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, options_.backoff_max);
  }
  return Status::Unavailable(last.message() + " (gave up after " + std::to_string(attempts) +
                             (attempts == 1 ? " attempt)" : " attempts)"));
}

Result<std::vector<RedisReply>> RedisClient::Exchange(std::string_view request, size_t replies,
                                                      milliseconds read_timeout, std::string_view what) {
  std::vector<RedisReply> out;
  out.reserve(replies);
  size_t written = 0;
  const bool wait_forever = read_timeout.count() < 0;
  Clock::time_point write_deadline = Clock::now() + options_.write_timeout;
  Clock::time_point read_deadline = Clock::now() + (wait_forever ? milliseconds(0) : read_timeout);
  const auto lost = [&](const std::string& why) {
    return Broken(
        std::string(what) + " failed: " + why + "; connection closed" +
        (written == 0 ? " (nothing was sent)" : " (the command may have run on the server; it was not retried)"));
  };
  char chunk[16384];
  while (true) {
    while (out.size() < replies) {
      Result<std::optional<RedisReply>> next = parser_.Next();
      if (!next.ok()) {
        Status st = next.status().WithContext("redis " + endpoint_.ToString() + ": reply to " + std::string(what));
        Close();
        return st;
      }
      if (!next->has_value()) break;
      out.push_back(std::move(**next));
    }
    if (out.size() == replies && written == request.size()) return out;

    const bool writing = written < request.size();
    pollfd p{fd_, static_cast<short>(writing ? POLLIN | POLLOUT : POLLIN), 0};
    const int wait = writing ? PollMillis(write_deadline, false) : PollMillis(read_deadline, wait_forever);
    int rc = ::poll(&p, 1, wait);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return lost("poll: " + ErrnoText(errno));
    }
    if (rc == 0) {
      if (writing) {
        return lost("the server took no data for " + std::to_string(options_.write_timeout.count()) + " ms");
      }
      return lost("no reply within " + std::to_string(read_timeout.count()) + " ms");
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        parser_.Feed(std::string_view(chunk, static_cast<size_t>(n)));
        read_deadline = Clock::now() + read_timeout;
      } else if (n == 0) {
        return lost("the server closed the connection");
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return lost("read: " + ErrnoText(errno));
      }
    }
    if (writing && (p.revents & POLLOUT) != 0) {
      ssize_t n = ::send(fd_, request.data() + written, request.size() - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<size_t>(n);
        write_deadline = Clock::now() + options_.write_timeout;
        if (written == request.size()) read_deadline = Clock::now() + read_timeout;
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return lost("write: " + ErrnoText(errno));
      }
    }
  }
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  return Run(args, options_.read_timeout);
}

Result<RedisReply> RedisClient::BlockingCommand(const std::vector<std::string>& args, milliseconds server_timeout) {
  if (server_timeout.count() < 0) {
    return Status::InvalidArgument("redis: negative timeout for blocking command " +
                                   (args.empty() ? std::string() : args[0]));
  }
  return Run(args, server_timeout.count() == 0 ? milliseconds(-1) : server_timeout + options_.blocking_grace);
}

Result<RedisReply> RedisClient::Run(const std::vector<std::string>& args, milliseconds read_timeout) {
  if (args.empty()) return Status::InvalidArgument("redis: empty command");
  PULSE_RETURN_IF_ERROR(EnsureConnected());
  PULSE_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, Exchange(EncodeRedisCommand(args), 1, read_timeout, args[0]));
  RedisReply& reply = replies.front();
  if (reply.is_error()) return RedisErrorStatus(reply.str, "redis " + endpoint_.ToString() + ": " + args[0]);
  return std::move(reply);
}

Result<std::vector<RedisReply>> RedisClient::Pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (commands.empty()) return std::vector<RedisReply>();
  std::string request;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].empty()) {
      return Status::InvalidArgument("redis: command " + std::to_string(i) + " of the pipeline is empty");
    }
    AppendRedisCommand(commands[i], &request);
  }
  PULSE_RETURN_IF_ERROR(EnsureConnected());
  return Exchange(request, commands.size(), options_.read_timeout,
                  "a pipeline of " + std::to_string(commands.size()) + " commands");
}

}  // namespace pulse::jobs
