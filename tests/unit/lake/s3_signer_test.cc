// SigV4 against the worked examples AWS publishes for S3 header-based signing ("Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk", Examples:
// GET Object, PUT Object, GET Bucket Lifecycle, Get Bucket (List Objects);
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html). Every expected
// value below (canonical requests, string-to-sign hashes, signatures, Authorization headers,
// payload hashes) is copied from that page; none is computed by Pulse. All four use the
// documentation's example credentials, bucket examplebucket in us-east-1 and 20130524T000000Z.
//
// AWS's generic "Signature Version 4 test suite" (get-vanilla, post-x-www-form-urlencoded, ...)
// signs for the service "service" without an x-amz-content-sha256 header; Pulse's signer is
// S3-only and always signs that header, so those vectors do not apply and are not used here.
#include "lake/internal/s3_signer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace pulse::lake::s3 {
namespace {

constexpr char kAccessKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecretKey[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kRegion[] = "us-east-1";
constexpr SigningCredentials kCredentials{kRegion, kAccessKey, kSecretKey, ""};
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";
constexpr char kDate[] = "20130524T000000Z";
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string Header(const SignedRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<missing " + name + ">";
}

// The string to sign is "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex SHA-256 of the canonical request>";
// AWS's examples print the whole of it.
std::string StringToSign(const std::string& canonical_request_hash) {
  return std::string("AWS4-HMAC-SHA256\n") + kDate + "\n20130524/us-east-1/s3/aws4_request\n" + canonical_request_hash;
}

TEST(SigV4AwsExamples, GetObject) {
  const SignedRequest r =
      SignV4("GET", kHost, "/test.txt", {}, {{"range", "bytes=0-9"}}, kEmptySha256, kDate, kCredentials);
  EXPECT_EQ(r.canonical_request,
            "GET\n"
            "/test.txt\n"
            "\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.string_to_sign, StringToSign("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
  EXPECT_EQ(r.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(Header(r, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // The headers to send carry what was signed.
  EXPECT_EQ(Header(r, "host"), kHost);
  EXPECT_EQ(Header(r, "x-amz-date"), kDate);
  EXPECT_EQ(Header(r, "x-amz-content-sha256"), kEmptySha256);
  EXPECT_EQ(Header(r, "range"), "bytes=0-9");
}

TEST(SigV4AwsExamples, EmptyPayloadHashIsTheOneAwsPublishes) { EXPECT_EQ(Sha256Hex(""), kEmptySha256); }

TEST(SigV4AwsExamples, PutObject) {
  // The object's content is "Welcome to Amazon S3."; the example gives its x-amz-content-sha256.
  const std::string payload_hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  // The key "test$file.text" is URI-encoded in the canonical request.
  const std::string path = "/" + UriEncode("test$file.text", true);
  EXPECT_EQ(path, "/test%24file.text");
  const SignedRequest r =
      SignV4("PUT", kHost, path, {},
             {{"date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}, payload_hash,
             kDate, kCredentials);
  EXPECT_EQ(r.canonical_request,
            "PUT\n"
            "/test%24file.text\n"
            "\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\n"
            "x-amz-storage-class:REDUCED_REDUNDANCY\n"
            "\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(r.string_to_sign, StringToSign("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"));
  EXPECT_EQ(r.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(Header(r, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4AwsExamples, GetBucketLifecycle) {
  // "GET ?lifecycle": a query parameter without a value signs as "lifecycle=".
  const SignedRequest r = SignV4("GET", kHost, "/", {{"lifecycle", ""}}, {}, kEmptySha256, kDate, kCredentials);
  EXPECT_EQ(r.canonical_request,
            "GET\n"
            "/\n"
            "lifecycle=\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.string_to_sign, StringToSign("9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"));
  EXPECT_EQ(r.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  EXPECT_EQ(Header(r, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4AwsExamples, ListObjects) {
  // "GET ?max-keys=2&prefix=J". The parameters are passed out of order: the canonical query sorts them.
  const Pairs query = {{"prefix", "J"}, {"max-keys", "2"}};
  EXPECT_EQ(CanonicalQuery(query), "max-keys=2&prefix=J");
  const SignedRequest r = SignV4("GET", kHost, "/", query, {}, kEmptySha256, kDate, kCredentials);
  EXPECT_EQ(r.canonical_request,
            "GET\n"
            "/\n"
            "max-keys=2&prefix=J\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.string_to_sign, StringToSign("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"));
  EXPECT_EQ(r.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  EXPECT_EQ(Header(r, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// Pulse-specific behaviour (no published vector): a session token is sent and signed.
TEST(SigV4, SessionTokenIsSignedAndSent) {
  const SignedRequest without = SignV4("GET", kHost, "/", {}, {}, kEmptySha256, kDate, kCredentials);
  const SignedRequest with =
      SignV4("GET", kHost, "/", {}, {}, kEmptySha256, kDate, {kRegion, kAccessKey, kSecretKey, "token-123"});
  EXPECT_EQ(Header(with, "x-amz-security-token"), "token-123");
  EXPECT_NE(with.canonical_request.find("x-amz-security-token:token-123\n"), std::string::npos);
  EXPECT_NE(
      Header(with, "authorization").find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
      std::string::npos);
  EXPECT_NE(with.signature, without.signature);
  EXPECT_EQ(Header(without, "x-amz-security-token"), "<missing x-amz-security-token>");
}

// UriEncode follows SigV4's rules: unreserved characters stay, everything else is %XX (upper
// case), '/' stays only in paths.
TEST(SigV4, UriEncode) {
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b+c=d&e", false), "a%20b%2Bc%3Dd%26e");
  EXPECT_EQ(UriEncode("kind=a/part 1.parquet", true), "kind%3Da/part%201.parquet");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");  // UTF-8 bytes, one escape each
}

}  // namespace
}  // namespace pulse::lake::s3
