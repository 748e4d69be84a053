// The Gemini native reader and error classes on the published replies of
// tests/testdata/real/gemini-native.json, read directly (real_replies_test also replays them
// through the running exporter).
#include "gemini.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_corpus.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

constexpr const char* kCorpus = "real/gemini-native.json";

json Corpus() { return test_corpus::LoadCorpus(kCorpus); }
json Case(const std::string& id) { return test_corpus::CorpusCase(kCorpus, id); }

ReplyFacts ReadStream(std::string_view body) {
  return test_corpus::ReadSseStream<ReplyFacts>(body, ReadGeminiStreamEvent);
}

std::string WithCrlf(std::string_view text) {
  std::string crlf;
  for (const char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  return crlf;
}

TEST(GeminiTest, EveryPublishedErrorGetsItsExpectedClass) {
  int checked = 0;
  const json corpus = Corpus();
  for (const json& item : corpus["cases"]) {
    if (item["status"].get<int>() < 400) continue;
    const Classification classification =
        ClassifyGeminiError(item["status"], item["body"].get<std::string>());
    EXPECT_EQ(ResultClassName(classification.result_class), item["expect"].get<std::string>())
        << item["id"] << ": " << classification.detail;
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(GeminiTest, EveryPublishedSuccessReadsAsItsExpectedClass) {
  const json corpus = Corpus();
  for (const json& item : corpus["cases"]) {
    // Model list pages: probe_test's GeminiModelPagesTest walks them.
    if (item["status"].get<int>() >= 400 || item["probe"] == "models") continue;
    const std::string body = item["body"];
    const ReplyFacts facts = item["probe"] == "stream" ? ReadStream(body) : ReadGeminiReply(body);
    EXPECT_FALSE(facts.malformed) << item["id"];
    EXPECT_EQ(facts.content.empty(), item["expect"] == "EMPTY_CONTENT") << item["id"];
  }
}

TEST(GeminiTest, StreamEndsAtTheFinishReasonWithTheLastUsage) {
  const std::string body = Case("gemini-native-sse-two-chunks")["body"];
  for (const std::string& framed : {body, WithCrlf(body)}) {
    const ReplyFacts facts = ReadStream(framed);
    EXPECT_TRUE(facts.stream_completed);
    EXPECT_EQ(facts.finish_reason, "STOP");
    EXPECT_EQ(facts.content_events, 2);
    EXPECT_DOUBLE_EQ(*facts.first_content_seconds, 0.1);
    EXPECT_TRUE(facts.content.starts_with("Here you go!"));
    EXPECT_TRUE(facts.content.ends_with("**Italian:** Ciao"));
    ASSERT_TRUE(facts.usage);
    EXPECT_EQ(facts.usage->prompt, 5);
    EXPECT_EQ(facts.usage->completion, 44 + 186);  // thoughts counted in, as OpenAI counts them
    EXPECT_EQ(facts.usage->reasoning, 186);
    EXPECT_EQ(facts.served_model, "gemini-2.5-flash-preview-05-20");
  }
}

TEST(GeminiTest, AStreamWithoutAFinishReasonIsCut) {
  const std::string body = Case("gemini-native-sse-two-chunks")["body"];
  const ReplyFacts facts = ReadStream(body.substr(0, body.find("\n\n") + 2));
  EXPECT_FALSE(facts.stream_completed);
  EXPECT_FALSE(facts.content.empty());
}

TEST(GeminiTest, ThinkingThatSpentTheLimitIsLengthLimitedWithoutContent) {
  const ReplyFacts facts = ReadGeminiReply(Case("gemini-native-max-tokens-thinking")["body"].get<std::string>());
  EXPECT_TRUE(facts.content.empty());
  EXPECT_TRUE(facts.length_limited);
  EXPECT_EQ(facts.finish_reason, "MAX_TOKENS");
  ASSERT_TRUE(facts.usage);
  EXPECT_EQ(facts.usage->prompt, 1706);
  EXPECT_EQ(facts.usage->completion, 2999);
  EXPECT_EQ(facts.usage->reasoning, 2999);
}

TEST(GeminiTest, ABlockedPromptSaysWhy) {
  const ReplyFacts facts = ReadGeminiReply(Case("gemini-native-prompt-blocked")["body"].get<std::string>());
  EXPECT_TRUE(facts.content.empty());
  EXPECT_EQ(facts.finish_reason, "prompt blocked: PROHIBITED_CONTENT");
  EXPECT_FALSE(facts.length_limited);
  EXPECT_EQ(facts.served_model, "gemini-2.5-flash");

  // In a stream the blocked prompt is the end: nothing more comes.
  const ReplyFacts stream = ReadStream("data: " + Case("gemini-native-prompt-blocked")["body"].get<std::string>() + "\n\n");
  EXPECT_TRUE(stream.stream_completed);
  EXPECT_TRUE(stream.content.empty());
}

// Part.thought (https://ai.google.dev/api/caching#Part) marks a thought summary; no raw reply
// with one is published in the corpus yet, so this reply is built from the documented field.
TEST(GeminiTest, ThoughtPartsAreNotContent) {
  const ReplyFacts facts = ReadGeminiReply(
      R"({"candidates":[{"content":{"parts":[{"text":"Let me think.","thought":true},{"text":"Paris."}],)"
      R"("role":"model"},"finishReason":"STOP"}]})");
  EXPECT_EQ(facts.content, "Paris.");
}

TEST(GeminiTest, ShapesThatAreNotAReplyAreMalformed) {
  EXPECT_TRUE(ReadGeminiReply("not json").malformed);
  EXPECT_TRUE(ReadGeminiReply("[]").malformed);
  EXPECT_TRUE(ReadGeminiReply(R"({"foo":1})").malformed);
  EXPECT_TRUE(ReadGeminiReply(Case("gemini-native-overloaded")["body"].get<std::string>()).malformed);
}

TEST(GeminiTest, TheQuotaPeriodDecidesBetweenWaitingAndPaying) {
  EXPECT_EQ(ClassifyGeminiError(429, Case("gemini-native-per-minute-quota")["body"].get<std::string>()).result_class,
            ResultClass::kRateLimited);
  EXPECT_EQ(ClassifyGeminiError(429, Case("gemini-native-per-day-quota")["body"].get<std::string>()).result_class,
            ResultClass::kQuotaExceeded);
}

// Spent prepaid credit is RESOURCE_EXHAUSTED too, with no details: only its wording tells it
// from a per-minute limit, whose message also speaks of "billing".
TEST(GeminiTest, DepletedPrepaymentCreditsAreOutOfQuotaNotThrottled) {
  const Classification depleted =
      ClassifyGeminiError(429, Case("gemini-native-prepayment-depleted")["body"].get<std::string>());
  EXPECT_EQ(depleted.result_class, ResultClass::kQuotaExceeded);
  EXPECT_THAT(depleted.detail, ::testing::HasSubstr("prepayment credits are depleted"));
  EXPECT_THAT(Case("gemini-native-per-minute-quota")["body"].get<std::string>(), ::testing::HasSubstr("billing"));
}

// thoughtsTokenCount is left out of candidatesTokenCount (totalTokenCount = prompt + candidates
// + thoughts); completion counts both, as OpenAI's completion_tokens and the Responses API's
// output_tokens include reasoning, and reasoning counts the thoughts.
TEST(GeminiTest, ThoughtTokensCountAsCompletionAndAsReasoning) {
  const ReplyFacts facts = ReadGeminiReply(Case("gemini-native-thinking-usage")["body"].get<std::string>());
  EXPECT_FALSE(facts.malformed);
  EXPECT_EQ(facts.content, "There are **3** \"r\"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.");
  ASSERT_TRUE(facts.usage);
  EXPECT_EQ(facts.usage->prompt, 9);
  EXPECT_EQ(facts.usage->completion, 29 + 282);
  EXPECT_EQ(facts.usage->reasoning, 282);
  EXPECT_EQ(facts.usage->prompt + facts.usage->completion, 320);  // the reply's totalTokenCount
}

// An error object in a 2xx (a stream's error event) names its status in the detail.
TEST(GeminiTest, AnErrorInsideAStreamNamesItsStatus) {
  const json error = json::parse(Case("gemini-native-overloaded")["body"].get<std::string>());
  const ReplyFacts facts = ReadStream("data: " + error.dump() + "\n\n");
  EXPECT_EQ(facts.malformed, "error event in the stream: UNAVAILABLE");
}

}  // namespace
}  // namespace llm_probe::internal
