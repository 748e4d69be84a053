// POST /-/reload over loopback: each kind of broken file keeps the running config serving and
// says why on /metrics, the status page and the API; a valid file swaps in at once, keeping the
// history and counters of the probes that stay; an unchanged file is a no-op; scrapes go on
// working while configs swap.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "llm_probe/exporter.h"
#include "mock_upstream.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Get;
using testing::SeriesValue;
using testing::TempDir;
using testing::WaitFor;

std::string HtmlEscaped(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '"' ? std::string("&quot;") : std::string(1, c);
  return out;
}

const std::string kKeptTotal = "llm_probe_total{target=\"kept\",probe=\"models\",model=\"\",status=\"UP\"}";
const std::string kReloadSuccessful = "llm_probe_exporter_config_last_reload_successful";

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mock_.Start();
    ExporterOptions options;
    options.config_file = Write(Config({Target("kept", "1s"), Target("removed", "1s")}));
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    options.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "RELOAD_TEST_KEY") return std::string("sk-reload-test-0123456789");
      return std::nullopt;
    };
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
    ASSERT_TRUE(WaitFor([&] {
      const std::string metrics = Metrics();
      return SeriesValue(metrics, kKeptTotal).value_or(0) >= 1 &&
             metrics.find("llm_probe_success{target=\"removed\"") != std::string::npos;
    })) << Metrics();
  }
  void TearDown() override {
    exporter_->Stop();
    mock_.Stop();
  }

  std::string Target(const std::string& name, const std::string& interval,
                     const std::string& key = "api_key_env: RELOAD_TEST_KEY") const {
    return "  - name: " + name + "\n    base_url: " + mock_.BaseUrl("ok") + "\n    " + key +
           "\n    probes: [{name: models, type: models, interval: " + interval + "}]\n";
  }
  static std::string Config(const std::vector<std::string>& targets, const std::string& global = "timeout: 500ms") {
    std::string yaml = "global: {" + global + "}\ntargets:\n";
    for (const auto& target : targets) yaml += target;
    return yaml;
  }
  std::string Write(const std::string& yaml) { return dir_.Write("config.yaml", yaml); }

  int port() const { return exporter_->port(); }
  std::string Metrics() { return Get(port(), "/metrics"); }
  nlohmann::json Api() { return nlohmann::json::parse(Get(port(), "/api/v1/targets")); }
  httplib::Result PostReload() {
    httplib::Client client("127.0.0.1", port());
    client.set_read_timeout(30, 0);
    return client.Post("/-/reload", "", "text/plain");
  }

  mock_upstream::MockUpstream mock_;
  TempDir dir_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(ReloadTest, EachBrokenFileKeepsTheRunningConfigAndSaysWhyEverywhere) {
  struct Broken {
    std::string what;
    std::string yaml;
    std::string error;  // file:line:col: message
  };
  const std::string at = dir_.path() + "/config.yaml:";
  const std::vector<Broken> broken = {
      {"bad YAML", "targets: [\n", at + "2:1: invalid YAML"},
      {"unknown key", Config({Target("kept", "1s")}, "intervall: 1s"), at + "1:10: unknown key \"intervall\""},
      {"missing key variable", Config({Target("kept", "1s", "api_key_env: RELOAD_TEST_UNSET")}),
       at + "5:18: environment variable RELOAD_TEST_UNSET (api_key_env of target \"kept\") is not set"},
      {"duplicate target names", Config({Target("kept", "1s"), Target("kept", "2s")}),
       at + "7:11: duplicate target name \"kept\""},
      {"timeout not below interval", Config({Target("kept", "1s")}, "timeout: 1s"),
       at + "6:14: timeout 1s is not below interval 1s"},
      {"unreadable key file", Config({Target("kept", "1s", "api_key_file: /nonexistent/key")}),
       at + "5:19: cannot read the api_key_file of target \"kept\": No such file or directory"},
      {"unknown group member", "groups: [{name: pair, targets: [kept, ghost]}]\n" + Config({Target("kept", "1s")}),
       at + "1:39: unknown target \"ghost\" in group \"pair\""},
  };
  for (const Broken& file : broken) {
    SCOPED_TRACE(file.what);
    const double kept_before = SeriesValue(Metrics(), kKeptTotal).value_or(0);
    Write(file.yaml);
    const auto reply = PostReload();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 500);
    EXPECT_THAT(reply->body, HasSubstr(file.error));

    const std::string metrics = Metrics();
    EXPECT_EQ(SeriesValue(metrics, kReloadSuccessful), 0.0);
    EXPECT_THAT(metrics, HasSubstr("llm_probe_success{target=\"removed\""));
    const nlohmann::json api = Api();
    EXPECT_EQ(api["config"]["reload_successful"], false);
    EXPECT_THAT(api["config"]["last_error"].get<std::string>(), HasSubstr(file.error));
    EXPECT_EQ(api["probes"].size(), 2u);
    const std::string page = Get(port(), "/");
    EXPECT_THAT(page, HasSubstr("The last configuration reload failed"));
    EXPECT_THAT(page, HasSubstr(HtmlEscaped(file.error)));
    // The old config goes on probing.
    EXPECT_TRUE(WaitFor([&] { return SeriesValue(Metrics(), kKeptTotal).value_or(0) > kept_before; }));
  }
}

TEST_F(ReloadTest, AValidFileSwapsAtOnceAndKeptProbesKeepTheirCounters) {
  Write("targets: [\n");
  ASSERT_EQ(PostReload()->status, 500);
  // Two results at least, so a counter reset to 0 and counted up once would show.
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(Metrics(), kKeptTotal).value_or(0) >= 2; }));
  const double kept_before = SeriesValue(Metrics(), kKeptTotal).value_or(0);
  const std::size_t kept_history = Api()["probes"][0]["history"].size();

  // "added" runs once an hour: only a reload starting it at once makes it report soon.
  Write(Config({Target("kept", "1s"), Target("added", "1h")}));
  const auto reply = PostReload();
  ASSERT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "Configuration reloaded\n");

  // The swap is complete when the reload answers.
  const std::string metrics = Metrics();
  EXPECT_EQ(SeriesValue(metrics, kReloadSuccessful), 1.0);
  EXPECT_THAT(metrics, Not(HasSubstr("target=\"removed\"")));
  EXPECT_THAT(metrics, HasSubstr("llm_probe_total{target=\"added\",probe=\"models\",model=\"\",status=\"UP\"}"));
  EXPECT_GE(SeriesValue(metrics, kKeptTotal).value_or(0), kept_before) << "kept probes keep their counters";
  const nlohmann::json api = Api();
  EXPECT_EQ(api["config"]["reload_successful"], true);
  EXPECT_EQ(api["config"]["last_error"], "");
  EXPECT_GE(api["probes"][0]["history"].size(), kept_history) << "kept probes keep their history";
  EXPECT_THAT(Get(port(), "/"), Not(HasSubstr("reload failed")));

  EXPECT_TRUE(WaitFor([&] {
    return SeriesValue(Metrics(), "llm_probe_success{target=\"added\",probe=\"models\",model=\"\"}").has_value();
  }, std::chrono::seconds(5))) << "a probe added by a reload runs at once";
  EXPECT_TRUE(WaitFor([&] { return SeriesValue(Metrics(), kKeptTotal).value_or(0) > kept_before; }));
}

TEST_F(ReloadTest, AnUnchangedFileIsANoOpAndGetIsNotAllowed) {
  const auto reply = PostReload();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "Configuration unchanged\n");

  httplib::Client client("127.0.0.1", port());
  const auto get = client.Get("/-/reload");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
}

// What the README tells users to type: curl -X POST sends no body and no Content-Length.
TEST_F(ReloadTest, TheDocumentedCurlCommandReloads) {
  std::string output;
  const std::string url = "http://127.0.0.1:" + std::to_string(port()) + "/-/reload";
  ASSERT_EQ(testing::RunCommand("curl -sS -i -X POST " + url, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("HTTP/1.1 200")) << output;
  EXPECT_THAT(output, HasSubstr("Configuration unchanged"));

  Write(Config({Target("kept", "1s")}));
  ASSERT_EQ(testing::RunCommand("curl -sS -i -X POST " + url, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("Configuration reloaded"));
  EXPECT_EQ(Metrics().find("target=\"removed\""), std::string::npos);

  // With a body and its length, and chunked, as other clients send it.
  ASSERT_EQ(testing::RunCommand("curl -sS -X POST -d '' " + url, &output), 0) << output;
  EXPECT_EQ(output, "Configuration unchanged\n");
  ASSERT_EQ(testing::RunCommand("curl -sS -X POST -H 'Transfer-Encoding: chunked' -d 'x' " + url, &output), 0) << output;
  EXPECT_EQ(output, "Configuration unchanged\n");
  // Two requests on one kept-alive connection: the bodiless POST leaves the stream in step.
  ASSERT_EQ(testing::RunCommand("curl -sS -X POST " + url + " --next -sS " +
                                    "http://127.0.0.1:" + std::to_string(port()) + "/-/healthy",
                                &output),
            0)
      << output;
  EXPECT_EQ(output, "Configuration unchanged\nHealthy\n");
  ASSERT_EQ(testing::RunCommand("curl -sS -o /dev/null -w '%{http_code}' " + url, &output), 0) << output;
  EXPECT_EQ(output, "405");
}

// Metrics, JSON and errors are never sniffed as HTML; the status page may load nothing.
TEST_F(ReloadTest, ResponsesCarryNosniffAndTheStatusPageARestrictivePolicy) {
  httplib::Client client("127.0.0.1", port());
  for (const char* path : {"/metrics", "/api/v1/targets", "/-/healthy", "/-/ready", "/-/reload", "/probe", "/no/such/path"}) {
    const auto response = client.Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->get_header_value("X-Content-Type-Options"), "nosniff") << path;
  }
  const auto page = client.Get("/");
  ASSERT_TRUE(page);
  const std::string policy = page->get_header_value("Content-Security-Policy");
  EXPECT_THAT(policy, HasSubstr("default-src 'none'"));
  EXPECT_THAT(policy, Not(HasSubstr("script-src")));
  EXPECT_THAT(policy, HasSubstr("frame-ancestors 'none'"));
}

// A key file replaced the way Kubernetes updates a mounted Secret (a new file renamed over the
// old path): the next probes send the new key with no signal; an emptied file keeps the last
// good key and says why; neither key ever shows on the page or in the API.
TEST(KeyFileRotationTest, ARotatedKeyFileIsUsedWithoutASignal) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  TempDir dir;
  const std::string old_key = "sk-rotation-old-0123456789";
  const std::string new_key = "sk-rotation-new-9876543210";
  auto write_key = [&](const std::string& key) {
    dir.Write("key.next", key + "\n");
    std::filesystem::rename(dir.path() + "/key.next", dir.path() + "/key");
  };
  write_key(old_key);
  // The upstream refuses, echoing the key as OpenAI does: the failure stays in the probe's
  // history across the rotation, and the old key must stay redacted there.
  mock.SetBehaviour("keys", mock_upstream::Behaviour{.status = 401, .error_code = "invalid_api_key",
                                                     .error_message = "Incorrect API key provided: " + old_key});
  ExporterOptions options;
  options.config_file = dir.Write("config.yaml",
      "global: {interval: 1s, timeout: 500ms, jitter: 0%}\ntargets:\n  - name: relay\n    base_url: " +
      mock.BaseUrl("keys") + "\n    api_key_file: key\n    probes: [{name: models, type: models}]\n");
  options.listen = {"127.0.0.1", 0};
  options.build = {"test", "test"};
  Exporter exporter(options);
  exporter.Start();
  auto last_key = [&] {
    const auto requests = mock.Requests("keys");
    return requests.empty() ? std::string() : requests.back().headers.at("authorization");
  };
  ASSERT_TRUE(WaitFor([&] { return last_key() == "Bearer " + old_key; })) << last_key();

  write_key(new_key);
  ASSERT_TRUE(WaitFor([&] { return last_key() == "Bearer " + new_key; })) << last_key();
  const int port = exporter.port();
  EXPECT_EQ(SeriesValue(Get(port, "/metrics"), kReloadSuccessful), 1.0);

  write_key("");
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(Get(port, "/metrics"), kReloadSuccessful) == 0.0; }));
  const int requests_before = mock.RequestCount("keys");
  ASSERT_TRUE(WaitFor([&] { return mock.RequestCount("keys") >= requests_before + 2; }));
  EXPECT_EQ(last_key(), "Bearer " + new_key) << "an empty key file keeps the last good key";
  const std::string api = Get(port, "/api/v1/targets");
  EXPECT_THAT(api, HasSubstr("is empty")) << "the reason is on the page and in the API";
  EXPECT_THAT(api, HasSubstr("Incorrect API key provided: <redacted>")) << "the old failure is still shown";
  for (const std::string& page : {api, Get(port, "/"), Get(port, "/metrics")}) {
    EXPECT_THAT(page, Not(HasSubstr(old_key)));
    EXPECT_THAT(page, Not(HasSubstr(new_key)));
  }
  exporter.Stop();
}

// The aws: keys of a Bedrock target are re-read the same way: a secret access key file replaced
// with the right secret turns the mock's signature check from refusing to accepting, with no
// signal, and neither secret shows on the page, in the API or the metrics.
TEST(KeyFileRotationTest, ARotatedAwsSecretFileIsUsedWithoutASignal) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  TempDir dir;
  const std::string wrong_secret = "wrong/secret/access/key/for/the/mock/00000";
  auto write_secret = [&](const std::string& secret) {
    dir.Write("aws-secret.next", secret + "\n");
    std::filesystem::rename(dir.path() + "/aws-secret.next", dir.path() + "/aws-secret");
  };
  write_secret(wrong_secret);
  dir.Write("aws-key-id", std::string(mock_upstream::kAwsAccessKeyId) + "\n");
  ExporterOptions options;
  options.config_file = dir.Write("config.yaml",
      "global: {interval: 1s, timeout: 500ms, jitter: 0%}\ntargets:\n  - name: bedrock\n    provider: bedrock\n"
      "    base_url: " + mock.RootUrl("aws") +
      "\n    aws: {region: us-east-1, access_key_id_file: aws-key-id, secret_access_key_file: aws-secret}\n"
      "    probes: [{name: chat, type: chat, model: amazon.nova-micro-v1, max_tokens: 16}]\n");
  options.listen = {"127.0.0.1", 0};
  options.build = {"test", "test"};
  Exporter exporter(options);
  exporter.Start();
  const int port = exporter.port();
  auto status_is = [&](const std::string& status) {
    std::istringstream lines(Get(port, "/metrics"));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("llm_probe_status{", 0) == 0 && line.find("target=\"bedrock\"") != std::string::npos &&
          line.find("status=\"" + status + "\"} 1") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return status_is("AUTH_ERROR"); }));
  write_secret(mock_upstream::kAwsSecretAccessKey);
  ASSERT_TRUE(WaitFor([&] { return status_is("UP"); }));
  for (const std::string& page : {Get(port, "/api/v1/targets"), Get(port, "/"), Get(port, "/metrics")}) {
    EXPECT_THAT(page, Not(HasSubstr(wrong_secret)));
    EXPECT_THAT(page, Not(HasSubstr(mock_upstream::kAwsSecretAccessKey)));
  }
  exporter.Stop();
}

TEST_F(ReloadTest, ScrapesKeepWorkingWhileConfigsSwap) {
  std::atomic<bool> reloading{true};
  std::atomic<int> scrapes{0};
  std::atomic<int> bad_scrapes{0};
  std::thread scraper([&] {
    httplib::Client client("127.0.0.1", port());
    while (reloading) {
      const auto response = client.Get("/metrics");
      ++scrapes;
      // The probe that every config keeps is there in every scrape, whatever the swap is doing.
      if (!response || response->status != 200 || !SeriesValue(response->body, kKeptTotal)) ++bad_scrapes;
    }
  });
  for (int i = 0; i < 20; ++i) {
    Write(Config({Target("kept", "1s"), Target(i % 2 ? "odd" : "even", "1s")}));
    const auto reply = PostReload();
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "no reply");
  }
  reloading = false;
  scraper.join();
  EXPECT_GT(scrapes, 20);
  EXPECT_EQ(bad_scrapes, 0) << "of " << scrapes << " scrapes";
}

}  // namespace
}  // namespace llm_probe
