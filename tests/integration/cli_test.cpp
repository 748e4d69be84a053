// The built binary as a user runs it: flags, --config.check, exit codes, signals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "mock_upstream.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using testing::Process;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;

const std::string& kBinary = testing::kExporterBinary;

TEST(CliTest, VersionAndHelp) {
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --version", &output), 0);
  EXPECT_THAT(output, HasSubstr("llm_probe_exporter version"));
  EXPECT_EQ(RunCommand(kBinary + " --help", &output), 0);
  EXPECT_THAT(output, HasSubstr("--config.file"));
  EXPECT_EQ(RunCommand(kBinary + " --no-such-flag", &output), 2);
  EXPECT_THAT(output, HasSubstr("unknown flag --no-such-flag"));
}

const std::string kDemoConfig = std::string(LLM_PROBE_SOURCE_DIR) + "/deploy/demo/config.yaml";
// A shell prefix exporting the mock's demo credentials, as scripts/demo.sh does.
const std::string kWithDemoCredentials =
    std::string("set -a && . ") + LLM_PROBE_SOURCE_DIR + "/deploy/demo/mock-credentials.env && set +a && ";

TEST(CliTest, ConfigCheckAcceptsTheBundledDemoConfig) {
  std::string output;
  EXPECT_EQ(RunCommand(kWithDemoCredentials + kBinary + " --config.check --config.file " + kDemoConfig, &output), 0)
      << output;
  EXPECT_THAT(output, HasSubstr("OK"));
  // Without them, the first key the demo reads from the environment is named.
  EXPECT_EQ(RunCommand("env -u MOCK_GEMINI_API_KEY " + kBinary + " --config.check --config.file " + kDemoConfig, &output), 1);
  EXPECT_THAT(output, HasSubstr("MOCK_GEMINI_API_KEY"));
}

TEST(CliTest, EveryExampleConfigPassesConfigCheck) {
  const std::string keys =
      "RELAY_API_KEY=sk-relay OPENAI_API_KEY=sk-openai ANTHROPIC_API_KEY=sk-ant-key "
      "AZURE_OPENAI_API_KEY=azure-key GEMINI_API_KEY=gemini-key AWS_ACCESS_KEY_ID=AKIDEXAMPLE "
      "AWS_SECRET_ACCESS_KEY=aws-example-secret ";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(LLM_PROBE_SOURCE_DIR) + "/deploy/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    std::string output;
    EXPECT_EQ(RunCommand("env " + keys + kBinary + " --config.check --config.file " + entry.path().string(), &output), 0)
        << output;
    ++checked;
  }
  EXPECT_GE(checked, 10) << "relay, OpenAI (Chat Completions and Responses), Anthropic, Azure, Gemini (OpenAI endpoint and native), Bedrock, vLLM/Ollama, tools and json";
}

TEST(CliTest, ABadConfigFailsWithFileLineAndColumn) {
  TempDir dir;
  const std::string file = dir.Write("bad.yaml", "global:\n  interval: 30s\n  intervall: 10s\ntargets: []\n");
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --config.check --config.file " + file, &output), 1);
  EXPECT_THAT(output, HasSubstr(file + ":3:3:"));
  EXPECT_THAT(output, HasSubstr("intervall"));
  // The same config stops a normal start too, before anything listens.
  EXPECT_EQ(RunCommand(kBinary + " --web.listen-address 127.0.0.1:0 --config.file " + file, &output), 1);
  EXPECT_THAT(output, HasSubstr(file + ":3:3:"));
}

TEST(CliTest, AMissingKeyVariableIsNamed) {
  TempDir dir;
  const std::string file = dir.Write("config.yaml",
      "targets:\n  - name: relay\n    base_url: http://127.0.0.1:1/v1\n    api_key_env: LLM_PROBE_CLI_TEST_UNSET_KEY\n"
      "    probes: [{name: models, type: models}]\n");
  std::string output;
  EXPECT_EQ(RunCommand("env -u LLM_PROBE_CLI_TEST_UNSET_KEY " + kBinary + " --config.check --config.file " + file, &output), 1);
  EXPECT_THAT(output, HasSubstr("LLM_PROBE_CLI_TEST_UNSET_KEY"));
  EXPECT_THAT(output, HasSubstr(file + ":4:"));
}

TEST(CliTest, APortAlreadyTakenIsOneClearErrorAndExitCode3) {
  mock_upstream::MockUpstream occupant;
  const int port = occupant.Start();
  TempDir dir;
  const std::string file = dir.Write("config.yaml",
      "targets:\n  - name: relay\n    base_url: http://127.0.0.1:1/v1\n    probes: [{name: models, type: models}]\n");
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --config.file " + file + " --web.listen-address 127.0.0.1:" + std::to_string(port), &output), 3);
  EXPECT_THAT(output, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
}

// Two real exporters on one port: the second must not share the first's socket (SO_REUSEPORT
// would let it, serving its own config, and without the first one's TLS and basic auth).
TEST(CliTest, ASecondExporterOnTheSamePortExitsWithCode3) {
  TempDir dir;
  const std::string file = dir.Write("config.yaml",
      "global: {interval: 1h}\ntargets:\n  - name: relay\n    base_url: http://127.0.0.1:1/v1\n"
      "    probes: [{name: models, type: models}]\n");
  const std::string address = "127.0.0.1:" + std::to_string(testing::ClosedPort());
  Process first({"--config.file", file, "--web.listen-address", address}, dir.path() + "/first.log");
  ASSERT_TRUE(testing::WaitFor([&] {
    return RunCommand(kBinary + " --web.health-check --web.listen-address " + address) == 0;
  })) << ReadFile(dir.path() + "/first.log");
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --config.file " + file + " --web.listen-address " + address, &output), 3);
  EXPECT_EQ(output, "llm_probe_exporter: cannot listen on " + address +
                        ": address already in use, by another exporter or program\n");
  EXPECT_EQ(RunCommand(kBinary + " --web.health-check --web.listen-address " + address), 0) << "the first one serves on";
}

TEST(CliTest, SigtermLetsTheInFlightProbeFinishAndExitsZero) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  mock_upstream::Behaviour slow;
  slow.delay_ms = 1500;
  mock.SetBehaviour("slow", slow);
  TempDir dir;
  const std::string file = dir.Write("config.yaml",
      "global: {interval: 4s, timeout: 3s, jitter: 0%}\ntargets:\n  - name: relay\n    base_url: " +
      mock.BaseUrl("slow") + "\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n");
  const std::string log = dir.path() + "/log.txt";
  Process exporter({"--config.file", file, "--web.listen-address", "127.0.0.1:0", "--log.level", "debug"}, log);
  ASSERT_TRUE(testing::WaitFor([&] { return mock.RequestCount("slow") >= 1; })) << ReadFile(log);
  exporter.Signal(SIGTERM);
  EXPECT_EQ(exporter.Wait(), 0) << ReadFile(log);
  const std::string logs = ReadFile(log);
  EXPECT_THAT(logs, HasSubstr("shutting down"));
  EXPECT_THAT(logs, HasSubstr("probe finished")) << "the probe in flight at SIGTERM completes";
}

TEST(CliTest, HealthCheckFlagAsksTheRunningExporter) {
  TempDir dir;
  const std::string file = dir.Write("config.yaml",
      "global: {interval: 1h}\ntargets:\n  - name: relay\n    base_url: http://127.0.0.1:1/v1\n"
      "    probes: [{name: models, type: models}]\n");
  const std::string port = std::to_string(testing::ClosedPort());
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --web.health-check --web.listen-address :" + port, &output), 1);
  EXPECT_THAT(output, HasSubstr("no answer"));
  Process exporter({"--config.file", file, "--web.listen-address", "127.0.0.1:" + port}, dir.path() + "/log.txt");
  EXPECT_TRUE(testing::WaitFor([&] {
    return RunCommand(kBinary + " --web.health-check --web.listen-address :" + port) == 0;
  }));
}

TEST(CliTest, SighupReloadsAndABadFileKeepsTheRunningConfig) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  TempDir dir;
  auto config = [&](const std::string& probe) {
    return "global: {interval: 1h}\ntargets:\n  - name: relay\n    base_url: " + mock.BaseUrl("ok") +
           "\n    probes: [{name: " + probe + ", type: models}]\n";
  };
  const std::string file = dir.Write("config.yaml", config("first"));
  const std::string log = dir.path() + "/log.txt";
  const int port = testing::ClosedPort();
  Process exporter({"--config.file", file, "--web.listen-address", "127.0.0.1:" + std::to_string(port)}, log);
  auto metrics = [&] { return testing::Get(port, "/metrics"); };
  ASSERT_TRUE(testing::WaitFor([&] { return metrics().find("probe=\"first\"") != std::string::npos; })) << ReadFile(log);

  dir.Write("config.yaml", config("second"));
  exporter.Signal(SIGHUP);
  ASSERT_TRUE(testing::WaitFor([&] { return metrics().find("probe=\"second\"") != std::string::npos; })) << ReadFile(log);
  EXPECT_EQ(metrics().find("probe=\"first\""), std::string::npos);

  dir.Write("config.yaml", "targets: [\n");
  exporter.Signal(SIGHUP);
  ASSERT_TRUE(testing::WaitFor([&] {
    return testing::SeriesValue(metrics(), "llm_probe_exporter_config_last_reload_successful") == 0.0;
  })) << ReadFile(log);
  EXPECT_NE(metrics().find("probe=\"second\""), std::string::npos) << "the running config stays";
  EXPECT_THAT(ReadFile(log), HasSubstr("reload failed"));
  exporter.Signal(SIGTERM);
  EXPECT_EQ(exporter.Wait(), 0);
}

// Three running exporters on one config: every target's series are on exactly one of them, and
// the probe counts add up to the config's (what users sum across replicas).
TEST(CliTest, ShardFlagsPartitionTheTargetsAcrossRunningExporters) {
  TempDir dir;
  std::string yaml = "global: {interval: 1h}\ntargets:\n";
  constexpr int kTargets = 30;
  for (int t = 0; t < kTargets; ++t) {
    yaml += "  - name: t" + std::to_string(t) + "\n    base_url: http://127.0.0.1:1/v1\n" +
            "    probes: [{name: models, type: models}]\n";
  }
  yaml += "groups:\n  - name: pair\n    targets: [t3, t17]\n";
  const std::string file = dir.Write("config.yaml", yaml);
  constexpr int kShards = 3;
  std::vector<int> ports;
  std::vector<std::unique_ptr<Process>> shards;
  for (int k = 0; k < kShards; ++k) {
    ports.push_back(testing::ClosedPort());
    // The StatefulSet form of the index: the pod's own name.
    shards.push_back(std::make_unique<Process>(
        std::vector<std::string>{"--config.file", file, "--web.listen-address", "127.0.0.1:" + std::to_string(ports[k]),
                                 "--shard.count=3", "--shard.index=llm-probe-exporter-" + std::to_string(k)},
        dir.path() + "/log" + std::to_string(k) + ".txt"));
  }
  std::map<std::string, int> shard_of;
  double probes_configured = 0;
  std::set<int> shards_with_group;
  for (int k = 0; k < kShards; ++k) {
    std::string text;
    ASSERT_TRUE(testing::WaitFor([&] {
      text = testing::Get(ports[k], "/metrics");
      return text.find("llm_probe_exporter_probes_configured") != std::string::npos;
    })) << ReadFile(dir.path() + "/log" + std::to_string(k) + ".txt");
    probes_configured += testing::SeriesValue(text, "llm_probe_exporter_probes_configured").value_or(-1000);
    for (int t = 0; t < kTargets; ++t) {
      const std::string target = "t" + std::to_string(t);
      if (text.find("target=\"" + target + "\"") == std::string::npos) {
        continue;
      }
      EXPECT_FALSE(shard_of.count(target)) << target << " is on shards " << shard_of[target] << " and " << k;
      shard_of[target] = k;
    }
    if (text.find("llm_probe_group_targets{group=\"pair\"}") != std::string::npos) shards_with_group.insert(k);
  }
  EXPECT_EQ(shard_of.size(), static_cast<std::size_t>(kTargets)) << "every target on some shard";
  EXPECT_EQ(probes_configured, kTargets);
  EXPECT_EQ(shards_with_group.size(), 1u);
  EXPECT_EQ(shard_of["t3"], shard_of["t17"]) << "a failover group is never split";
  std::set<int> used;
  for (const auto& [target, k] : shard_of) used.insert(k);
  EXPECT_EQ(used.size(), static_cast<std::size_t>(kShards)) << "30 targets over 3 shards leave none empty";
}

TEST(CliTest, BadShardFlagsAreClearErrors) {
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --config.check --shard.count=3 --shard.index=3", &output), 2);
  EXPECT_THAT(output, HasSubstr("--shard.index must be a number"));
  EXPECT_EQ(RunCommand(kBinary + " --config.check --shard.count=0", &output), 2);
  EXPECT_THAT(output, HasSubstr("--shard.count must be a whole number"));
  EXPECT_EQ(RunCommand(kBinary + " --config.check --shard.count=pod-2", &output), 2);
  EXPECT_EQ(RunCommand(kBinary + " --config.check --shard.count=2 --shard.index=pod", &output), 2);
  EXPECT_EQ(RunCommand(kWithDemoCredentials + kBinary + " --config.check --shard.count=2 --shard.index=web-1 --config.file " +
                           kDemoConfig, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("shard 1 of 2"));
}

}  // namespace
}  // namespace llm_probe
