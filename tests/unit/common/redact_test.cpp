#include "llm_probe/redact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llm_probe/log.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedactorTest, ConfiguredSecretsDisappearEverywhereInTheText) {
  const Redactor redactor({"hunter2-password", "abc123-token-value"});
  EXPECT_EQ(redactor.Redact("user=admin pass=hunter2-password again hunter2-password"),
            "user=admin pass=<redacted> again <redacted>");
  EXPECT_EQ(redactor.Redact("X-Token: abc123-token-value"), "X-Token: <redacted>");
}

TEST(RedactorTest, ALongerSecretContainingAShorterOneGoesWhole) {
  const Redactor redactor({"secret", "secret-and-more"});
  EXPECT_EQ(redactor.Redact("value secret-and-more"), "value <redacted>");
}

TEST(RedactorTest, KeyShapedTokensAreMaskedEvenWhenNotConfigured) {
  const Redactor redactor;
  EXPECT_EQ(redactor.Redact("Incorrect API key provided: sk-proj-abcdefgh12345678."),
            "Incorrect API key provided: <redacted>");
  EXPECT_EQ(redactor.Redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload"),
            "Authorization: Bearer <redacted>");
  EXPECT_EQ(redactor.Redact("task-list and sk-short"), "task-list and sk-short");
}

TEST(RedactorTest, VeryShortSecretsAreNotUsedForMatching) {
  const Redactor redactor({"a"});
  EXPECT_EQ(redactor.Redact("a cat sat"), "a cat sat");
}

TEST(LogFormatTest, LogfmtQuotesWhatNeedsQuoting) {
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, "2026-01-01T00:00:00.000Z", LogLevel::kInfo, "health",
                          "probe became unhealthy", {{"target", "relay"}, {"detail", "HTTP 401: \"bad\""}}),
            "ts=2026-01-01T00:00:00.000Z level=info component=health msg=\"probe became unhealthy\" "
            "target=relay detail=\"HTTP 401: \\\"bad\\\"\"");
}

TEST(LogFormatTest, JsonLinesAreValidJsonWithEscapes) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, "t", LogLevel::kWarn, "config", "line1\nline2", {{"k", "v\t"}}),
            R"({"ts":"t","level":"warn","component":"config","msg":"line1\nline2","k":"v\t"})");
}

TEST(LogTest, SecretsNeverReachTheLog) {
  SetLogSecrets({"sk-very-secret-value-123"});
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kError, "test", "failed with sk-very-secret-value-123", {{"key", "sk-very-secret-value-123"}});
  const std::string output = ::testing::internal::GetCapturedStderr();
  SetLogSecrets({});
  EXPECT_THAT(output, HasSubstr("failed with <redacted>"));
  EXPECT_THAT(output, Not(HasSubstr("sk-very-secret-value-123")));
}

TEST(LogTest, LevelsBelowTheConfiguredOneAreDropped) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kInfo, "test", "quiet");
  Log(LogLevel::kError, "test", "loud");
  const std::string output = ::testing::internal::GetCapturedStderr();
  ConfigureLogging(LogLevel::kInfo, LogFormat::kLogfmt);
  EXPECT_THAT(output, Not(HasSubstr("quiet")));
  EXPECT_THAT(output, HasSubstr("loud"));
}

TEST(LogTest, ParsesLevelAndFormatNames) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("debug", level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("verbose", level));
  LogFormat format = LogFormat::kLogfmt;
  EXPECT_TRUE(ParseLogFormat("json", format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", format));
}

}  // namespace
}  // namespace llm_probe
