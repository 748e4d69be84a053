// Bad configs at reload (issue 8): every fixture of tests/testdata/config/bad, loaded by a
// running exporter, is refused with its message and the running config stays; text that is not
// YAML, empty or binary gets a clear message. (10,000 probes: huge_config_test.cpp.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "faults_support.h"
#include "llm_probe/exporter.h"
#include "mock_upstream.h"

namespace llm_probe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::Get;
using testing::SeriesValue;
using testing::TempDir;
using testing::WaitFor;

const fs::path kConfigTestdata = fs::path(LLM_PROBE_TESTDATA_DIR) / "config";

// The environment the fixtures are written for (tests/unit/config/config_test.cpp).
std::optional<std::string> FixtureEnvironment(const std::string& name) {
  static const std::map<std::string, std::string> variables = {
      {"HOLYSHEEP_API_KEY", "sk-hs-fixture-secret-1"}, {"OPENAI_API_KEY", "sk-fixture-secret-2"},
      {"TEAM", "sre"}, {"EMPTY_KEY", ""}, {"SPACED_KEY", "sk-hs-spaced fixture-secret-3"},
      {"AWS_ACCESS_KEY_ID", "AKIDFIXTURE0001"}, {"AWS_SECRET_ACCESS_KEY", "fixture/secret/access/key/0000000000001"}};
  const auto found = variables.find(name);
  if (found == variables.end()) return std::nullopt;
  return found->second;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// "# expect: LINE:COL: substring" on the fixture's first line (as config_test reads it):
// the error names the file at LINE:COL and contains the substring.
struct Expectation {
  std::string position;
  std::string message_part;
};
Expectation ExpectedMessage(const std::string& fixture) {
  const std::string marker = "# expect: ";
  if (fixture.rfind(marker, 0) != 0) return {};
  const std::string line = fixture.substr(marker.size(), fixture.find('\n') - marker.size());
  const auto split = line.find(": ");
  if (split == std::string::npos) return {};
  return {line.substr(0, split), line.substr(split + 2)};
}

class BadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mock_.Start();
    // The fixtures name key files as ../keys/...: the config sits in <tmp>/bad/ beside a copy.
    fs::copy(kConfigTestdata / "keys", fs::path(dir_.path()) / "keys");
    fs::create_directories(fs::path(dir_.path()) / "bad");
    config_path_ = dir_.path() + "/bad/config.yaml";
  }
  void TearDown() override {
    if (exporter_) exporter_->Stop();
    mock_.Stop();
  }

  void WriteConfig(const std::string& bytes) { std::ofstream(config_path_, std::ios::binary) << bytes; }

  std::string GoodConfig() {
    return "global: {interval: 1h}\ntargets:\n  - name: running\n    base_url: " + mock_.BaseUrl("up") +
           "\n    probes: [{name: models, type: models}]\n";
  }

  void StartExporter() {
    WriteConfig(GoodConfig());
    ExporterOptions options;
    options.config_file = config_path_;
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    options.env = FixtureEnvironment;
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
  }

  bool RunningConfigServes() {
    const std::string metrics = Get(exporter_->port(), "/metrics");
    return metrics.find("target=\"running\"") != std::string::npos &&
           SeriesValue(metrics, "llm_probe_exporter_probes_configured") == 1.0;
  }

  mock_upstream::MockUpstream mock_;
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(BadConfigTest, EveryBadFixtureIsRefusedAtReloadAndTheRunningConfigStays) {
  StartExporter();
  ASSERT_TRUE(RunningConfigServes());
  int fixtures = 0;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(kConfigTestdata / "bad")) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    if (path.extension() != ".yaml") continue;
    ++fixtures;
    const std::string fixture = ReadBytes(path);
    WriteConfig(fixture);
    const ReloadOutcome outcome = exporter_->Reload();
    EXPECT_EQ(outcome.kind, ReloadOutcome::kFailed) << path.filename();
    const std::string& error = outcome.error;
    EXPECT_THAT(error, StartsWith(config_path_)) << path.filename();
    const Expectation expected = ExpectedMessage(fixture);
    if (!expected.position.empty()) {
      EXPECT_THAT(error, HasSubstr("config.yaml:" + expected.position + ": ")) << path.filename();
      EXPECT_THAT(error, HasSubstr(expected.message_part)) << path.filename();
    }
    EXPECT_TRUE(RunningConfigServes()) << path.filename();
    EXPECT_EQ(SeriesValue(Get(exporter_->port(), "/metrics"),
                          "llm_probe_exporter_config_last_reload_successful"),
              0.0)
        << path.filename();
  }
  EXPECT_GE(fixtures, 70);

  // A good file again: the reload succeeds and the gauge says so.
  WriteConfig(GoodConfig() + "# changed\n");
  EXPECT_EQ(exporter_->Reload().kind, ReloadOutcome::kReloaded);
  EXPECT_EQ(SeriesValue(Get(exporter_->port(), "/metrics"), "llm_probe_exporter_config_last_reload_successful"), 1.0);
}

// Not YAML, empty, binary, a directory, a missing file, a huge single line: one clear message
// each, naming the file, and never anything but a ConfigError.
TEST_F(BadConfigTest, TextThatIsNotAConfigGetsAClearMessage) {
  StartExporter();
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>((i * 7919) & 0xFF));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not yaml", "targets: [unclosed\n  - {name: x\n"},
      {"empty", ""},
      {"only a comment", "# nothing here\n"},
      {"binary", binary},
      {"NUL bytes", std::string(64, '\0')},
      {"ELF header", std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16)},
      {"a JSON array", "[1, 2, 3]\n"},
      {"a huge line", std::string(4 << 20, 'a') + "\n"},
      {"deep nesting", std::string(100000, '[') + std::string(100000, ']')},
      {"deep mapping nesting", [] {
         std::string yaml;
         for (int i = 0; i < 10000; ++i) yaml += std::string(static_cast<std::size_t>(i % 200), ' ') + "a:\n";
         return yaml;
       }()},
      // Refused at load since probes match with the breadth-first regex executor (it was a
      // stack overflow on long replies; see docs/reliability.md).
      {"a back-reference", "targets:\n  - name: x\n    base_url: http://127.0.0.1:1/v1\n    probes:\n"
                           "      - {name: c, type: chat, model: m, expect_content: \"(a)\\\\1\"}\n"},
      {"an alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                        "targets: *f\n"},
  };
  for (const auto& [name, bytes] : cases) {
    WriteConfig(bytes);
    const ReloadOutcome outcome = exporter_->Reload();
    EXPECT_EQ(outcome.kind, ReloadOutcome::kFailed) << name;
    const std::string& error = outcome.error;
    std::printf("BADCONFIG %-22s -> %s\n", name.c_str(), error.substr(0, 160).c_str());
    EXPECT_THAT(error, StartsWith(config_path_)) << name;
    EXPECT_LT(error.size(), 1024u) << name;
    EXPECT_TRUE(RunningConfigServes()) << name;
  }
  fs::remove(config_path_);
  EXPECT_THAT(exporter_->Reload().error, HasSubstr("cannot read config file"));
  EXPECT_TRUE(RunningConfigServes());
}

}  // namespace
}  // namespace llm_probe
