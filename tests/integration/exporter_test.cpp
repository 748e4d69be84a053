// The whole exporter over loopback against the mock upstream: every result class it can meet
// appears on /metrics with the right labels, hung upstreams delay nobody, the output passes
// promtool, and the API key shows up nowhere but in the request to the upstream.
#include "llm_probe/exporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>
#include <string>

#include "llm_probe/log.h"
#include "mock_upstream.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using mock_upstream::Behaviour;
using mock_upstream::BodyKind;
using mock_upstream::MockUpstream;
using testing::Get;
using testing::SeriesValue;
using testing::TempDir;
using testing::WaitFor;

constexpr const char* kApiKey = "sk-itest-7f3a9c2e51b84d6a";

Behaviour Failing(int status, std::string type, std::string code = "") {
  Behaviour behaviour;
  behaviour.status = status;
  behaviour.error_type = std::move(type);
  behaviour.error_code = std::move(code);
  return behaviour;
}

Behaviour WithBody(BodyKind body) {
  Behaviour behaviour;
  behaviour.body = body;
  return behaviour;
}

struct ClassCase {
  ClassCase(std::string name, std::string status, Behaviour reply, std::string flavour = "openai",
            std::string extra = "")
      : scenario(std::move(name)), expected_status(std::move(status)), behaviour(std::move(reply)),
        provider(std::move(flavour)), probe_extra(std::move(extra)) {}
  std::string scenario;
  std::string expected_status;
  Behaviour behaviour;
  std::string provider;
  std::string probe_extra;  // YAML lines added to the probe
};

std::vector<ClassCase> ClassCases() {
  Behaviour html = Failing(502, "");
  html.body = BodyKind::kHtml;
  Behaviour mismatch;
  mismatch.content = "hello there";
  Behaviour wrong_model;
  wrong_model.served_model = "gpt-3.5-turbo";
  Behaviour hang;
  hang.hang = true;
  Behaviour reset;
  reset.reset_mid_body = true;
  Behaviour envelope_in_200 = Failing(200, "server_error", "internal_error");
  envelope_in_200.body = BodyKind::kErrorEnvelope;
  return {
      {"up", "UP", Behaviour{}},
      {"auth", "AUTH_ERROR", Failing(401, "invalid_request_error", "invalid_api_key")},
      {"forbidden", "FORBIDDEN", Failing(403, "request_forbidden", "unsupported_country_region_territory")},
      {"ratelimit", "RATE_LIMITED", Failing(429, "requests", "rate_limit_exceeded")},
      {"quota", "QUOTA_EXCEEDED", Failing(429, "insufficient_quota", "insufficient_quota")},
      {"payment", "QUOTA_EXCEEDED", Failing(402, "")},
      {"nomodel", "MODEL_NOT_FOUND", Failing(404, "invalid_request_error", "model_not_found")},
      {"badrequest", "BAD_REQUEST", Failing(400, "invalid_request_error", "unsupported_parameter")},
      {"unavailable", "OVERLOADED", Failing(503, "server_error")},
      {"anthropic-overloaded", "OVERLOADED", Failing(529, "overloaded_error"), "anthropic"},
      {"anthropic-billing", "QUOTA_EXCEEDED", Failing(400, "billing_error"), "anthropic"},
      {"html", "SERVER_ERROR", html},
      {"teapot", "HTTP_ERROR", Failing(418, "")},
      {"malformed", "BAD_RESPONSE", WithBody(BodyKind::kMalformedJson)},
      {"envelope200", "BAD_RESPONSE", envelope_in_200},
      {"nochoices", "BAD_RESPONSE", WithBody(BodyKind::kNoChoices)},
      {"array", "BAD_RESPONSE", WithBody(BodyKind::kJsonArray)},
      {"empty", "EMPTY_CONTENT", WithBody(BodyKind::kEmptyContent)},
      {"mismatch", "CONTENT_MISMATCH", mismatch, "openai", "        expect_content: \"^PONG$\"\n"},
      {"wrongmodel", "MODEL_MISMATCH", wrong_model},
      {"hang", "TIMEOUT", hang},
      {"reset", "CONNECTION_ERROR", reset},
  };
}

std::string Series(const std::string& name, const std::string& target, const std::string& probe,
                   const std::string& model, const std::string& extra = "") {
  return name + "{target=\"" + target + "\",probe=\"" + probe + "\",model=\"" + model + "\"" +
         (extra.empty() ? "" : "," + extra) + "}";
}

class ExporterTest : public ::testing::Test {
 protected:
  void SetUp() override { mock_.Start(); }
  void TearDown() override {
    if (exporter_) exporter_->Stop();
    mock_.Stop();
  }

  void StartExporter(const std::string& yaml) {
    ExporterOptions options;
    options.config_file = dir_.Write("config.yaml", yaml);
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    options.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "ITEST_API_KEY") return std::string(kApiKey);
      return std::nullopt;
    };
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
  }

  std::string Metrics() { return Get(exporter_->port(), "/metrics"); }

  MockUpstream mock_;
  TempDir dir_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(ExporterTest, EveryClassTheMockProducesIsOnMetricsWithItsLabels) {
  std::string yaml =
      "global: {interval: 2s, timeout: 1s, failure_threshold: 1}\n"
      "targets:\n";
  for (const ClassCase& c : ClassCases()) {
    mock_.SetBehaviour(c.scenario, c.behaviour);
    yaml += "  - name: " + c.scenario + "\n    provider: " + c.provider + "\n    base_url: " +
            mock_.BaseUrl(c.scenario) + "\n    probes:\n      - name: chat\n        type: chat\n" +
            "        model: " + std::string(c.provider == "anthropic" ? "claude-sonnet-4-5" : "gpt-4o") +
            "\n" + c.probe_extra;
  }
  yaml += "  - name: refused\n    base_url: http://127.0.0.1:" + std::to_string(testing::ClosedPort()) +
          "/v1\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n";
  yaml += "  - name: plaintls\n    base_url: https://127.0.0.1:" + std::to_string(mock_.port()) +
          "/v1\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n";
  yaml += "  - name: listing\n    base_url: " + mock_.BaseUrl("up") +
          "\n    probes: [{name: models, type: models, expect_models: [gpt-4o, gpt-9-unreleased]}]\n";
  StartExporter(yaml);

  std::map<std::string, std::pair<std::string, std::string>> expected;  // target -> status, model
  for (const ClassCase& c : ClassCases()) {
    expected[c.scenario] = {c.expected_status, c.provider == "anthropic" ? "claude-sonnet-4-5" : "gpt-4o"};
  }
  expected["refused"] = {"CONNECTION_ERROR", "gpt-4o"};
  expected["plaintls"] = {"TLS_ERROR", "gpt-4o"};

  auto all_ran = [&] {
    const std::string metrics = Metrics();
    for (const auto& [target, status_and_model] : expected) {
      if (!SeriesValue(metrics, Series("llm_probe_success", target, "chat", status_and_model.second))) return false;
    }
    return SeriesValue(metrics, Series("llm_probe_success", "listing", "models", "")).has_value();
  };
  ASSERT_TRUE(WaitFor(all_ran)) << Metrics();

  const std::string metrics = Metrics();
  for (const auto& [target, status_and_model] : expected) {
    const auto& [status, model] = status_and_model;
    SCOPED_TRACE(target);
    EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_status", target, "chat", model, "status=\"" + status + "\"")), 1.0);
    EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_success", target, "chat", model)), status == "UP" ? 1.0 : 0.0);
    EXPECT_GE(*SeriesValue(metrics, Series("llm_probe_total", target, "chat", model, "status=\"" + status + "\"")), 1.0);
    EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_healthy", target, "chat", model)), status == "UP" ? 1.0 : 0.0);
    // Latency counts UP exchanges only: a timeout or an error page is never read as latency.
    if (status == "UP") {
      EXPECT_GE(*SeriesValue(metrics, Series("llm_probe_duration_seconds_count", target, "chat", model)), 1.0);
    } else {
      EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_duration_seconds_count", target, "chat", model)), 0.0);
    }
  }
  EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_status", "listing", "models", "", "status=\"MODEL_NOT_FOUND\"")), 1.0);
  EXPECT_EQ(SeriesValue(metrics, "llm_probe_model_listed{target=\"listing\",probe=\"models\",model=\"gpt-4o\"}"), 1.0);
  EXPECT_EQ(SeriesValue(metrics, "llm_probe_model_listed{target=\"listing\",probe=\"models\",model=\"gpt-9-unreleased\"}"), 0.0);
  EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_http_status_code", "auth", "chat", "gpt-4o")), 401.0);
  EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_http_status_code", "hang", "chat", "gpt-4o")), 0.0);
  EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_served_model_info", "wrongmodel", "chat", "gpt-4o",
                                        "requested=\"gpt-4o\",served=\"gpt-3.5-turbo\"")), 1.0);
}

TEST_F(ExporterTest, EveryStatusAndTotalSeriesExistsBeforeTheFirstResult) {
  mock_.SetBehaviour("up", Behaviour{});
  StartExporter("global: {interval: 1h, timeout: 5s}\ntargets:\n  - name: relay\n    base_url: " +
                mock_.BaseUrl("up") + "\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n");
  const std::string metrics = Metrics();
  for (const char* status : {"UP", "TIMEOUT", "DNS_ERROR", "CONNECTION_ERROR", "TLS_ERROR", "AUTH_ERROR",
                             "FORBIDDEN", "RATE_LIMITED", "QUOTA_EXCEEDED", "MODEL_NOT_FOUND", "BAD_REQUEST",
                             "OVERLOADED", "SERVER_ERROR", "HTTP_ERROR", "BAD_RESPONSE", "EMPTY_CONTENT",
                             "CONTENT_MISMATCH", "MODEL_MISMATCH"}) {
    const std::string label = std::string("status=\"") + status + "\"";
    EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_status", "relay", "chat", "gpt-4o", label)), 0.0) << status;
    EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_total", "relay", "chat", "gpt-4o", label)), 0.0) << status;
  }
  EXPECT_EQ(SeriesValue(metrics, Series("llm_probe_healthy", "relay", "chat", "gpt-4o")), 1.0);
  EXPECT_FALSE(SeriesValue(metrics, Series("llm_probe_success", "relay", "chat", "gpt-4o")).has_value());
}

TEST_F(ExporterTest, AHungUpstreamDelaysNoOtherProbe) {
  Behaviour hang;
  hang.hang = true;
  mock_.SetBehaviour("hang", hang);
  mock_.SetBehaviour("up", Behaviour{});
  StartExporter(
      "global: {interval: 10s, timeout: 1s, jitter: 0%}\ntargets:\n"
      "  - name: stuck\n    base_url: " + mock_.BaseUrl("hang") +
      "\n    probes: [{name: chat, type: chat, model: gpt-4o, interval: 9s, timeout: 8s}]\n"
      "  - name: fine\n    base_url: " + mock_.BaseUrl("up") +
      "\n    probes: [{name: chat, type: chat, model: gpt-4o, interval: 1s, timeout: 900ms}]\n");
  // Once the stuck probe's request is at the upstream, count what the healthy probe completes
  // while it hangs: with one loop thread for all probes, a blocking exchange would stop these.
  ASSERT_TRUE(WaitFor([&] { return mock_.RequestCount("hang") >= 1; }));
  const std::string healthy_total = Series("llm_probe_total", "fine", "chat", "gpt-4o", "status=\"UP\"");
  const double before = SeriesValue(Metrics(), healthy_total).value_or(0);
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(Metrics(), healthy_total).value_or(0) >= before + 3; }));
  const std::string metrics = Metrics();
  EXPECT_FALSE(SeriesValue(metrics, Series("llm_probe_success", "stuck", "chat", "gpt-4o")).has_value())
      << "the stuck probe should still be waiting for its 8 s timeout";
  EXPECT_LT(*SeriesValue(metrics, Series("llm_probe_last_duration_seconds", "fine", "chat", "gpt-4o")), 0.5);
}

TEST_F(ExporterTest, TheGroupApiListsHealthyMembersBestFirst) {
  Behaviour slow;
  slow.delay_ms = 200;
  mock_.SetBehaviour("slow", slow);
  mock_.SetBehaviour("fast", Behaviour{});
  mock_.SetBehaviour("down", Failing(401, "invalid_request_error", "invalid_api_key"));
  StartExporter("global: {interval: 1s, timeout: 900ms, failure_threshold: 1}\n"
                "groups: [{name: chat-primary, targets: [slow, down, fast]}]\ntargets:\n"
                "  - {name: slow, base_url: \"" + mock_.BaseUrl("slow") + "\", probes: [{name: chat, type: chat, model: gpt-4o}]}\n"
                "  - {name: down, base_url: \"" + mock_.BaseUrl("down") + "\", probes: [{name: chat, type: chat, model: gpt-4o}]}\n"
                "  - {name: fast, base_url: \"" + mock_.BaseUrl("fast") + "\", probes: [{name: chat, type: chat, model: gpt-4o}]}\n");
  // Ranking needs a result from every member: wait for each probe's second one.
  ASSERT_TRUE(WaitFor([&] {
    const std::string metrics = Metrics();
    for (const char* target : {"slow", "down", "fast"}) {
      const auto runs = SeriesValue(metrics, Series("llm_probe_total", target, "chat", "gpt-4o",
                                                    std::string("status=\"") + (target == std::string("down") ? "AUTH_ERROR" : "UP") + "\""));
      if (runs.value_or(0) < 2) return false;
    }
    return true;
  })) << Metrics();
  const auto group = nlohmann::json::parse(Get(exporter_->port(), "/api/v1/targets?group=chat-primary"));
  EXPECT_EQ(group["healthy_members"], nlohmann::json({"fast", "slow"}));
  EXPECT_EQ(group["targets"], 3);
  const std::string metrics = Metrics();
  EXPECT_EQ(SeriesValue(metrics, "llm_probe_group_healthy_targets{group=\"chat-primary\"}"), 2.0);
  EXPECT_EQ(SeriesValue(metrics, "llm_probe_group_targets{group=\"chat-primary\"}"), 3.0);
  // The same order as a gauge, for the alerts' "switch to" list and the dashboards.
  EXPECT_EQ(SeriesValue(metrics, "llm_probe_group_rank{group=\"chat-primary\",target=\"fast\"}"), 1.0);
  EXPECT_EQ(SeriesValue(metrics, "llm_probe_group_rank{group=\"chat-primary\",target=\"slow\"}"), 2.0);
  EXPECT_FALSE(SeriesValue(metrics, "llm_probe_group_rank{group=\"chat-primary\",target=\"down\"}").has_value());
  int status = 0;
  Get(exporter_->port(), "/api/v1/targets?group=nope", &status);
  EXPECT_EQ(status, 404);
}

TEST_F(ExporterTest, MetricsPassPromtoolCheck) {
  mock_.SetBehaviour("up", Behaviour{});
  mock_.SetBehaviour("down", Failing(500, "server_error"));
  StartExporter("global: {interval: 1s, timeout: 500ms, external_labels: {region: test}}\n"
                "groups: [{name: pair, targets: [a, b]}]\ntargets:\n"
                "  - name: a\n    base_url: " + mock_.BaseUrl("up") +
                "\n    probes: [{name: models, type: models}, {name: chat, type: chat, model: gpt-4o},"
                " {name: stream, type: stream, model: gpt-4o}, {name: embed, type: embeddings, model: text-embedding-3-small}]\n"
                "  - name: b\n    base_url: " + mock_.BaseUrl("down") +
                "\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n");
  ASSERT_TRUE(WaitFor([&] {
    const std::string metrics = Metrics();
    return metrics.find("llm_probe_success{target=\"a\",probe=\"stream\"") != std::string::npos &&
           metrics.find("llm_probe_success{target=\"b\"") != std::string::npos;
  }));
  TempDir dir;
  const std::string file = dir.Write("metrics.txt", Metrics());
  std::string output;
  EXPECT_EQ(testing::RunCommand("promtool check metrics < " + file, &output), 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings";
  EXPECT_NE(Metrics().find("region=\"test\""), std::string::npos);

  // As Prometheus scrapes: gzip once (not twice), and the same exposition inside.
  const std::string url = "http://127.0.0.1:" + std::to_string(exporter_->port()) + "/metrics";
  EXPECT_EQ(testing::RunCommand("curl -sS -D " + dir.path() + "/headers.txt -H 'Accept-Encoding: gzip' " + url +
                                    " -o " + dir.path() + "/metrics.gz && gunzip -c " + dir.path() +
                                    "/metrics.gz | promtool check metrics",
                                &output),
            0)
      << output;
  EXPECT_EQ(output, "") << "promtool lint findings";
  std::string headers;
  testing::RunCommand("tr -d '\\r' < " + dir.path() + "/headers.txt", &headers);
  EXPECT_THAT(headers, ::testing::HasSubstr("Content-Encoding: gzip\n"));
  EXPECT_THAT(headers, ::testing::HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\n"));
  EXPECT_EQ(testing::RunCommand("gunzip -c " + dir.path() + "/metrics.gz | grep -c '^llm_probe_healthy{'", &output), 0);
  EXPECT_EQ(output, "5\n");
}

TEST_F(ExporterTest, TheApiKeyAppearsNowhereButInTheUpstreamRequest) {
  Behaviour echoing = Failing(401, "invalid_request_error", "invalid_api_key");
  echoing.error_message = std::string("Incorrect API key provided: ") + kApiKey;
  mock_.SetBehaviour("echo", echoing);
  ConfigureLogging(LogLevel::kDebug, LogFormat::kLogfmt);
  ::testing::internal::CaptureStderr();
  StartExporter("global: {interval: 1s, timeout: 500ms, failure_threshold: 1}\ntargets:\n"
                "  - name: keyed\n    api_key_env: ITEST_API_KEY\n    base_url: " + mock_.BaseUrl("echo") +
                "\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n");
  const std::string success = Series("llm_probe_success", "keyed", "chat", "gpt-4o");
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(Metrics(), success).has_value(); }));
  int status = 0;
  const std::string on_demand = testing::Post(exporter_->port(), "/probe?target=keyed&probe=chat&debug=true", &status);
  EXPECT_EQ(status, 200);
  const std::string outputs[] = {Metrics(), Get(exporter_->port(), "/"),
                                 Get(exporter_->port(), "/api/v1/targets"), on_demand};
  exporter_->Stop();
  const std::string logs = ::testing::internal::GetCapturedStderr();
  ConfigureLogging(LogLevel::kInfo, LogFormat::kLogfmt);

  ASSERT_FALSE(mock_.Requests("echo").empty());
  EXPECT_EQ(mock_.Requests("echo").front().headers.at("authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_THAT(on_demand, ::testing::HasSubstr("Incorrect API key provided"));
  EXPECT_THAT(logs, ::testing::HasSubstr("probe became unhealthy"));
  for (const std::string& output : outputs) EXPECT_THAT(output, ::testing::Not(::testing::HasSubstr(kApiKey)));
  EXPECT_THAT(logs, ::testing::Not(::testing::HasSubstr(kApiKey)));
  EXPECT_THAT(logs, ::testing::Not(::testing::HasSubstr("7f3a9c2e51b84d6a")));
}

}  // namespace
}  // namespace llm_probe
