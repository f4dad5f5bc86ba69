// http_load: an open-loop HTTP/1.1 load generator at a fixed request rate, for bench/serve_bench.py
// (wrk, from Debian, measures saturation; wrk2's fixed-rate mode is not packaged in Debian).
//
//   http_load --url http://127.0.0.1:PORT/path --rate R --seconds S [--warmup W] [--threads T]
//             [--method POST] [--body-file F] [--header 'K: V']...
//
// Contract:
//  - Request i is due at start + i / R (for i over warm-up + measured seconds). T threads take the
//    due requests in order; each sleeps until its request is due, sends it and reads the reply.
//    Latency is measured from the due time, not from the send, so a request that waited for a free
//    thread (the server fell behind) counts its wait: no coordinated omission.
//  - Connections are kept alive while the server allows it (no "Connection: close" in the reply);
//    otherwise each request opens a new one, and its latency includes the connect.
//  - Replies must be framed by Content-Length (or end with the connection); a status outside 2xx,
//    a reset, a timeout (10 s) or a malformed reply is an error, not a latency.
//  - Requests due in the first W seconds warm up and are not recorded.
//  - Prints one JSON object: requests and errors measured, achieved rate (replies/s over the
//    measured window), latency p50/p90/p99/max in ms, and the connections opened.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 80;
  std::string path = "/";
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
  double rate = 100;
  double seconds = 10;
  double warmup = 1;
  int threads = 32;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "http_load: %s\nusage: http_load --url http://HOST:PORT/PATH --rate R --seconds S [--warmup W] "
               "[--threads T] [--method M] [--body-file F] [--header 'K: V']...\n",
               why.c_str());
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") {
      const std::string url = value();
      const std::string scheme = "http://";
      if (url.rfind(scheme, 0) != 0) Usage("only http:// URLs");
      const std::string rest = url.substr(scheme.size());
      const size_t slash = rest.find('/');
      const std::string authority = rest.substr(0, slash);
      o.path = slash == std::string::npos ? "/" : rest.substr(slash);
      const size_t colon = authority.rfind(':');
      o.host = authority.substr(0, colon);
      o.port = colon == std::string::npos ? 80 : std::atoi(authority.c_str() + colon + 1);
    } else if (a == "--rate") {
      o.rate = std::atof(value().c_str());
    } else if (a == "--seconds") {
      o.seconds = std::atof(value().c_str());
    } else if (a == "--warmup") {
      o.warmup = std::atof(value().c_str());
    } else if (a == "--threads") {
      o.threads = std::atoi(value().c_str());
    } else if (a == "--method") {
      o.method = value();
    } else if (a == "--header") {
      o.headers.push_back(value());
    } else if (a == "--body-file") {
      std::ifstream in(value(), std::ios::binary);
      if (!in) Usage("cannot read the body file");
      o.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
      Usage("unknown argument " + a);
    }
  }
  if (o.rate <= 0 || o.seconds <= 0 || o.warmup < 0 || o.threads < 1) Usage("bad rate, seconds, warmup or threads");
  return o;
}

// One connection's socket; -1 when closed.
class Connection {
 public:
  explicit Connection(const Options& o) : o_(o) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` and reads one reply; true when it was 2xx and well framed.
  bool RoundTrip(const std::string& request, int64_t& opened) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = fd_ >= 0;
      if (!reused) {
        if (!Open()) return false;
        ++opened;
      }
      if (!SendAll(request)) {
        Close();
        if (reused) continue;  // the server closed an idle kept-alive connection: reconnect once
        return false;
      }
      int status = 0;
      const int got = ReadReply(status);
      if (got < 0 && reused && attempt == 0 && status == 0) {
        Close();  // nothing came back on a reused connection: closed under us; reconnect once
        continue;
      }
      return got > 0 && status >= 200 && status < 300;
    }
    return false;
  }

 private:
  bool Open() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(o_.port));
    if (::inet_pton(AF_INET, o_.host == "localhost" ? "127.0.0.1" : o_.host.c_str(), &addr.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      Close();
      return false;
    }
    buffered_.clear();
    return true;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool SendAll(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads more bytes into buffered_; false on EOF, error or timeout.
  bool Fill() {
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }
  // 1: a complete reply (status set); -1: failed. Closes the connection when the reply says so.
  int ReadReply(int& status) {
    size_t end;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        Close();
        return -1;
      }
    }
    const std::string head = buffered_.substr(0, end);
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) {
      Close();
      return -1;
    }
    status = std::atoi(head.c_str() + 9);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const bool close = lower.find("\r\nconnection: close") != std::string::npos;
    const size_t cl = lower.find("\r\ncontent-length:");
    buffered_.erase(0, end + 4);
    if (cl != std::string::npos) {
      const size_t length = std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
      while (buffered_.size() < length) {
        if (!Fill()) {
          Close();
          return -1;
        }
      }
      buffered_.erase(0, length);
      if (close) Close();
      return 1;
    }
    if (lower.find("\r\ntransfer-encoding:") != std::string::npos) {  // not supported: not framed for us
      Close();
      return -1;
    }
    while (Fill()) {
    }  // framed by the connection's end
    Close();
    return 1;
  }

  const Options& o_;
  int fd_ = -1;
  std::string buffered_;
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::ostringstream req;
  req << o.method << ' ' << o.path << " HTTP/1.1\r\nHost: " << o.host << ':' << o.port << "\r\n";
  for (const auto& h : o.headers) req << h << "\r\n";
  if (!o.body.empty() || o.method == "POST" || o.method == "PUT") req << "Content-Length: " << o.body.size() << "\r\n";
  req << "\r\n" << o.body;
  const std::string request = req.str();

  const auto total = static_cast<int64_t>((o.warmup + o.seconds) * o.rate);
  const auto warm = static_cast<int64_t>(o.warmup * o.rate);
  const auto interval = std::chrono::duration<double>(1.0 / o.rate);
  std::atomic<int64_t> next{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  int64_t errors = 0, opened = 0;
  Clock::time_point last_done{};
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(50);

  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&] {
      Connection conn(o);
      std::vector<double> mine;
      int64_t my_errors = 0, my_opened = 0;
      Clock::time_point my_last{};
      for (int64_t i; (i = next.fetch_add(1)) < total;) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
        std::this_thread::sleep_until(due);
        const bool ok = conn.RoundTrip(request, my_opened);
        const auto done = Clock::now();
        if (i < warm) continue;
        my_last = std::max(my_last, done);
        if (ok) {
          mine.push_back(std::chrono::duration<double, std::milli>(done - due).count());
        } else {
          ++my_errors;
        }
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      errors += my_errors;
      opened += my_opened;
      last_done = std::max(last_done, my_last);
    });
  }
  for (auto& t : threads) t.join();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  const auto measured_start = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(warm));
  const double window = std::max(o.seconds, std::chrono::duration<double>(last_done - measured_start).count());
  std::printf(
      "{\"rate_target\": %.1f, \"requests\": %lld, \"ok\": %zu, \"errors\": %lld, \"rate_achieved\": %.1f, "
      "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"connections\": %lld}\n",
      o.rate, static_cast<long long>(total - warm), latencies_ms.size(), static_cast<long long>(errors),
      static_cast<double>(latencies_ms.size()) / window, Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.90),
      Percentile(latencies_ms, 0.99), latencies_ms.empty() ? 0.0 : latencies_ms.back(), static_cast<long long>(opened));
  return 0;
}
