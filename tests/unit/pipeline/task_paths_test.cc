// Confinement of task paths (pipeline/task_paths.h) on a real temporary directory tree:
//   root/inbox/{good.csv, sub/deep.csv, escape.csv -> root/secret.csv, inside.csv -> good.csv, dir/}
//   root/secret.csv, root/lakes/, root/link-lakes -> root/elsewhere
#include "pipeline/task_paths.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

// The value, or "" after reporting the error.
std::string Ok(const Result<std::string>& r) {
  if (r.ok()) return *r;
  ADD_FAILURE() << r.status().message();
  return "";
}

class TaskPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("pulse_task_paths_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "inbox" / "sub");
    fs::create_directories(root_ / "inbox" / "dir");
    fs::create_directories(root_ / "lakes");
    fs::create_directories(root_ / "elsewhere");
    std::ofstream(root_ / "inbox" / "good.csv") << "name,ts,value\n";
    std::ofstream(root_ / "inbox" / "sub" / "deep.csv") << "name,ts,value\n";
    std::ofstream(root_ / "secret.csv") << "secret\n";
    fs::create_symlink(root_ / "secret.csv", root_ / "inbox" / "escape.csv");
    fs::create_symlink(root_ / "inbox" / "good.csv", root_ / "inbox" / "inside.csv");
    fs::create_symlink(root_ / "elsewhere", root_ / "lakes" / "link-out");
    fs::create_symlink(root_ / "inbox", root_ / "inbox-link");
    root_ = fs::canonical(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string P(const std::string& rel) const { return (root_ / rel).string(); }
  fs::path root_;
};

TEST_F(TaskPathsTest, IngestReadsOnlyRegularFilesInsideTheInbox) {
  const std::string inbox = P("inbox");
  EXPECT_EQ(Ok(ConfineIngestFile(P("inbox/good.csv"), inbox, {})), P("inbox/good.csv"));
  EXPECT_EQ(Ok(ConfineIngestFile("sub/deep.csv", inbox, {})), P("inbox/sub/deep.csv"));  // relative: in the inbox
  EXPECT_EQ(Ok(ConfineIngestFile("inside.csv", inbox, {})), P("inbox/good.csv"));        // a link that stays inside
  EXPECT_EQ(Ok(ConfineIngestFile(P("inbox-link/good.csv"), P("inbox-link"), {})), P("inbox/good.csv"));
  EXPECT_EQ(Ok(ConfineIngestFile(P("inbox/good.csv"), inbox + "/", {})), P("inbox/good.csv"));

  auto outside = ConfineIngestFile("/etc/passwd", inbox, {});
  EXPECT_EQ(outside.status().code(), StatusCode::kPermissionDenied);  // refused by policy, not malformed
  EXPECT_EQ(outside.status().message(),
            "path '/etc/passwd' is outside the ingest inbox '" + inbox + "' (config ingest.inbox)");
  auto dots = ConfineIngestFile(P("inbox/../secret.csv"), inbox, {});
  EXPECT_EQ(dots.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dots.status().message().find("'..' is not allowed"), std::string::npos) << dots.status().message();
  EXPECT_EQ(ConfineIngestFile("sub/../good.csv", inbox, {}).status().code(), StatusCode::kInvalidArgument);
  auto link = ConfineIngestFile("escape.csv", inbox, {});
  EXPECT_EQ(link.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(link.status().message().find("leads outside the ingest inbox"), std::string::npos)
      << link.status().message();
  EXPECT_EQ(link.status().message().find("secret"), std::string::npos);  // the target is not revealed
  auto dir = ConfineIngestFile("dir", inbox, {});
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string::npos) << dir.status().message();
  EXPECT_EQ(ConfineIngestFile("absent.csv", inbox, {}).status().code(), StatusCode::kNotFound);
  // Outside the inbox, absent and present files get the same answer: no existence oracle.
  EXPECT_EQ(ConfineIngestFile(P("absent.csv"), inbox, {}).status().message().find("outside the ingest inbox") !=
                std::string::npos,
            true);
  EXPECT_EQ(ConfineIngestFile(std::string("good.csv\0/x", 10), inbox, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfineIngestFile(P("inbox-other/x.csv"), inbox, {}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TaskPathsTest, WithoutAnInboxOnlyNamedFilesAreAllowed) {
  auto none = ConfineIngestFile(P("inbox/good.csv"), "", {});
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(none.status().message().find("has none (set config ingest.inbox"), std::string::npos)
      << none.status().message();
  EXPECT_EQ(Ok(ConfineIngestFile(P("secret.csv"), "", {P("secret.csv")})), P("secret.csv"));
  EXPECT_FALSE(ConfineIngestFile(P("inbox/good.csv"), "", {P("secret.csv")}).ok());
  EXPECT_EQ(ConfineIngestFile(P("inbox/good.csv"), P("no-such-inbox"), {}).status().code(), StatusCode::kNotFound);
}

TEST_F(TaskPathsTest, LakesAreTheWorkersOwnOrUnderALakeRoot) {
  const std::string own = P("lakes/main");
  EXPECT_EQ(Ok(ConfineLake(own, own, {})), own);
  EXPECT_EQ(Ok(ConfineLake("file://" + own, own, {})), own);
  EXPECT_EQ(Ok(ConfineLake(own + "/", "file://" + own, {})), own);
  auto under_own = ConfineLake(own + "/nested", own, {});  // the worker's lake is one lake, not a root
  EXPECT_EQ(under_own.status().code(), StatusCode::kPermissionDenied);
  auto elsewhere = ConfineLake(P("elsewhere/lake"), own, {});
  EXPECT_EQ(elsewhere.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ConfineLake(P("lakes/x/../y"), own, {}).status().code(), StatusCode::kInvalidArgument);  // malformed
  EXPECT_EQ(elsewhere.status().message(),
            "lake '" + P("elsewhere/lake") + "' is not allowed: a task may name this worker's lake ('" + own +
                "', config lake.url) or a lake under one of its lake roots (none configured, config jobs.lake_roots)");

  const std::vector<std::string> roots = {P("lakes"), "s3://bucket/lakes/"};
  EXPECT_EQ(Ok(ConfineLake(P("lakes/team-a"), own, roots)), P("lakes/team-a"));
  EXPECT_EQ(Ok(ConfineLake(P("lakes/a/b/c"), own, roots)), P("lakes/a/b/c"));
  EXPECT_FALSE(ConfineLake(P("lakes/../elsewhere"), own, roots).ok());
  EXPECT_NE(ConfineLake(P("lakes/x/../y"), own, roots).status().message().find("'..' is not allowed"),
            std::string::npos);
  EXPECT_FALSE(ConfineLake(P("lakes/link-out/lake"), own, roots).ok());  // a symlink out of the root
  fs::create_symlink(root_ / "not-yet", root_ / "lakes" / "dangling");
  auto dangling = ConfineLake(P("lakes/dangling/lake"), own, roots);
  EXPECT_NE(dangling.status().message().find("dangling symbolic link"), std::string::npos)
      << dangling.status().message();
  EXPECT_FALSE(ConfineLake(P("lakes/dangling"), own, roots).ok());
  EXPECT_FALSE(ConfineLake(P("lakes-other"), own, roots).ok());  // a sibling sharing the prefix
  EXPECT_FALSE(ConfineLake("relative-lake", own, roots).ok());
  EXPECT_EQ(Ok(ConfineLake("s3://bucket/lakes/a", own, roots)), "s3://bucket/lakes/a");
  EXPECT_EQ(Ok(ConfineLake("s3://bucket/lakes/a/", own, roots)), "s3://bucket/lakes/a");
  EXPECT_FALSE(ConfineLake("s3://bucket/lakes/../x", own, roots).ok());
  EXPECT_FALSE(ConfineLake("s3://bucket/lakes//a", own, roots).ok());
  EXPECT_FALSE(ConfineLake("s3://bucket/lakesX", own, roots).ok());
  EXPECT_FALSE(ConfineLake("s3://other/lakes/a", own, roots).ok());
  EXPECT_FALSE(ConfineLake("ftp://x/y", own, roots).ok());
  EXPECT_EQ(Ok(ConfineLake("s3://bucket/main", "s3://bucket/main/", {})), "s3://bucket/main");
  // A lake whose parent is a file (storage not mounted yet) is still allowed: opening it fails
  // later with an I/O error that the worker retries.
  std::ofstream(root_ / "lakes" / "blocker") << "x";
  EXPECT_EQ(Ok(ConfineLake(P("lakes/blocker/lake"), own, roots)), P("lakes/blocker/lake"));
}

// The refusal's code (the message starts with it, and `code` receives it).
std::string Code(std::string_view url, std::string_view lake) {
  std::string code;
  auto r = ConfineLakeObject(url, lake, &code);
  if (r.ok()) return "ok";
  EXPECT_TRUE(r.status().message().starts_with(code + ": ")) << r.status().message();
  return code;
}

TEST(LakeObjectUrl, AnS3ObjectUnderTheLakesPrefixIsItsKey) {
  const std::string lake = "s3://bucket/prefix";
  auto obj = ConfineLakeObject("s3://bucket/prefix/inbox/x.csv", lake);
  ASSERT_TRUE(obj.ok()) << obj.status().message();
  EXPECT_TRUE(obj->s3);
  EXPECT_EQ(obj->key, "inbox/x.csv");
  EXPECT_EQ(ConfineLakeObject("s3://bucket/prefix/x.csv", lake + "/")->key, "x.csv");        // the lake's trailing '/'
  EXPECT_EQ(ConfineLakeObject("S3://bucket/prefix/a/b/c.jsonl", lake)->key, "a/b/c.jsonl");  // scheme: any case
  EXPECT_EQ(ConfineLakeObject("s3://bucket/x.csv", "s3://bucket")->key, "x.csv");  // a lake at the bucket's root
  // Percent signs are the key's own characters, never decoded: %2e%2e is an object named so.
  EXPECT_EQ(ConfineLakeObject("s3://bucket/prefix/%2e%2e/x.csv", lake)->key, "%2e%2e/x.csv");
}

TEST(LakeObjectUrl, EveryBadS3UrlIsRefusedWithItsCode) {
  const std::string lake = "s3://bucket/prefix";
  // Outside the lake: another bucket, another prefix, a sibling sharing the prefix's text, the
  // bucket's root, the lake's root itself, a local path for an S3 lake.
  EXPECT_EQ(Code("s3://other/prefix/x.csv", lake), "url-outside-lake");
  EXPECT_EQ(Code("s3://bucket/other/x.csv", lake), "url-outside-lake");
  EXPECT_EQ(Code("s3://bucket/prefixX/x.csv", lake), "url-outside-lake");
  EXPECT_EQ(Code("s3://bucket/x.csv", lake), "url-outside-lake");
  EXPECT_EQ(Code("s3://bucket/prefix", lake), "url-outside-lake");
  EXPECT_EQ(Code("/srv/lake/x.csv", lake), "url-outside-lake");
  EXPECT_EQ(Code("file:///srv/lake/x.csv", lake), "url-outside-lake");
  auto outside = ConfineLakeObject("s3://other/prefix/x.csv", lake);
  EXPECT_EQ(outside.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(outside.status().message(),
            "url-outside-lake: url 's3://other/prefix/x.csv' is outside the lake 's3://bucket/prefix': another bucket");
  // '..', '.', empty segments and a trailing '/': malformed, never normalised into the lake.
  EXPECT_EQ(Code("s3://bucket/prefix/../prefix/x.csv", lake), "invalid-url");
  EXPECT_EQ(Code("s3://bucket/prefix/inbox/../../etc/x.csv", lake), "invalid-url");
  EXPECT_EQ(Code("s3://bucket/prefix/./x.csv", lake), "invalid-url");
  EXPECT_EQ(Code("s3://bucket/prefix//x.csv", lake), "invalid-url");
  EXPECT_EQ(Code("s3://bucket/prefix/inbox/", lake), "invalid-url");
  EXPECT_EQ(Code("s3://bucket", lake), "invalid-url");
  EXPECT_EQ(Code("s3://", lake), "invalid-url");
  EXPECT_EQ(Code("s3:///prefix/x.csv", lake), "invalid-url");
  EXPECT_EQ(Code("", lake), "invalid-url");
  EXPECT_EQ(Code(std::string("s3://bucket/prefix/x\0.csv", 25), lake), "invalid-url");
  EXPECT_EQ(Code("relative/x.csv", lake), "invalid-url");
  EXPECT_EQ(ConfineLakeObject("s3://bucket/prefix/../x", lake).status().code(), StatusCode::kInvalidArgument);
  // Other schemes.
  for (const char* url : {"http://bucket/prefix/x.csv", "https://s3.amazonaws.com/bucket/prefix/x.csv",
                          "ftp://host/x.csv", "gs://bucket/prefix/x.csv", "s3a://bucket/prefix/x.csv"}) {
    EXPECT_EQ(Code(url, lake), "unsupported-url-scheme") << url;
    EXPECT_EQ(ConfineLakeObject(url, lake).status().code(), StatusCode::kInvalidArgument) << url;
  }
  EXPECT_EQ(Code("s3://bucket/prefix/x.csv", ""), "invalid-url");  // no lake at all
}

TEST_F(TaskPathsTest, ALocalLakesObjectIsARegularFileInsideItsFolder) {
  fs::create_directories(root_ / "lake" / "inbox" / "dir");
  std::ofstream(root_ / "lake" / "inbox" / "x.csv") << "name,ts,value\n";
  fs::create_symlink(root_ / "secret.csv", root_ / "lake" / "inbox" / "out.csv");
  fs::create_symlink(root_ / "lake" / "inbox" / "x.csv", root_ / "lake" / "in.csv");
  fs::create_symlink(root_ / "lake", root_ / "lake-link");
  ::mkfifo(P("lake/inbox/fifo.csv").c_str(), 0600);
  const std::string lake = P("lake");
  for (const std::string& url : {P("lake/inbox/x.csv"), "file://" + P("lake/inbox/x.csv")}) {
    for (const std::string& l : {lake, "file://" + lake, lake + "/", P("lake-link")}) {
      auto obj = ConfineLakeObject(url, l);
      ASSERT_TRUE(obj.ok()) << url << " in " << l << ": " << obj.status().message();
      EXPECT_FALSE(obj->s3);
      EXPECT_EQ(obj->key, "inbox/x.csv");
      EXPECT_EQ(Ok(ConfineLakeFile(*obj, l)), P("lake/inbox/x.csv"));
    }
  }
  // Through the lake's link as written, and a link inside the lake that stays inside.
  EXPECT_EQ(Ok(ConfineLakeFile(*ConfineLakeObject(P("lake-link/inbox/x.csv"), P("lake-link")), P("lake-link"))),
            P("lake/inbox/x.csv"));
  EXPECT_EQ(Ok(ConfineLakeFile(*ConfineLakeObject(P("lake/in.csv"), lake), lake)), P("lake/inbox/x.csv"));

  // Lexical refusals: outside the folder (a sibling sharing the prefix, the parent), '..', the
  // lake itself, a relative path, a file://HOST URL, an S3 URL for a local lake, other schemes.
  EXPECT_EQ(Code(P("secret.csv"), lake), "url-outside-lake");
  EXPECT_EQ(Code(P("lakeX/x.csv"), lake), "url-outside-lake");
  EXPECT_EQ(Code(lake, lake), "url-outside-lake");
  EXPECT_EQ(Code("/etc/passwd", lake), "url-outside-lake");
  EXPECT_EQ(Code("s3://bucket/lake/x.csv", lake), "url-outside-lake");
  EXPECT_EQ(Code(P("lake/inbox/../../secret.csv"), lake), "invalid-url");
  EXPECT_EQ(Code(P("lake/inbox/../x.csv"), lake), "invalid-url");
  EXPECT_EQ(Code(P("lake/./inbox/x.csv"), lake), "invalid-url");
  EXPECT_EQ(Code(P("lake/inbox/"), lake), "invalid-url");
  EXPECT_EQ(Code("inbox/x.csv", lake), "invalid-url");
  EXPECT_EQ(Code("file://host" + P("lake/inbox/x.csv"), lake), "invalid-url");
  EXPECT_EQ(Code("http://localhost" + P("lake/inbox/x.csv"), lake), "unsupported-url-scheme");

  // Resolved refusals: a link that leads out, a missing file, a directory, a FIFO.
  const auto file_code = [&](const std::string& url) {
    auto obj = ConfineLakeObject(url, lake);
    if (!obj.ok()) return std::string("lexical: ") + obj.status().message();
    auto file = ConfineLakeFile(*obj, lake);
    if (file.ok()) return std::string("ok");
    const std::string m = file.status().message();
    return m.substr(0, m.find(':'));
  };
  EXPECT_EQ(file_code(P("lake/inbox/out.csv")), "url-outside-lake");
  EXPECT_EQ(file_code(P("lake/inbox/absent.csv")), "object-not-found");
  EXPECT_EQ(file_code(P("lake/inbox/dir")), "object-not-a-file");
  EXPECT_EQ(file_code(P("lake/inbox/fifo.csv")), "object-not-a-file");
  auto link = ConfineLakeFile(*ConfineLakeObject(P("lake/inbox/out.csv"), lake), lake);
  EXPECT_EQ(link.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(link.status().message().find("secret"), std::string::npos);  // the target is not revealed
  EXPECT_EQ(ConfineLakeFile(*ConfineLakeObject(P("lake/inbox/absent.csv"), lake), lake).status().code(),
            StatusCode::kNotFound);
  // A lake folder that does not exist yet holds no object.
  auto none = ConfineLakeObject(P("no-lake/x.csv"), P("no-lake"));
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(ConfineLakeFile(*none, P("no-lake")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(P("no-lake")));  // nothing created
  EXPECT_FALSE(ConfineLakeFile(LakeObject{.s3 = true, .key = "x.csv", .path = ""}, "s3://b/l").ok());
}

}  // namespace
}  // namespace pulse::pipeline
