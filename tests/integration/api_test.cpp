// The JSON API and the on-demand probe over loopback: the replies match the field tables of
// docs/api.md exactly, groups list their healthy members best first, /probe is rate limited and
// never hangs on a stopping runner, and no secret (API keys, secret headers, URL passwords,
// basic-auth passwords and their hashes) reaches any output, logs at debug level included.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "llm_probe/exporter.h"
#include "llm_probe/log.h"
#include "llm_probe/server.h"
#include "mock_upstream.h"
#include "test_support.h"
#include "web_config_support.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using mock_upstream::Behaviour;
using nlohmann::json;
using testing::Get;
using testing::TempDir;
using testing::WaitFor;

using FieldTypes = std::map<std::string, std::set<std::string>>;  // path -> allowed JSON types

// The field table under the heading `## <heading>` of docs/api.md.
FieldTypes DocumentedFields(const std::string& heading) {
  std::ifstream file(std::string(LLM_PROBE_SOURCE_DIR) + "/docs/api.md");
  const std::regex row(R"(^\| `([^`]+)` \| ([a-z ]+?) \|)");
  FieldTypes fields;
  bool in_section = false;
  for (std::string line; std::getline(file, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## " + heading;
    std::smatch match;
    if (!in_section || !std::regex_search(line, match, row)) continue;
    std::set<std::string>& types = fields[match[1]];
    const std::string alternatives = match[2];
    for (std::size_t start = 0; start < alternatives.size();) {
      const auto end = std::min(alternatives.find(" or ", start), alternatives.size());
      types.insert(alternatives.substr(start, end - start));
      start = end + 4;
    }
  }
  return fields;
}

std::string TypeOf(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "boolean";
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_string()) return "string";
  return value.is_array() ? "array" : "object";
}

bool Allowed(const std::set<std::string>& documented, const std::string& type) {
  return documented.count(type) || (type == "integer" && documented.count("number")) ||
         (type == "object" && documented.count("map"));
}

// Checks every field of `value` against the documentation and records the paths seen. The
// entries of a `map` are data, not fields, so they are not descended into.
void CheckFields(const json& value, const std::string& path, const FieldTypes& documented,
                 std::set<std::string>& seen) {
  if (!path.empty()) {
    seen.insert(path);
    const auto doc = documented.find(path);
    if (doc == documented.end()) {
      ADD_FAILURE() << "field " << path << " (" << TypeOf(value) << ") is not in docs/api.md";
      return;
    }
    EXPECT_TRUE(Allowed(doc->second, TypeOf(value))) << path << " is " << TypeOf(value) << " in " << value.dump();
    if (doc->second.count("map")) return;
  }
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) CheckFields(child, path.empty() ? key : path + "." + key, documented, seen);
  } else if (value.is_array()) {
    for (const auto& element : value) CheckFields(element, path + "[]", documented, seen);
  }
}

void ExpectEveryDocumentedFieldSeen(const FieldTypes& documented, const std::set<std::string>& seen) {
  for (const auto& [path, types] : documented) EXPECT_TRUE(seen.count(path)) << path << " is documented, never sent";
}

Behaviour Status(int status, std::string message = "mock error") {
  Behaviour behaviour;
  behaviour.status = status;
  behaviour.error_message = std::move(message);
  return behaviour;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mock_.Start();
    Behaviour slow;
    slow.delay_ms = 150;
    mock_.SetBehaviour("slow", slow);
    mock_.SetBehaviour("down", Status(500));
    Behaviour streaming;
    streaming.stream.token_count = 5;
    streaming.stream.token_interval_ms = 5;
    mock_.SetBehaviour("stream", streaming);
  }
  void TearDown() override {
    if (exporter_) exporter_->Stop();
    mock_.Stop();
  }

  void StartExporter(const std::string& yaml, const std::string& web_yaml = "") {
    ExporterOptions options;
    options.config_file = dir_.Write("config.yaml", yaml);
    if (!web_yaml.empty()) options.web_config_file = dir_.Write("web.yml", web_yaml);
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    options.env = [this](const std::string& name) -> std::optional<std::string> {
      const auto found = env_.find(name);
      if (found == env_.end()) return std::nullopt;
      return found->second;
    };
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
  }

  std::string Target(const std::string& name, const std::string& scenario, const std::string& probes) const {
    return "  - name: " + name + "\n    base_url: " + mock_.BaseUrl(scenario) + "\n    probes: " + probes + "\n";
  }

  json Api(const std::string& query = "") { return json::parse(Get(exporter_->port(), "/api/v1/targets" + query)); }

  // Every probe of the document with a last result, except the ones in `pending`.
  bool AllRan(const std::set<std::string>& pending = {}) {
    const json document = Api();
    for (const auto& probe : document["probes"]) {
      if (!pending.count(probe["target"]) && probe["last_result"].is_null()) return false;
    }
    return true;
  }

  mock_upstream::MockUpstream mock_;
  TempDir dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(ApiTest, TargetsAndGroupRepliesMatchTheDocumentedFields) {
  StartExporter("global: {interval: 1s, timeout: 900ms, failure_threshold: 1}\n"
                "groups: [{name: pair, targets: [fast, slow, broken]}]\ntargets:\n" +
                Target("fast", "ok", "[{name: models, type: models}, {name: chat, type: chat, model: gpt-4o}]") +
                Target("slow", "slow", "[{name: chat, type: chat, model: gpt-4o}]") +
                Target("broken", "down", "[{name: chat, type: chat, model: gpt-4o}]") +
                Target("streamer", "stream", "[{name: stream, type: stream, model: gpt-4o}]") +
                Target("idle", "ok", "[{name: models, type: models, interval: 1h, timeout: 1s}]"));
  // "idle" runs once within an hour: it shows the document before a first result.
  ASSERT_TRUE(WaitFor([&] { return AllRan({"idle"}); }));
  ASSERT_TRUE(WaitFor([&] { return Api("?group=pair")["healthy_members"].size() == 2; }));

  std::set<std::string> seen;
  const json targets = Api();
  CheckFields(targets, "", DocumentedFields("GET /api/v1/targets"), seen);
  ExpectEveryDocumentedFieldSeen(DocumentedFields("GET /api/v1/targets"), seen);
  EXPECT_EQ(targets["probes"].size(), 6u);
  EXPECT_EQ(targets["probes"][0]["target"], "fast") << "config order";

  seen.clear();
  const json group = Api("?group=pair");
  CheckFields(group, "", DocumentedFields("GET /api/v1/targets?group=NAME"), seen);
  ExpectEveryDocumentedFieldSeen(DocumentedFields("GET /api/v1/targets?group=NAME"), seen);
  EXPECT_EQ(group["targets"], 3);
  EXPECT_EQ(group["healthy_targets"], 2);
  EXPECT_EQ(group["healthy_members"], json({"fast", "slow"})) << "best first, the broken member left out";

  int status = 0;
  const std::string unknown = Get(exporter_->port(), "/api/v1/targets?group=nope", &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(json::parse(unknown)["error"], "no such group");
}

TEST_F(ApiTest, ProbeRunsOneConfiguredProbeNowWithinItsRateLimit) {
  StartExporter("global: {interval: 1h, timeout: 2s}\ntargets:\n" +
                Target("relay", "ok", "[{name: chat, type: chat, model: gpt-4o}, {name: models, type: models}]") +
                Target("streamer", "stream", "[{name: stream, type: stream, model: gpt-4o}]") +
                Target("broken", "down", "[{name: chat, type: chat, model: gpt-4o}]"));
  const int port = exporter_->port();
  int status = 0;
  EXPECT_EQ(json::parse(testing::Post(port, "/probe?target=relay", &status))["error"], "target and probe are required");
  EXPECT_EQ(status, 400);
  testing::Post(port, "/probe?target=relay&probe=nope", &status);
  EXPECT_EQ(status, 404);
  testing::Post(port, "/probe?target=http://elsewhere.example/v1&probe=chat", &status);
  EXPECT_EQ(status, 404) << "a URL is never a target";

  const FieldTypes documented = DocumentedFields("POST /probe?target=T&probe=P[&debug=true]");
  std::set<std::string> seen;
  for (const char* query : {"target=relay&probe=chat&debug=true", "target=streamer&probe=stream&debug=true",
                            "target=broken&probe=chat", "target=relay&probe=models"}) {
    SCOPED_TRACE(query);
    const json reply = json::parse(testing::Post(port, std::string("/probe?") + query, &status));
    EXPECT_EQ(status, 200);
    CheckFields(reply, "", documented, seen);
  }
  ExpectEveryDocumentedFieldSeen(documented, seen);

  const auto relay_requests = mock_.RequestCount("ok");
  const json again = json::parse(testing::Post(port, "/probe?target=relay&probe=chat", &status));
  EXPECT_EQ(status, 429);
  EXPECT_THAT(again["error"].get<std::string>(), HasSubstr("retry later"));
  httplib::Client client("127.0.0.1", port);
  const int retry_after = std::stoi(client.Post("/probe?target=relay&probe=chat")->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 10);
  EXPECT_EQ(mock_.RequestCount("ok"), relay_requests) << "a refused run sends nothing upstream";

  // The on-demand result counts like a scheduled one.
  const json state = Api();
  EXPECT_EQ(state["probes"][0]["last_result"]["status"], "UP");
  EXPECT_EQ(state["probes"][3]["last_result"]["status"], "SERVER_ERROR");
}

// The server alone, with a runner that has already stopped: /probe answers at once instead of
// waiting for a result that will never come.
TEST(ApiProbeLifecycleTest, ProbeAnswersAtOnceWhenTheRunnerHasStopped) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  SnapshotStore store;
  const Collector collector(store, {"test", "test"});
  ProbeRunner runner(store);
  runner.Apply(std::make_shared<const Config>(ParseConfig(
      "global: {interval: 1h}\ntargets:\n  - name: relay\n    base_url: " + mock.BaseUrl("ok") +
          "\n    probes: [{name: models, type: models}]\n",
      "test.yaml", [](const std::string&) { return std::nullopt; })));
  ASSERT_TRUE(WaitFor([&] { return store.Read().config != nullptr; }));
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  HttpServer server(options, store, collector, runner);
  const int port = server.Bind();
  server.Start();
  runner.Stop();

  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  const std::string reply = testing::Post(port, "/probe?target=relay&probe=models", &status);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(status, 503);
  EXPECT_THAT(reply, HasSubstr("stopping"));
  server.Stop();
  mock.Stop();
}

TEST_F(ApiTest, AProbeInFlightWhenTheExporterStopsStillAnswers) {
  Behaviour hang;
  hang.hang = true;
  mock_.SetBehaviour("hang", hang);
  StartExporter("global: {interval: 1h, timeout: 2s}\ntargets:\n" +
                Target("stuck", "hang", "[{name: models, type: models}]"));
  int status = 0;
  std::thread request([&] { testing::Post(exporter_->port(), "/probe?target=stuck&probe=models", &status); });
  ASSERT_TRUE(WaitFor([&] { return mock_.RequestCount("hang") >= 1; }));
  const auto start = std::chrono::steady_clock::now();
  exporter_->Stop();
  request.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8)) << "bounded by the probe's timeout";
  EXPECT_EQ(status, 200) << "the run finishes (as TIMEOUT) before the server stops";
}

// Distinctive secrets of every kind the exporter holds or sees, looked for in everything it
// serves and logs. The upstream echoes them back, as real ones do in error messages.
TEST_F(ApiTest, NoSecretReachesAnyOutput) {
  const std::string openai_key = "sk-envkey-4c1d9e7a2b6f3058";
  const std::string anthropic_key = "sk-ant-filekey-8e2b5d7c0a9f4163";
  const std::string header_token = "hdrtoken-6a5b4c3d2e1f0987";
  const std::string url_password = "urlpass-1f2e3d4c5b6a7988";
  const std::string basic_password = "basicpass-9d8c7b6a5f4e3021";
  const std::string basic_hash = testing::BcryptHash(basic_password, 4);
  const std::string wrong_password = "wrongpass-0a9b8c7d6e5f4132";
  const std::vector<std::string> secrets = {openai_key, anthropic_key, header_token, url_password,
                                            basic_password, basic_hash, wrong_password};

  Behaviour echo = Status(401, "Incorrect API key provided: " + openai_key + " token " + header_token);
  echo.error_code = "invalid_api_key";
  echo.headers = {{"X-Echo-Key", openai_key}, {"X-Echo-Token", header_token}};
  mock_.SetBehaviour("echo", echo);
  Behaviour anthropic_echo = Status(401, "invalid x-api-key " + anthropic_key);
  mock_.SetBehaviour("anthropic-echo", anthropic_echo);
  env_ = {{"OPENAI_KEY", openai_key}, {"RELAY_TOKEN", header_token}};
  const std::string key_file = dir_.Write("anthropic.key", anthropic_key + "\n");
  const std::string url = mock_.BaseUrl("echo");
  const std::string config =
      "global: {interval: 1s, timeout: 900ms, failure_threshold: 1}\n"
      "groups: [{name: pair, targets: [openai, anthropic]}]\ntargets:\n"
      "  - name: openai\n    api_key_env: OPENAI_KEY\n    headers: {X-Relay-Token: \"${RELAY_TOKEN}\"}\n"
      "    base_url: " + url.substr(0, 7) + "probe:" + url_password + "@" + url.substr(7) +
      "\n    probes: [{name: chat, type: chat, model: gpt-4o}, {name: stream, type: stream, model: gpt-4o}]\n"
      "  - name: anthropic\n    provider: anthropic\n    api_key_file: " + key_file + "\n    base_url: " +
      mock_.BaseUrl("anthropic-echo") + "\n    probes: [{name: chat, type: chat, model: claude-sonnet-4-5}]\n";

  ConfigureLogging(LogLevel::kDebug, LogFormat::kJson);
  ::testing::internal::CaptureStderr();
  StartExporter(config, "basic_auth_users:\n  prometheus: " + basic_hash + "\n");
  const int port = exporter_->port();
  auto fetch = [&](const std::string& path, const std::string& password = "") {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    client.set_basic_auth("prometheus", password.empty() ? basic_password.c_str() : password.c_str());
    const auto response = path.rfind("/probe", 0) == 0 ? client.Post(path.c_str()) : client.Get(path.c_str());
    std::string text = response ? std::to_string(response->status) + "\n" : "no response\n";
    if (response) {
      for (const auto& [name, value] : response->headers) text += name + ": " + value + "\n";
      text += response->body;
    }
    return text;
  };
  ASSERT_TRUE(WaitFor([&] { return fetch("/metrics").find("llm_probe_success{target=\"anthropic\"") != std::string::npos; }));

  std::vector<std::string> outputs = {
      fetch("/metrics"), fetch("/"), fetch("/api/v1/targets"), fetch("/api/v1/targets?group=pair"),
      fetch("/probe?target=openai&probe=chat&debug=true"), fetch("/probe?target=openai&probe=stream&debug=true"),
      fetch("/probe?target=anthropic&probe=chat&debug=true"), fetch("/probe?target=openai&probe=chat&debug=true"),
      fetch("/metrics", wrong_password), fetch("/-/healthy", wrong_password)};
  // A reload that fails on the key itself: its message goes to the reply, the page, the API.
  dir_.Write("config.yaml", std::regex_replace(config, std::regex("api_key_env: OPENAI_KEY"),
                                               "api_key_env: OPENAI_KEY\n    api_key_prefix: sk-other-"));
  httplib::Client reload("127.0.0.1", port);
  reload.set_basic_auth("prometheus", basic_password.c_str());
  const auto reload_reply = reload.Post("/-/reload", "", "text/plain");
  ASSERT_TRUE(reload_reply);
  EXPECT_EQ(reload_reply->status, 500);
  outputs.push_back(reload_reply->body);
  outputs.push_back(fetch("/"));
  outputs.push_back(fetch("/api/v1/targets"));
  exporter_->Stop();
  const std::string logs = ::testing::internal::GetCapturedStderr();
  ConfigureLogging(LogLevel::kInfo, LogFormat::kLogfmt);
  outputs.push_back(logs);

  // The probes did use the secrets, and the upstream did echo them: there was something to leak.
  const auto requests = mock_.Requests("echo");
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.front().headers.at("authorization"), "Bearer " + openai_key);
  EXPECT_EQ(requests.front().headers.at("x-relay-token"), header_token);
  EXPECT_EQ(mock_.Requests("anthropic-echo").front().headers.at("x-api-key"), anthropic_key);
  EXPECT_THAT(outputs[4], HasSubstr("Incorrect API key provided: <redacted>"));
  EXPECT_THAT(logs, HasSubstr("\"level\":\"debug\""));
  EXPECT_THAT(outputs[8], ::testing::StartsWith("401\n"));

  for (const std::string& secret : secrets) {
    const std::string tail = secret.substr(secret.size() - 12);  // a secret cut short leaks too
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      EXPECT_THAT(outputs[i], Not(HasSubstr(tail))) << "secret " << secret << " in output " << i;
    }
  }
}

}  // namespace
}  // namespace llm_probe
