// Requests built and exchanges read per API flavour, from canned wire data: no sockets.
#include "llm_probe/probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm_probe/event_stream.h"
#include "llm_probe/provider.h"
#include "llm_probe/sigv4.h"
#include "test_corpus.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

TargetConfig Target(std::string_view provider = "openai") {
  TargetConfig target;
  target.name = "relay";
  target.provider = FindProvider(provider);
  target.base_url = "https://relay.example/v1";
  target.api_key = "sk-unit-0123456789";
  target.api_version = provider == "anthropic" ? "2023-06-01" : "2024-10-21";
  return target;
}

ProbeConfig Probe(ProbeType type, std::string model = "gpt-4o") {
  ProbeConfig probe;
  probe.name = "p";
  probe.type = type;
  probe.model = type == ProbeType::kModels ? "" : std::move(model);
  return probe;
}

HttpExchange Reply(int status, std::string body, std::string content_type = "application/json") {
  HttpExchange exchange;
  exchange.status = status;
  exchange.headers = {{"content-type", std::move(content_type)}};
  exchange.body = std::move(body);
  exchange.arrivals = {{exchange.body.size(), 0.1}};
  exchange.total_seconds = 0.1;
  return exchange;
}

// A stream whose events arrive at the given seconds, one chunk each.
HttpExchange StreamReply(const std::vector<std::pair<double, std::string>>& events) {
  HttpExchange exchange = Reply(200, "", "text/event-stream; charset=utf-8");
  exchange.arrivals.clear();
  for (const auto& [seconds, event] : events) {
    exchange.body += event;
    exchange.arrivals.push_back({exchange.body.size(), seconds});
  }
  return exchange;
}

std::string Chunk(const std::string& delta_json, const std::string& extra = "") {
  return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":" +
         delta_json + ",\"finish_reason\":null}]" + extra + "}\n\n";
}

ProbeResult Interpret(const TargetConfig& target, const ProbeConfig& probe, const HttpExchange& exchange) {
  return InterpretExchange(target, probe, exchange, 1.8e9);
}

TEST(OpenAIRequestTest, ChatCarriesModelPromptTokenLimitAndBearerKey) {
  TargetConfig target = Target();
  target.headers = {{"X-Team", "sre"}};
  ProbeConfig probe = Probe(ProbeType::kChat);
  probe.timeout = std::chrono::milliseconds(2500);
  const HttpRequest request = BuildProbeRequest(target, probe);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://relay.example/v1/chat/completions");
  EXPECT_THAT(request.headers, ::testing::Contains(Pair("Authorization", "Bearer sk-unit-0123456789")));
  EXPECT_THAT(request.headers, ::testing::Contains(Pair("X-Team", "sre")));
  EXPECT_EQ(request.timeout, std::chrono::milliseconds(2500));
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["model"], "gpt-4o");
  EXPECT_EQ(body["max_tokens"], 5);
  EXPECT_EQ(body["stream"], false);
  EXPECT_EQ(body["messages"][0]["content"], "health check test");
  EXPECT_FALSE(body.contains("reasoning_effort"));
}

TEST(OpenAIRequestTest, ModelsIsAPlainGetAndAKeylessTargetSendsNoAuthorization) {
  TargetConfig target = Target();
  target.api_key.clear();
  const HttpRequest request = BuildProbeRequest(target, Probe(ProbeType::kModels));
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "https://relay.example/v1/models");
  EXPECT_TRUE(request.body.empty());
  for (const auto& [name, value] : request.headers) EXPECT_NE(name, "Authorization");
}

TEST(OpenAIRequestTest, EmbeddingsSendsInput) {
  const HttpRequest request = BuildProbeRequest(Target(), Probe(ProbeType::kEmbeddings, "text-embedding-3-small"));
  EXPECT_EQ(request.url, "https://relay.example/v1/embeddings");
  EXPECT_EQ(nlohmann::json::parse(request.body)["input"], "health check test");
}

TEST(AnthropicRequestTest, MessagesUseXApiKeyAndVersion) {
  const HttpRequest request = BuildProbeRequest(Target("anthropic"), Probe(ProbeType::kStream, "claude-sonnet-4-5"));
  EXPECT_EQ(request.url, "https://relay.example/v1/messages");
  EXPECT_THAT(request.headers, ::testing::Contains(Pair("x-api-key", "sk-unit-0123456789")));
  EXPECT_THAT(request.headers, ::testing::Contains(Pair("anthropic-version", "2023-06-01")));
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["max_tokens"], 5);
}

TEST(ChatReplyTest, WellFormedReplyIsUpWithUsageAndServedModel) {
  const auto result = Interpret(Target(), Probe(ProbeType::kChat), Reply(200, R"({
    "id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06",
    "choices":[{"index":0,"message":{"role":"assistant","content":"OK"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,
             "completion_tokens_details":{"reasoning_tokens":0}}})"));
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  EXPECT_EQ(result.served_model, "gpt-4o-2024-08-06");
  ASSERT_TRUE(result.usage);
  EXPECT_EQ(result.usage->prompt, 9);
  EXPECT_EQ(result.usage->completion, 2);
}

TEST(ChatReplyTest, ReasoningThatSpentTheBudgetIsEmptyContent) {
  const auto result = Interpret(Target(), Probe(ProbeType::kChat, "o4-mini"), Reply(200, R"({
    "model":"o4-mini","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"length"}],
    "usage":{"prompt_tokens":9,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":5}}})"));
  EXPECT_EQ(result.result_class, ResultClass::kEmptyContent);
  EXPECT_THAT(result.detail, HasSubstr("token limit"));
  EXPECT_EQ(result.usage->reasoning, 5);
}

TEST(ChatReplyTest, NullContentIsEmptyContent) {
  const auto result = Interpret(Target(), Probe(ProbeType::kChat), Reply(200,
      R"({"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop"}]})"));
  EXPECT_EQ(result.result_class, ResultClass::kEmptyContent);
  EXPECT_FALSE(result.usage.has_value());
}

TEST(ChatReplyTest, ShapesThatAreNotAChatReplyAreBadResponses) {
  for (const char* body : {"", "not json", "[1,2]", R"({"choices":[]})", R"({"choices":"x"})",
                           R"({"error":{"message":"upstream timeout after 30 seconds"}})",
                           "{\"id\":\"x\",\"choices\":["}) {
    const auto result = Interpret(Target(), Probe(ProbeType::kChat), Reply(200, body));
    EXPECT_EQ(result.result_class, ResultClass::kBadResponse) << body;
  }
}

TEST(ChatReplyTest, ExpectContentIsARegexOverTheReply) {
  ProbeConfig probe = Probe(ProbeType::kChat);
  probe.expect_content = "^(OK|ok)$";
  const std::string ok = R"({"model":"gpt-4o","choices":[{"message":{"content":"OK"}}]})";
  const std::string other = R"({"model":"gpt-4o","choices":[{"message":{"content":"I cannot help"}}]})";
  EXPECT_EQ(Interpret(Target(), probe, Reply(200, ok)).result_class, ResultClass::kUp);
  EXPECT_EQ(Interpret(Target(), probe, Reply(200, other)).result_class, ResultClass::kContentMismatch);
}

TEST(ChatReplyTest, AzureDeploymentNamesAreNotCheckedAgainstTheServedModel) {
  const std::string body = R"({"model":"gpt-4o-2024-11-20","choices":[{"message":{"content":"OK"}}]})";
  EXPECT_EQ(Interpret(Target("azure"), Probe(ProbeType::kChat, "prod-chat"), Reply(200, body)).result_class,
            ResultClass::kUp);
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kChat, "prod-chat"), Reply(200, body)).result_class,
            ResultClass::kModelMismatch);
}

TEST(ErrorReplyTest, StatusAndEnvelopeDecideTheClassAndRetryAfterIsRead) {
  HttpExchange exchange = Reply(429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})");
  exchange.headers.emplace_back("retry-after", "20");
  const auto result = Interpret(Target(), Probe(ProbeType::kChat), exchange);
  EXPECT_EQ(result.result_class, ResultClass::kQuotaExceeded);
  EXPECT_EQ(result.http_status, 429);
  EXPECT_EQ(result.retry_after_seconds, 20);
}

TEST(ErrorReplyTest, TransportFailuresKeepNoStatus) {
  HttpExchange exchange;
  exchange.error = TransportError::kTimeout;
  exchange.error_detail = "Operation timed out after 10000 milliseconds";
  const auto result = Interpret(Target(), Probe(ProbeType::kChat), exchange);
  EXPECT_EQ(result.result_class, ResultClass::kTimeout);
  EXPECT_EQ(result.http_status, 0);
}

TEST(ModelsReplyTest, ExpectedModelsAreCheckedOneByOne) {
  ProbeConfig probe = Probe(ProbeType::kModels);
  probe.expect_models = {"gpt-4o", "deepseek-v3.2"};
  const auto result = Interpret(Target(), probe, Reply(200,
      R"({"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"gpt-4o-mini","object":"model"}]})"));
  EXPECT_EQ(result.result_class, ResultClass::kModelNotFound);
  EXPECT_EQ(result.models_listed, 2);
  EXPECT_THAT(result.expected_models, ::testing::ElementsAre(Pair("gpt-4o", true), Pair("deepseek-v3.2", false)));
  EXPECT_THAT(result.detail, HasSubstr("deepseek-v3.2"));
}

TEST(ModelsReplyTest, EmptyListIsEmptyContentAndAnObjectWithoutDataIsBad) {
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kModels), Reply(200, R"({"data":[]})")).result_class,
            ResultClass::kEmptyContent);
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kModels), Reply(200, R"({"models":[]})")).result_class,
            ResultClass::kBadResponse);
}

TEST(EmbeddingsReplyTest, AVectorMustComeBack) {
  const ProbeConfig probe = Probe(ProbeType::kEmbeddings, "text-embedding-3-small");
  EXPECT_EQ(Interpret(Target(), probe, Reply(200,
                R"({"object":"list","model":"text-embedding-3-small","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],"usage":{"prompt_tokens":3,"total_tokens":3}})")).result_class,
            ResultClass::kUp);
  EXPECT_EQ(Interpret(Target(), probe, Reply(200, R"({"model":"text-embedding-3-small","data":[{"embedding":[]}]})")).result_class,
            ResultClass::kEmptyContent);
  EXPECT_EQ(Interpret(Target(), probe, Reply(200, R"({"data":[]})")).result_class, ResultClass::kBadResponse);
}

TEST(StreamReplyTest, TimeToFirstTokenIsTheArrivalOfTheFirstNonEmptyContent) {
  const auto exchange = StreamReply({
      {0.020, Chunk(R"({"role":"assistant","content":""})")},
      {0.050, ": keep-alive\n\n"},
      {0.120, Chunk(R"({"reasoning_content":"thinking"})")},
      {0.300, Chunk(R"({"content":"Hel"})")},
      {0.400, Chunk(R"({"content":"lo"})")},
      {0.500, Chunk(R"({"content":"!"})")},
      {0.550, "data: {\"id\":\"c\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":5,\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n"},
      {0.560, "data: [DONE]\n\n"},
  });
  const auto result = Interpret(Target(), Probe(ProbeType::kStream), exchange);
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  EXPECT_DOUBLE_EQ(*result.time_to_first_token_seconds, 0.300);
  // (5 completion - 1 reasoning) tokens over the 0.26 s from first token to end.
  EXPECT_NEAR(*result.output_tokens_per_second, 4 / 0.26, 1e-9);
  EXPECT_EQ(result.usage->completion, 5);
}

// Deltas as Mistral's thinking models send them (vercel/ai issue-13703-mistral-thinking.chunks.txt,
// also in the corpus): thinking parts are not the answer, the "text" part is.
TEST(StreamReplyTest, ContentPartsCountOnlyTheirTextParts) {
  const auto exchange = StreamReply({
      {0.1, Chunk(R"({"role":"assistant","content":""})")},
      {0.2, Chunk(R"({"content":[{"type":"thinking","thinking":[{"type":"text","text":"Okay, the"}],"closed":true}]})")},
      {0.3, Chunk(R"({"content":[{"type":"thinking","thinking":[{"type":"text","text":"1."}],"closed":true},{"type":"text","text":"3"}]})")},
      {0.4, Chunk(R"({"content":"91"})")},
      {0.5, "data: [DONE]\n\n"},
  });
  auto probe = Probe(ProbeType::kStream);
  probe.expect_content = "^391$";
  const auto result = Interpret(Target(), probe, exchange);
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  EXPECT_DOUBLE_EQ(*result.time_to_first_token_seconds, 0.3);
}

TEST(StreamReplyTest, WithoutUsageTheRateCountsContentEvents) {
  const auto result = Interpret(Target(), Probe(ProbeType::kStream), StreamReply({
      {0.1, Chunk(R"({"content":"a"})")}, {0.2, Chunk(R"({"content":"b"})")}, {0.3, "data: [DONE]\n\n"}}));
  EXPECT_EQ(result.result_class, ResultClass::kUp);
  EXPECT_NEAR(*result.output_tokens_per_second, 2 / 0.2, 1e-9);
  EXPECT_FALSE(result.usage.has_value());
}

TEST(StreamReplyTest, MissingEndErrorEventsAndPlainJsonAreBadResponses) {
  const auto no_done = StreamReply({{0.1, Chunk(R"({"content":"a"})")}});
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kStream), no_done).result_class, ResultClass::kBadResponse);
  const auto error = StreamReply({{0.1, Chunk(R"({"content":"a"})")},
                                  {0.2, "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"}});
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kStream), error).result_class, ResultClass::kBadResponse);
  const auto json = Reply(200, R"({"model":"gpt-4o","choices":[{"message":{"content":"OK"}}]})");
  const auto plain = Interpret(Target(), Probe(ProbeType::kStream), json);
  EXPECT_EQ(plain.result_class, ResultClass::kBadResponse);
  EXPECT_THAT(plain.detail, HasSubstr("not an event stream"));
}

TEST(StreamReplyTest, ACutAfterA200IsABadResponseNotAConnectionError) {
  auto cut = StreamReply({{0.1, Chunk(R"({"content":"a"})")}});
  cut.error = TransportError::kRecv;
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kStream), cut).result_class, ResultClass::kBadResponse);
  auto chat_cut = Reply(200, R"({"choices":[)");
  chat_cut.error = TransportError::kRecv;
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kChat), chat_cut).result_class, ResultClass::kConnectionError);
}

TEST(StreamReplyTest, AnthropicEventsGiveContentUsageAndTiming) {
  const auto exchange = StreamReply({
      {0.01, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n"},
      {0.02, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"},
      {0.03, "event: ping\ndata: {\"type\": \"ping\"}\n\n"},
      {0.25, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"OK\"}}\n\n"},
      {0.35, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
             "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n"},
      {0.36, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
  });
  const auto result = Interpret(Target("anthropic"), Probe(ProbeType::kStream, "claude-sonnet-4-5"), exchange);
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  EXPECT_DOUBLE_EQ(*result.time_to_first_token_seconds, 0.25);
  EXPECT_EQ(result.usage->prompt, 12);
  EXPECT_EQ(result.usage->completion, 3);
  EXPECT_EQ(result.served_model, "claude-sonnet-4-5-20250929");
}

TEST(AnthropicReplyTest, MessageWithTextIsUpAndMaxTokensWithoutTextIsEmpty) {
  const TargetConfig target = Target("anthropic");
  const ProbeConfig probe = Probe(ProbeType::kChat, "claude-sonnet-4-5");
  EXPECT_EQ(Interpret(target, probe, Reply(200, R"({"type":"message","model":"claude-sonnet-4-5","content":[{"type":"text","text":"OK"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":2}})")).result_class,
            ResultClass::kUp);
  const auto empty = Interpret(target, probe, Reply(200, R"({"type":"message","model":"claude-sonnet-4-5","content":[{"type":"thinking","thinking":"..."}],"stop_reason":"max_tokens"})"));
  EXPECT_EQ(empty.result_class, ResultClass::kEmptyContent);
  EXPECT_EQ(Interpret(target, probe, Reply(200, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")).result_class,
            ResultClass::kBadResponse);
}

// Gemini's native API: the key in x-goog-api-key and never in the URL, the model in the path,
// maxOutputTokens; the request shapes of Google's API reference (models.generateContent,
// models.streamGenerateContent, models.embedContent, models.list).
TEST(GeminiRequestTest, EveryProbeTypeHasItsMethodAndTheKeyStaysOutOfTheUrl) {
  TargetConfig target = Target("gemini");
  target.base_url = "https://generativelanguage.googleapis.com/v1beta";
  const std::string base = target.base_url;
  const HttpRequest models = BuildProbeRequest(target, Probe(ProbeType::kModels));
  EXPECT_EQ(models.method, "GET");
  EXPECT_EQ(models.url, base + "/models?pageSize=1000");
  const HttpRequest chat = BuildProbeRequest(target, Probe(ProbeType::kChat, "gemini-2.5-flash"));
  EXPECT_EQ(chat.method, "POST");
  EXPECT_EQ(chat.url, base + "/models/gemini-2.5-flash:generateContent");
  const auto body = nlohmann::json::parse(chat.body);
  EXPECT_EQ(body["contents"][0]["parts"][0]["text"], "health check test");
  EXPECT_EQ(body["generationConfig"]["maxOutputTokens"], 5);
  EXPECT_EQ(BuildProbeRequest(target, Probe(ProbeType::kStream, "gemini-2.5-flash")).url,
            base + "/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  const HttpRequest embed = BuildProbeRequest(target, Probe(ProbeType::kEmbeddings, "text-embedding-004"));
  EXPECT_EQ(embed.url, base + "/models/text-embedding-004:embedContent");
  EXPECT_EQ(nlohmann::json::parse(embed.body)["content"]["parts"][0]["text"], "health check test");
  for (const HttpRequest& request : {models, chat, embed}) {
    EXPECT_THAT(request.headers, ::testing::Contains(Pair("x-goog-api-key", "sk-unit-0123456789")));
    EXPECT_EQ(request.url.find("sk-unit"), std::string::npos);
    for (const auto& [name, value] : request.headers) EXPECT_NE(name, "Authorization");
  }
}

TEST(GeminiReplyTest, ModelListNamesLoseTheirPrefixAndAnEmptyListHasNoKey) {
  ProbeConfig probe = Probe(ProbeType::kModels);
  probe.expect_models = {"gemini-2.5-flash", "gemini-2.5-pro"};
  const auto result = Interpret(Target("gemini"), probe, Reply(200,
      R"({"models":[{"name":"models/gemini-2.5-flash","version":"001"},{"name":"models/text-embedding-004"}],"nextPageToken":"Ch1tb2RlbHM"})"));
  EXPECT_EQ(result.result_class, ResultClass::kModelNotFound);
  EXPECT_EQ(result.models_listed, 2);
  EXPECT_THAT(result.expected_models,
              ::testing::ElementsAre(Pair("gemini-2.5-flash", true), Pair("gemini-2.5-pro", false)));
  EXPECT_THAT(result.detail, HasSubstr("the list goes on past page 1"));
  EXPECT_EQ(Interpret(Target("gemini"), Probe(ProbeType::kModels), Reply(200, "{}")).result_class,
            ResultClass::kEmptyContent);
  EXPECT_EQ(Interpret(Target("gemini"), Probe(ProbeType::kModels), Reply(200, R"({"data":[{"id":"x"}],"models":{}})")).result_class,
            ResultClass::kBadResponse);
}

// models.list is paged (https://ai.google.dev/api/models#method:-models.list): the published
// pair of real/gemini-native.json, page 2 fetched with page 1's nextPageToken.
class GeminiModelPagesTest : public ::testing::Test {
 protected:
  static HttpExchange Page(const std::string& id) {
    return Reply(200, test_corpus::CorpusCase("real/gemini-native.json", id)["body"]);
  }
  GeminiModelPagesTest() { target_.base_url = "https://generativelanguage.googleapis.com/v1beta"; }
  ProbeConfig Expecting(std::vector<std::string> models) const {
    ProbeConfig probe = Probe(ProbeType::kModels);
    probe.expect_models = std::move(models);
    return probe;
  }

  TargetConfig target_ = Target("gemini");
  const HttpExchange page1_ = Page("gemini-native-models-page-1");
  const HttpExchange page2_ = Page("gemini-native-models-page-2");
};

TEST_F(GeminiModelPagesTest, TheNextPageIsAskedForWithThePageToken) {
  const ProbeConfig probe = Expecting({"gemini-2.5-flash"});
  const HttpRequest first = BuildProbeRequest(target_, probe);
  const auto second = NextPageRequest(target_, probe, first, page1_, 1);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->url, target_.base_url + "/models?pageSize=1000&pageToken=Ch9tb2RlbHMvdmVvLTMuMS1nZW5lcmF0ZS1wcmV2aWV3");
  EXPECT_EQ(second->headers, first.headers);  // the key goes along, in its header
  EXPECT_EQ(second->method, "GET");
  // The last page names no next one.
  EXPECT_FALSE(NextPageRequest(target_, probe, first, page2_, 2));
  // An opaque token is percent-encoded.
  const auto encoded = NextPageRequest(target_, probe, first, Reply(200, R"({"models":[],"nextPageToken":"a+b/c="})"), 1);
  ASSERT_TRUE(encoded);
  EXPECT_THAT(encoded->url, ::testing::EndsWith("&pageToken=a%2Bb%2Fc%3D"));
}

TEST_F(GeminiModelPagesTest, TheWalkEndsAtAFailedPageAtThePageCapAndForListsThatComeWhole) {
  const ProbeConfig probe = Expecting({"gemini-2.5-flash"});
  const HttpRequest first = BuildProbeRequest(target_, probe);
  EXPECT_FALSE(NextPageRequest(target_, probe, first, page1_, kMaxListPages));
  EXPECT_TRUE(NextPageRequest(target_, probe, first, page1_, kMaxListPages - 1));
  HttpExchange failed = Reply(503, page1_.body);
  EXPECT_FALSE(NextPageRequest(target_, probe, first, failed, 1));
  HttpExchange cut = page1_;
  cut.error = TransportError::kRecv;
  EXPECT_FALSE(NextPageRequest(target_, probe, first, cut, 1));
  EXPECT_FALSE(NextPageRequest(target_, probe, first, Reply(200, "not json"), 1));
  // OpenAI's list comes whole, whatever its body says.
  EXPECT_FALSE(NextPageRequest(Target(), probe, BuildProbeRequest(Target(), probe), page1_, 1));
}

TEST_F(GeminiModelPagesTest, ExpectedModelsAreLookedForOnEveryPage) {
  const HttpExchange walk[] = {page1_, page2_};
  const ProbeConfig both = Expecting({"gemini-2.5-flash", "gemini-2.5-flash-native-audio-latest"});
  const ProbeResult found = InterpretExchanges(target_, both, walk, 1.8e9);
  EXPECT_EQ(found.result_class, ResultClass::kUp) << found.detail;
  EXPECT_EQ(found.models_listed, 8);
  EXPECT_THAT(found.expected_models, ::testing::ElementsAre(Pair("gemini-2.5-flash", true),
                                                            Pair("gemini-2.5-flash-native-audio-latest", true)));
  EXPECT_DOUBLE_EQ(found.duration_seconds, 0.2);  // the whole walk

  // Page 1 alone: the model on page 2 is not there yet, and the detail says the list goes on.
  const ProbeResult first_only = Interpret(target_, both, page1_);
  EXPECT_EQ(first_only.result_class, ResultClass::kModelNotFound);
  EXPECT_THAT(first_only.detail, HasSubstr("the list goes on past page 1"));

  const ProbeResult absent = InterpretExchanges(target_, Expecting({"gemini-9"}), walk, 1.8e9);
  EXPECT_EQ(absent.result_class, ResultClass::kModelNotFound);
  EXPECT_EQ(absent.detail, "not listed: gemini-9");
  EXPECT_THAT(absent.expected_models, ::testing::ElementsAre(Pair("gemini-9", false)));
}

TEST_F(GeminiModelPagesTest, APageThatFailsDecidesTheClass) {
  const HttpExchange throttled = Reply(429, test_corpus::CorpusCase("real/gemini-native.json", "gemini-native-per-minute-quota")["body"]);
  const HttpExchange walk[] = {page1_, throttled};
  const ProbeResult result = InterpretExchanges(target_, Expecting({"gemini-2.5-flash"}), walk, 1.8e9);
  EXPECT_EQ(result.result_class, ResultClass::kRateLimited);
  EXPECT_EQ(result.http_status, 429);
  EXPECT_DOUBLE_EQ(result.duration_seconds, 0.2);
  const HttpExchange garbled[] = {page1_, Reply(200, "<html>")};
  EXPECT_EQ(InterpretExchanges(target_, Expecting({"gemini-2.5-flash"}), garbled, 1.8e9).result_class,
            ResultClass::kBadResponse);
}

TEST(GeminiReplyTest, ChatEmbeddingsAndTheirEmptyForms) {
  const TargetConfig target = Target("gemini");
  const auto chat = Interpret(target, Probe(ProbeType::kChat, "gemini-2.5-flash"), Reply(200,
      R"({"candidates":[{"content":{"parts":[{"text":"OK"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1,"thoughtsTokenCount":3},"modelVersion":"gemini-2.5-flash"})"));
  EXPECT_EQ(chat.result_class, ResultClass::kUp) << chat.detail;
  EXPECT_EQ(chat.served_model, "gemini-2.5-flash");
  EXPECT_EQ(chat.usage->completion, 4);
  EXPECT_EQ(Interpret(target, Probe(ProbeType::kChat, "gemini-2.5-flash"), Reply(200,
                R"({"candidates":[{"content":{"parts":[{"text":"OK"}]},"finishReason":"STOP"}],"modelVersion":"gemini-2.0-flash"})")).result_class,
            ResultClass::kModelMismatch);
  const ProbeConfig embed = Probe(ProbeType::kEmbeddings, "text-embedding-004");
  EXPECT_EQ(Interpret(target, embed, Reply(200, R"({"embedding":{"values":[0.013,-0.008]}})")).result_class,
            ResultClass::kUp);
  EXPECT_EQ(Interpret(target, embed, Reply(200, R"({"embedding":{"values":[]}})")).result_class,
            ResultClass::kEmptyContent);
  EXPECT_EQ(Interpret(target, embed, Reply(200, R"({"data":[{"embedding":[0.1]}]})")).result_class,
            ResultClass::kBadResponse);
}

TEST(GeminiReplyTest, CrlfStreamIsCompleteOnlyWithAFinishReason) {
  const std::string first =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"O\"}],\"role\":\"model\"}}],\"modelVersion\":\"models/gemini-2.5-flash\"}\r\n\r\n";
  const std::string last =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"K\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2},\"modelVersion\":\"models/gemini-2.5-flash\"}\r\n\r\n";
  const ProbeConfig probe = Probe(ProbeType::kStream, "gemini-2.5-flash");
  const auto result = Interpret(Target("gemini"), probe, StreamReply({{0.2, first}, {0.3, last}}));
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  EXPECT_DOUBLE_EQ(*result.time_to_first_token_seconds, 0.2);
  EXPECT_EQ(result.served_model, "gemini-2.5-flash");
  EXPECT_EQ(result.usage->completion, 2);
  const auto cut = Interpret(Target("gemini"), probe, StreamReply({{0.2, first}}));
  EXPECT_EQ(cut.result_class, ResultClass::kBadResponse);
}

TEST(GeminiReplyTest, ErrorsAreClassedByTheirGoogleRpcDetails) {
  const auto bad_key = Interpret(Target("gemini"), Probe(ProbeType::kChat, "gemini-2.5-flash"), Reply(400,
      R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}})"));
  EXPECT_EQ(bad_key.result_class, ResultClass::kAuthError);
  EXPECT_EQ(Interpret(Target("gemini"), Probe(ProbeType::kChat, "gemini-2.5-flash"), Reply(404,
                R"({"error":{"code":404,"message":"models/gemini-9 is not found","status":"NOT_FOUND"}})")).result_class,
            ResultClass::kModelNotFound);
}

// OpenAI's Responses API (`api: responses`): POST {base}/responses with input and
// max_output_tokens (API reference, "Create a model response"); its readers are
// openai_responses.cpp's (openai_responses_test reads the published replies).
TEST(ResponsesRequestTest, ChatAndStreamGoToResponsesWithMaxOutputTokens) {
  ProbeConfig probe = Probe(ProbeType::kStream, "gpt-5-mini");
  probe.api = ProbeApi::kResponses;
  probe.max_tokens = 64;
  probe.reasoning_effort = "low";
  const HttpRequest request = BuildProbeRequest(Target(), probe);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://relay.example/v1/responses");
  EXPECT_THAT(request.headers, ::testing::Contains(Pair("Authorization", "Bearer sk-unit-0123456789")));
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["input"], "health check test");
  EXPECT_EQ(body["max_output_tokens"], 64);
  EXPECT_EQ(body["reasoning"]["effort"], "low");
  EXPECT_EQ(body["stream"], true);
  EXPECT_FALSE(body.contains("messages"));
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_TRUE(FindProvider("openai")->Supports(ProbeApi::kResponses));
  EXPECT_FALSE(FindProvider("anthropic")->Supports(ProbeApi::kResponses));
}

TEST(ResponsesReplyTest, CompletedIsUpIncompleteWithoutTextIsEmptyAndFailedIsBad) {
  ProbeConfig probe = Probe(ProbeType::kChat, "gpt-5-mini");
  probe.api = ProbeApi::kResponses;
  const auto up = Interpret(Target(), probe, Reply(200,
      R"({"id":"resp_1","object":"response","status":"completed","model":"gpt-5-mini-2025-08-07","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"OK"}]}],"usage":{"input_tokens":8,"output_tokens":20,"output_tokens_details":{"reasoning_tokens":18}}})"));
  EXPECT_EQ(up.result_class, ResultClass::kUp) << up.detail;
  EXPECT_EQ(up.usage->reasoning, 18);
  EXPECT_EQ(Interpret(Target(), probe, Reply(200,
                R"({"object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-5-mini","output":[{"type":"reasoning","summary":[]}]})")).result_class,
            ResultClass::kEmptyContent);
  EXPECT_EQ(Interpret(Target(), probe, Reply(200,
                R"({"object":"response","status":"failed","error":{"code":"server_error","message":"x"},"model":"gpt-5-mini","output":[]})")).result_class,
            ResultClass::kBadResponse);
  // The same body read as Chat Completions has no choices.
  EXPECT_EQ(Interpret(Target(), Probe(ProbeType::kChat, "gpt-5-mini"), Reply(200,
                R"({"object":"response","status":"completed","model":"gpt-5-mini","output":[]})")).result_class,
            ResultClass::kBadResponse);
}

// Only a SigV4-signed provider completes a copy of its request for each run; the others send
// the request built once per config.
TEST(ProviderTableTest, OnlySignedRequestsAreCompletedPerRun) {
  for (const Provider* provider : Providers()) {
    TargetConfig target = Target(provider->name);
    target.aws = {.region = "us-east-1", .access_key_id = "AKIDEXAMPLE", .secret_access_key = "secret", .session_token = {}, .key_files = {}};
    const HttpRequest built = BuildProbeRequest(target, Probe(ProbeType::kChat, "gpt-4o"));
    EXPECT_EQ(provider->RequestIsPerRun(), provider->aws_signed) << provider->name;
    EXPECT_EQ(CompleteRequestForRun(target, built, 1.8e9).has_value(), provider->aws_signed) << provider->name;
  }
}

TargetConfig BedrockTarget() {
  TargetConfig target = Target("bedrock");
  target.base_url = "https://bedrock-runtime.us-east-1.amazonaws.com";
  target.api_key.clear();
  target.aws = {.region = "us-east-1",
                .access_key_id = "AKIDEXAMPLE",
                .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                .session_token = "session-token-example",
                .key_files = {}};
  return target;
}

std::string HeaderOf(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

// Bedrock's Converse API (API reference: Converse, ConverseStream): the model id percent-encoded
// in the path, maxTokens in inferenceConfig, and a SigV4 signature made for each run with the
// signing name "bedrock" and the configured region.
TEST(BedrockRequestTest, ConverseIsSignedForEachRunAsBedrockInTheRegion) {
  const TargetConfig target = BedrockTarget();
  const ProbeConfig probe = Probe(ProbeType::kChat, "anthropic.claude-3-5-haiku-20241022-v1:0");
  const HttpRequest built = BuildProbeRequest(target, probe);
  EXPECT_EQ(built.url, "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
  EXPECT_EQ(nlohmann::json::parse(built.body)["inferenceConfig"]["maxTokens"], 5);
  EXPECT_EQ(nlohmann::json::parse(built.body)["messages"][0]["content"][0]["text"], "health check test");
  EXPECT_EQ(HeaderOf(built, "authorization"), "");  // nothing signed before a run

  const auto first = CompleteRequestForRun(target, built, 1.8e9);
  const auto later = CompleteRequestForRun(target, built, 1.8e9 + 30);
  ASSERT_TRUE(first && later);
  EXPECT_THAT(HeaderOf(*first, "authorization"),
              ::testing::StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20270115/us-east-1/bedrock/aws4_request, SignedHeaders="));
  EXPECT_EQ(HeaderOf(*first, "x-amz-date"), "20270115T080000Z");
  EXPECT_EQ(HeaderOf(*first, "x-amz-security-token"), "session-token-example");
  EXPECT_NE(HeaderOf(*first, "authorization"), HeaderOf(*later, "authorization"));
  // The signature is the signer's over the request as sent (sigv4_test checks the signer
  // against AWS's suite).
  HttpRequest resigned = built;
  SignV4(resigned, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-example"},
         {"us-east-1", "bedrock"}, 1800000000);
  EXPECT_EQ(HeaderOf(resigned, "authorization"), HeaderOf(*first, "authorization"));
  EXPECT_EQ(BuildProbeRequest(target, Probe(ProbeType::kStream, "meta.llama3-8b-instruct-v1:0")).url,
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/meta.llama3-8b-instruct-v1%3A0/converse-stream");
}

std::string Frame(const std::string& event_type, const std::string& payload) {
  EventStreamMessage message;
  message.headers = {{":event-type", EventStreamValueType::kString, 0, event_type},
                     {":content-type", EventStreamValueType::kString, 0, "application/json"},
                     {":message-type", EventStreamValueType::kString, 0, "event"}};
  message.payload = payload;
  return EncodeEventStreamMessage(message);
}

HttpExchange EventStreamReply(const std::vector<std::pair<double, std::string>>& frames) {
  HttpExchange exchange = StreamReply(frames);
  exchange.headers = {{"content-type", "application/vnd.amazon.eventstream"}};
  return exchange;
}

TEST(BedrockReplyTest, EventStreamFramesGiveContentTimingAndUsage) {
  const ProbeConfig probe = Probe(ProbeType::kStream, "anthropic.claude-3-5-haiku-20241022-v1:0");
  const std::vector<std::pair<double, std::string>> frames = {
      {0.05, Frame("messageStart", R"({"p":"abcd","role":"assistant"})")},
      {0.20, Frame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"O"},"p":"ab"})")},
      {0.30, Frame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"K"},"p":"ab"})")},
      {0.31, Frame("contentBlockStop", R"({"contentBlockIndex":0,"p":"ab"})")},
      {0.32, Frame("messageStop", R"({"p":"abc","stopReason":"end_turn"})")},
      {0.33, Frame("metadata", R"({"metrics":{"latencyMs":300},"p":"a","usage":{"inputTokens":8,"outputTokens":2,"totalTokens":10}})")},
  };
  const auto result = Interpret(BedrockTarget(), probe, EventStreamReply(frames));
  EXPECT_EQ(result.result_class, ResultClass::kUp) << result.detail;
  EXPECT_DOUBLE_EQ(*result.time_to_first_token_seconds, 0.20);
  EXPECT_EQ(result.usage->completion, 2);

  // One byte of the last frame's message CRC flipped; the stream cut inside a frame; no messageStop.
  auto damaged = frames;
  damaged.back().second.back() ^= 0x01;
  EXPECT_EQ(Interpret(BedrockTarget(), probe, EventStreamReply(damaged)).result_class, ResultClass::kBadResponse);
  auto cut = frames;
  cut.back().second.resize(cut.back().second.size() / 2);
  EXPECT_EQ(Interpret(BedrockTarget(), probe, EventStreamReply(cut)).result_class, ResultClass::kBadResponse);
  const std::vector<std::pair<double, std::string>> unfinished(frames.begin(), frames.begin() + 3);
  EXPECT_EQ(Interpret(BedrockTarget(), probe, EventStreamReply(unfinished)).result_class, ResultClass::kBadResponse);
  // SSE where event-stream frames belong.
  EXPECT_EQ(Interpret(BedrockTarget(), probe, StreamReply({{0.1, "data: {}\n\n"}})).result_class,
            ResultClass::kBadResponse);
}

// An error inside a 200 stream is BAD_RESPONSE (issue 16), its detail naming what the upstream
// called it, on the published replies: a Responses `error` event and a Bedrock exception frame.
TEST(StreamErrorTest, AnErrorInsideAStreamNamesTheUpstreamsErrorInTheDetail) {
  ProbeConfig responses = Probe(ProbeType::kStream, "gpt-5-nano");
  responses.api = ProbeApi::kResponses;
  const std::string quota_body =
      test_corpus::CorpusCase("real/openai-responses.json", "responses-stream-insufficient-quota")["body"];
  const auto quota = Interpret(Target(), responses, StreamReply({{0.1, quota_body}}));
  EXPECT_EQ(quota.result_class, ResultClass::kBadResponse);
  EXPECT_EQ(quota.detail, "error event in the stream: insufficient_quota");

  const nlohmann::json frame_case = test_corpus::CorpusCase("real/bedrock.json", "bedrock-converse-stream-service-unavailable-frame");
  EventStreamMessage exception;
  for (const auto& [name, value] : frame_case["events"][0]["headers"].items()) {
    exception.headers.push_back({name, EventStreamValueType::kString, 0, value.get<std::string>()});
  }
  exception.payload = frame_case["events"][0]["payload"];
  const ProbeConfig stream = Probe(ProbeType::kStream, "anthropic.claude-3-haiku-20240307-v1:0");
  const std::vector<std::pair<double, std::string>> frames = {
      {0.1, Frame("messageStart", R"({"role":"assistant"})")},
      {0.2, Frame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"O"}})")},
      {0.3, EncodeEventStreamMessage(exception)}};
  const auto unavailable = Interpret(BedrockTarget(), stream, EventStreamReply(frames));
  EXPECT_EQ(unavailable.result_class, ResultClass::kBadResponse);
  EXPECT_EQ(unavailable.detail, "exception frame in the stream: serviceUnavailableException");

  // The name is upstream text: redacted with the target's secrets, then cut.
  const TargetConfig target = BedrockTarget();
  for (EventStreamHeader& header : exception.headers) {
    if (header.name == ":exception-type") header.bytes = "echo " + target.aws.secret_access_key + std::string(500, 'x');
  }
  const auto echoed = InterpretExchange(target, stream, EventStreamReply({{0.1, EncodeEventStreamMessage(exception)}}),
                                        1.8e9, Redactor({target.aws.secret_access_key}));
  EXPECT_EQ(echoed.result_class, ResultClass::kBadResponse);
  EXPECT_THAT(echoed.detail, ::testing::StartsWith("exception frame in the stream: echo <redacted>xxx"));
  EXPECT_THAT(echoed.detail, ::testing::Not(HasSubstr("EXAMPLEKEY")));
  EXPECT_LE(echoed.detail.size(), 200u + 3);  // "..." marks the cut
}

TEST(BedrockReplyTest, TheErrorTypeHeaderDecidesTheClassNotTheStatus) {
  HttpExchange not_ready = Reply(429, R"({"message":"Model is not ready for inference."})");
  not_ready.headers.emplace_back("x-amzn-ErrorType", "ModelNotReadyException:http://internal.amazon.com/coral/com.amazon.bedrock/");
  EXPECT_EQ(Interpret(BedrockTarget(), Probe(ProbeType::kChat, "m"), not_ready).result_class, ResultClass::kOverloaded);
  HttpExchange throttled = Reply(429, R"({"message":"Too many requests, please wait before trying again."})");
  throttled.headers.emplace_back("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");
  EXPECT_EQ(Interpret(BedrockTarget(), Probe(ProbeType::kChat, "m"), throttled).result_class, ResultClass::kRateLimited);
  // A per-day quota under the same type will not clear with a retry (bedrock_test: the
  // published one).
  HttpExchange daily = Reply(429, R"({"message":"Too many tokens per day, please wait before trying again."})");
  daily.headers.emplace_back("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");
  EXPECT_EQ(Interpret(BedrockTarget(), Probe(ProbeType::kChat, "m"), daily).result_class, ResultClass::kQuotaExceeded);
}

}  // namespace
}  // namespace llm_probe
