// The Responses API reader on the API reference's published replies and events
// (tests/testdata/real/openai-responses.json), read directly (real_replies_test also replays
// them through the running exporter).
#include "openai_responses.h"

#include <gtest/gtest.h>

#include "test_corpus.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

constexpr const char* kCorpus = "real/openai-responses.json";

json Corpus() { return test_corpus::LoadCorpus(kCorpus); }
std::string Body(const std::string& id) { return test_corpus::CorpusCase(kCorpus, id).value("body", ""); }

ReplyFacts ReadStream(std::string_view body) {
  return test_corpus::ReadSseStream<ReplyFacts>(body, ReadResponsesStreamEvent);
}

// What Judge (probe.cpp) makes of the facts, for the classes these cases expect.
std::string ExpectedClassOf(const ReplyFacts& facts, bool stream) {
  if (facts.malformed || (stream && !facts.stream_completed)) return "BAD_RESPONSE";
  return facts.content.empty() ? "EMPTY_CONTENT" : "UP";
}

TEST(OpenAIResponsesTest, EveryPublishedCaseReadsAsItsExpectedClass) {
  const json corpus = Corpus();
  int checked = 0;
  for (const json& item : corpus["cases"]) {
    const bool stream = item["probe"] == "stream";
    const std::string body = item["body"];
    const ReplyFacts facts = stream ? ReadStream(body) : ReadResponsesReply(body);
    EXPECT_EQ(ExpectedClassOf(facts, stream), item["expect"].get<std::string>()) << item["id"];
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(OpenAIResponsesTest, ACompletedResponseHasTextModelAndUsage) {
  const ReplyFacts facts = ReadResponsesReply(Body("responses-completed"));
  EXPECT_EQ(facts.content, "Silent circuits hum,  \nThoughts emerge in data streams—  \nDigital dawn breaks.");
  EXPECT_EQ(facts.finish_reason, "completed");
  EXPECT_EQ(facts.served_model, "gpt-4o-2024-08-06");
  ASSERT_TRUE(facts.usage);
  EXPECT_EQ(facts.usage->prompt, 32);
  EXPECT_EQ(facts.usage->completion, 18);
  EXPECT_EQ(facts.usage->reasoning, 0);
}

TEST(OpenAIResponsesTest, TheStreamStartsAtTheFirstDeltaAndEndsAtCompleted) {
  const ReplyFacts facts = ReadStream(Body("responses-stream-completed"));
  EXPECT_TRUE(facts.stream_completed);
  EXPECT_DOUBLE_EQ(*facts.first_content_seconds, 0.2);  // the delta, after response.created
  EXPECT_EQ(facts.content, "In");
  EXPECT_EQ(facts.served_model, "gpt-4o-mini-2024-07-18");  // the final response's model wins
}

TEST(OpenAIResponsesTest, IncompleteIsLengthLimitedAndFailedSaysItsCode) {
  const ReplyFacts incomplete = ReadStream(Body("responses-stream-incomplete"));
  EXPECT_TRUE(incomplete.stream_completed);
  EXPECT_TRUE(incomplete.length_limited);
  EXPECT_EQ(incomplete.finish_reason, "incomplete: max_tokens");

  EXPECT_EQ(ReadStream(Body("responses-stream-failed")).malformed, "response failed: server_error");
  EXPECT_EQ(ReadStream(Body("responses-stream-error-event")).malformed,
            "error event in the stream: ERR_SOMETHING");
  // The recorded stream nests its code in an error object, as the API sends it.
  EXPECT_EQ(ReadStream(Body("responses-stream-insufficient-quota")).malformed,
            "error event in the stream: insufficient_quota");
}

TEST(OpenAIResponsesTest, AStreamWithoutItsEndIsCut) {
  const std::string body = Body("responses-stream-completed");
  const ReplyFacts facts = ReadStream(body.substr(0, body.find("event: response.completed")));
  EXPECT_FALSE(facts.stream_completed);
  EXPECT_EQ(facts.content, "In");
}

TEST(OpenAIResponsesTest, AChatCompletionOrAnErrorIsNotAResponse) {
  EXPECT_TRUE(ReadResponsesReply(R"({"object":"chat.completion","choices":[]})").malformed);
  EXPECT_TRUE(ReadResponsesReply(R"({"error":{"message":"x"}})").malformed);
  EXPECT_TRUE(ReadResponsesReply("[]").malformed);
}

}  // namespace
}  // namespace llm_probe::internal
