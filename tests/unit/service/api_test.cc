// The request pipeline of pulse serve without a socket (service/api.h): routing (404, 405),
// authentication (401 without or with a bad token, 403 below the route's scope), rate limiting
// (429 with Retry-After), errors as problem documents without internal detail, and the request
// metrics under the names the dashboards query.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/hash.h"
#include "service/api.h"
#include "service/problem.h"
#include "service/rate_limiter.h"
#include "service/tokens.h"

namespace pulse::service {
namespace {

namespace fs = std::filesystem;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse-api-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    tokens_file_ = (dir_ / "tokens.json").string();
    read_ = CreateToken(tokens_file_, Scope::kRead, "reader")->token;
    write_ = CreateToken(tokens_file_, Scope::kWrite, "writer")->token;
    store_ = std::move(TokenStore::Open(tokens_file_)).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Api> MakeApi(double rate = 1000, double burst = 1000) {
    ApiOptions o;
    o.rate_per_second = rate;
    o.rate_burst = burst;
    o.redact = {"/secret/lake"};
    auto api = std::make_unique<Api>(o, *store_, registry_);
    api->Add({"GET", "/livez", std::nullopt, [](Call&) -> Result<HttpReply> { return JsonReply(200, {{"ok", 1}}); }});
    api->Add({"GET", "/v1/things/{id}", Scope::kRead, [](Call& c) -> Result<HttpReply> {
                return JsonReply(200, {{"id", c.params.at("id")}});
              }});
    api->Add({"DELETE", "/v1/things/{id}", Scope::kWrite,
              [](Call&) -> Result<HttpReply> { return JsonReply(202, nlohmann::json::object()); }});
    api->Add({"GET", "/v1/throws", Scope::kRead,
              [](Call&) -> Result<HttpReply> { throw std::runtime_error("boom at /secret/lake/x.parquet"); }});
    api->Add({"GET", "/v1/throws-int", Scope::kRead, [](Call&) -> Result<HttpReply> { throw 42; }});
    api->Add({"GET", "/v1/io", Scope::kRead,
              [](Call&) -> Result<HttpReply> { return Status::IoError("cannot read /secret/lake/t/_delta_log"); }});
    api->Add({"GET", "/v1/bad", Scope::kRead,
              [](Call&) -> Result<HttpReply> { return Status::InvalidArgument("no table in /secret/lake/t"); }});
    return api;
  }

  static HttpRequest Get(std::string path, std::string token = {}) {
    HttpRequest r;
    r.method = "GET";
    r.path = std::move(path);
    r.remote_addr = "127.0.0.1";
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return r;
  }
  static nlohmann::json Body(const HttpReply& r) { return nlohmann::json::parse(r.body); }
  static std::string HeaderOf(const HttpReply& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  static void ExpectProblem(const HttpReply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.content_type, "application/problem+json");
    auto body = Body(r);
    EXPECT_EQ(body["status"], status);
    EXPECT_EQ(body["code"], code);
    EXPECT_EQ(body["type"], "urn:pulse:problem:" + code);
    EXPECT_TRUE(body.contains("title"));
    EXPECT_TRUE(body.contains("request_id"));
  }

  fs::path dir_;
  std::string tokens_file_, read_, write_;
  std::unique_ptr<TokenStore> store_;
  metrics::Registry registry_;
};

TEST_F(ApiTest, PublicRouteNeedsNoToken) {
  auto api = MakeApi();
  auto r = api->Handle(Get("/livez"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["ok"], 1);
  EXPECT_FALSE(HeaderOf(r, "X-Request-Id").empty());
}

TEST_F(ApiTest, UnknownRouteIs404Problem) { ExpectProblem(MakeApi()->Handle(Get("/nope")), 404, "not-found"); }

TEST_F(ApiTest, WrongMethodIs405WithAllow) {
  auto api = MakeApi();
  HttpRequest req = Get("/v1/things/7", read_);
  req.method = "POST";
  auto r = api->Handle(req);
  ExpectProblem(r, 405, "method-not-allowed");
  EXPECT_EQ(HeaderOf(r, "Allow"), "DELETE, GET");
}

TEST_F(ApiTest, MissingTokenIs401) {
  auto r = MakeApi()->Handle(Get("/v1/things/7"));
  ExpectProblem(r, 401, "unauthorized");
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "Bearer");
}

TEST_F(ApiTest, BadTokenIs401) {
  ExpectProblem(MakeApi()->Handle(Get("/v1/things/7", "pulse_" + std::string(64, '0'))), 401, "unauthorized");
  // A token's hash is not a token.
  ExpectProblem(MakeApi()->Handle(Get("/v1/things/7", Sha256Hex(read_))), 401, "unauthorized");
  // Not Bearer.
  HttpRequest basic = Get("/v1/things/7");
  basic.headers["Authorization"] = "Basic " + read_;
  ExpectProblem(MakeApi()->Handle(basic), 401, "unauthorized");
}

TEST_F(ApiTest, ReadTokenReadsButCannotWrite) {
  auto api = MakeApi();
  auto ok = api->Handle(Get("/v1/things/7", read_));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Body(ok)["id"], "7");
  HttpRequest del = Get("/v1/things/7", read_);
  del.method = "DELETE";
  ExpectProblem(api->Handle(del), 403, "forbidden");
  del.headers["Authorization"] = "Bearer " + write_;
  EXPECT_EQ(api->Handle(del).status, 202);
}

TEST_F(ApiTest, RateLimitIs429WithRetryAfter) {
  auto api = MakeApi(0.001, 2);
  EXPECT_EQ(api->Handle(Get("/v1/things/1", read_)).status, 200);
  EXPECT_EQ(api->Handle(Get("/v1/things/1", read_)).status, 200);
  auto r = api->Handle(Get("/v1/things/1", read_));
  ExpectProblem(r, 429, "rate-limited");
  EXPECT_GE(std::stoi(HeaderOf(r, "Retry-After")), 1);
  // Buckets are per token: the writer still has its own.
  EXPECT_EQ(api->Handle(Get("/v1/things/1", write_)).status, 200);
  // Probes are never limited.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(api->Handle(Get("/livez")).status, 200);
}

TEST_F(ApiTest, ExceptionsBecome500WithoutDetail) {
  auto api = MakeApi();
  for (const char* path : {"/v1/throws", "/v1/throws-int"}) {
    auto r = api->Handle(Get(path, read_));
    ExpectProblem(r, 500, "internal");
    EXPECT_EQ(r.body.find("boom"), std::string::npos);
    EXPECT_EQ(r.body.find("/secret"), std::string::npos);
  }
}

TEST_F(ApiTest, StatusErrorsHideInternalPaths) {
  auto api = MakeApi();
  auto io = api->Handle(Get("/v1/io", read_));
  ExpectProblem(io, 503, "unavailable");
  EXPECT_EQ(io.body.find("/secret"), std::string::npos);
  auto bad = api->Handle(Get("/v1/bad", read_));
  ExpectProblem(bad, 400, "invalid-argument");
  EXPECT_EQ(bad.body.find("/secret/lake"), std::string::npos);
  EXPECT_NE(bad.body.find("<redacted>"), std::string::npos);
}

TEST_F(ApiTest, LayerErrorsAreProblems) {
  auto api = MakeApi();
  ExpectProblem(api->LayerError(Get("/v1/signals"), 413), 413, "body-too-large");
  ExpectProblem(api->LayerError(Get("/x"), 400), 400, "bad-request");
}

TEST_F(ApiTest, CountsRequestsByRouteMethodAndCode) {
  auto api = MakeApi();
  (void)api->Handle(Get("/v1/things/1", read_));
  (void)api->Handle(Get("/v1/things/2", read_));
  (void)api->Handle(Get("/v1/things/2"));
  (void)api->Handle(Get("/nope"));
  const std::string text = registry_.Render();
  EXPECT_NE(text.find(R"(pulse_http_requests_total{route="/v1/things/{id}",method="GET",code="200"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(pulse_http_requests_total{route="/v1/things/{id}",method="GET",code="401"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(pulse_http_requests_total{route="unmatched",method="GET",code="404"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(pulse_http_request_duration_seconds_count{route="/v1/things/{id}",method="GET"} 3)"),
            std::string::npos);
}

TEST(Templates, MatchWholeSegments) {
  std::map<std::string, std::string> p;
  EXPECT_TRUE(MatchTemplate(SplitPath("/v1/jobs/{id}"), "/v1/jobs/abc", p));
  EXPECT_EQ(p["id"], "abc");
  EXPECT_FALSE(MatchTemplate(SplitPath("/v1/jobs/{id}"), "/v1/jobs/", p));
  EXPECT_FALSE(MatchTemplate(SplitPath("/v1/jobs/{id}"), "/v1/jobs/a/b", p));
  EXPECT_FALSE(MatchTemplate(SplitPath("/v1/jobs"), "/v1/jobsx", p));
  EXPECT_TRUE(MatchTemplate(SplitPath("/livez"), "/livez", p));
}

TEST(RateLimiter, BurstThenRefill) {
  RateLimiter limiter(2, 3);  // 2 per second, 3 at once
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("k", 100.0).allowed);
  auto refused = limiter.Take("k", 100.0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NEAR(refused.retry_after_seconds, 0.5, 1e-9);
  EXPECT_TRUE(limiter.Take("k", 100.5).allowed);
  EXPECT_FALSE(limiter.Take("k", 100.5).allowed);
  EXPECT_TRUE(limiter.Take("other", 100.5).allowed);
  // Never more than the burst, however long idle.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("k", 1000.0).allowed);
  EXPECT_FALSE(limiter.Take("k", 1000.0).allowed);
}

TEST(RateLimiter, IdleBucketsAreDroppedPastMaxKeys) {
  RateLimiter limiter(1, 1, 2);
  EXPECT_TRUE(limiter.Take("a", 0).allowed);
  EXPECT_TRUE(limiter.Take("b", 0).allowed);
  EXPECT_TRUE(limiter.Take("c", 10).allowed);  // a and b refilled: swept
  EXPECT_FALSE(limiter.Take("c", 10).allowed);
}

TEST(Problems, StatusCodesMapToStableCodes) {
  EXPECT_EQ(ProblemFromStatus(Status::InvalidArgument("x")).status, 400);
  EXPECT_EQ(ProblemFromStatus(Status::ParseError("x")).code, "invalid-argument");
  EXPECT_EQ(ProblemFromStatus(Status::NotFound("x")).status, 404);
  EXPECT_EQ(ProblemFromStatus(Status::Conflict("x")).status, 409);
  EXPECT_EQ(ProblemFromStatus(Status::PermissionDenied("x")).status, 403);
  EXPECT_EQ(ProblemFromStatus(Status::Unavailable("redis at 10.0.0.1")).detail.find("10.0.0.1"), std::string::npos);
  EXPECT_EQ(ProblemFromStatus(Status::DeadlineExceeded("x")).code, "timeout");
  auto internal = ProblemFromStatus(Status::Internal("invariant at src/x.cc:12"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.detail.find("src/x.cc"), std::string::npos);
  auto doc = nlohmann::json::parse(ProblemJson(MakeProblem(404, "not-found", "bad \xff byte"), "/p", "rid"));
  EXPECT_EQ(doc["instance"], "/p");
  EXPECT_EQ(doc["request_id"], "rid");
}

}  // namespace
}  // namespace pulse::service
