// The status page at / over loopback: every probe with its state, class, availability, p50, last
// error (escaped, redacted, cut short) and history; failures kept past a long healthy run; one
// self-contained page with no scripts or external assets. tests/browser renders it in Chromium.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm_probe/exporter.h"
#include "mock_upstream.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using mock_upstream::Behaviour;
using testing::Get;
using testing::WaitFor;

constexpr const char* kApiKey = "sk-page-9d2f61c0a7e34b58";

Behaviour Unauthorized(const std::string& message) {
  Behaviour behaviour;
  behaviour.status = 401;
  behaviour.error_type = "invalid_request_error";
  behaviour.error_code = "invalid_api_key";
  behaviour.error_message = message;
  return behaviour;
}

// The table row of one probe on the page.
std::string Row(const std::string& page, const std::string& target) {
  const auto start = page.find("<tr><td class=wide data-label=\"Probe\"><b>" + target + "</b>");
  if (start == std::string::npos) return "";
  return page.substr(start, page.find("</tr>", start) - start);
}

class StatusPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mock_.Start();
    mock_.SetBehaviour("ok", Behaviour{});
    // Upstream text made to hurt: markup, the key echoed back, and far too long.
    mock_.SetBehaviour("hostile", Unauthorized("<script>alert('x')</script> Incorrect API key provided: " +
                                               std::string(kApiKey) + " " + std::string(2000, 'z')));
    // One failure, then a long healthy run: longer than the history window of 3.
    std::vector<Behaviour> recovering(12, Behaviour{});
    recovering[0] = Unauthorized("key revoked");
    mock_.SetBehaviour("recovering", recovering);

    ExporterOptions options;
    options.config_file = dir_.Write(
        "config.yaml", "global: {interval: 1s, timeout: 500ms, failure_threshold: 1, history_size: 3}\ntargets:\n" +
                           Target("fine", "ok") + Target("hostile", "hostile") + Target("recovering", "recovering"));
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    options.env = [](const std::string&) { return std::optional<std::string>(kApiKey); };
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
  }
  void TearDown() override {
    exporter_->Stop();
    mock_.Stop();
  }

  std::string Target(const std::string& name, const std::string& scenario) const {
    return "  - name: " + name + "\n    base_url: " + mock_.BaseUrl(scenario) +
           "\n    api_key_env: PAGE_TEST_KEY\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n";
  }
  nlohmann::json Probe(const std::string& target) {
    const auto document = nlohmann::json::parse(Get(exporter_->port(), "/api/v1/targets"));
    for (const auto& probe : document["probes"]) {
      if (probe["target"] == target) return probe;
    }
    return nullptr;
  }

  mock_upstream::MockUpstream mock_;
  testing::TempDir dir_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(StatusPageTest, ShowsEveryProbeWithStateClassAvailabilityLatencyErrorAndHistory) {
  ASSERT_TRUE(WaitFor([&] {
    for (const char* target : {"fine", "hostile", "recovering"}) {
      if (!Probe(target)["last_result"].is_object()) return false;
    }
    return true;
  }));
  int status = 0;
  const std::string page = Get(exporter_->port(), "/", &status);
  EXPECT_EQ(status, 200);

  const std::string fine = Row(page, "fine");
  EXPECT_THAT(fine, HasSubstr("/ chat"));
  EXPECT_THAT(fine, HasSubstr("gpt-4o"));
  EXPECT_THAT(fine, HasSubstr("<span class=ok>healthy</span>"));
  EXPECT_THAT(fine, HasSubstr("<span class=\"badge up\">UP</span>"));
  EXPECT_THAT(fine, HasSubstr("100.0%"));
  EXPECT_THAT(fine, ::testing::ContainsRegex("data-label=\"p50\">[0-9]+ ms<"));
  EXPECT_THAT(fine, HasSubstr("<span class=strip"));
  EXPECT_THAT(fine, HasSubstr("<i class=up title=\"UP · "));

  const std::string hostile = Row(page, "hostile");
  EXPECT_THAT(hostile, HasSubstr("<span class=bad>unhealthy</span>"));
  EXPECT_THAT(hostile, HasSubstr("<span class=\"badge down\">AUTH_ERROR</span>"));
  EXPECT_THAT(hostile, HasSubstr("0.0%"));
  EXPECT_THAT(hostile, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Incorrect API key provided: &lt;redacted&gt;"));
  EXPECT_THAT(hostile, Not(HasSubstr(std::string(301, 'z')))) << "the excerpt is cut short";
  EXPECT_THAT(page, Not(HasSubstr(kApiKey)));
  EXPECT_LT(page.find("<b>hostile</b>"), page.find("<b>fine</b>")) << "unhealthy probes come first";
  // "recovering" may be either at this moment.
  EXPECT_THAT(page, ::testing::ContainsRegex("<title>llm_probe_exporter: [12] of 3 healthy</title>"));
}

TEST_F(StatusPageTest, AFailureOutlivesALongHealthyRunInItsOwnRing) {
  // Four UP results after the failure push it out of the history window of 3.
  ASSERT_TRUE(WaitFor([&] {
    const auto probe = Probe("recovering");  // null until the runner has applied the config
    return probe.is_object() && probe["consecutive_successes"].get<int>() >= 4;
  }));
  const auto probe = Probe("recovering");
  for (const auto& entry : probe["history"]) EXPECT_EQ(entry["status"], "UP");
  ASSERT_EQ(probe["recent_failures"].size(), 1u);
  EXPECT_EQ(probe["recent_failures"][0]["status"], "AUTH_ERROR");

  const std::string page = Get(exporter_->port(), "/");
  const std::string row = Row(page, "recovering");
  EXPECT_THAT(row, HasSubstr("<span class=ok>healthy</span>"));
  EXPECT_THAT(row, HasSubstr("data-label=\"Last error\"><span class=\"badge down\">AUTH_ERROR</span>"));
  const std::string failures = page.substr(page.find("<h2>Recent failures</h2>"));
  EXPECT_THAT(failures, ::testing::ContainsRegex("<b>recovering</b> / chat.*AUTH_ERROR"));
}

TEST_F(StatusPageTest, IsOneSelfContainedPageReadableOnAPhone) {
  const std::string page = Get(exporter_->port(), "/");
  EXPECT_THAT(page, ::testing::StartsWith("<!doctype html>"));
  EXPECT_THAT(page, HasSubstr("<meta name=viewport content=\"width=device-width,initial-scale=1\">"));
  EXPECT_THAT(page, HasSubstr("@media (max-width:700px)"));
  for (const char* external : {"<script", "<link", "<img", "<iframe", "src=", "@import", "url(", "//"}) {
    EXPECT_THAT(page, Not(HasSubstr(external))) << external;
  }
  EXPECT_THAT(page, HasSubstr("<a href=\"metrics\">metrics</a>"));
  EXPECT_THAT(page, HasSubstr("<a href=\"api/v1/targets\">JSON API</a>"));
}

// Which provider and, where it has two, which API each probe calls: on the page under the probe's
// name and as "provider" and "api" in the JSON API the page renders.
TEST(StatusPageApiTest, NamesEachProbesProviderAndApi) {
  testing::TempDir dir;
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::ClosedPort());
  ExporterOptions options;
  options.config_file = dir.Write("config.yaml",
                                  "targets:\n"
                                  "  - name: relay\n    base_url: " + base + "/v1\n    probes:\n"
                                  "      - {name: chat, type: chat, model: gpt-4o}\n"
                                  "      - {name: resp, type: stream, api: responses, model: gpt-4o-mini, max_tokens: 16}\n"
                                  "      - {name: embed, type: embeddings, model: text-embedding-3-small}\n"
                                  "      - {name: tools, type: tools, api: responses, model: gpt-4o}\n"
                                  "  - name: claude\n    provider: anthropic\n    base_url: " + base + "/v1\n"
                                  "    api_key_env: KEY\n    probes: [{name: chat, type: chat, model: claude-sonnet-4-5}]\n"
                                  "  - name: gemini\n    provider: gemini\n    base_url: " + base + "/v1beta\n"
                                  "    api_key_env: KEY\n    probes: [{name: chat, type: chat, model: gemini-2.5-flash}]\n"
                                  "  - name: bedrock\n    provider: bedrock\n    base_url: " + base + "\n"
                                  "    aws: {region: us-east-1, access_key_id_env: KEY, secret_access_key_env: KEY}\n"
                                  "    probes: [{name: stream, type: stream, model: \"anthropic.claude-3-5-haiku-20241022-v1:0\"}]\n");
  options.listen = {"127.0.0.1", 0};
  options.build = {"test", "test"};
  options.env = [](const std::string&) { return std::optional<std::string>(kApiKey); };
  Exporter exporter(options);
  exporter.Start();
  nlohmann::json probes;
  ASSERT_TRUE(WaitFor([&] {
    probes = nlohmann::json::parse(Get(exporter.port(), "/api/v1/targets"))["probes"];
    return probes.size() == 7;
  }));
  const std::string page = Get(exporter.port(), "/");
  exporter.Stop();

  struct Expected {
    const char* target;
    const char* probe;
    const char* provider;
    nlohmann::json api;
    const char* sub_line;
  };
  const Expected expected[] = {
      {"relay", "chat", "openai", "chat_completions", "chat · openai/chat_completions · gpt-4o"},
      {"relay", "resp", "openai", "responses", "stream · openai/responses · gpt-4o-mini"},
      {"relay", "embed", "openai", nullptr, "embeddings · openai · text-embedding-3-small"},
      {"relay", "tools", "openai", "responses", "tools · openai/responses · gpt-4o"},
      {"claude", "chat", "anthropic", nullptr, "chat · anthropic · claude-sonnet-4-5"},
      {"gemini", "chat", "gemini", nullptr, "chat · gemini · gemini-2.5-flash"},
      {"bedrock", "stream", "bedrock", nullptr, "stream · bedrock · anthropic.claude-3-5-haiku-20241022-v1:0"},
  };
  for (const Expected& want : expected) {
    const auto probe = std::find_if(probes.begin(), probes.end(), [&](const nlohmann::json& p) {
      return p["target"] == want.target && p["probe"] == want.probe;
    });
    ASSERT_NE(probe, probes.end()) << want.target << "/" << want.probe;
    EXPECT_EQ((*probe)["provider"], want.provider) << want.target << "/" << want.probe;
    EXPECT_EQ((*probe)["api"], want.api) << want.target << "/" << want.probe;
    EXPECT_THAT(page, HasSubstr("<b>" + std::string(want.target) + "</b> / " + want.probe + "<div class=sub>" +
                                want.sub_line + "</div>"));
  }
}

}  // namespace
}  // namespace llm_probe
