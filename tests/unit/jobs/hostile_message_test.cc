// Hostile and unusual Celery messages (issue 11): the envelopes every Celery release of the
// compatibility matrix sends decode (5.7 sends "ignore_result": null); every optional header and
// property accepts absent, null and its typed value; a wrong-typed, missing, garbled or deeply
// nested field is a decode error naming the field (the worker's dead-letter reason), never an
// exception or a stack overflow; the restore counts worker deaths and dead-letters at the bound;
// and a worker fed all of it keeps serving, with every good task SUCCESS exactly once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"
#include "jobs/safe_json.h"
#include "jobs/task_client.h"
#include "jobs/worker.h"
#include "test_broker.h"

namespace pulse::jobs {
namespace {

using json = nlohmann::json;

std::string Body(const json& body) { return Base64Encode(body.dump()); }

// A message as celery 5.7's send_task writes it (nulls included).
json Valid() {
  json v = json::parse(R"json({
    "content-encoding": "utf-8", "content-type": "application/json",
    "headers": {"lang": "py", "task": "t.echo", "id": "id-1", "shadow": null, "eta": null, "expires": null,
      "group": null, "group_index": null, "retries": 0, "timelimit": [null, null], "root_id": "id-1",
      "parent_id": null, "argsrepr": "(1,)", "kwargsrepr": "{}", "origin": "1@host", "ignore_result": null,
      "replaced_task_nesting": 0, "stamped_headers": null, "stamps": {}},
    "properties": {"correlation_id": "id-1", "reply_to": "r", "delivery_mode": 2,
      "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0, "body_encoding": "base64",
      "delivery_tag": "tag-1"}})json");
  v["body"] =
      Body(json::array({json::array({1}),
                        json::object(),
                        {{"callbacks", nullptr}, {"errbacks", nullptr}, {"chain", nullptr}, {"chord", nullptr}}}));
  return v;
}

// Decodes, failing the test if anything throws; the error reason of a failed decode is never empty.
Result<TaskMessage> Decode(const std::string& raw) {
  Result<TaskMessage> out = Status::Internal("not decoded");
  EXPECT_NO_THROW(out = DecodeMessage(raw)) << raw.substr(0, 200);
  if (!out.ok()) {
    EXPECT_FALSE(out.status().message().empty()) << raw.substr(0, 200);
  }
  return out;
}

std::string ReasonFor(const json& envelope) {
  auto m = Decode(DumpJson(envelope));
  return m.ok() ? std::string("(decoded)") : m.status().message();
}

std::string Nested(size_t depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

TEST(HostileMessages, EveryCeleryOfTheMatrixIsDecoded) {
  // Captured from send_task of each pinned Celery (scripts/celery-venv) onto a real Redis.
  const std::filesystem::path dir = std::filesystem::path(PULSE_SOURCE_DIR) / "tests/fixtures/celery";
  int seen = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().filename().string().rfind("send_task-celery-", 0) != 0) continue;
    std::ifstream in(file.path());
    std::stringstream text;
    text << in.rdbuf();
    auto m = Decode(text.str());
    ASSERT_TRUE(m.ok()) << file.path() << ": " << m.status().ToString();
    EXPECT_EQ(m->task, "pulse.simulate");
    EXPECT_EQ(m->kwargs, json({{"runs", 200}, {"turns", 12}, {"seed", 1}}));
    EXPECT_FALSE(m->ignore_result);
    EXPECT_FALSE(m->time_limit || m->soft_time_limit || m->eta || m->expires);
    ++seen;
  }
  EXPECT_GE(seen, 5);  // 5.3 .. 5.7
}

TEST(HostileMessages, EveryOptionalFieldMayBeAbsentOrNull) {
  const json valid = Valid();
  ASSERT_TRUE(Decode(DumpJson(valid)).ok());
  std::vector<json::json_pointer> optional;
  for (const auto& [key, value] : valid["headers"].items())
    if (key != "task" && key != "id") optional.emplace_back("/headers/" + key);
  for (const auto& [key, value] : valid["properties"].items()) optional.emplace_back("/properties/" + key);
  for (const auto& [key, value] : valid["properties"]["delivery_info"].items())
    optional.emplace_back("/properties/delivery_info/" + key);
  optional.emplace_back("/content-encoding");
  optional.emplace_back("/headers/timelimit/0");
  optional.emplace_back("/headers/timelimit/1");
  for (const auto& pointer : optional) {
    json nulled = valid;
    nulled[pointer] = nullptr;
    auto a = Decode(DumpJson(nulled));
    EXPECT_TRUE(a.ok()) << pointer.to_string() << " = null: " << a.status().ToString();
    if (pointer.to_string().find("timelimit/") != std::string::npos) continue;  // an array keeps its items
    json absent = valid;
    absent[pointer.parent_pointer()].erase(pointer.back());
    auto b = Decode(DumpJson(absent));
    EXPECT_TRUE(b.ok()) << pointer.to_string() << " absent: " << b.status().ToString();
  }
  json bare = valid;  // only what Pulse cannot do without
  bare.erase("properties");
  bare["headers"] = {{"task", "t.echo"}, {"id", "id-2"}};
  auto m = Decode(DumpJson(bare));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->retries, 0);
  EXPECT_EQ(m->queue, "celery");
  EXPECT_FALSE(m->ignore_result || m->redelivered);
}

TEST(HostileMessages, TypedValuesAreRead) {
  json v = Valid();
  v["headers"]["ignore_result"] = true;
  v["headers"]["retries"] = 3.0;  // an integral float, as a Python client may send
  v["headers"]["eta"] = "2030-01-01T00:00:00+00:00";
  v["headers"]["expires"] = "2031-01-01T00:00:00.5Z";
  v["headers"]["timelimit"] = {10, 2.5};
  v["properties"]["delivery_info"]["routing_key"] = "pulse";
  v["properties"]["delivery_info"]["redelivered"] = true;
  auto m = Decode(DumpJson(v));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->ignore_result);
  EXPECT_EQ(m->retries, 3);
  EXPECT_EQ(m->eta, "2030-01-01T00:00:00+00:00");
  EXPECT_EQ(m->time_limit, 10);
  EXPECT_EQ(m->soft_time_limit, 2.5);
  EXPECT_EQ(m->queue, "pulse");
  EXPECT_TRUE(m->redelivered);
  v["headers"]["timelimit"] = {0, 1e300};  // 0 and "never" in practice: no limit, no overflow later
  m = Decode(DumpJson(v));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->time_limit || m->soft_time_limit);
  // Informational fields of another type are ignored, as Celery ignores them.
  v["headers"]["origin"] = 5;
  v["headers"]["lang"] = {1};
  v["headers"]["argsrepr"] = nullptr;
  v["headers"]["stamps"] = "x";
  v["properties"]["correlation_id"] = 7;
  v["properties"]["reply_to"] = json::object();
  v["properties"]["priority"] = "high";
  v["properties"]["delivery_mode"] = "persistent";
  v["properties"]["delivery_tag"] = 12;
  v["properties"]["delivery_info"]["exchange"] = 3;
  m = Decode(DumpJson(v));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->origin.empty() && m->delivery_tag.empty());
  EXPECT_EQ(m->priority, 0);
}

TEST(HostileMessages, WrongTypesAreErrorsNamingTheField) {
  struct Case {
    const char* pointer;
    json value;
    const char* reason;  // a part of the reason
  };
  const std::vector<Case> cases = {
      {"/headers/retries", "3", "header 'retries' must be a whole number or null, got string"},
      {"/headers/retries", true, "header 'retries'"},
      {"/headers/retries", -1, "'retries' must not be negative"},
      {"/headers/retries", 1.5, "header 'retries'"},
      {"/headers/retries", 1e30, "'retries' is out of range"},
      {"/headers/retries", json::array({3}), "header 'retries'"},
      {"/headers/ignore_result", "yes", "header 'ignore_result' must be true or false or null, got string"},
      {"/headers/ignore_result", 1, "header 'ignore_result'"},
      {"/headers/ignore_result", json::object(), "header 'ignore_result'"},
      {"/content-type", 5, "message field 'content-type' must be a string or null, got number"},
      {"/content-type", nullptr, "no content-type"},
      {"/content-type", "application/x-python-serialize", "unsupported content-type"},
      {"/content-type", "", "unsupported content-type"},
      {"/content-encoding", 5, "'content-encoding'"},
      {"/content-encoding", "binary", "unsupported content-encoding"},
      {"/properties/body_encoding", 5, "property 'body_encoding' must be a string or null, got number"},
      {"/properties/body_encoding", "gzip", "unsupported body_encoding"},
      {"/properties/delivery_info/routing_key", 5, "delivery_info 'routing_key' must be a string or null, got number"},
      {"/properties/delivery_info/redelivered", "yes", "delivery_info 'redelivered'"},
      {"/properties/delivery_info", "celery", "property 'delivery_info' must be an object"},
      {"/properties/delivery_info", json::array(), "property 'delivery_info'"},
      {"/properties", "not an object", "message field 'properties' must be an object"},
      {"/properties", 5, "'properties'"},
      {"/headers", json::array({"task"}), "message field 'headers' must be an object"},
      {"/headers", "x", "'headers'"},
      {"/headers/task", 5, "header 'task' must be a string or null, got number"},
      {"/headers/task", "", "no 'task' header"},
      {"/headers/task", nullptr, "no 'task' header"},
      {"/headers/id", 5, "header 'id'"},
      {"/headers/id", json::object(), "header 'id'"},
      {"/headers/id", "", "has no task id"},
      {"/headers/root_id", 5, "header 'root_id'"},
      {"/headers/parent_id", json::array(), "header 'parent_id'"},
      {"/headers/group", false, "header 'group'"},
      {"/headers/eta", 5, "header 'eta' must be a string"},
      {"/headers/eta", "tomorrow", "header 'eta' is not an ISO-8601 time"},
      {"/headers/eta", "2024-13-01T00:00:00", "header 'eta' is not an ISO-8601 time"},
      {"/headers/expires", json::array(), "header 'expires'"},
      {"/headers/expires", "", "header 'expires' is not an ISO-8601 time"},
      {"/headers/timelimit", "10", "header 'timelimit' must be [hard, soft]"},
      {"/headers/timelimit", json::array({1}), "header 'timelimit' must be [hard, soft] or null, got array of 1 items"},
      {"/headers/timelimit", json::array({1, 2, 3}), "header 'timelimit'"},
      {"/headers/timelimit", json::object(), "header 'timelimit'"},
      {"/headers/timelimit", json::array({"1", nullptr}), "header 'timelimit' hard must be a number"},
      {"/headers/timelimit", json::array({nullptr, true}), "header 'timelimit' soft must be a number"},
      {"/headers/timelimit", json::array({-1, nullptr}), "header 'timelimit' hard must be >= 0"},
      {"/body", 5, "message field 'body' must be a string or null, got number"},
      {"/body", nullptr, "message has no body"},
      {"/body", json::array(), "'body'"},
  };
  for (const auto& c : cases) {
    json v = Valid();
    v[json::json_pointer(c.pointer)] = c.value;
    const std::string reason = ReasonFor(v);
    EXPECT_NE(reason.find(c.reason), std::string::npos) << c.pointer << " = " << c.value.dump() << ": " << reason;
  }
  json no_body = Valid();
  no_body.erase("body");
  EXPECT_EQ(ReasonFor(no_body), "message has no body");
}

TEST(HostileMessages, GarbledBodiesAreErrors) {
  const std::vector<std::pair<std::string, const char*>> bodies = {
      {"", "not JSON"},  // base64 of nothing
      {"====", "base64"},
      {"a", "base64"},
      {"!!!!", "base64"},
      {"W1tdLCB7fSwge31d\n", "base64"},  // whitespace is not base64
      {"\xff\xfe", "base64"},
      {Base64Encode("not json"), "not JSON"},
      {Base64Encode("null"), "[args, kwargs, embed]"},
      {Base64Encode("{}"), "[args, kwargs, embed]"},
      {Base64Encode("[1, 2, 3]"), "[args, kwargs, embed]"},
      {Base64Encode("[[], {}]"), "[args, kwargs, embed]"},
      {Base64Encode("[{}, {}, {}]"), "[args, kwargs, embed]"},
      {Base64Encode("[[], [], {}]"), "[args, kwargs, embed]"},
      {Base64Encode("[[], {}, 5]"), "[args, kwargs, embed]"},
      {Base64Encode("[[], {}, {}, {}]"), "[args, kwargs, embed]"},
      {Base64Encode("[[\"\xff\"], {}, {}]"), "not JSON"},  // not UTF-8
      {Base64Encode(std::string("[[1], {}, {}]\0junk", 18)), "not JSON"},
      {Base64Encode("[[1], {}, {}] trailing"), "not JSON"},
  };
  for (const auto& [body, reason] : bodies) {
    json v = Valid();
    v["body"] = std::string(body.begin(), body.end());
    if (!nlohmann::json::accept(DumpJson(v))) continue;
    const std::string got = ReasonFor(v);
    EXPECT_NE(got.find(reason), std::string::npos) << body << ": " << got;
  }
  json utf8 = Valid();  // kombu's other body encoding: the JSON text as it is
  utf8["properties"]["body_encoding"] = "utf-8";
  utf8["body"] = R"([[1, "x"], {"k": null}, null])";
  auto m = Decode(DumpJson(utf8));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->args, json::array({1, "x"}));
}

TEST(HostileMessages, NonObjectsAndNonJsonAreErrors) {
  for (const std::string raw : {"", " ", "null", "5", "\"s\"", "[]", "true", "[{\"headers\": {}}]", "{", "}",
                                "\xff\xfe\x00", "{\"a\": \"\xc3\x28\"}", "{\"headers\": {\"task\": \"t\"}} x"}) {
    auto m = Decode(raw);
    EXPECT_FALSE(m.ok()) << raw;
  }
  EXPECT_NE(Decode("[1]").status().message().find("not a JSON object (got array)"), std::string::npos);
  EXPECT_NE(Decode(std::string("\0\0\0", 3)).status().message().find("not JSON"), std::string::npos);
}

TEST(HostileMessages, DeepNestingIsBoundedNotAStackOverflow) {
  // A pulse.noop whose args nest 10^5 deep: 200 KB of brackets inside the base64 body.
  json v = Valid();
  v["body"] = Base64Encode("[" + Nested(100000) + ", {}, {}]");
  EXPECT_NE(ReasonFor(v).find("message body nests deeper than 256 levels"), std::string::npos);
  // The same in the envelope itself, in a header nobody reads, and in kwargs.
  std::string raw = DumpJson(Valid());
  raw.insert(raw.size() - 1, ", \"x\": " + Nested(100000));
  EXPECT_NE(Decode(raw).status().message().find("message nests deeper than 256 levels"), std::string::npos);
  v["body"] = Base64Encode("[[], {\"k\": " + std::string(100000, '{') + "}, {}]");
  EXPECT_NE(ReasonFor(v).find("nests deeper"), std::string::npos);
  // Unbalanced openers alone (never closed) are caught by the scan too.
  v["body"] = Base64Encode(std::string(300000, '['));
  EXPECT_NE(ReasonFor(v).find("nests deeper"), std::string::npos);
  // Nesting within the bound is fine (the body is [args, kwargs, embed]: two levels of its own).
  v["body"] = Base64Encode("[[" + Nested(250) + "], {}, {}]");
  auto m = Decode(DumpJson(v));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(DumpJson(m->args).size(), 2 + 2 * 250 + 1);
}

// The JSON pointers of every node of `j` (the root excluded).
void Pointers(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  if (j.is_object())
    for (const auto& [key, value] : j.items()) {
      out.push_back(at / key);
      Pointers(value, at / key, out);
    }
  if (j.is_array())
    for (size_t i = 0; i < j.size(); ++i) {
      out.push_back(at / i);
      Pointers(j[i], at / i, out);
    }
}

TEST(HostileMessages, AnyValueInAnyFieldNeverThrows) {
  // Fuzzer-style: every field of a valid envelope, and of its body, replaced by each hostile value
  // and also removed. Each result is a message or an error with a reason; nothing throws.
  const std::vector<json> hostile = {nullptr,
                                     true,
                                     false,
                                     0,
                                     -1,
                                     3,
                                     1.5,
                                     -0.0,
                                     1e308,
                                     -1e308,
                                     static_cast<uint64_t>(-1),
                                     INT64_MIN,
                                     "",
                                     "x",
                                     "3",
                                     "null",
                                     "\xef\xbf\xbd",
                                     std::string(100000, 'a'),
                                     json::array(),
                                     json::object(),
                                     json::array({1, 2}),
                                     json::array({nullptr, nullptr}),
                                     json::parse(Nested(200)),
                                     json({{"task", "t.echo"}}),
                                     "2024-01-01T00:00:00Z",
                                     "9999-12-31T23:59:59Z",
                                     "0000-01-01",
                                     "-99999999999"};
  const json valid = Valid();
  std::vector<json::json_pointer> fields;
  Pointers(valid, json::json_pointer(), fields);
  int decoded = 0, errors = 0;
  for (const auto& field : fields) {
    for (const json& value : hostile) {
      json v = valid;
      v[field] = value;
      (Decode(DumpJson(v)).ok() ? decoded : errors)++;
    }
    json v = valid;  // and the field removed
    json& parent = field.parent_pointer().empty() ? v : v[field.parent_pointer()];
    if (parent.is_object())
      parent.erase(field.back());
    else
      parent.erase(static_cast<size_t>(std::stoul(field.back())));
    (Decode(DumpJson(v)).ok() ? decoded : errors)++;
  }
  const json body = json::array({json::array({1, "a"}), json({{"k", 1}}), json({{"callbacks", nullptr}})});
  std::vector<json::json_pointer> body_fields;
  Pointers(body, json::json_pointer(), body_fields);
  for (const auto& field : body_fields) {
    for (const json& value : hostile) {
      json b = body;
      b[field] = value;
      json v = valid;
      v["body"] = Body(b);
      (Decode(DumpJson(v)).ok() ? decoded : errors)++;
    }
  }
  EXPECT_GT(decoded, 100);
  EXPECT_GT(errors, 100);
}

TEST(HostileMessages, ByteMutationsNeverThrow) {
  // Deterministic random mutations of a valid envelope's text and of its body's text.
  std::mt19937 rng(20241101);
  const std::string valid = DumpJson(Valid());
  const std::string body = R"([[1, "a", {"b": [2.5, null]}], {"k": true}, {"callbacks": null}])";
  std::string alphabet = "{}[]\",:\\0123456789.eE+-ntrufals ";
  alphabet += '\0';
  alphabet += "\xff\xc3\x80";
  auto mutate = [&](std::string s) {
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 5) {
        case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: s.erase(at, 1 + rng() % 8); break;
        case 3: s.resize(at); break;
        default: s.insert(at, s.substr(at, rng() % 64)); break;
      }
    }
    return s;
  };
  int ok = 0;
  for (int i = 0; i < 20000; ++i) ok += Decode(mutate(valid)).ok();
  for (int i = 0; i < 5000; ++i) {
    json v = Valid();
    v["body"] = Base64Encode(mutate(body));
    ok += Decode(DumpJson(v)).ok();
  }
  EXPECT_GT(ok, 0);  // some mutations leave a valid message (inside a string, say)
}

TEST(HostileMessages, RestoreCountsWorkerDeathsAndDeadLettersAtTheBound) {
  std::string envelope = DumpJson(Valid());
  for (int death = 1; death <= 2; ++death) {
    RestoreDecision d = DecideRestore(envelope, 3);
    ASSERT_FALSE(d.dead_letter) << d.value;
    EXPECT_EQ(d.deaths, death);
    auto m = Decode(d.value);
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(m->redelivered);
    EXPECT_EQ(json::parse(d.value)["properties"]["delivery_info"][kDeathsField], death);
    envelope = d.value;
  }
  RestoreDecision third = DecideRestore(envelope, 3);
  EXPECT_TRUE(third.dead_letter);
  EXPECT_EQ(third.value, "worker died 3 times while running it");
  EXPECT_FALSE(DecideRestore(envelope, 0).dead_letter);  // 0: no bound
  EXPECT_TRUE(DecideRestore(envelope, 1).dead_letter);
  // A count of the wrong type starts again from 0; a message without properties gets them.
  json odd = Valid();
  odd["properties"]["delivery_info"][kDeathsField] = "lots";
  EXPECT_EQ(DecideRestore(DumpJson(odd), 3).deaths, 1);
  odd["properties"]["delivery_info"][kDeathsField] = -5;
  EXPECT_EQ(DecideRestore(DumpJson(odd), 3).deaths, 1);
  odd.erase("properties");
  EXPECT_EQ(DecideRestore(DumpJson(odd), 3).deaths, 1);
  // What cannot carry a count, and no worker would run, is not put back at all.
  for (const std::string raw :
       {"{broken", "[1, 2]", "\"text\"", R"({"properties": "x"})", R"({"properties": {"delivery_info": 5}})"}) {
    RestoreDecision d = DecideRestore(raw, 3);
    EXPECT_TRUE(d.dead_letter) << raw;
    EXPECT_NE(d.value.find("a worker died while holding it"), std::string::npos) << d.value;
  }
  EXPECT_TRUE(DecideRestore("{\"x\": " + Nested(100000) + "}", 3).dead_letter);
}

TEST(HostileMessages, InProcessRestoreDeadLettersAfterMaxDeaths) {
  InProcessBroker broker;
  ASSERT_TRUE(broker.Publish("celery", DumpJson(Valid())).ok());
  for (int death = 1; death <= 2; ++death) {
    auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(100));
    ASSERT_TRUE(d.ok() && *d);  // taken, never acknowledged: the worker "died"
    ASSERT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 2), death == 1 ? 1 : 0);
  }
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
  auto dead = broker.DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].second, "worker died 2 times while running it");
}

TEST(HostileMessages, AWorkerFedHostileMessagesKeepsServing) {
  TestBroker broker;
  TaskRegistry registry;
  std::atomic<int> echo_runs{0};
  registry.Register("t.echo", {[&](const TaskContext& c) -> Result<json> {
                      ++echo_runs;
                      return c.message.args;
                    }});
  registry.Register("t.throw_int", {[](const TaskContext&) -> Result<json> { throw 42; }});
  registry.Register("t.throw_std", {[](const TaskContext&) -> Result<json> { throw std::runtime_error("boom"); }});
  registry.Register("t.throw_json", {[](const TaskContext& c) -> Result<json> {
                      return json(c.message.kwargs.at("missing").get<int>());  // nlohmann's out_of_range
                    }});
  registry.Register("t.bad_utf8", {[](const TaskContext&) -> Result<json> { return json("caf\xe9"); }});
  Worker worker(broker, registry, {.queues = {"celery"}, .concurrency = 2, .poll = std::chrono::milliseconds(10)});
  worker.Start();
  // Poison: every wrong-typed field of the issue, deep args, garbage.
  std::vector<std::string> poison;
  auto with = [&](const char* pointer, json value) {
    json v = Valid();
    v[json::json_pointer(pointer)] = std::move(value);
    v["headers"]["id"] = "poison-" + std::to_string(poison.size());
    poison.push_back(DumpJson(v));
  };
  with("/headers/retries", "3");
  with("/headers/retries", nullptr);  // null is fine: this one runs
  with("/content-type", 5);
  with("/properties/body_encoding", 5);
  with("/headers/ignore_result", "yes");
  with("/properties/delivery_info/routing_key", 5);
  with("/body", Base64Encode("[" + Nested(100000) + ", {}, {}]"));
  poison.push_back("{not json");
  poison.push_back("[]");
  poison.push_back(std::string(300000, '{'));
  for (const auto& raw : poison) ASSERT_TRUE(broker.Publish("celery", raw).ok());
  auto send = [&](const char* task, const std::string& id) {
    json v = Valid();
    v["headers"]["task"] = task;
    v["headers"]["id"] = id;
    v["body"] = Body(json::array({json::array({id}), json::object(), nullptr}));
    ASSERT_TRUE(broker.Publish("celery", DumpJson(v)).ok());
  };
  for (int i = 0; i < 20; ++i) send("t.echo", "good-" + std::to_string(i));
  send("t.throw_int", "throw-int");
  send("t.throw_std", "throw-std");
  send("t.throw_json", "throw-json");
  send("t.bad_utf8", "bad-utf8");
  auto state_of = [&](const std::string& id) -> std::optional<ResultMeta> {  // once it finished
    std::optional<ResultMeta> found;
    broker.WaitUntil([&] {
      auto raw = broker.GetResult(id);
      if (!raw.ok() || !*raw) return false;
      auto meta = DecodeResultMeta(**raw);
      if (!meta.ok() || (meta->state != TaskState::kSuccess && meta->state != TaskState::kFailure)) return false;
      found = *meta;
      return true;
    });
    return found;
  };
  for (int i = 0; i < 20; ++i) {
    auto meta = state_of("good-" + std::to_string(i));
    ASSERT_TRUE(meta) << i;
    EXPECT_EQ(meta->state, TaskState::kSuccess);
    EXPECT_EQ(meta->result, json::array({"good-" + std::to_string(i)}));
  }
  for (const char* id : {"throw-int", "throw-std", "throw-json"}) {
    auto meta = state_of(id);
    ASSERT_TRUE(meta) << id;
    EXPECT_EQ(meta->state, TaskState::kFailure) << id;
    EXPECT_NE(meta->result["exc_message"][0].get<std::string>().find("task raised"), std::string::npos);
  }
  auto utf8 = state_of("bad-utf8");
  ASSERT_TRUE(utf8);
  EXPECT_EQ(utf8->state, TaskState::kSuccess);
  EXPECT_EQ(utf8->result, "caf\xef\xbf\xbd");                   // U+FFFD for the byte that is not UTF-8
  EXPECT_EQ(state_of("poison-1")->state, TaskState::kSuccess);  // "retries": null is no poison
  ASSERT_TRUE(broker.WaitUntil([&] { return broker.inner.DeadLetters().size() >= poison.size() - 1; }));
  worker.Stop();
  const auto dead = broker.inner.DeadLetters();
  ASSERT_EQ(dead.size(), poison.size() - 1);
  for (const auto& [raw, reason] : dead) EXPECT_FALSE(reason.empty()) << raw.substr(0, 100);
  EXPECT_EQ(echo_runs, 21);  // each good task once (20 + the null-retries one)
  EXPECT_EQ(worker.stats().dead_lettered, static_cast<int64_t>(poison.size() - 1));
  EXPECT_EQ(worker.stats().failed, 3);
}

TEST(HostileMessages, ClientRefusesDeepArgumentsAndReadsOddResultsWithoutThrowing) {
  InProcessBroker broker;
  json deep = json::array();  // 10^5 levels, built without recursion
  json* at = &deep;
  for (int i = 0; i < 100000; ++i) at = &at->emplace_back(json::array());
  EXPECT_EQ(JsonValueDepth(deep, 256), 257u);
  EXPECT_EQ(JsonValueDepth(json::array({1, json::object({{"a", json::array()}})}), 256), 3u);
  EXPECT_EQ(JsonValueDepth(5, 256), 0u);
  TaskMessage m;
  m.task = "t.echo";
  m.args = std::move(deep);  // (copying it would recurse: nlohmann's copy constructor does)
  auto sent = SubmitTask(broker, std::move(m));
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("nest deeper than 254 levels"), std::string::npos);
  m = TaskMessage();
  m.task = "t.echo";
  m.args = json::object();
  EXPECT_FALSE(SubmitTask(broker, m).ok());
  EXPECT_EQ(*broker.QueueLength("celery"), 0);  // nothing was published
  EXPECT_EQ(AwaitResult(broker, "x", std::chrono::duration<double>(std::nan(""))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AwaitResult(broker, "x", std::chrono::duration<double>(1e300)).status().code(),
            StatusCode::kInvalidArgument);
  // Results another worker may have stored, of every odd shape: an error or a value, never a throw.
  const std::vector<std::string> stored = {
      R"({"status": "FAILURE", "result": {"exc_type": 5, "exc_message": {"a": 1}}})",
      R"({"status": "FAILURE", "result": {"exc_type": null}})",
      R"({"status": "REVOKED", "result": "x"})",
      R"({"status": "FAILURE"})",
      R"({"status": 5})",
      R"({"status": "SUCCESS", "result": )" + Nested(100000) + "}",
      "[" + Nested(100000) + "]",
      "not json",
      std::string("{\"status\": \"SUCCESS\"}\0junk", 26),
  };
  for (size_t i = 0; i < stored.size(); ++i) {
    const std::string id = "odd-" + std::to_string(i);
    ASSERT_TRUE(broker.StoreResult(id, stored[i], std::chrono::seconds(60)).ok());
    Result<json> got = Status::Internal("not run");
    EXPECT_NO_THROW(got = AwaitResult(broker, id, std::chrono::duration<double>(0)));
    EXPECT_FALSE(got.ok()) << stored[i].substr(0, 80);
  }
  auto odd = AwaitResult(broker, "odd-0", std::chrono::duration<double>(0));
  EXPECT_NE(odd.status().message().find("5: {\"a\":1}"), std::string::npos) << odd.status().message();
}

}  // namespace
}  // namespace pulse::jobs
