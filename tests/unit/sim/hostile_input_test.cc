// Hostile rules, catalogs and expressions: every one is a clean kParseError naming the file,
// line and (for expressions) the rule; none may throw or exhaust the stack.
#include <gtest/gtest.h>

#include <pthread.h>
#include <string>

#include "sim/expr.h"
#include "sim/world.h"

namespace pulse::sim {
namespace {

constexpr const char* kCatalog = R"(
overlays:
  - {name: hope, default: 0.5}
variables:
  - {name: x, type: driver, default: 1}
)";

Catalog TestCatalog() {
  auto c = Catalog::Parse(kCatalog, "catalog.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

Result<Expr> CompileText(const std::string& text) {
  const Catalog catalog = TestCatalog();
  return Expr::Compile(text, [&](std::string_view n) { return catalog.Find(n); }, {"rules.yaml", 7, 11});
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A rules file with `when` set to `expr` (YAML-quoted).
std::string RulesWith(const std::string& expr) {
  return "rules:\n  - id: Deep\n    when: \"" + expr + "\"\n    effects: [{target: hope, add: 1}]\n";
}

TEST(ExprDepth, DeepNestingIsAnErrorNotACrash) {
  const std::vector<std::string> hostile = {
      Repeat("(", 5000) + "1" + Repeat(")", 5000),  // 5,000 nested parentheses
      Repeat("not ", 100000) + "1",                 // 10^5 nots
      Repeat("-", 100000) + "1",                    // 10^5 unary minus
      Repeat("- ", 100000) + "x",
      Repeat("abs(", 3000) + "1" + Repeat(")", 3000),  // nested calls
      Repeat("(", 100000),                             // unbalanced, deep
  };
  for (const auto& text : hostile) {
    auto e = CompileText(text);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), StatusCode::kParseError);
    EXPECT_NE(e.status().message().find("nested deeper than 256 levels"), std::string::npos) << e.status().message();
    EXPECT_TRUE(e.status().message().starts_with("rules.yaml:7:")) << e.status().message();
    // The message quotes the expression, cut short: it stays readable.
    EXPECT_LT(e.status().message().size(), 400u);
  }
}

TEST(ExprDepth, NestingUpToTheLimitStillWorks) {
  auto e = CompileText(Repeat("(", kMaxNesting) + "x" + Repeat(")", kMaxNesting));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto n = CompileText(Repeat("not ", 200) + Repeat("-", 56) + "x");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  // Evaluates: 200 nots of -x (x = 1: -1 is true, not^200 keeps it true).
  double x = 1.0, out = 0;
  const double* slots[] = {nullptr, &x};
  n->Evaluate(slots, 1, &out);
  EXPECT_EQ(out, 1.0);
  auto over = CompileText(Repeat("(", kMaxNesting + 1) + "x" + Repeat(")", kMaxNesting + 1));
  EXPECT_FALSE(over.ok());
  // A long but flat expression is not nesting: 10^5 terms compile and evaluate.
  auto flat = CompileText("x" + Repeat(" + x", 100000));
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  flat->Evaluate(slots, 1, &out);
  EXPECT_EQ(out, 100001.0);
}

TEST(ExprDepth, TheLimitHoldsOnASmallThreadStack) {
  // Worker threads parse rules too; the deepest accepted expression, and the rejection of a much
  // deeper one, must fit a 1 MiB thread stack (Linux threads get 8 MiB by default).
  struct Job {
    Status deepest, deeper;
  } job;
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, size_t{1} << 20), 0);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    auto* j = static_cast<Job*>(arg);
    auto ok = CompileText(Repeat("(", kMaxNesting - 1) + "-x" + Repeat(")", kMaxNesting - 1));
    j->deepest = ok.ok() ? Status::Ok() : ok.status();
    auto bad = CompileText(Repeat("(", 100000) + "x");
    j->deeper = bad.ok() ? Status::Ok() : bad.status();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(job.deepest.ok()) << job.deepest.ToString();
  EXPECT_EQ(job.deeper.code(), StatusCode::kParseError);
}

TEST(ExprText, ControlBytesAndInvalidUtf8AreEscapedInErrors) {
  auto e = CompileText(std::string("x + \x01\xff", 6));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message().find('\x01'), std::string::npos);
  EXPECT_NE(e.status().message().find("\\x01"), std::string::npos) << e.status().message();
  auto nul = CompileText(std::string("x\0+1", 4));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("\\0"), std::string::npos) << nul.status().message();
}

TEST(RulesYaml, DeepExpressionsNameTheFileLineAndRule) {
  const Catalog catalog = TestCatalog();
  for (const auto& expr :
       {Repeat("(", 5000) + "1" + Repeat(")", 5000), Repeat("not ", 100000) + "1", Repeat("-", 100000) + "1"}) {
    auto r = ParseRules(RulesWith(expr), "rules.yaml", catalog);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().message().starts_with("rules.yaml:3:")) << r.status().message().substr(0, 300);
    EXPECT_NE(r.status().message().find("nested deeper"), std::string::npos);
    EXPECT_NE(r.status().message().find("(rule 'Deep')"), std::string::npos) << r.status().message();
  }
  // An effect's expression names its event.
  auto ev = ParseRules(
      "rules: []\nevents:\n  - id: boom\n    effects: [{target: hope, add: \"" + Repeat("-", 1000) + "1\"}]\n",
      "rules.yaml", catalog);
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.status().message().find("(event 'boom')"), std::string::npos) << ev.status().message();
}

TEST(RulesYaml, WrongTypesAreClearErrorsWithFileAndLine) {
  const Catalog catalog = TestCatalog();
  auto error = [&](const std::string& yaml, const char* fragment, const char* at) {
    Result<RuleSet> r = Status::Internal("unset");
    EXPECT_NO_THROW(r = ParseRules(yaml, "rules.yaml", catalog)) << yaml;
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kParseError) << r.status().ToString();
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << yaml << "\n" << r.status().ToString();
    EXPECT_TRUE(r.status().message().starts_with(at)) << yaml << "\n" << r.status().ToString();
    EXPECT_EQ(r.status().message().find("bad conversion"), std::string::npos) << r.status().ToString();
  };
  const std::string effects = "effects: [{target: hope, add: 1}]";
  error("5", "a rules file is a map", "rules.yaml:1:1");
  error("rules: 5", "a rules file is a map", "rules.yaml:1:8");
  error("rules:\n  - 5", "a rule is a map", "rules.yaml:2:5");
  error("rules:\n  - {id: [1, 2], when: \"1\", " + effects + "}", "missing or empty 'id'", "rules.yaml:2:");
  error("rules:\n  - {id: A, kind: {a: 1}, when: \"1\", " + effects + "}", "kind must be a single value",
        "rules.yaml:2:");
  error("rules:\n  - {id: A, importance: {a: 1}, when: \"1\", " + effects + "}",
        "importance must be a number, got a map", "rules.yaml:2:");
  error("rules:\n  - {id: A, trust: [1], when: \"1\", " + effects + "}", "trust must be a number, got a list",
        "rules.yaml:2:");
  error("rules:\n  - {id: A, importance: 1e999, when: \"1\", " + effects + "}", "importance must be", "rules.yaml:2:");
  error("rules:\n  - {id: A, importance: .nan, when: \"1\", " + effects + "}", "finite", "rules.yaml:2:");
  error("rules:\n  - {id: A, tags: [{a: 1}], when: \"1\", " + effects + "}", "a tag must be a single value",
        "rules.yaml:2:");
  error("rules:\n  - {id: A, tags: 5, when: \"1\", " + effects + "}", "tags is a list", "rules.yaml:2:");
  error("rules:\n  - {id: A, when: {a: 1}, " + effects + "}", "needs a 'when'", "rules.yaml:2:");
  error("rules:\n  - {id: A, when: \"1\", effects: 5}", "needs a list of effects", "rules.yaml:2:");
  error("rules:\n  - {id: A, when: \"1\", effects: [5]}", "an effect is", "rules.yaml:2:");
  error("rules:\n  - {id: A, when: \"1\", effects: [{target: {a: 1}, add: 1}]}", "missing or empty 'target'",
        "rules.yaml:2:");
  error("rules:\n  - {id: A, when: \"1\", effects: [{target: hope, add: [1]}]}", "add takes an expression",
        "rules.yaml:2:");
  error("rules: []\nevents: 5", "events is a list", "rules.yaml:2:");
  error("rules: []\nevents:\n  - 5", "an event is a map", "rules.yaml:3:5");
  error("rules: []\nevents:\n  - [1, 2]", "an event is a map", "rules.yaml:3:");
  error("rules: []\nevents:\n  - {id: e, effects: {a: 1}}", "needs a list of effects", "rules.yaml:3:");
  error(std::string("rules:\n  - {id: \xff\xfe, when: \"1\", ") + effects + "}", "not valid UTF-8", "rules.yaml:2:");
  // Deeply nested YAML is refused by the parser's own depth guard, as an error.
  error("rules: " + Repeat("[", 100000), "", "rules.yaml");
  error("rules: " + Repeat("{a: ", 20000), "", "rules.yaml");
  // Garbage bytes and an empty document.
  error(std::string("\0\xff\xfe", 3), "", "rules.yaml");
  error("", "a rules file is a map", "rules.yaml");
}

TEST(CatalogYaml, WrongTypesAreClearErrorsWithFileAndLine) {
  auto error = [&](const std::string& yaml, const char* fragment, const char* at) {
    Result<Catalog> c = Status::Internal("unset");
    EXPECT_NO_THROW(c = Catalog::Parse(yaml, "catalog.yaml")) << yaml;
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find(fragment), std::string::npos) << yaml << "\n" << c.status().ToString();
    EXPECT_TRUE(c.status().message().starts_with(at)) << yaml << "\n" << c.status().ToString();
  };
  error("[1, 2]", "a catalog is a map", "catalog.yaml:1:1");
  error("overlays: 5", "overlays must be a list", "catalog.yaml:1:");
  error("overlays:\n  - 5", "each entry is a map", "catalog.yaml:2:");
  error("overlays:\n  - {name: {a: 1}}", "missing or empty 'name'", "catalog.yaml:2:");
  error("variables:\n  - {name: x, default: {a: 1}}", "default must be a number, got a map", "catalog.yaml:2:");
  error("variables:\n  - {name: x, default: [1]}", "default must be a number, got a list", "catalog.yaml:2:");
  error("variables:\n  - {name: x, type: [a]}", "type must be a single value", "catalog.yaml:2:");
  error("variables:\n  - {name: x, range: [a, 1]}", "range must be a number", "catalog.yaml:2:");
  error("variables:\n  - {name: x, range: 5}", "range is [low, high]", "catalog.yaml:2:");
  error("variables: " + Repeat("[", 100000), "", "catalog.yaml");
}

}  // namespace
}  // namespace pulse::sim
