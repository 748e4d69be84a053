// LLM-aware probing over loopback: streaming timing, Anthropic and Azure wire formats, usage
// and cost with the daily budget, rate-limit headers and Retry-After, failover groups and TLS
// certificate expiry. The runner is driven directly, with its randomness injected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "llm_probe/collector.h"
#include "llm_probe/config.h"
#include "llm_probe/probe.h"
#include "llm_probe/runner.h"
#include "llm_probe/snapshot.h"
#include "mock_upstream.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using mock_upstream::Behaviour;
using mock_upstream::MockUpstream;
using testing::TempDir;
using testing::WaitFor;

double NowUnix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class LlmProbingTest : public ::testing::Test {
 protected:
  void SetUp() override { mock_.Start(); }
  void TearDown() override {
    if (runner_) runner_->Stop();
    mock_.Stop();
  }

  // random01 = 0: every probe's first run is due at once, and jitter adds nothing.
  // random01 = 0.999: first runs are an interval away, so only RunNow() runs probes.
  void Start(const std::string& yaml, double random01) {
    auto config = std::make_shared<const Config>(ParseConfig(yaml, "test.yaml", [this](const std::string& name) {
      const auto found = env_.find(name);
      return std::optional<std::string>(found != env_.end() ? found->second : key_);
    }));
    runner_ = std::make_unique<ProbeRunner>(store_, RunnerOptions{[random01] { return random01; }, {}});
    runner_->Apply(config);
    ASSERT_TRUE(WaitFor([&] { return store_.Read().config != nullptr; }));
  }

  ProbeResult RunNow(const std::string& target, const std::string& probe) {
    auto run = runner_->RunNow(target, probe).get();
    EXPECT_TRUE(run.has_value());
    return run ? run->result : ProbeResult{};
  }

  std::shared_ptr<const ProbeSnapshot> Snapshot(const std::string& target, const std::string& probe) {
    for (const auto& snapshot : store_.Read().probes) {
      if (snapshot->target->name == target && snapshot->probe->name == probe) return snapshot;
    }
    ADD_FAILURE() << "no probe " << target << "/" << probe;
    return nullptr;
  }

  std::string Target(const std::string& name, const std::string& base_url, const std::string& probes,
                     const std::string& extra = "") {
    return "  - name: " + name + "\n    base_url: " + base_url + "\n    api_key_env: TEST_KEY\n" + extra +
           "    probes: " + probes + "\n";
  }

  std::string key_ = "sk-test-key-0123456789";  // what every *_env key not in env_ resolves to
  std::map<std::string, std::string> env_;
  MockUpstream mock_;
  SnapshotStore store_;
  std::unique_ptr<ProbeRunner> runner_;
};

Behaviour Streaming(int first_token_ms, int tokens, int interval_ms) {
  Behaviour behaviour;
  behaviour.stream.first_token_delay_ms = first_token_ms;
  behaviour.stream.token_count = tokens;
  behaviour.stream.token_interval_ms = interval_ms;
  return behaviour;
}

TEST_F(LlmProbingTest, ThresholdsAndAvailabilityOnMetricsFollowAScriptedSequence) {
  // failure_threshold 2, recovery_threshold 2, a window of 4: DOWN DOWN DOWN UP UP UP.
  for (int i = 0; i < 3; ++i) {
    Behaviour failing;
    failing.status = 500;
    mock_.Enqueue("script", failing);
  }
  Start("global: {interval: 1h, failure_threshold: 2, recovery_threshold: 2, history_size: 4}\ntargets:\n" +
            Target("relay", mock_.BaseUrl("script"), "[{name: chat, type: chat, model: gpt-4o}]"),
        0.999);
  struct Step {
    ResultClass result_class;
    double healthy, failures, successes, availability;
  };
  const Step expected[] = {{ResultClass::kServerError, 1, 1, 0, 0.0}, {ResultClass::kServerError, 0, 2, 0, 0.0},
                           {ResultClass::kServerError, 0, 3, 0, 0.0}, {ResultClass::kUp, 0, 0, 1, 0.25},
                           {ResultClass::kUp, 1, 0, 2, 0.5},          {ResultClass::kUp, 1, 0, 3, 0.75}};
  const std::string labels = "{target=\"relay\",probe=\"chat\",model=\"gpt-4o\"}";
  for (const Step& step : expected) {
    EXPECT_EQ(RunNow("relay", "chat").result_class, step.result_class);
    const std::string metrics = RenderText(Collector(store_, {"test", "test"}).Collect());
    SCOPED_TRACE(metrics);
    EXPECT_EQ(testing::SeriesValue(metrics, "llm_probe_healthy" + labels), step.healthy);
    EXPECT_EQ(testing::SeriesValue(metrics, "llm_probe_consecutive_failures" + labels), step.failures);
    EXPECT_EQ(testing::SeriesValue(metrics, "llm_probe_consecutive_successes" + labels), step.successes);
    EXPECT_EQ(testing::SeriesValue(metrics, "llm_probe_availability_ratio" + labels), step.availability);
  }
}

TEST_F(LlmProbingTest, StreamTimeToFirstTokenAndTokenRateMatchTheScript) {
  mock_.SetBehaviour("stream", Streaming(300, 20, 10));
  Start("targets:\n" + Target("relay", mock_.BaseUrl("stream"),
                              "[{name: stream, type: stream, model: gpt-4o, max_tokens: 64, interval: 1h}]"),
        0.999);
  const ProbeResult result = RunNow("relay", "stream");
  ASSERT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  // The first token is sent at 300 ms and the last at 490 ms. A first token can arrive no sooner;
  // bounds that tell it apart from the response headers (~0 s) and from the end of the stream
  // (~0.49 s) without depending on how busy the machine is (timing accuracy is bench/'s job).
  ASSERT_TRUE(result.time_to_first_token_seconds.has_value());
  EXPECT_GE(*result.time_to_first_token_seconds, 0.300);
  EXPECT_LT(*result.time_to_first_token_seconds, 0.400);
  // 20 tokens from the first to the last, one every 10 ms: about 100 per second. Over the whole
  // exchange (0.49 s) it would be about 41.
  ASSERT_TRUE(result.output_tokens_per_second.has_value());
  EXPECT_GT(*result.output_tokens_per_second, 60.0);
  EXPECT_LT(*result.output_tokens_per_second, 200.0);
  ASSERT_TRUE(result.usage.has_value());
  EXPECT_EQ(result.usage->completion, 20);

  const auto request = mock_.Requests("stream").front();
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(request.headers.at("authorization"), "Bearer sk-test-key-0123456789");
  const auto snapshot = Snapshot("relay", "stream");
  EXPECT_EQ(snapshot->time_to_first_token.count, 1u);
}

TEST_F(LlmProbingTest, BrokenStreamsAreBadResponses) {
  Behaviour cut = Streaming(0, 10, 1);
  cut.stream.cut_after_tokens = 3;
  Behaviour error = Streaming(0, 10, 1);
  error.stream.error_after_tokens = 2;
  mock_.SetBehaviour("cut", cut);
  mock_.SetBehaviour("error", error);
  mock_.SetBehaviour("anthropic-error", error);
  Start("targets:\n" +
            Target("cut", mock_.BaseUrl("cut"), "[{name: stream, type: stream, model: gpt-4o, interval: 1h}]") +
            Target("error", mock_.BaseUrl("error"), "[{name: stream, type: stream, model: gpt-4o, interval: 1h}]") +
            Target("anthropic-error", mock_.BaseUrl("anthropic-error"),
                   "[{name: stream, type: stream, model: claude-sonnet-4-5, interval: 1h}]",
                   "    provider: anthropic\n"),
        0.999);
  for (const char* target : {"cut", "error", "anthropic-error"}) {
    const ProbeResult result = RunNow(target, "stream");
    EXPECT_EQ(result.result_class, ResultClass::kBadResponse) << target << ": " << result.detail;
  }
}

TEST_F(LlmProbingTest, AnthropicMessagesAndStreams) {
  Behaviour reply = Streaming(50, 5, 5);
  reply.ratelimit_headers = true;
  mock_.SetBehaviour("claude", reply);
  Start("targets:\n" + Target("claude", mock_.BaseUrl("claude"),
                              "[{name: chat, type: chat, model: claude-sonnet-4-5, interval: 1h},"
                              " {name: stream, type: stream, model: claude-sonnet-4-5, interval: 1h}]",
                              "    provider: anthropic\n"),
        0.999);
  const ProbeResult chat = RunNow("claude", "chat");
  EXPECT_EQ(chat.result_class, ResultClass::kUp) << chat.detail;
  ASSERT_TRUE(chat.usage.has_value());
  EXPECT_GT(chat.usage->prompt, 0);
  const ProbeResult stream = RunNow("claude", "stream");
  EXPECT_EQ(stream.result_class, ResultClass::kUp) << stream.detail;
  ASSERT_TRUE(stream.time_to_first_token_seconds.has_value());
  EXPECT_GE(*stream.time_to_first_token_seconds, 0.050);
  EXPECT_EQ(stream.served_model, "claude-sonnet-4-5");

  const auto request = mock_.Requests("claude").front();
  EXPECT_EQ(request.path, "/v1/messages");
  EXPECT_EQ(request.headers.at("x-api-key"), "sk-test-key-0123456789");
  EXPECT_EQ(request.headers.at("anthropic-version"), "2023-06-01");
  EXPECT_EQ(request.headers.count("authorization"), 0u);
  EXPECT_THAT(stream.rate_limits, ::testing::Contains(::testing::Field(&RateLimit::resource, "requests")));
  for (const RateLimit& limit : stream.rate_limits) {
    ASSERT_TRUE(limit.reset_seconds.has_value()) << limit.resource;
    EXPECT_GE(*limit.reset_seconds, 0);
  }
}

TEST_F(LlmProbingTest, AzureDeploymentUrlsAndApiKeyHeader) {
  mock_.SetBehaviour("azure", Behaviour{});
  Start("targets:\n" + Target("azure", mock_.RootUrl("azure"),
                              "[{name: chat, type: chat, model: my-gpt4o-deployment, interval: 1h},"
                              " {name: embed, type: embeddings, model: my-embedding, interval: 1h},"
                              " {name: models, type: models, interval: 1h}]",
                              "    provider: azure\n    api_version: 2024-10-21\n"),
        0.999);
  for (const char* probe : {"chat", "embed", "models"}) {
    const ProbeResult result = RunNow("azure", probe);
    EXPECT_EQ(result.result_class, ResultClass::kUp) << probe << ": " << result.detail;
  }
  const auto requests = mock_.Requests("azure");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].path, "/openai/deployments/my-gpt4o-deployment/chat/completions");
  EXPECT_EQ(requests[1].path, "/openai/deployments/my-embedding/embeddings");
  EXPECT_EQ(requests[2].path, "/openai/models");
  for (const auto& request : requests) {
    EXPECT_EQ(request.params.at("api-version"), "2024-10-21");
    EXPECT_EQ(request.headers.at("api-key"), "sk-test-key-0123456789");
  }
}

TEST_F(LlmProbingTest, ReasoningProbesSendTheirParameters) {
  mock_.SetBehaviour("reasoning", Behaviour{});
  Start("targets:\n" + Target("o", mock_.BaseUrl("reasoning"),
                              "[{name: chat, type: chat, model: o4-mini, interval: 1h, max_tokens: 200,"
                              " token_param: max_completion_tokens, reasoning_effort: low}]"),
        0.999);
  RunNow("o", "chat");
  const auto body = nlohmann::json::parse(mock_.Requests("reasoning").front().body);
  EXPECT_EQ(body["max_completion_tokens"], 200);
  EXPECT_EQ(body["reasoning_effort"], "low");
  EXPECT_FALSE(body.contains("max_tokens"));
}

TEST_F(LlmProbingTest, ServedModelSnapshotsMatchOtherModelsDoNot) {
  Behaviour dated;
  dated.served_model = "gpt-4o-2024-08-06";
  Behaviour other;
  other.served_model = "gpt-4o-mini";
  mock_.SetBehaviour("dated", dated);
  mock_.SetBehaviour("other", other);
  Start("targets:\n" +
            Target("dated", mock_.BaseUrl("dated"), "[{name: chat, type: chat, model: gpt-4o, interval: 1h}]") +
            Target("other", mock_.BaseUrl("other"), "[{name: chat, type: chat, model: gpt-4o, interval: 1h}]"),
        0.999);
  EXPECT_EQ(RunNow("dated", "chat").result_class, ResultClass::kUp);
  EXPECT_EQ(RunNow("other", "chat").result_class, ResultClass::kModelMismatch);
  EXPECT_EQ(Snapshot("dated", "chat")->served_model, "gpt-4o-2024-08-06");
}

TEST_F(LlmProbingTest, UsageAddsUpToTokensAndCost) {
  Behaviour reply;
  reply.prompt_tokens = 10;
  reply.completion_tokens = 4;
  mock_.SetBehaviour("billed", reply);
  Behaviour no_usage;
  no_usage.omit_usage = true;
  mock_.SetBehaviour("free", no_usage);
  Start("targets:\n" +
            Target("billed", mock_.BaseUrl("billed"), "[{name: chat, type: chat, model: gpt-4o, interval: 1h}]") +
            Target("free", mock_.BaseUrl("free"), "[{name: chat, type: chat, model: gpt-4o, interval: 1h}]") +
            "pricing:\n  gpt-4o: {input: 2.5, output: 10}\n",
        0.999);
  RunNow("billed", "chat");
  RunNow("billed", "chat");
  const auto billed = Snapshot("billed", "chat");
  EXPECT_EQ(billed->tokens.prompt, 20);
  EXPECT_EQ(billed->tokens.completion, 8);
  EXPECT_NEAR(billed->cost_usd, 2 * (10 * 2.5 + 4 * 10) / 1e6, 1e-12);
  const ProbeResult free = RunNow("free", "chat");
  EXPECT_EQ(free.result_class, ResultClass::kUp);
  EXPECT_FALSE(free.usage.has_value()) << "a reply without usage is not a reply with zero usage";
  EXPECT_EQ(Snapshot("free", "chat")->cost_usd, 0);
}

TEST_F(LlmProbingTest, ABudgetStopsBilledProbesAndTheModelsProbeGoesOn) {
  Behaviour reply;
  reply.prompt_tokens = 8;
  reply.completion_tokens = 0;
  mock_.SetBehaviour("budget", reply);
  // 8 prompt tokens at 500 USD per million cost 0.004 USD: the third probe passes 0.01 USD.
  Start("global: {interval: 1s, timeout: 900ms, jitter: 0%}\ntargets:\n" +
            Target("metered", mock_.BaseUrl("budget"),
                   "[{name: chat, type: chat, model: gpt-4o}, {name: models, type: models}]",
                   "    budget: {max_usd_per_day: 0.01}\n") +
            "pricing:\n  gpt-4o: {input: 500, output: 0}\n",
        0.0);
  ASSERT_TRUE(WaitFor([&] { return Snapshot("metered", "chat")->skipped_budget >= 2; }));
  const auto chat = Snapshot("metered", "chat");
  EXPECT_EQ(chat->health.total(), 3u);
  EXPECT_NEAR(chat->cost_usd, 0.012, 1e-9);
  const std::uint64_t models_before = Snapshot("metered", "models")->health.total();
  ASSERT_TRUE(WaitFor([&] { return Snapshot("metered", "models")->health.total() >= models_before + 2; }));
  EXPECT_EQ(Snapshot("metered", "chat")->health.total(), 3u) << "billed probes stay paused";
}

TEST_F(LlmProbingTest, RetryAfterPostponesTheNextRuns) {
  Behaviour limited;
  limited.status = 429;
  limited.error_code = "rate_limit_exceeded";
  limited.headers = {{"Retry-After", "3"}};
  limited.ratelimit_headers = true;
  mock_.SetBehaviour("limited", limited);
  Start("global: {interval: 1s, timeout: 900ms, jitter: 0%}\ntargets:\n" +
            Target("limited", mock_.BaseUrl("limited"), "[{name: chat, type: chat, model: gpt-4o}]"),
        0.0);
  ASSERT_TRUE(WaitFor([&] { return Snapshot("limited", "chat")->skipped_backoff >= 2; }));
  EXPECT_EQ(mock_.RequestCount("limited"), 1) << "no request while backing off";
  const auto snapshot = Snapshot("limited", "chat");
  EXPECT_EQ(snapshot->last_result->result_class, ResultClass::kRateLimited);
  EXPECT_EQ(snapshot->last_result->retry_after_seconds, 3.0);
  EXPECT_THAT(snapshot->rate_limits, ::testing::Contains(::testing::Field(&RateLimit::resource, "requests")));
  for (const RateLimit& limit : snapshot->rate_limits) {
    if (limit.resource == "requests") {
      EXPECT_EQ(limit.remaining, 0.0);
    }
  }
  ASSERT_TRUE(WaitFor([&] { return mock_.RequestCount("limited") >= 2; })) << "probing resumes";
}

TEST_F(LlmProbingTest, FailoverGroupsCountHealthyMembersBestFirst) {
  Behaviour slow;
  slow.delay_ms = 150;
  mock_.SetBehaviour("fast", Behaviour{});
  mock_.SetBehaviour("slow", slow);
  Behaviour down;
  down.status = 503;
  mock_.SetBehaviour("down", down);
  Start("global: {interval: 1h, failure_threshold: 1}\n"
        "groups:\n  - {name: chat, targets: [slow, down, fast]}\n  - {name: lonely, targets: [down]}\n"
        "targets:\n" +
            Target("fast", mock_.BaseUrl("fast"), "[{name: chat, type: chat, model: gpt-4o}]") +
            Target("slow", mock_.BaseUrl("slow"), "[{name: chat, type: chat, model: gpt-4o}]") +
            Target("down", mock_.BaseUrl("down"), "[{name: chat, type: chat, model: gpt-4o}]"),
        0.999);
  for (const char* target : {"fast", "slow", "down"}) RunNow(target, "chat");
  const auto groups = ComputeGroupHealth(store_.Read());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "chat");
  EXPECT_EQ(groups[0].targets, 3);
  EXPECT_EQ(groups[0].healthy_targets, 2);
  EXPECT_EQ(groups[0].healthy_members, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_EQ(groups[1].healthy_targets, 0);
  EXPECT_TRUE(groups[1].healthy_members.empty());
}

TEST_F(LlmProbingTest, TlsCertificateExpiryIsReported) {
  TempDir dir;
  const std::string cert = dir.path() + "/cert.pem";
  const std::string key = dir.path() + "/key.pem";
  std::string output;
  ASSERT_EQ(testing::RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 30 -keyout " +
                             key + " -out " + cert,
                         &output),
            0)
      << output;
  httplib::SSLServer server(cert.c_str(), key.c_str());
  server.Get("/v1/models", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"object":"list","data":[{"id":"gpt-4o","object":"model"}]})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  Start("targets:\n" + Target("tls", "https://127.0.0.1:" + std::to_string(port) + "/v1",
                              "[{name: models, type: models, interval: 1h}]",
                              "    tls: {ca_file: " + cert + "}\n"),
        0.999);
  const ProbeResult result = RunNow("tls", "models");
  server.stop();
  serving.join();
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  ASSERT_TRUE(result.tls_cert_expiry_unix.has_value());
  EXPECT_NEAR(*result.tls_cert_expiry_unix, NowUnix() + 30 * 86400.0, 120);
  EXPECT_EQ(Snapshot("tls", "models")->tls_cert_expiry_unix, result.tls_cert_expiry_unix);
}

// Google's native API through the mock, which speaks it (tools/mock_upstream/README.md) and
// accepts only kGeminiApiKey.
TEST_F(LlmProbingTest, GeminiNativeProbesAreUpAndItsFaultsAreClassified) {
  key_ = mock_upstream::kGeminiApiKey;
  Behaviour normal;
  normal.models = {"gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004"};
  mock_.SetBehaviour("gemini", normal);
  mock_.SetBehaviour("gemini-stream", Streaming(300, 20, 10));
  Behaviour safety;
  safety.body = mock_upstream::BodyKind::kSafetyBlock;
  mock_.SetBehaviour("gemini-safety", safety);
  // The QuotaFailure ids of real/gemini-native.json's per-minute and per-day 429s.
  mock_.SetBehaviour("gemini-quota",
                     std::vector<Behaviour>{{.status = 429, .error_code = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"},
                                            {.status = 429, .error_code = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}});
  const auto target = [&](const std::string& name, const std::string& scenario, const std::string& probes) {
    return Target(name, mock_.RootUrl(scenario) + "/v1beta", probes, "    provider: gemini\n");
  };
  Start("targets:\n" +
            target("gemini", "gemini",
                   "[{name: models, type: models, expect_models: [gemini-2.5-flash, text-embedding-004]},"
                   " {name: chat, type: chat, model: gemini-2.5-flash, max_tokens: 16},"
                   " {name: embed, type: embeddings, model: text-embedding-004}]") +
            target("gemini-stream", "gemini-stream", "[{name: stream, type: stream, model: gemini-2.5-flash, max_tokens: 32}]") +
            target("gemini-safety", "gemini-safety", "[{name: chat, type: chat, model: gemini-2.5-flash}]") +
            target("gemini-quota", "gemini-quota", "[{name: chat, type: chat, model: gemini-2.5-flash}]"),
        0.999);

  for (const char* probe : {"models", "chat", "embed"}) {
    const ProbeResult result = RunNow("gemini", probe);
    EXPECT_EQ(result.result_class, ResultClass::kUp) << probe << ": " << result.detail;
  }
  const auto requests = mock_.Requests("gemini");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].path, "/v1beta/models");
  EXPECT_EQ(requests[1].path, "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(nlohmann::json::parse(requests[1].body)["generationConfig"]["maxOutputTokens"], 16);
  EXPECT_EQ(requests[2].path, "/v1beta/models/text-embedding-004:embedContent");
  for (const auto& request : requests) {
    EXPECT_EQ(request.headers.at("x-goog-api-key"), mock_upstream::kGeminiApiKey);
    EXPECT_EQ(request.params.count("key"), 0u) << "the key never goes in the URL";
  }

  const ProbeResult stream = RunNow("gemini-stream", "stream");
  ASSERT_EQ(stream.result_class, ResultClass::kUp) << stream.detail;
  // The first token is sent 300 ms after the request; the headers come at once, the last token
  // at 490 ms (as StreamTimeToFirstTokenAndTokenRateMatchTheScript).
  ASSERT_TRUE(stream.time_to_first_token_seconds.has_value());
  EXPECT_GE(*stream.time_to_first_token_seconds, 0.300);
  EXPECT_LT(*stream.time_to_first_token_seconds, 0.400);
  EXPECT_EQ(mock_.Requests("gemini-stream").front().params.at("alt"), "sse");

  const ProbeResult safety_block = RunNow("gemini-safety", "chat");
  EXPECT_EQ(safety_block.result_class, ResultClass::kEmptyContent) << safety_block.detail;
  EXPECT_EQ(RunNow("gemini-quota", "chat").result_class, ResultClass::kRateLimited);
  EXPECT_EQ(RunNow("gemini-quota", "chat").result_class, ResultClass::kQuotaExceeded);
}

// models.list comes in pages (nextPageToken → pageToken=); the mock pages with at most
// models_page_size models whatever pageSize asks, as Google may.
TEST_F(LlmProbingTest, GeminiModelListsAreWalkedPageByPage) {
  key_ = mock_upstream::kGeminiApiKey;
  Behaviour paged;
  paged.models = {"gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004", "gemini-2.0-flash", "gemini-2.5-flash-lite"};
  paged.models_page_size = 2;
  mock_.SetBehaviour("pages", paged);
  // The second page of each walk fails with the per-minute 429 of real/gemini-native.json.
  mock_.SetBehaviour("page-fails",
                     std::vector<Behaviour>{paged, {.status = 429, .error_code = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}});
  Behaviour slow = paged;
  slow.models_page_size = 1;
  slow.delay_ms = 300;
  mock_.SetBehaviour("slow-pages", slow);
  Behaviour long_list = paged;
  long_list.models_page_size = 1;
  long_list.models.clear();
  for (int i = 1; i <= 25; ++i) long_list.models.push_back("model-" + std::to_string(i));
  mock_.SetBehaviour("long-list", long_list);
  const auto target = [&](const std::string& scenario, const std::string& probes) {
    return Target(scenario, mock_.RootUrl(scenario) + "/v1beta", probes, "    provider: gemini\n");
  };
  Start("targets:\n" +
            target("pages",
                   "[{name: last-page, type: models, expect_models: [gemini-2.5-flash, gemini-2.5-flash-lite]},"
                   " {name: absent, type: models, expect_models: [gemini-9]}]") +
            target("page-fails", "[{name: models, type: models, expect_models: [gemini-2.5-flash]}]") +
            target("slow-pages", "[{name: models, type: models, timeout: 1s, expect_models: [gemini-2.5-flash-lite]}]") +
            target("long-list", "[{name: models, type: models, expect_models: [model-25]}]"),
        0.999);

  const ProbeResult found = RunNow("pages", "last-page");
  EXPECT_EQ(found.result_class, ResultClass::kUp) << found.detail;
  EXPECT_EQ(found.models_listed, 5);
  auto requests = mock_.Requests("pages");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].params.count("pageToken"), 0u);
  EXPECT_EQ(requests[0].params.at("pageSize"), "1000");
  EXPECT_EQ(requests[1].params.at("pageToken"), "page-2");
  EXPECT_EQ(requests[2].params.at("pageToken"), "page-4");
  for (const auto& request : requests) EXPECT_EQ(request.headers.at("x-goog-api-key"), mock_upstream::kGeminiApiKey);

  const ProbeResult absent = RunNow("pages", "absent");
  EXPECT_EQ(absent.result_class, ResultClass::kModelNotFound);
  EXPECT_EQ(absent.detail, "not listed: gemini-9");  // every page was read
  EXPECT_EQ(mock_.Requests("pages").size(), 6u);

  const ProbeResult failed = RunNow("page-fails", "models");
  EXPECT_EQ(failed.result_class, ResultClass::kRateLimited) << failed.detail;
  EXPECT_EQ(failed.http_status, 429);
  EXPECT_EQ(mock_.Requests("page-fails").size(), 2u);

  // 300 ms a page, five pages, a 1 s timeout: the walk stops at the timeout, not after it.
  const ProbeResult slow_walk = RunNow("slow-pages", "models");
  EXPECT_EQ(slow_walk.result_class, ResultClass::kTimeout) << slow_walk.detail;
  EXPECT_LT(mock_.Requests("slow-pages").size(), 5u);
  EXPECT_LT(slow_walk.duration_seconds, 1.3);

  const ProbeResult capped = RunNow("long-list", "models");
  EXPECT_EQ(capped.result_class, ResultClass::kModelNotFound);
  EXPECT_EQ(capped.detail, "not listed: model-25 (the list goes on past page 20)");
  EXPECT_EQ(capped.models_listed, 20);
  EXPECT_EQ(mock_.Requests("long-list").size(), kMaxListPages);
}

TEST_F(LlmProbingTest, GeminiRefusesAWrongKey) {
  key_ = "AIza-not-the-mock-key";
  Start("targets:\n" + Target("gemini", mock_.RootUrl("gemini") + "/v1beta",
                              "[{name: chat, type: chat, model: gemini-2.5-flash}]", "    provider: gemini\n"),
        0.999);
  const ProbeResult result = RunNow("gemini", "chat");
  EXPECT_EQ(result.result_class, ResultClass::kAuthError) << result.detail;
  EXPECT_THAT(result.detail, ::testing::Not(::testing::HasSubstr(key_)));
}

// OpenAI's Responses API through the mock (POST /v1/responses and its typed stream events).
TEST_F(LlmProbingTest, ResponsesApiProbesAreUpAndItsFaultsAreClassified) {
  mock_.SetBehaviour("responses", Behaviour{});
  mock_.SetBehaviour("responses-stream", Streaming(300, 20, 10));
  mock_.SetBehaviour("responses-faults",
                     std::vector<Behaviour>{{.stream = {.reasoning_tokens = 16}},  // spends max_output_tokens
                                            {.body = mock_upstream::BodyKind::kErrorEnvelope},  // 200 "failed"
                                            {.status = 429}});
  Behaviour failing_stream = Streaming(0, 5, 1);
  failing_stream.stream.error_after_tokens = 2;
  mock_.SetBehaviour("responses-stream-failed", failing_stream);
  const auto target = [&](const std::string& name, const std::string& type) {
    return Target(name, mock_.BaseUrl(name),
                  "[{name: " + type + ", type: " + type + ", api: responses, model: gpt-5-mini, max_tokens: 16}]");
  };
  Start("targets:\n" + target("responses", "chat") + target("responses-stream", "stream") +
            target("responses-faults", "chat") + target("responses-stream-failed", "stream"),
        0.999);

  const ProbeResult chat = RunNow("responses", "chat");
  EXPECT_EQ(chat.result_class, ResultClass::kUp) << chat.detail;
  const auto request = mock_.Requests("responses").front();
  EXPECT_EQ(request.path, "/v1/responses");
  EXPECT_EQ(nlohmann::json::parse(request.body)["max_output_tokens"], 16);

  const ProbeResult stream = RunNow("responses-stream", "stream");
  ASSERT_EQ(stream.result_class, ResultClass::kUp) << stream.detail;
  ASSERT_TRUE(stream.time_to_first_token_seconds.has_value());
  EXPECT_GE(*stream.time_to_first_token_seconds, 0.300);
  EXPECT_LT(*stream.time_to_first_token_seconds, 0.400);
  ASSERT_TRUE(stream.usage.has_value());
  EXPECT_EQ(stream.usage->completion, 20);

  EXPECT_EQ(RunNow("responses-faults", "chat").result_class, ResultClass::kEmptyContent);
  EXPECT_EQ(RunNow("responses-faults", "chat").result_class, ResultClass::kBadResponse);
  EXPECT_EQ(RunNow("responses-faults", "chat").result_class, ResultClass::kRateLimited);
  EXPECT_EQ(RunNow("responses-stream-failed", "stream").result_class, ResultClass::kBadResponse);
}

// Bedrock's Converse API through the mock, which re-signs every request with the secret it knows
// and refuses a signature that does not match (tools/mock_upstream/README.md).
TEST_F(LlmProbingTest, BedrockProbesAreSignedEachRunAndItsFaultsAreClassified) {
  env_ = {{"AWS_ACCESS_KEY_ID", mock_upstream::kAwsAccessKeyId},
          {"AWS_SECRET_ACCESS_KEY", mock_upstream::kAwsSecretAccessKey},
          {"WRONG_SECRET", "not/the/mock/secret/access/key/0000000000"}};
  mock_.SetBehaviour("bedrock-stream", Streaming(300, 20, 10));
  mock_.SetBehaviour("bedrock-throttled", Behaviour{.status = 429});
  Behaviour exception = Streaming(0, 5, 1);
  exception.stream.error_after_tokens = 2;
  mock_.SetBehaviour("bedrock-exception", exception);
  Behaviour damaged = Streaming(0, 5, 1);
  damaged.stream.damaged_crc_after_tokens = 2;
  mock_.SetBehaviour("bedrock-damaged", damaged);
  const auto target = [&](const std::string& name, const std::string& type, const std::string& secret_env) {
    return "  - name: " + name + "\n    provider: bedrock\n    base_url: " + mock_.RootUrl(name) +
           "\n    aws: {region: eu-west-3, access_key_id_env: AWS_ACCESS_KEY_ID, secret_access_key_env: " + secret_env +
           "}\n    probes: [{name: " + type + ", type: " + type +
           ", model: \"anthropic.claude-3-5-haiku-20241022-v1:0\", max_tokens: 16}]\n";
  };
  Start("targets:\n" + target("bedrock", "chat", "AWS_SECRET_ACCESS_KEY") +
            target("bedrock-stream", "stream", "AWS_SECRET_ACCESS_KEY") +
            target("bedrock-wrong-secret", "chat", "WRONG_SECRET") +
            target("bedrock-throttled", "chat", "AWS_SECRET_ACCESS_KEY") +
            target("bedrock-exception", "stream", "AWS_SECRET_ACCESS_KEY") +
            target("bedrock-damaged", "stream", "AWS_SECRET_ACCESS_KEY"),
        0.999);

  const ProbeResult chat = RunNow("bedrock", "chat");
  EXPECT_EQ(chat.result_class, ResultClass::kUp) << chat.detail;
  const ProbeResult again = RunNow("bedrock", "chat");
  EXPECT_EQ(again.result_class, ResultClass::kUp) << again.detail;
  const auto requests = mock_.Requests("bedrock");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[0].path, ::testing::StartsWith("/model/anthropic.claude-3-5-haiku-20241022-v1"));
  EXPECT_THAT(requests[0].path, ::testing::EndsWith("/converse"));
  EXPECT_NE(requests[0].headers.at("x-amz-date"), "");
  EXPECT_EQ(requests[0].headers.count("x-amz-security-token"), 0u);  // no session token configured
  EXPECT_THAT(requests[0].headers.at("authorization"), ::testing::HasSubstr("/eu-west-3/bedrock/aws4_request"));
  EXPECT_EQ(nlohmann::json::parse(requests[0].body)["inferenceConfig"]["maxTokens"], 16);

  const ProbeResult stream = RunNow("bedrock-stream", "stream");
  ASSERT_EQ(stream.result_class, ResultClass::kUp) << stream.detail;
  ASSERT_TRUE(stream.time_to_first_token_seconds.has_value());
  EXPECT_GE(*stream.time_to_first_token_seconds, 0.300);
  EXPECT_LT(*stream.time_to_first_token_seconds, 0.400);

  const ProbeResult wrong_secret = RunNow("bedrock-wrong-secret", "chat");
  EXPECT_EQ(wrong_secret.result_class, ResultClass::kAuthError) << wrong_secret.detail;
  EXPECT_THAT(wrong_secret.detail, ::testing::HasSubstr("InvalidSignatureException"));
  EXPECT_EQ(RunNow("bedrock-throttled", "chat").result_class, ResultClass::kRateLimited);
  const ProbeResult exception_frame = RunNow("bedrock-exception", "stream");
  EXPECT_EQ(exception_frame.result_class, ResultClass::kBadResponse);
  EXPECT_THAT(exception_frame.detail, ::testing::HasSubstr("exception frame"));
  const ProbeResult damaged_crc = RunNow("bedrock-damaged", "stream");
  EXPECT_EQ(damaged_crc.result_class, ResultClass::kBadResponse);
  EXPECT_THAT(damaged_crc.detail, ::testing::HasSubstr("damaged"));
}

// tools and json probes through the mock in every flavour: a correct call or JSON output is UP;
// a missing call (or the JSON mode ignored), arguments or output that do not parse, and a missing
// required key are CONTENT_MISMATCH (tools/mock_upstream/README.md: `structured`).
TEST_F(LlmProbingTest, ToolsAndJsonProbesAreUpInEveryFlavourAndTheirFaultsAreMismatches) {
  env_ = {{"GEMINI_KEY", mock_upstream::kGeminiApiKey},
          {"AWS_ACCESS_KEY_ID", mock_upstream::kAwsAccessKeyId},
          {"AWS_SECRET_ACCESS_KEY", mock_upstream::kAwsSecretAccessKey}};
  struct Flavour {
    std::string name;
    std::string target_lines;  // provider, base URL and key, for the scenario "<name>-<type>"
    std::string model;
    std::string api;
  };
  const auto lines = [&](const std::string& provider, const std::string& base_url, const std::string& key) {
    return "    provider: " + provider + "\n    base_url: " + base_url + "\n" + key;
  };
  const std::string bearer = "    api_key_env: TEST_KEY\n";
  const std::string aws = "    aws: {region: us-east-1, access_key_id_env: AWS_ACCESS_KEY_ID, secret_access_key_env: AWS_SECRET_ACCESS_KEY}\n";
  const std::vector<std::function<Flavour(const std::string&)>> flavours = {
      [&](const std::string& s) { return Flavour{"openai", lines("openai", mock_.BaseUrl(s), bearer), "gpt-4o", ""}; },
      [&](const std::string& s) { return Flavour{"responses", lines("openai", mock_.BaseUrl(s), bearer), "gpt-4o", "responses"}; },
      [&](const std::string& s) { return Flavour{"azure", lines("azure", mock_.RootUrl(s), bearer), "gpt-4o", ""}; },
      [&](const std::string& s) { return Flavour{"anthropic", lines("anthropic", mock_.BaseUrl(s), bearer), "claude-sonnet-4-5", ""}; },
      [&](const std::string& s) {
        return Flavour{"gemini", lines("gemini", mock_.RootUrl(s) + "/v1beta", "    api_key_env: GEMINI_KEY\n"), "gemini-2.5-flash", ""};
      },
      [&](const std::string& s) {
        return Flavour{"bedrock", lines("bedrock", mock_.RootUrl(s), aws), "anthropic.claude-3-5-haiku-20241022-v1:0", ""};
      },
  };
  // Each scenario answers: correct, then each fault once.
  const std::vector<Behaviour> cycle = {{}, {.structured = "missing"}, {.structured = "invalid_json"}, {.structured = "missing_key"}};
  std::string yaml = "targets:\n";
  std::vector<std::pair<std::string, std::string>> probes;  // target, type
  for (const auto& make : flavours) {
    for (const std::string type : {"tools", "json"}) {
      const std::string name = make("").name + "-" + type;
      const Flavour flavour = make(name);
      mock_.SetBehaviour(name, cycle);
      yaml += "  - name: " + name + "\n" + flavour.target_lines + "    probes: [{name: " + type + ", type: " + type +
              ", model: \"" + flavour.model + "\"" + (flavour.api.empty() ? "" : ", api: " + flavour.api) + "}]\n";
      probes.emplace_back(name, type);
    }
  }
  Start(yaml, 0.999);

  for (const auto& [target, type] : probes) {
    SCOPED_TRACE(target);
    const ProbeResult up = RunNow(target, type);
    EXPECT_EQ(up.result_class, ResultClass::kUp) << up.detail;
    for (const char* fault : {"missing", "invalid_json", "missing_key"}) {
      const ProbeResult result = RunNow(target, type);
      EXPECT_EQ(result.result_class, ResultClass::kContentMismatch) << fault << ": " << result.detail;
    }
    const auto requests = mock_.Requests(target);
    ASSERT_EQ(requests.size(), 4u);
    const nlohmann::json body = nlohmann::json::parse(requests[0].body);
    // Each flavour's way of forcing the call or asking for JSON.
    const bool forced_tool = body.contains("tool_choice") || body.contains("toolConfig");
    const bool json_mode = body.contains("response_format") || body.contains("text") ||
                           (body.contains("generationConfig") && body["generationConfig"].contains("responseSchema"));
    const bool through_tool = target == "anthropic-json" || target == "bedrock-json";
    EXPECT_EQ(forced_tool, type == "tools" || through_tool) << body.dump();
    EXPECT_EQ(json_mode, type == "json" && !through_tool) << body.dump();
  }
  // The fault details name what broke.
  mock_.SetBehaviour("openai-tools", Behaviour{.structured = "missing_key"});
  EXPECT_EQ(RunNow("openai-tools", "tools").detail, "the arguments of get_weather: the required key \"city\" is missing");
  mock_.SetBehaviour("gemini-json", Behaviour{.structured = "invalid_json"});
  EXPECT_EQ(RunNow("gemini-json", "json").detail, "the JSON output: not valid JSON");
  mock_.SetBehaviour("bedrock-tools", Behaviour{.structured = "invalid_json"});
  EXPECT_EQ(RunNow("bedrock-tools", "tools").detail, "the arguments of get_weather: not a JSON object");
  // Errors are read as for chat probes.
  mock_.SetBehaviour("anthropic-tools", Behaviour{.status = 429});
  EXPECT_EQ(RunNow("anthropic-tools", "tools").result_class, ResultClass::kRateLimited);
  // Tokens and cost are counted as for chat probes.
  const auto snapshot = Snapshot("openai-json", "json");
  ASSERT_NE(snapshot, nullptr);
  EXPECT_GT(snapshot->tokens.completion, 0);
}

}  // namespace
}  // namespace llm_probe
