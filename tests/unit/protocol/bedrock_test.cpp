// The Bedrock Converse reader, stream messages and error classes on the published replies of
// tests/testdata/real/bedrock.json, the stream's events encoded as event-stream frames
// and decoded again.
#include "bedrock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_corpus.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

constexpr const char* kCorpus = "real/bedrock.json";

json Corpus() { return test_corpus::LoadCorpus(kCorpus); }
json Case(const std::string& id) { return test_corpus::CorpusCase(kCorpus, id); }

// One event of the corpus as the frame AWS sends: string headers, CRCs computed.
std::string Frame(const json& event) {
  std::string headers;
  for (const auto& [name, value] : event["headers"].items()) {
    headers += test_corpus::EventStreamStringHeader(name, value.get<std::string>());
  }
  return test_corpus::EventStreamFrame(headers, event["payload"]);
}

ReplyFacts ReadFrames(const std::string& bytes) {
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> messages;
  decoder.Feed(bytes, messages);
  EXPECT_EQ(decoder.error(), EventStreamError::kNone);
  ReplyFacts facts;
  double seconds = 0;
  for (const EventStreamMessage& message : messages) ReadBedrockStreamMessage(message, seconds += 0.1, facts);
  return facts;
}

HeaderList Headers(const json& item) {
  HeaderList headers;
  for (const auto& [name, value] : item["headers"].items()) headers.emplace_back(name, value);
  return headers;
}

TEST(BedrockTest, EveryPublishedErrorGetsItsExpectedClass) {
  const json corpus = Corpus();
  int checked = 0;
  for (const json& item : corpus["cases"]) {
    if (item["status"].get<int>() < 400) continue;
    const Classification classification =
        ClassifyBedrockError(item["status"], Headers(item), item["body"].get<std::string>());
    EXPECT_EQ(ResultClassName(classification.result_class), item["expect"].get<std::string>())
        << item["id"] << ": " << classification.detail;
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

// Issue 16's table makes ThrottlingException RATE_LIMITED; a per-day quota under that type is
// ours to refine: no retry within the day clears it, as Gemini's per-day QuotaFailure.
TEST(BedrockTest, APerDayThrottleIsOutOfQuotaAndAPerMinuteOneIsThrottled) {
  for (const auto& [id, expected] : {std::pair{"bedrock-throttling", ResultClass::kRateLimited},
                                     std::pair{"bedrock-throttling-tokens-per-day", ResultClass::kQuotaExceeded}}) {
    const json item = Case(id);
    const Classification classification = ClassifyBedrockError(item["status"], Headers(item), item["body"].get<std::string>());
    EXPECT_EQ(classification.result_class, expected) << id;
    EXPECT_THAT(classification.detail, ::testing::HasSubstr("(ThrottlingException)")) << id;
  }
}

// The type decides over wording that would mean another class ("Access denied" on a
// ResourceNotFoundException), and the credential types are all AUTH_ERROR.
TEST(BedrockTest, CredentialAndModelErrorsReadAsPublished) {
  for (const auto& [id, expected] : {std::pair{"bedrock-unrecognized-client", ResultClass::kAuthError},
                                     std::pair{"bedrock-expired-token", ResultClass::kAuthError},
                                     std::pair{"bedrock-resource-not-found", ResultClass::kModelNotFound},
                                     std::pair{"bedrock-legacy-model-not-found", ResultClass::kModelNotFound}}) {
    const json item = Case(id);
    EXPECT_EQ(ClassifyBedrockError(item["status"], Headers(item), item["body"].get<std::string>()).result_class, expected)
        << id;
  }
}

TEST(BedrockTest, APublishedConverseReplyHasTextStopReasonAndUsage) {
  const ReplyFacts facts = ReadBedrockReply(Case("bedrock-converse-success")["body"].get<std::string>());
  EXPECT_FALSE(facts.malformed);
  EXPECT_TRUE(facts.content.starts_with("Let me count the \"r\"s"));
  EXPECT_EQ(facts.finish_reason, "end_turn");
  ASSERT_TRUE(facts.usage);
  EXPECT_EQ(facts.usage->prompt, 22);
  EXPECT_EQ(facts.usage->completion, 57);
}

TEST(BedrockTest, AWholePublishedConverseStreamEndsAtMessageStopWithMetadataUsage) {
  const json item = Case("bedrock-converse-stream-complete");
  std::string bytes;
  for (const json& event : item["events"]) bytes += Frame(event);
  const ReplyFacts facts = ReadFrames(bytes);
  EXPECT_FALSE(facts.malformed);
  EXPECT_TRUE(facts.stream_completed);
  EXPECT_EQ(facts.finish_reason, "end_turn");
  EXPECT_EQ(facts.content_events, 12);
  EXPECT_DOUBLE_EQ(*facts.first_content_seconds, 0.2);  // "Let", after messageStart
  EXPECT_TRUE(facts.content.starts_with("Let me count"));
  ASSERT_TRUE(facts.usage);
  EXPECT_EQ(facts.usage->prompt, 22);
  EXPECT_EQ(facts.usage->completion, 55);
}

TEST(BedrockTest, APublishedExceptionFrameIsAFailureNamingItsType) {
  const json item = Case("bedrock-converse-stream-service-unavailable-frame");
  ASSERT_FALSE(item["replay"].get<bool>());
  const ReplyFacts facts = ReadFrames(Frame(item["events"][0]));
  EXPECT_EQ(facts.malformed, "exception frame in the stream: serviceUnavailableException");
}

TEST(BedrockTest, TheErrorTypeDecidesNotTheStatus) {
  // ModelNotReadyException arrives as a 429 (Bedrock API reference), yet waiting for a
  // throttle is not what it needs.
  EXPECT_EQ(ClassifyBedrockError(429, {{"x-amzn-ErrorType", "ModelNotReadyException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
                                 R"({"message":"Model is not ready"})")
                .result_class,
            ResultClass::kOverloaded);
  // The same type read from the body's __type when the header is missing.
  EXPECT_EQ(ClassifyBedrockError(400, {}, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"x"})")
                .result_class,
            ResultClass::kAuthError);
  // A type it does not know leaves the status to decide.
  EXPECT_EQ(ClassifyBedrockError(500, {{"x-amzn-ErrorType", "NewException"}}, "{}").result_class,
            ResultClass::kServerError);
}

TEST(BedrockTest, TheStreamStartReadsAsPublished) {
  const json item = Case("bedrock-converse-stream-start");
  ASSERT_FALSE(item["replay"].get<bool>());
  std::string bytes;
  for (const json& event : item["events"]) bytes += Frame(event);
  const ReplyFacts facts = ReadFrames(bytes);
  EXPECT_EQ(facts.content, "I see");
  EXPECT_EQ(facts.content_events, 2);
  EXPECT_DOUBLE_EQ(*facts.first_content_seconds, 0.2);  // the first delta, after messageStart
  EXPECT_FALSE(facts.malformed);
  EXPECT_FALSE(facts.stream_completed) << "the excerpt ends before messageStop";
}

// The ConverseStream response syntax (API reference) for the end of a stream and for an
// exception frame; no raw frames of them are in the corpus yet.
TEST(BedrockTest, MessageStopEndsTheStreamAndMetadataCarriesUsage) {
  const json stop = {{"headers", {{":event-type", "messageStop"}, {":content-type", "application/json"}, {":message-type", "event"}}},
                     {"payload", R"({"stopReason":"max_tokens"})"}};
  const json metadata = {{"headers", {{":event-type", "metadata"}, {":content-type", "application/json"}, {":message-type", "event"}}},
                         {"payload", R"({"usage":{"inputTokens":12,"outputTokens":32,"totalTokens":44},"metrics":{"latencyMs":410}})"}};
  const ReplyFacts facts = ReadFrames(Frame(stop) + Frame(metadata));
  EXPECT_TRUE(facts.stream_completed);
  EXPECT_TRUE(facts.length_limited);
  ASSERT_TRUE(facts.usage);
  EXPECT_EQ(facts.usage->prompt, 12);
  EXPECT_EQ(facts.usage->completion, 32);

  const json exception = {{"headers", {{":exception-type", "throttlingException"}, {":content-type", "application/json"}, {":message-type", "exception"}}},
                          {"payload", R"({"message":"Too many tokens, please wait before trying again."})"}};
  EXPECT_EQ(ReadFrames(Frame(exception)).malformed, "exception frame in the stream: throttlingException");
}

TEST(BedrockTest, AConverseReplyWithoutAnOutputMessageIsMalformed) {
  EXPECT_TRUE(ReadBedrockReply(R"({"message":"The provided model identifier is invalid."})").malformed);
  EXPECT_TRUE(ReadBedrockReply(R"({"output":{}})").malformed);
  const ReplyFacts facts = ReadBedrockReply(
      R"({"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}})");
  EXPECT_EQ(facts.content, "Hi");
  EXPECT_EQ(facts.finish_reason, "end_turn");
  EXPECT_FALSE(facts.served_model);
}

}  // namespace
}  // namespace llm_probe::internal
