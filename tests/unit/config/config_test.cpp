#include "llm_probe/config.h"
#include "llm_probe/provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace llm_probe {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

const fs::path kConfigTestdata = fs::path(LLM_PROBE_TESTDATA_DIR) / "config";

using Environment = std::map<std::string, std::string>;

EnvLookup FakeEnvironment(Environment variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

// The environment every fixture under tests/testdata/config is loaded with; the fixtures rely on
// exactly these variables, and on every other one being unset (e.g. NOT_SET_KEY, GATEWAY_TOKEN).
const Environment kFixtureEnvironment = {
    {"HOLYSHEEP_API_KEY", "sk-hs-fixture-secret-1"},
    {"OPENAI_API_KEY", "sk-fixture-secret-2"},
    {"TEAM", "sre"},                                  // a header value that is no secret
    {"EMPTY_KEY", ""},                                // set, but empty
    {"SPACED_KEY", "sk-hs-spaced fixture-secret-3"},  // a damaged key
    {"AWS_ACCESS_KEY_ID", "AKIDFIXTURE0001"},
    {"AWS_SECRET_ACCESS_KEY", "fixture/secret/access/key/0000000000001"},
};
// Also a secret: the content of keys/anthropic.key.
constexpr std::string_view kAnthropicFileKey = "sk-ant-fixture-file-key";

std::string ReadBytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

std::vector<fs::path> YamlFilesIn(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The message a ParseConfig call throws, or a failure if it does not throw.
std::string ErrorOf(std::string_view yaml, const Environment& environment = kFixtureEnvironment) {
  try {
    ParseConfig(yaml, "test.yaml", FakeEnvironment(environment));
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no ConfigError for:\n" << yaml;
  return {};
}

// A directory under the system temp dir, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("config_test_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

  fs::path Write(const fs::path& relative, std::string_view content) const {
    const fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------------------------
// Durations

TEST(ParseDurationTest, AcceptsPrometheusDurations) {
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("30s"), seconds(30));
  EXPECT_EQ(ParseDuration("1m30s"), seconds(90));
  EXPECT_EQ(ParseDuration("2h"), std::chrono::hours(2));
  EXPECT_EQ(ParseDuration("1d"), std::chrono::hours(24));
  EXPECT_EQ(ParseDuration("1w"), std::chrono::hours(24 * 7));
  EXPECT_EQ(ParseDuration("1y"), std::chrono::hours(24 * 365));
  EXPECT_EQ(ParseDuration("1h2m3s4ms"), milliseconds(3723004));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(ParseDuration("90s"), seconds(90));  // amounts need not be normalised
}

TEST(ParseDurationTest, RejectsMalformedDurations) {
  for (const char* text : {"", "10", "-5s", "1.5s", "5sec", "s", "ms", "30s1m", "1s1s", "1m 30s",
                           " 30s", "30S", "1ms1s", "99999999999999999999s", "9999999999999y"}) {
    EXPECT_EQ(ParseDuration(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(FormatDurationTest, WritesTheShortestForm) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(std::chrono::hours(24 * 8)), "1w1d");
  EXPECT_EQ(FormatDuration(milliseconds(3723004)), "1h2m3s4ms");
  EXPECT_EQ(FormatDuration(milliseconds(-1500)), "-1s500ms");  // e.g. a schedule running early
}

TEST(FormatDurationTest, RoundTripsThroughParseDuration) {
  for (const char* text : {"500ms", "30s", "1m30s", "2h", "1d", "1y2w3d4h5m6s7ms"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(text)), text);
  }
}

// ---------------------------------------------------------------------------------------------
// Small public helpers

TEST(ConfigNamesTest, NamesAndBilling) {
  EXPECT_EQ(FindProvider("openai"), &ProviderOf(TargetConfig{}));  // the default
  EXPECT_EQ(FindProvider("anthropic")->name, "anthropic");
  EXPECT_EQ(FindProvider("azure")->name, "azure");
  EXPECT_EQ(FindProvider("Azure"), nullptr);
  EXPECT_EQ(ProbeTypeName(ProbeType::kModels), "models");
  EXPECT_EQ(ProbeTypeName(ProbeType::kChat), "chat");
  EXPECT_EQ(ProbeTypeName(ProbeType::kStream), "stream");
  EXPECT_EQ(ProbeTypeName(ProbeType::kEmbeddings), "embeddings");
  EXPECT_EQ(ProbeTypeName(ProbeType::kTools), "tools");
  EXPECT_EQ(ProbeTypeName(ProbeType::kJson), "json");
  EXPECT_FALSE(IsBilled(ProbeType::kModels));
  EXPECT_TRUE(IsBilled(ProbeType::kChat));
  EXPECT_TRUE(IsBilled(ProbeType::kStream));
  EXPECT_TRUE(IsBilled(ProbeType::kEmbeddings));
  // They spend tokens: budgets pause them and cost counts them.
  EXPECT_TRUE(IsBilled(ProbeType::kTools));
  EXPECT_TRUE(IsBilled(ProbeType::kJson));
}

TEST(LoadConfigFileTest, ToolsAndJsonProbesGetTheBuiltInSchemaOrTheirOwn) {
  const Config config = LoadConfigFile((kConfigTestdata / "good" / "tools.yaml").string(),
                                       FakeEnvironment(kFixtureEnvironment));
  const ProbeConfig& tools = config.targets.at(0).probes.at(0);
  EXPECT_EQ(tools.type, ProbeType::kTools);
  EXPECT_EQ(tools.reply_schema.name, "get_weather");
  EXPECT_THAT(tools.reply_schema.required, ::testing::ElementsAre("city"));
  EXPECT_EQ(tools.max_tokens, 100);
  EXPECT_EQ(tools.prompt, "What is the weather in Paris?");

  const ProbeConfig& json_probe = config.targets.at(0).probes.at(1);
  EXPECT_EQ(json_probe.api, ProbeApi::kResponses);
  EXPECT_EQ(json_probe.reply_schema.name, "json");
  EXPECT_THAT(json_probe.reply_schema.required, ::testing::ElementsAre("status"));
  EXPECT_EQ(json_probe.max_tokens, 100) << "above the Responses API's minimum of 16";

  const ProbeConfig& orders = config.targets.at(0).probes.at(2);
  EXPECT_EQ(orders.prompt, "Where is order 42?");
  EXPECT_EQ(orders.max_tokens, 64);
  EXPECT_EQ(orders.reply_schema.name, "lookup_order");
  EXPECT_EQ(orders.reply_schema.description, "Look up an order by its id.");
  EXPECT_THAT(orders.reply_schema.required, ::testing::ElementsAre("order_id"));
  // YAML's plain scalars become JSON numbers and booleans, quoted ones strings.
  EXPECT_EQ(nlohmann::json::parse(orders.reply_schema.json_schema),
            nlohmann::json::parse(R"({"type": "object", "properties": {"order_id": {"type": "string",
                "description": "The order's id"}, "verbose": {"type": "boolean"}, "limit": {"type": "integer",
                "minimum": 1}}, "required": ["order_id"]})"));

  const ProbeConfig& claude = config.targets.at(1).probes.at(0);
  EXPECT_EQ(claude.reply_schema.name, "json");
  EXPECT_THAT(claude.reply_schema.required, ::testing::ElementsAre("status", "note"));
  EXPECT_EQ(nlohmann::json::parse(claude.reply_schema.json_schema)["properties"]["note"]["type"],
            nlohmann::json::parse(R"(["string", "null"])"));

  // The other probe types carry no schema.
  const Config plain = LoadConfigFile((kConfigTestdata / "good" / "minimal.yaml").string(), FakeEnvironment({}));
  EXPECT_TRUE(plain.targets.at(0).probes.at(0).reply_schema.json_schema.empty());
}

TEST(ConfigErrorTest, FormatsPosition) {
  const ConfigError positioned("a.yaml", 3, 7, "boom");
  EXPECT_STREQ(positioned.what(), "a.yaml:3:7: boom");
  EXPECT_EQ(positioned.file(), "a.yaml");
  EXPECT_EQ(positioned.line(), 3);
  EXPECT_EQ(positioned.column(), 7);
  EXPECT_STREQ(ConfigError("a.yaml", 0, 0, "boom").what(), "a.yaml: boom");
}

TEST(ProcessEnvironmentTest, ReadsTheRealEnvironment) {
  ::setenv("LLM_PROBE_CONFIG_TEST_VARIABLE", "value", 1);
  const EnvLookup env = ProcessEnvironment();
  EXPECT_EQ(env("LLM_PROBE_CONFIG_TEST_VARIABLE"), "value");
  ::unsetenv("LLM_PROBE_CONFIG_TEST_VARIABLE");
  EXPECT_EQ(env("LLM_PROBE_CONFIG_TEST_VARIABLE"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Good configs

TEST(LoadConfigFileTest, FullExample) {
  const fs::path path = kConfigTestdata / "good" / "full.yaml";
  const Config config = LoadConfigFile(path.string(), FakeEnvironment(kFixtureEnvironment));

  EXPECT_EQ(config.file, path.string());
  EXPECT_EQ(config.global.interval, seconds(30));
  EXPECT_EQ(config.global.timeout, seconds(10));
  EXPECT_DOUBLE_EQ(config.global.jitter, 0.10);
  EXPECT_EQ(config.global.failure_threshold, 3);
  EXPECT_EQ(config.global.recovery_threshold, 2);
  EXPECT_EQ(config.global.history_size, 100);
  EXPECT_EQ(config.global.external_labels, (Environment{{"env", "prod"}, {"region", "eu-west"}}));
  EXPECT_THAT(config.global.duration_buckets, ElementsAre(0.1, 0.5, 1, 5, 30));

  ASSERT_EQ(config.groups.size(), 1u);
  EXPECT_EQ(config.groups[0].name, "chat-primary");
  EXPECT_THAT(config.groups[0].targets, ElementsAre("holysheep", "openai-direct"));

  ASSERT_EQ(config.targets.size(), 3u);
  const TargetConfig& holysheep = config.targets[0];
  EXPECT_EQ(holysheep.name, "holysheep");
  EXPECT_EQ(ProviderOf(holysheep).name, "openai");
  EXPECT_EQ(holysheep.base_url, "https://api.holysheep.ai/v1");
  EXPECT_EQ(holysheep.api_key, "sk-hs-fixture-secret-1");
  EXPECT_EQ(holysheep.headers, (Environment{{"X-Request-Source", "llm-probe"}, {"X-Team", "sre"}}));
  EXPECT_EQ(holysheep.tls.ca_file, "");
  EXPECT_FALSE(holysheep.tls.insecure_skip_verify);
  EXPECT_FALSE(holysheep.tls.session_resumption);
  EXPECT_EQ(holysheep.proxy_url, "");
  EXPECT_EQ(holysheep.max_usd_per_day, 1.0);
  EXPECT_EQ(holysheep.api_version, "");

  ASSERT_EQ(holysheep.probes.size(), 4u);
  const ProbeConfig& models = holysheep.probes[0];
  EXPECT_EQ(models.name, "models");
  EXPECT_EQ(models.type, ProbeType::kModels);
  EXPECT_EQ(models.model, "");
  EXPECT_EQ(models.interval, seconds(15));
  EXPECT_EQ(models.timeout, seconds(10));
  EXPECT_THAT(models.expect_models, ElementsAre("gpt-4o", "deepseek-v3.2"));

  const ProbeConfig& chat = holysheep.probes[1];
  EXPECT_EQ(chat.type, ProbeType::kChat);
  EXPECT_EQ(chat.model, "gpt-4o");
  EXPECT_EQ(chat.interval, seconds(60));
  EXPECT_EQ(chat.prompt, "health check test");
  EXPECT_EQ(chat.max_tokens, 5);
  EXPECT_EQ(chat.token_param, "max_tokens");
  EXPECT_EQ(chat.reasoning_effort, "");
  EXPECT_EQ(chat.expect_content, ".+");
  EXPECT_FALSE(chat.follow_redirects);

  EXPECT_EQ(holysheep.probes[2].type, ProbeType::kStream);
  EXPECT_EQ(holysheep.probes[3].type, ProbeType::kEmbeddings);
  EXPECT_EQ(holysheep.probes[3].model, "text-embedding-3-small");

  const TargetConfig& openai = config.targets[1];
  EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");  // trailing slash stripped
  EXPECT_EQ(openai.max_usd_per_day, std::nullopt);
  const ProbeConfig& reasoning = openai.probes[0];
  EXPECT_EQ(reasoning.interval, minutes(2));
  EXPECT_EQ(reasoning.timeout, seconds(45));
  EXPECT_EQ(reasoning.max_tokens, 64);
  EXPECT_EQ(reasoning.token_param, "max_completion_tokens");
  EXPECT_EQ(reasoning.reasoning_effort, "low");
  EXPECT_TRUE(reasoning.follow_redirects);

  const TargetConfig& claude = config.targets[2];
  EXPECT_EQ(ProviderOf(claude).name, "anthropic");
  EXPECT_EQ(claude.api_key, kAnthropicFileKey);  // relative to the config file, newline trimmed
  EXPECT_EQ(claude.api_version, "2023-06-01");

  ASSERT_EQ(config.pricing.size(), 4u);
  EXPECT_DOUBLE_EQ(config.pricing.at("gpt-4.1").input, 8.0);
  EXPECT_DOUBLE_EQ(config.pricing.at("deepseek-v3.2").output, 0.42);
}

TEST(LoadConfigFileTest, MinimalConfigGetsEveryDefault) {
  const Config config =
      LoadConfigFile((kConfigTestdata / "good" / "minimal.yaml").string(), FakeEnvironment({}));
  const GlobalConfig defaults;
  EXPECT_EQ(config.global.interval, defaults.interval);
  EXPECT_EQ(config.global.timeout, defaults.timeout);
  EXPECT_DOUBLE_EQ(config.global.jitter, 0.10);
  EXPECT_EQ(config.global.failure_threshold, 3);
  EXPECT_EQ(config.global.recovery_threshold, 1);
  EXPECT_EQ(config.global.history_size, 100);
  EXPECT_TRUE(config.global.external_labels.empty());
  EXPECT_THAT(config.global.duration_buckets,
              ElementsAre(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60));
  EXPECT_TRUE(config.groups.empty());
  EXPECT_TRUE(config.pricing.empty());

  ASSERT_EQ(config.targets.size(), 1u);
  const TargetConfig& ollama = config.targets[0];
  EXPECT_EQ(ProviderOf(ollama).name, "openai");
  EXPECT_EQ(ollama.api_key, "");
  EXPECT_TRUE(ollama.headers.empty());
  EXPECT_EQ(ollama.max_usd_per_day, std::nullopt);
  const ProbeConfig& probe = ollama.probes.at(0);
  EXPECT_EQ(probe.interval, seconds(30));
  EXPECT_EQ(probe.timeout, seconds(10));
  EXPECT_FALSE(probe.follow_redirects);
  EXPECT_TRUE(config.Secrets().empty());
}

TEST(LoadConfigFileTest, BedrockKeysAreSecretsAndTheirFilesAreWatched) {
  const Config config = LoadConfigFile((kConfigTestdata / "good" / "bedrock.yaml").string(),
                                       FakeEnvironment(kFixtureEnvironment));
  const TargetConfig& bedrock = config.targets.at(0);
  EXPECT_EQ(ProviderOf(bedrock).name, "bedrock");
  EXPECT_TRUE(ProviderOf(bedrock).RequestIsPerRun());
  EXPECT_EQ(bedrock.aws.region, "us-east-1");
  EXPECT_EQ(bedrock.aws.access_key_id, "AKIDFIXTURE0001");
  EXPECT_EQ(bedrock.aws.secret_access_key, "fixture/secret/access/key/0000000000001");
  EXPECT_EQ(bedrock.aws.session_token, "fixture-session-token-from-a-file");
  ASSERT_EQ(bedrock.aws.key_files.size(), 1u);
  EXPECT_THAT(bedrock.aws.key_files[0], ::testing::EndsWith("keys/aws-session.token"));
  EXPECT_TRUE(bedrock.api_key.empty());
  const std::vector<std::string> secrets = config.Secrets();
  EXPECT_THAT(secrets, ::testing::Contains("fixture/secret/access/key/0000000000001"));
  EXPECT_THAT(secrets, ::testing::Contains("fixture-session-token-from-a-file"));
}

TEST(LoadConfigFileTest, ProviderDefaultsAndOverrides) {
  const Config config = LoadConfigFile((kConfigTestdata / "good" / "azure.yaml").string(),
                                       FakeEnvironment(kFixtureEnvironment));
  EXPECT_EQ(ProviderOf(config.targets[0]).name, "azure");
  EXPECT_EQ(config.targets[0].api_version, "2025-01-01-preview");
  EXPECT_EQ(config.targets[1].headers.at("X-Gateway-Token"), "sk-hs-fixture-secret-1");
  EXPECT_EQ(config.targets[1].proxy_url, "socks5h://proxy.internal:1080");
  EXPECT_EQ(config.targets[1].probes[0].prompt, "ping");

  const std::string azure_default = R"(
targets:
  - name: azure
    provider: azure
    base_url: https://example.openai.azure.com
    probes: [{name: models, type: models}]
)";
  EXPECT_EQ(ParseConfig(azure_default, "t.yaml", FakeEnvironment({})).targets[0].api_version,
            "2024-10-21");
}

TEST(LoadConfigFileTest, ProbeInheritsGlobalIntervalAndTimeout) {
  const Config config = ParseConfig(R"(
global: {interval: 5m, timeout: 1m}
targets:
  - name: local
    base_url: http://localhost:8000/v1
    probes:
      - {name: inherits, type: models}
      - {name: half, type: models, timeout: 4m}
)",
                                    "t.yaml", FakeEnvironment({}));
  const std::vector<ProbeConfig>& probes = config.targets[0].probes;
  EXPECT_EQ(probes[0].interval, minutes(5));
  EXPECT_EQ(probes[0].timeout, minutes(1));
  EXPECT_EQ(probes[1].interval, minutes(5));
  EXPECT_EQ(probes[1].timeout, minutes(4));
}

class GoodFixtureTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(GoodFixtureTest, Loads) {
  EXPECT_NO_THROW(LoadConfigFile(GetParam().string(), FakeEnvironment(kFixtureEnvironment)));
}

std::string FixtureName(const ::testing::TestParamInfo<fs::path>& info) {
  return info.param.stem().string();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoodFixtureTest,
                         ::testing::ValuesIn(YamlFilesIn(kConfigTestdata / "good")), FixtureName);

// ---------------------------------------------------------------------------------------------
// Bad configs: tests/testdata/config/bad/NAME.yaml starts with `# expect: LINE:COL: substring`.

struct Expectation {
  std::string position;  // "LINE:COL"
  std::string message_part;
};

Expectation ReadExpectation(const fs::path& fixture) {
  const std::string bytes = ReadBytes(fixture);
  const std::string first_line = bytes.substr(0, bytes.find('\n'));
  constexpr std::string_view kPrefix = "# expect: ";
  if (!first_line.starts_with(kPrefix)) return {};
  const std::string rest = first_line.substr(kPrefix.size());
  const std::size_t separator = rest.find(": ");
  if (separator == std::string::npos) return {};
  return {rest.substr(0, separator), rest.substr(separator + 2)};
}

class BadFixtureTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(BadFixtureTest, FailsWithPositionAndMessage) {
  const fs::path& fixture = GetParam();
  const Expectation expected = ReadExpectation(fixture);
  ASSERT_FALSE(expected.position.empty()) << "first line must be `# expect: LINE:COL: message`";

  try {
    LoadConfigFile(fixture.string(), FakeEnvironment(kFixtureEnvironment));
    FAIL() << "loaded without error";
  } catch (const ConfigError& error) {
    const std::string what = error.what();
    EXPECT_THAT(what, HasSubstr(fixture.filename().string() + ":" + expected.position + ": "));
    EXPECT_THAT(what, HasSubstr(expected.message_part));
    EXPECT_EQ(std::to_string(error.line()) + ":" + std::to_string(error.column()),
              expected.position);
    for (const auto& [name, value] : kFixtureEnvironment) {
      if (value.size() > 3) {
        EXPECT_THAT(what, Not(HasSubstr(value))) << "leaks " << name;
      }
    }
    EXPECT_THAT(what, Not(HasSubstr(std::string(kAnthropicFileKey))));
    // Fixtures spell every secret they hold inline (a pasted key, a proxy password) with "secret"
    // (looked for outside the checkout's path, which may contain the word).
    std::string shown = what;
    const std::string checkout = LLM_PROBE_SOURCE_DIR;
    for (std::size_t at; (at = shown.find(checkout)) != std::string::npos;) shown.erase(at, checkout.size());
    // The name of an aws key, which messages must name, is not a secret.
    const std::string key_name = "secret_access_key";
    for (std::size_t at; (at = shown.find(key_name)) != std::string::npos;) shown.erase(at, key_name.size());
    EXPECT_THAT(shown, Not(HasSubstr("secret")));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BadFixtureTest,
                         ::testing::ValuesIn(YamlFilesIn(kConfigTestdata / "bad")), FixtureName);

TEST(BadFixtureTest, DirectoryHoldsTheFixtures) {
  EXPECT_GE(YamlFilesIn(kConfigTestdata / "bad").size(), 25u);
}

// ---------------------------------------------------------------------------------------------
// Errors outside the fixtures

TEST(LoadConfigFileTest, UnreadableFileHasNoPosition) {
  const std::string path = (kConfigTestdata / "no-such-file.yaml").string();
  try {
    LoadConfigFile(path, FakeEnvironment({}));
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.line(), 0);
    EXPECT_EQ(std::string(error.what()),
              path + ": cannot read config file: No such file or directory");
  }
}

TEST(LoadConfigFileTest, DirectoryIsUnreadable) {
  const TempDir dir;
  try {
    LoadConfigFile(dir.path().string(), FakeEnvironment({}));
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.line(), 0);
    EXPECT_THAT(error.what(), HasSubstr("Is a directory"));
  }
}

constexpr std::string_view kOneTarget = R"(
targets:
  - name: t
    base_url: https://relay.example/v1
    api_key_env: KEY
    api_key_prefix: sk-hs-
    probes: [{name: models, type: models}]
)";

TEST(SecretRedactionTest, PrefixMismatchDoesNotShowTheKey) {
  const std::string message = ErrorOf(kOneTarget, {{"KEY", "sk-live-TOPSECRET123"}});
  EXPECT_THAT(message, HasSubstr("does not start with api_key_prefix \"sk-hs-\""));
  EXPECT_THAT(message, Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(message, Not(HasSubstr("sk-live")));
}

TEST(SecretRedactionTest, DamagedKeyIsNotShown) {
  const std::string message = ErrorOf(kOneTarget, {{"KEY", "sk-hs-TOP\nSECRET"}});
  EXPECT_THAT(message, HasSubstr("contains whitespace or control characters"));
  EXPECT_THAT(message, Not(HasSubstr("TOP")));
}

TEST(SecretRedactionTest, HeaderValuesAreNotShown) {
  const std::string yaml = R"(
targets:
  - name: t
    base_url: https://relay.example/v1
    headers: {Authorization: "Bearer ${TOKEN}"}
    probes: [{name: models, type: models}]
)";
  const std::string message = ErrorOf(yaml, {{"TOKEN", "TOPSECRET\r\nX-Injected: 1"}});
  EXPECT_THAT(message, HasSubstr("value of header \"Authorization\" contains a control character"));
  EXPECT_THAT(message, Not(HasSubstr("TOPSECRET")));
}

TEST(SecretRedactionTest, UrlsWithCredentialsAreNotShown) {
  const std::string yaml = R"(
targets:
  - name: t
    base_url: https://relay.example/v1
    proxy_url: "ftp://user:TOPSECRET@proxy:21"
    probes: [{name: models, type: models}]
)";
  EXPECT_THAT(ErrorOf(yaml), Not(HasSubstr("TOPSECRET")));
}

// ---------------------------------------------------------------------------------------------
// Secret resolution

std::string OneTargetWithHeaders(std::string_view headers) {
  return R"(
targets:
  - name: t
    base_url: https://relay.example/v1
    headers: )" +
         std::string(headers) + R"(
    probes: [{name: models, type: models}]
)";
}

TEST(HeaderExpansionTest, ExpandsEnvironmentReferences) {
  const Config config =
      ParseConfig(OneTargetWithHeaders(R"({Authorization: "Bearer ${TOKEN}", X-Both: "${A}-${B}",)"
                                       R"( X-Price: "$5 ${A}$", X-Plain: plain})"),
                  "t.yaml", FakeEnvironment({{"TOKEN", "tok"}, {"A", "a"}, {"B", "b"}}));
  EXPECT_EQ(config.targets[0].headers, (Environment{{"Authorization", "Bearer tok"},
                                                    {"X-Both", "a-b"},
                                                    {"X-Plain", "plain"},
                                                    {"X-Price", "$5 a$"}}));
}

TEST(HeaderExpansionTest, UnsetAndMalformedReferencesFail) {
  EXPECT_THAT(ErrorOf(OneTargetWithHeaders(R"({X-A: "${UNSET}"})"), {}),
              HasSubstr("environment variable UNSET (header \"X-A\" of target \"t\") is not set"));
  EXPECT_THAT(ErrorOf(OneTargetWithHeaders(R"({X-A: "${}"})"), {}), HasSubstr("malformed ${...}"));
  EXPECT_THAT(ErrorOf(OneTargetWithHeaders(R"({X-A: "${1X}"})"), {}),
              HasSubstr("malformed ${...}"));
}

TEST(ApiKeyFileTest, ResolvesRelativeToTheConfigFile) {
  const TempDir dir;
  dir.Write("secrets/relay.key", "sk-hs-from-file\n\n");
  const fs::path config_file = dir.Write("etc/config.yaml", R"(
targets:
  - name: relative
    base_url: https://relay.example/v1
    api_key_file: ../secrets/relay.key
    api_key_prefix: sk-hs-
    probes: [{name: models, type: models}]
  - name: absolute
    base_url: https://relay.example/v1
    api_key_file: )" + (dir.path() / "secrets/relay.key").string() +
                                                                R"(
    probes: [{name: models, type: models}]
)");
  // Run from elsewhere: the working directory must not matter.
  const fs::path previous = fs::current_path();
  fs::current_path(fs::temp_directory_path());
  const Config config = LoadConfigFile(config_file.string(), FakeEnvironment({}));
  fs::current_path(previous);

  EXPECT_EQ(config.targets[0].api_key, "sk-hs-from-file");
  EXPECT_EQ(config.targets[1].api_key, "sk-hs-from-file");
}

TEST(ApiKeyFileTest, CaFileIsResolvedLikeKeyFiles) {
  const TempDir dir;
  dir.Write("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");
  const fs::path config_file = dir.Write("config.yaml", R"(
targets:
  - name: t
    base_url: https://relay.example/v1
    tls: {ca_file: certs/ca.pem, insecure_skip_verify: true, session_resumption: true}
    probes: [{name: models, type: models}]
)");
  const Config config = LoadConfigFile(config_file.string(), FakeEnvironment({}));
  EXPECT_EQ(config.targets[0].tls.ca_file, (dir.path() / "certs/ca.pem").string());
  EXPECT_TRUE(config.targets[0].tls.insecure_skip_verify);
  EXPECT_TRUE(config.targets[0].tls.session_resumption);
}

TEST(SecretsTest, ListsKeysAndSecretLookingHeaders) {
  const Config config = ParseConfig(
      R"(
targets:
  - name: a
    base_url: https://a.example/v1
    api_key_env: KEY_A
    headers:
      Authorization: "Bearer ${GATEWAY}"
      X-Api-Key: literal-api-key
      Cookie: session=abc
      X-Auth-Token: auth-token
      X-Client-Secret: client-secret
      X-Password: hunter2
      X-Team: sre
      X-Trace: "${TRACE}"
    proxy_url: "http://proxyuser:proxy-password@proxy:3128"
    probes: [{name: models, type: models}]
  - name: b
    base_url: https://b.example/v1
    api_key_env: KEY_A
    probes: [{name: models, type: models}]
  - name: local
    base_url: http://localhost:11434/v1
    probes: [{name: models, type: models}]
)",
      "t.yaml", FakeEnvironment({{"KEY_A", "sk-key-a"}, {"GATEWAY", "gw"}, {"TRACE", "trace-id"}}));
  const std::vector<std::string> secrets = config.Secrets();
  // What came from the environment is a secret under any header name ("trace-id" of X-Trace:
  // issue 17, item 13); X-Team's literal "sre" is not.
  EXPECT_THAT(secrets,
              UnorderedElementsAre("sk-key-a", "Bearer gw", "gw", "trace-id", "literal-api-key", "session=abc",
                                   "auth-token", "client-secret", "hunter2", "proxy-password"));
  // Each once, though key a is used twice; the Redactor orders them (redact_test).
}

// ---------------------------------------------------------------------------------------------
// Checksum

// FNV-1a 64, written out here as the reference the loader must match.
std::string ReferenceFnv1a64(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char byte : bytes) hash = (hash ^ byte) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, hash);
  return hex;
}

TEST(ChecksumTest, IsFnv1a64OfTheBytes) {
  const std::string text(kOneTarget);
  const EnvLookup env = FakeEnvironment({{"KEY", "sk-hs-x"}});
  const std::string checksum = ParseConfig(text, "t.yaml", env).checksum;
  EXPECT_EQ(checksum, ReferenceFnv1a64(text));
  EXPECT_EQ(checksum.size(), 16u);
  EXPECT_EQ(ParseConfig(text, "other-name.yaml", env).checksum, checksum);
  // Any byte counts, even in a comment: an edited file is a new config.
  EXPECT_NE(ParseConfig(text + "# comment\n", "t.yaml", env).checksum, checksum);
  EXPECT_EQ(ReferenceFnv1a64(""), "cbf29ce484222325");  // the published offset basis
}

TEST(ChecksumTest, FileAndTextAgree) {
  const fs::path path = kConfigTestdata / "good" / "full.yaml";
  const EnvLookup env = FakeEnvironment(kFixtureEnvironment);
  EXPECT_EQ(LoadConfigFile(path.string(), env).checksum, ParseConfig(ReadBytes(path), path.string(), env).checksum);
}

// A rotated key file is a change, so a reload picks it up; the same key is no change.
TEST(ChecksumTest, CoversTheContentOfKeyFiles) {
  TempDir dir;
  const std::string yaml =
      "targets:\n  - name: relay\n    base_url: http://127.0.0.1:1/v1\n    api_key_file: relay.key\n"
      "    probes: [{name: models, type: models}]\n";
  const fs::path config = dir.Write("config.yaml", yaml);
  const EnvLookup env = FakeEnvironment({});
  dir.Write("relay.key", "sk-first-0123456789\n");
  const Config first = LoadConfigFile(config.string(), env);
  EXPECT_EQ(first.targets[0].api_key_file, (dir.path() / "relay.key").string());
  dir.Write("relay.key", "sk-first-0123456789");
  EXPECT_EQ(LoadConfigFile(config.string(), env).checksum, first.checksum) << "a trailing newline is not the key";
  dir.Write("relay.key", "sk-second-9876543210\n");
  EXPECT_NE(LoadConfigFile(config.string(), env).checksum, first.checksum);
}

TEST(SecretsTest, RetiredKeysStayRedacted) {
  Config config;
  config.targets.resize(1);
  config.targets[0].api_key = "sk-new-0123456789";
  config.retired_secrets = {"sk-old-0123456789"};
  const std::vector<std::string> secrets = config.Secrets();
  EXPECT_NE(std::find(secrets.begin(), secrets.end(), "sk-new-0123456789"), secrets.end());
  EXPECT_NE(std::find(secrets.begin(), secrets.end(), "sk-old-0123456789"), secrets.end());
}

}  // namespace
}  // namespace llm_probe
