// The mock upstream over loopback: wire formats, scripted faults, scenario state, control API.
#include "mock_upstream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

#include "llm_probe/event_stream.h"
#include "llm_probe/sigv4.h"

namespace mock_upstream {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct SseEvent {
  std::string event;  // empty for OpenAI's unnamed events
  std::string data;
};

struct Sse {
  std::vector<SseEvent> events;
  int comments = 0;
};

Sse ParseSse(const std::string& body) {
  Sse sse;
  std::size_t start = 0;
  while (start < body.size()) {
    const std::size_t end = std::min(body.find("\n\n", start), body.size());
    SseEvent event;
    std::istringstream block(body.substr(start, end - start));
    bool comment_only = true;
    for (std::string line; std::getline(block, line);) {
      if (line.starts_with(":")) continue;
      comment_only = false;
      if (line.starts_with("event: ")) event.event = line.substr(7);
      if (line.starts_with("data: ")) event.data = line.substr(6);
    }
    if (comment_only) {
      ++sse.comments;
    } else {
      sse.events.push_back(event);
    }
    start = end + 2;
  }
  return sse;
}

std::vector<std::string> EventNames(const Sse& sse) {
  std::vector<std::string> names;
  for (const SseEvent& event : sse.events) names.push_back(event.event);
  return names;
}

// A body received chunk by chunk, with when each part arrived.
struct TimedBody {
  httplib::Error error = httplib::Error::Success;
  std::string body;
  Clock::time_point start;
  std::vector<std::pair<Clock::time_point, std::size_t>> arrivals;  // time, body size then

  Clock::time_point ArrivalOf(const std::string& needle) const {
    const std::size_t offset = body.find(needle);
    EXPECT_NE(offset, std::string::npos) << needle;
    for (const auto& [time, size] : arrivals) {
      if (size > offset) return time;
    }
    return Clock::time_point::max();
  }
};

class MockUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = mock_.Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(10);
  }

  httplib::Result Post(const std::string& path, const json& body, const httplib::Headers& headers = {}) {
    return client_->Post(path.c_str(), headers, body.dump(), "application/json");
  }

  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }

  json PostForJson(const std::string& path, const json& body) {
    const auto result = Post(path, body);
    EXPECT_TRUE(result) << httplib::to_string(result.error());
    return result ? json::parse(result->body) : json();
  }

  TimedBody PostTimed(const std::string& path, const json& body) {
    TimedBody timed;
    httplib::Request request;
    request.method = "POST";
    request.path = path;
    request.body = body.dump();
    request.set_header("Content-Type", "application/json");
    request.content_receiver = [&timed](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
      timed.body.append(data, size);
      timed.arrivals.emplace_back(Clock::now(), timed.body.size());
      return true;
    };
    timed.start = Clock::now();
    timed.error = client_->send(request).error();
    return timed;
  }

  MockUpstream mock_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

const json kChat = {{"model", "gpt-4o"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 50}};

json StreamRequest(bool include_usage) {
  json request = kChat;
  request["stream"] = true;
  if (include_usage) request["stream_options"] = {{"include_usage", true}};
  return request;
}

std::vector<std::string> Keys(const json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST_F(MockUpstreamTest, UrlsCarryTheScenario) {
  EXPECT_EQ(mock_.BaseUrl("x"), "http://127.0.0.1:" + std::to_string(port_) + "/s/x/v1");
  EXPECT_EQ(mock_.RootUrl("x"), "http://127.0.0.1:" + std::to_string(port_) + "/s/x");
  EXPECT_EQ(mock_.port(), port_);
}

TEST_F(MockUpstreamTest, ChatCompletionHasTheOpenAiShape) {
  const auto result = Post("/s/ok/v1/chat/completions", kChat);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  EXPECT_FALSE(result->has_header("x-ratelimit-limit-requests"));
  const json reply = json::parse(result->body);
  EXPECT_THAT(reply["id"].get<std::string>(), ::testing::StartsWith("chatcmpl-"));
  EXPECT_EQ(reply["object"], "chat.completion");
  EXPECT_TRUE(reply["created"].is_number_integer());
  EXPECT_EQ(reply["model"], "gpt-4o");
  ASSERT_EQ(reply["choices"].size(), 1u);
  EXPECT_EQ(reply["choices"][0]["index"], 0);
  EXPECT_EQ(reply["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "OK");
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(reply["usage"], json::parse(R"({"prompt_tokens":8,"completion_tokens":1,"total_tokens":9,
                                           "completion_tokens_details":{"reasoning_tokens":0}})"));
}

TEST_F(MockUpstreamTest, ServedModelOverridesTheEcho) {
  mock_.SetBehaviour("m", Behaviour{.served_model = "gpt-4o-mini-2024-07-18"});
  EXPECT_EQ(PostForJson("/s/m/v1/chat/completions", kChat)["model"], "gpt-4o-mini-2024-07-18");
}

TEST_F(MockUpstreamTest, UsageNumbersAndOmission) {
  mock_.SetBehaviour("u", std::vector<Behaviour>{{.prompt_tokens = 12, .completion_tokens = 3}, {.omit_usage = true}});
  const json usage = PostForJson("/s/u/v1/chat/completions", kChat)["usage"];
  EXPECT_EQ(usage["prompt_tokens"], 12);
  EXPECT_EQ(usage["completion_tokens"], 3);
  EXPECT_EQ(usage["total_tokens"], 15);
  EXPECT_FALSE(PostForJson("/s/u/v1/chat/completions", kChat).contains("usage"));
}

TEST_F(MockUpstreamTest, ModelsListsTheScriptedModels) {
  mock_.SetBehaviour("models", std::vector<Behaviour>{{.models = {"a", "b"}}, {.body = BodyKind::kEmptyModelList}});
  const auto result = Get("/s/models/v1/models");
  ASSERT_TRUE(result);
  const json list = json::parse(result->body);
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 2u);
  EXPECT_EQ(list["data"][1]["id"], "b");
  EXPECT_EQ(list["data"][1]["object"], "model");
  EXPECT_EQ(Keys(list["data"][1]), (std::vector<std::string>{"created", "id", "object", "owned_by"}));
  EXPECT_EQ(json::parse(Get("/s/models/v1/models")->body)["data"], json::array());
}

TEST_F(MockUpstreamTest, EmbeddingsHaveEightFloats) {
  const json reply = PostForJson("/s/e/v1/embeddings", {{"model", "text-embedding-3-small"}, {"input", "hi"}});
  EXPECT_EQ(reply["object"], "list");
  EXPECT_EQ(reply["model"], "text-embedding-3-small");
  ASSERT_EQ(reply["data"].size(), 1u);
  EXPECT_EQ(reply["data"][0]["object"], "embedding");
  EXPECT_EQ(reply["data"][0]["index"], 0);
  ASSERT_EQ(reply["data"][0]["embedding"].size(), 8u);
  EXPECT_TRUE(reply["data"][0]["embedding"][0].is_number_float());
  EXPECT_EQ(reply["usage"], json::parse(R"({"prompt_tokens":8,"total_tokens":8})"));
}

TEST_F(MockUpstreamTest, AnthropicMessageHasItsShape) {
  const json reply = PostForJson("/s/a/v1/messages", {{"model", "claude-sonnet-4-5"}, {"max_tokens", 5}});
  EXPECT_THAT(reply["id"].get<std::string>(), ::testing::StartsWith("msg_"));
  EXPECT_EQ(reply["type"], "message");
  EXPECT_EQ(reply["role"], "assistant");
  EXPECT_EQ(reply["model"], "claude-sonnet-4-5");
  EXPECT_EQ(reply["content"], json::parse(R"([{"type":"text","text":"OK"}])"));
  EXPECT_EQ(reply["stop_reason"], "end_turn");
  EXPECT_EQ(reply["usage"], json::parse(R"({"input_tokens":8,"output_tokens":1})"));
}

TEST_F(MockUpstreamTest, TokenLimitCutsTheReply) {
  mock_.SetBehaviour("limit", Behaviour{.content = "one two three four"});
  const json openai = PostForJson("/s/limit/v1/chat/completions", {{"model", "gpt-4o"}, {"max_tokens", 2}});
  EXPECT_EQ(openai["choices"][0]["message"]["content"], "one two");
  EXPECT_EQ(openai["choices"][0]["finish_reason"], "length");
  const json anthropic = PostForJson("/s/limit/v1/messages", {{"model", "claude"}, {"max_tokens", 3}});
  EXPECT_EQ(anthropic["content"][0]["text"], "one two three");
  EXPECT_EQ(anthropic["stop_reason"], "max_tokens");
}

TEST_F(MockUpstreamTest, ReasoningSpendsTheBudgetFirst) {
  mock_.SetBehaviour("reasoning", Behaviour{.stream = {.reasoning_tokens = 10}});
  const json reply =
      PostForJson("/s/reasoning/v1/chat/completions", {{"model", "o4-mini"}, {"max_completion_tokens", 6}});
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "");
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(reply["usage"]["completion_tokens"], 6);
  EXPECT_EQ(reply["usage"]["completion_tokens_details"]["reasoning_tokens"], 6);
}

TEST_F(MockUpstreamTest, AzurePathsNeedTheApiVersion) {
  const auto chat = Post("/s/az/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
                         {{"messages", json::array()}});
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200);
  EXPECT_EQ(json::parse(chat->body)["model"], "gpt4o-prod");
  const auto embeddings =
      Post("/s/az/openai/deployments/embed/embeddings?api-version=2024-10-21", {{"input", "hi"}});
  ASSERT_TRUE(embeddings);
  EXPECT_EQ(json::parse(embeddings->body)["data"][0]["embedding"].size(), 8u);
  const auto models = Get("/s/az/openai/models?api-version=2024-10-21");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["object"], "list");
  const auto unversioned = Post("/s/az/openai/deployments/gpt4o-prod/chat/completions", kChat);
  ASSERT_TRUE(unversioned);
  EXPECT_EQ(unversioned->status, 404);
  EXPECT_EQ(mock_.Requests("az")[0].params.at("api-version"), "2024-10-21");
}

TEST_F(MockUpstreamTest, UnknownPathGetsTheOpenAi404) {
  const auto result = Post("/s/x/v1/completions", kChat);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  const json error = json::parse(result->body)["error"];
  EXPECT_EQ(Keys(error), (std::vector<std::string>{"code", "message", "param", "type"}));
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("/v1/completions"));
}

TEST_F(MockUpstreamTest, UnparsableBodyIs400) {
  const auto result = client_->Post("/s/x/v1/chat/completions", "{not json", "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(json::parse(result->body)["error"]["type"], "invalid_request_error");
}

TEST_F(MockUpstreamTest, OpenAiErrorEnvelopeCarriesTheScriptAndHeaders) {
  mock_.SetBehaviour("e", Behaviour{.status = 401,
                                    .error_type = "invalid_request_error",
                                    .error_code = "invalid_api_key",
                                    .error_message = "Incorrect API key provided",
                                    .headers = {{"x-request-id", "req_1"}}});
  const auto result = Post("/s/e/v1/chat/completions", kChat);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(result->get_header_value("x-request-id"), "req_1");
  EXPECT_EQ(json::parse(result->body), json::parse(R"({"error":{"message":"Incorrect API key provided",
      "type":"invalid_request_error","param":null,"code":"invalid_api_key"}})"));
}

TEST_F(MockUpstreamTest, AnthropicErrorEnvelopeDefaultsTheTypeFromTheStatus) {
  mock_.SetBehaviour("e", Behaviour{.status = 529, .error_message = "Overloaded"});
  const auto result = Post("/s/e/v1/messages", {{"model", "claude"}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 529);
  EXPECT_EQ(json::parse(result->body),
            json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
}

TEST_F(MockUpstreamTest, RateLimitHeadersFollowTheProvider) {
  mock_.SetBehaviour("rl", std::vector<Behaviour>{{.ratelimit_headers = true},
                                                  {.status = 429,
                                                   .error_code = "rate_limit_exceeded",
                                                   .headers = {{"Retry-After", "1"}},
                                                   .ratelimit_headers = true}});
  const auto ok = Post("/s/rl/v1/chat/completions", kChat);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->get_header_value("x-ratelimit-limit-requests"), "10000");
  EXPECT_EQ(ok->get_header_value("x-ratelimit-remaining-requests"), "9999");
  EXPECT_EQ(ok->get_header_value("x-ratelimit-reset-requests"), "6m0s");
  EXPECT_EQ(ok->get_header_value("x-ratelimit-remaining-tokens"), "1999991");
  EXPECT_FALSE(ok->has_header("anthropic-ratelimit-requests-limit"));
  const auto limited = Post("/s/rl/v1/chat/completions", kChat);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(json::parse(limited->body)["error"]["code"], "rate_limit_exceeded");

  const auto anthropic = Post("/s/rl/v1/messages", {{"model", "claude"}});
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(anthropic->get_header_value("anthropic-ratelimit-requests-remaining"), "9997");
  EXPECT_TRUE(std::regex_match(anthropic->get_header_value("anthropic-ratelimit-tokens-reset"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_FALSE(anthropic->has_header("x-ratelimit-limit-requests"));
}

TEST_F(MockUpstreamTest, BodyKindsOnChat) {
  mock_.SetBehaviour("kinds", std::vector<Behaviour>{{.body = BodyKind::kEmptyContent},
                                                     {.body = BodyKind::kNoChoices},
                                                     {.body = BodyKind::kMalformedJson},
                                                     {.status = 502, .body = BodyKind::kHtml},
                                                     {.body = BodyKind::kErrorEnvelope, .error_code = "quota"},
                                                     {.body = BodyKind::kJsonArray}});
  const std::string path = "/s/kinds/v1/chat/completions";
  const json empty = PostForJson(path, kChat);
  EXPECT_EQ(empty["choices"][0]["message"]["content"], "");
  EXPECT_EQ(empty["choices"][0]["finish_reason"], "length");

  EXPECT_EQ(PostForJson(path, kChat)["choices"], json::array());

  const auto malformed = Post(path, kChat);
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 200);
  EXPECT_EQ(malformed->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(json::parse(malformed->body, nullptr, false).is_discarded());
  EXPECT_THAT(malformed->body, ::testing::StartsWith("{\"id\":"));

  const auto html = Post(path, kChat);
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 502);
  EXPECT_THAT(html->get_header_value("Content-Type"), ::testing::StartsWith("text/html"));
  EXPECT_THAT(html->body, HasSubstr("502 Bad Gateway"));

  const auto envelope = Post(path, kChat);
  ASSERT_TRUE(envelope);
  EXPECT_EQ(envelope->status, 200);
  EXPECT_EQ(json::parse(envelope->body)["error"]["code"], "quota");

  const json array = PostForJson(path, kChat);
  ASSERT_TRUE(array.is_array());
  EXPECT_EQ(array[0]["object"], "chat.completion");
}

TEST_F(MockUpstreamTest, BodyKindsOnAnthropicAndEmbeddings) {
  mock_.SetBehaviour("kinds", std::vector<Behaviour>{{.body = BodyKind::kEmptyContent}, {.body = BodyKind::kNoChoices}});
  const json anthropic_empty = PostForJson("/s/kinds/v1/messages", {{"model", "claude"}});
  EXPECT_EQ(anthropic_empty["content"][0]["text"], "");
  EXPECT_EQ(anthropic_empty["stop_reason"], "max_tokens");
  EXPECT_EQ(PostForJson("/s/kinds/v1/messages", {{"model", "claude"}})["content"], json::array());
  const json embedding_empty = PostForJson("/s/kinds/v1/embeddings", {{"input", "x"}});
  EXPECT_EQ(embedding_empty["data"][0]["embedding"], json::array());
  EXPECT_EQ(PostForJson("/s/kinds/v1/embeddings", {{"input", "x"}})["data"], json::array());
}

TEST_F(MockUpstreamTest, OpenAiStreamFollowsTheChunkSequence) {
  mock_.SetBehaviour("s", Behaviour{.content = "Hello world", .stream = {.token_count = 3, .reasoning_tokens = 2}});
  const auto result = Post("/s/s/v1/chat/completions", StreamRequest(true));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
  const Sse sse = ParseSse(result->body);
  EXPECT_GE(sse.comments, 1);
  ASSERT_EQ(sse.events.size(), 9u);  // role, 2 reasoning, 3 content, finish, usage, [DONE]
  std::vector<json> chunks;
  for (std::size_t i = 0; i + 1 < sse.events.size(); ++i) chunks.push_back(json::parse(sse.events[i].data));
  EXPECT_EQ(sse.events.back().data, "[DONE]");
  for (const json& chunk : chunks) EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_EQ(chunks[0]["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_TRUE(chunks[1]["choices"][0]["delta"].contains("reasoning_content"));
  EXPECT_TRUE(chunks[2]["choices"][0]["delta"].contains("reasoning_content"));
  std::string content;
  for (int i = 3; i < 6; ++i) content += chunks[i]["choices"][0]["delta"]["content"].get<std::string>();
  EXPECT_EQ(content, "Hello world Hello");
  EXPECT_EQ(chunks[6]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(chunks[7]["choices"], json::array());
  EXPECT_EQ(chunks[7]["usage"]["completion_tokens"], 5);
  EXPECT_EQ(chunks[7]["usage"]["completion_tokens_details"]["reasoning_tokens"], 2);
}

TEST_F(MockUpstreamTest, OpenAiStreamWithoutIncludeUsageHasNoUsageChunk) {
  mock_.SetBehaviour("s", Behaviour{.stream = {.token_count = 2, .keepalive_comments = false}});
  json request = StreamRequest(false);
  request["max_tokens"] = 1;  // the script's token count wins
  const Sse sse = ParseSse(Post("/s/s/v1/chat/completions", request)->body);
  EXPECT_EQ(sse.comments, 0);
  ASSERT_EQ(sse.events.size(), 5u);  // role, 2 content, finish, [DONE]
  EXPECT_EQ(json::parse(sse.events[3].data)["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(sse.events[4].data, "[DONE]");
}

TEST_F(MockUpstreamTest, OpenAiStreamErrorEndsWithoutDone) {
  mock_.SetBehaviour("s", Behaviour{.error_type = "server_error",
                                    .error_message = "upstream exploded",
                                    .stream = {.token_count = 5, .error_after_tokens = 2}});
  const auto result = Post("/s/s/v1/chat/completions", StreamRequest(true));
  ASSERT_TRUE(result);
  const Sse sse = ParseSse(result->body);
  ASSERT_EQ(sse.events.size(), 4u);  // role, 2 content, error
  EXPECT_EQ(json::parse(sse.events.back().data),
            json::parse(R"({"error":{"message":"upstream exploded","type":"server_error"}})"));
  EXPECT_THAT(result->body, ::testing::Not(HasSubstr("[DONE]")));
}

TEST_F(MockUpstreamTest, AnthropicStreamFollowsTheEventSequence) {
  mock_.SetBehaviour("s", Behaviour{.content = "Hi there", .stream = {.token_count = 2, .reasoning_tokens = 1}});
  const auto result = Post("/s/s/v1/messages", {{"model", "claude"}, {"max_tokens", 50}, {"stream", true}});
  ASSERT_TRUE(result);
  const Sse sse = ParseSse(result->body);
  EXPECT_THAT(EventNames(sse),
              ElementsAre("message_start", "content_block_start", "ping", "content_block_delta",
                          "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta",
                          "content_block_delta", "content_block_stop", "message_delta", "message_stop"));
  for (const SseEvent& event : sse.events) EXPECT_EQ(json::parse(event.data)["type"], event.event);
  EXPECT_EQ(json::parse(sse.events[0].data)["message"]["usage"]["input_tokens"], 8);
  EXPECT_EQ(json::parse(sse.events[1].data)["content_block"]["type"], "thinking");
  EXPECT_EQ(json::parse(sse.events[3].data)["delta"]["type"], "thinking_delta");
  EXPECT_EQ(json::parse(sse.events[6].data)["content_block"]["type"], "text");
  EXPECT_EQ(json::parse(sse.events[7].data)["delta"], json::parse(R"({"type":"text_delta","text":"Hi"})"));
  EXPECT_EQ(json::parse(sse.events[8].data)["delta"]["text"], " there");
  const json message_delta = json::parse(sse.events[10].data);
  EXPECT_EQ(message_delta["delta"]["stop_reason"], "end_turn");
  EXPECT_EQ(message_delta["usage"]["output_tokens"], 3);
}

TEST_F(MockUpstreamTest, AnthropicStreamErrorEvent) {
  mock_.SetBehaviour("s", Behaviour{.error_message = "Overloaded", .stream = {.error_after_tokens = 1}});
  const Sse sse = ParseSse(Post("/s/s/v1/messages", {{"model", "claude"}, {"stream", true}})->body);
  EXPECT_THAT(EventNames(sse),
              ElementsAre("message_start", "content_block_start", "ping", "content_block_delta", "error"));
  EXPECT_EQ(json::parse(sse.events.back().data),
            json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
}

TEST_F(MockUpstreamTest, StreamTimingFollowsTheScript) {
  mock_.SetBehaviour("t", Behaviour{.content = "a b c d",
                                    .stream = {.first_token_delay_ms = 200, .token_count = 4, .token_interval_ms = 50}});
  const TimedBody timed = PostTimed("/s/t/v1/chat/completions", StreamRequest(true));
  ASSERT_EQ(timed.error, httplib::Error::Success);
  EXPECT_GE(timed.ArrivalOf(R"("content":"a")") - timed.start, milliseconds(200));
  EXPECT_GE(timed.ArrivalOf(R"("content":" d")") - timed.start, milliseconds(200 + 3 * 50));
  // Each event is its own chunk, so the role chunk arrives long before the first token.
  EXPECT_LT(timed.ArrivalOf(R"("role":"assistant")"), timed.ArrivalOf(R"("content":"a")"));
}

TEST_F(MockUpstreamTest, DelayHoldsTheResponse) {
  mock_.SetBehaviour("slow", Behaviour{.delay_ms = 150});
  const auto start = Clock::now();
  ASSERT_TRUE(Post("/s/slow/v1/chat/completions", kChat));
  EXPECT_GE(Clock::now() - start, milliseconds(150));
}

TEST_F(MockUpstreamTest, ResetMidBodyIsAnError) {
  mock_.SetBehaviour("reset", Behaviour{.reset_mid_body = true});
  const auto result = Post("/s/reset/v1/chat/completions", kChat);
  EXPECT_FALSE(result);
  EXPECT_EQ(result.error(), httplib::Error::Read);
}

TEST_F(MockUpstreamTest, StreamCutLeavesTheChunkedBodyUnfinished) {
  mock_.SetBehaviour("cut", Behaviour{.stream = {.token_count = 5, .cut_after_tokens = 2}});
  const TimedBody timed = PostTimed("/s/cut/v1/chat/completions", StreamRequest(true));
  EXPECT_NE(timed.error, httplib::Error::Success);
  const Sse sse = ParseSse(timed.body);
  EXPECT_EQ(sse.events.size(), 3u);  // role and 2 tokens
  EXPECT_THAT(timed.body, ::testing::Not(HasSubstr("[DONE]")));
}

TEST_F(MockUpstreamTest, CycleRunsAfterTheQueuedOneShots) {
  mock_.SetBehaviour("c", std::vector<Behaviour>{{.status = 200}, {.status = 500}});
  mock_.Enqueue("c", Behaviour{.status = 401});
  mock_.Enqueue("c", Behaviour{.status = 403});
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) statuses.push_back(Post("/s/c/v1/chat/completions", kChat)->status);
  EXPECT_THAT(statuses, ElementsAre(401, 403, 200, 500, 200));
}

TEST_F(MockUpstreamTest, UnprefixedPathsUseTheDefaultScenario) {
  mock_.SetBehaviour("default", Behaviour{.status = 503});
  EXPECT_EQ(Post("/v1/chat/completions", kChat)->status, 503);
  EXPECT_EQ(Post("/s/never-configured/v1/chat/completions", kChat)->status, 200);
  EXPECT_EQ(mock_.RequestCount("default"), 1);
  EXPECT_EQ(mock_.RequestCount("never-configured"), 1);
}

TEST_F(MockUpstreamTest, RecordsRequestsPerScenario) {
  ASSERT_TRUE(Post("/s/rec/v1/chat/completions", kChat, {{"Authorization", "Bearer sk-test"}, {"X-Team", "sre"}}));
  ASSERT_TRUE(Get("/s/rec/v1/models"));
  ASSERT_TRUE(Get("/s/other/v1/models"));
  EXPECT_EQ(mock_.RequestCount("rec"), 2);
  const auto requests = mock_.Requests("rec");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer sk-test");
  EXPECT_EQ(requests[0].headers.at("x-team"), "sre");
  EXPECT_EQ(requests[0].headers.count("remote_addr"), 0u);
  EXPECT_EQ(json::parse(requests[0].body), kChat);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].path, "/v1/models");
  EXPECT_TRUE(mock_.Requests("nobody").empty());
}

TEST_F(MockUpstreamTest, ControlApiScriptsScenarios) {
  const auto put = client_->Put("/_mock/scenarios/ctl", R"([{"status": 200}, {"status": 500}])", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200);
  const auto enqueue = client_->Post("/_mock/scenarios/ctl/enqueue",
                                     R"({"status": 429, "headers": {"Retry-After": "1"}})", "application/json");
  ASSERT_TRUE(enqueue);
  EXPECT_EQ(enqueue->status, 200);
  const auto limited = Post("/s/ctl/v1/chat/completions", kChat);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  EXPECT_EQ(Post("/s/ctl/v1/chat/completions", kChat)->status, 200);
  EXPECT_EQ(Post("/s/ctl/v1/chat/completions", kChat)->status, 500);
  const auto count = Get("/_mock/scenarios/ctl/requests");
  ASSERT_TRUE(count);
  EXPECT_EQ(json::parse(count->body), json::parse(R"({"count":3})"));
}

TEST_F(MockUpstreamTest, ControlApiRejectsBadBehaviours) {
  const auto unknown = client_->Put("/_mock/scenarios/ctl", R"({"stream": {"tokens": 3}})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_THAT(unknown->body, HasSubstr("stream.tokens"));
  const auto not_json = client_->Post("/_mock/scenarios/ctl/enqueue", "{", "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  const auto bad_body = client_->Put("/_mock/scenarios/ctl", R"({"body": "weird"})", "application/json");
  EXPECT_EQ(bad_body->status, 400);
  EXPECT_EQ(mock_.RequestCount("ctl"), 0);
}

TEST(BehaviourFromJson, MapsEveryKey) {
  const Behaviour behaviour = BehaviourFromJson(json::parse(R"({
    "status": 429, "delay_ms": 5, "body": "error_envelope", "error_type": "requests",
    "error_code": "rate_limit_exceeded", "error_message": "slow down", "hang": true, "reset_mid_body": true,
    "served_model": "m", "content": "c", "models": ["x"], "headers": {"Retry-After": "2"},
    "omit_usage": true, "prompt_tokens": 3, "completion_tokens": 4, "ratelimit_headers": true,
    "stream": {"first_token_delay_ms": 1, "token_count": 2, "token_interval_ms": 3, "cut_after_tokens": 4,
               "error_after_tokens": 5, "keepalive_comments": false, "reasoning_tokens": 6}})"));
  EXPECT_EQ(behaviour.status, 429);
  EXPECT_EQ(behaviour.delay_ms, 5);
  EXPECT_EQ(behaviour.body, BodyKind::kErrorEnvelope);
  EXPECT_EQ(behaviour.error_type, "requests");
  EXPECT_EQ(behaviour.error_code, "rate_limit_exceeded");
  EXPECT_EQ(behaviour.error_message, "slow down");
  EXPECT_TRUE(behaviour.hang);
  EXPECT_TRUE(behaviour.reset_mid_body);
  EXPECT_EQ(behaviour.served_model, "m");
  EXPECT_EQ(behaviour.content, "c");
  EXPECT_THAT(behaviour.models, ElementsAre("x"));
  EXPECT_EQ(behaviour.headers.at("Retry-After"), "2");
  EXPECT_TRUE(behaviour.omit_usage);
  EXPECT_EQ(behaviour.prompt_tokens, 3);
  EXPECT_EQ(behaviour.completion_tokens, 4);
  EXPECT_TRUE(behaviour.ratelimit_headers);
  EXPECT_EQ(behaviour.stream.first_token_delay_ms, 1);
  EXPECT_EQ(behaviour.stream.token_count, 2);
  EXPECT_EQ(behaviour.stream.token_interval_ms, 3);
  EXPECT_EQ(behaviour.stream.cut_after_tokens, 4);
  EXPECT_EQ(behaviour.stream.error_after_tokens, 5);
  EXPECT_FALSE(behaviour.stream.keepalive_comments);
  EXPECT_EQ(behaviour.stream.reasoning_tokens, 6);
}

TEST(BehaviourFromJson, NamesEveryBodyKind) {
  const std::vector<std::pair<std::string, BodyKind>> kinds = {
      {"normal", BodyKind::kNormal},           {"empty_content", BodyKind::kEmptyContent},
      {"no_choices", BodyKind::kNoChoices},    {"malformed_json", BodyKind::kMalformedJson},
      {"html", BodyKind::kHtml},               {"error_envelope", BodyKind::kErrorEnvelope},
      {"json_array", BodyKind::kJsonArray},    {"empty_model_list", BodyKind::kEmptyModelList}};
  for (const auto& [name, kind] : kinds) EXPECT_EQ(BehaviourFromJson({{"body", name}}).body, kind) << name;
}

TEST(BehaviourFromJson, RejectsUnknownKeysAndWrongTypes) {
  EXPECT_THROW(BehaviourFromJson({{"stauts", 200}}), std::invalid_argument);
  EXPECT_THROW(BehaviourFromJson({{"stream", {{"delay", 1}}}}), std::invalid_argument);
  EXPECT_THROW(BehaviourFromJson({{"hang", "yes"}}), std::invalid_argument);
  EXPECT_THROW(BehaviourFromJson({{"status", 1000}}), std::invalid_argument);
  EXPECT_THROW(BehaviourFromJson(json::array()), std::invalid_argument);
  EXPECT_EQ(CycleFromJson(json::parse(R"([{"status": 500}, {}])")).size(), 2u);
}

TEST(DemoScenarios, ParseAndCoverTheDemo) {
  std::ifstream file(std::string(LLM_PROBE_SOURCE_DIR) + "/tools/mock_upstream/demo_scenarios.json");
  ASSERT_TRUE(file);
  const json scenarios = json::parse(file);
  for (const auto& [name, cycle] : scenarios.items()) EXPECT_NO_THROW(CycleFromJson(cycle)) << name;
  EXPECT_EQ(CycleFromJson(scenarios.at("slow"))[0].delay_ms, 700);
  const auto flaky = CycleFromJson(scenarios.at("flaky"));
  ASSERT_EQ(flaky.size(), 4u);
  EXPECT_EQ(flaky[3].status, 429);
  EXPECT_EQ(flaky[3].headers.at("Retry-After"), "1");
  const Behaviour streaming = CycleFromJson(scenarios.at("streaming"))[0];
  EXPECT_EQ(streaming.stream.first_token_delay_ms, 250);
  EXPECT_EQ(streaming.stream.token_count, 20);
  EXPECT_EQ(streaming.stream.token_interval_ms, 15);
}

TEST(MockUpstreamStop, ReleasesHangingRequests) {
  constexpr int kHanging = 24;
  MockUpstream mock;
  const int port = mock.Start();
  mock.SetBehaviour("hang", Behaviour{.hang = true});
  std::vector<std::future<httplib::Result>> clients;
  for (int i = 0; i < kHanging; ++i) {
    clients.push_back(std::async(std::launch::async, [port] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(30);
      return client.Post("/s/hang/v1/chat/completions", kChat.dump(), "application/json");
    }));
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (mock.RequestCount("hang") < kHanging && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_EQ(mock.RequestCount("hang"), kHanging);
  EXPECT_EQ(clients.front().wait_for(milliseconds(100)), std::future_status::timeout);
  for (auto& client : clients) EXPECT_EQ(client.wait_for(milliseconds(0)), std::future_status::timeout);
  mock.Stop();
  for (auto& client : clients) {
    ASSERT_EQ(client.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    const httplib::Result result = client.get();
    if (result) {
      EXPECT_EQ(result->status, 503);
    }
  }
}

TEST(MockUpstreamStop, EndsARunningStream) {
  MockUpstream mock;
  const int port = mock.Start();
  mock.SetBehaviour("long", Behaviour{.stream = {.first_token_delay_ms = 60000}});
  std::promise<void> streaming;
  auto client = std::async(std::launch::async, [port, &streaming] {
    httplib::Client http("127.0.0.1", port);
    httplib::Request request;
    request.method = "POST";
    request.path = "/s/long/v1/chat/completions";
    request.body = StreamRequest(false).dump();
    bool first = true;
    request.content_receiver = [&](const char*, std::size_t, std::uint64_t, std::uint64_t) {
      if (std::exchange(first, false)) streaming.set_value();
      return true;
    };
    return http.send(request).error();
  });
  ASSERT_EQ(streaming.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  mock.Stop();
  ASSERT_EQ(client.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(client.get(), httplib::Error::Success);
}

// Gemini native API (samples: tests/testdata/real/gemini-native.json).
const httplib::Headers kGeminiKey = {{"x-goog-api-key", kGeminiApiKey}};
const json kGeminiChat = {{"contents", {{{"role", "user"}, {"parts", {{{"text", "hi"}}}}}}},
                          {"generationConfig", {{"maxOutputTokens", 50}}}};

// The data of each SSE event, split at Google's CRLF CRLF; the flag says every event, the last
// included, ended so (an LF-only blank line anywhere makes it false).
std::pair<std::vector<json>, bool> GeminiEvents(const std::string& body) {
  std::vector<json> events;
  std::size_t start = 0;
  while (start < body.size()) {
    const std::size_t end = std::min(body.find("\r\n\r\n", start), body.size());
    const std::string block = body.substr(start, end - start);
    EXPECT_TRUE(block.starts_with("data: ")) << block;
    events.push_back(json::parse(block.substr(6), nullptr, false));
    start = end + 4;
  }
  const bool crlf = body.ends_with("\r\n\r\n") && body.find("\n\n") == std::string::npos;
  return {events, crlf};
}

TEST_F(MockUpstreamTest, GeminiGenerateContentHasGooglesShape) {
  const auto result = Post("/s/g/v1beta/models/gemini-2.5-flash:generateContent", kGeminiChat, kGeminiKey);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  const json reply = json::parse(result->body);
  ASSERT_EQ(reply["candidates"].size(), 1u);
  EXPECT_EQ(reply["candidates"][0]["content"], json::parse(R"({"parts":[{"text":"OK"}],"role":"model"})"));
  EXPECT_EQ(reply["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(reply["modelVersion"], "gemini-2.5-flash");
  EXPECT_EQ(reply["usageMetadata"]["promptTokenCount"], 8);
  EXPECT_EQ(reply["usageMetadata"]["candidatesTokenCount"], 1);
  EXPECT_EQ(reply["usageMetadata"]["totalTokenCount"], 9);
  EXPECT_TRUE(reply["responseId"].is_string());
}

TEST_F(MockUpstreamTest, GeminiThinkingSpendsTheOutputLimit) {
  mock_.SetBehaviour("t", Behaviour{.stream = {.reasoning_tokens = 5}});
  json request = kGeminiChat;
  request["generationConfig"]["maxOutputTokens"] = 4;
  const json reply = json::parse(Post("/s/t/v1beta/models/gemini-2.5-pro:generateContent", request, kGeminiKey)->body);
  // As in gemini-native-max-tokens-thinking: MAX_TOKENS, a content without parts, all spent thinking.
  EXPECT_EQ(reply["candidates"][0]["content"], json::parse(R"({"role":"model"})"));
  EXPECT_EQ(reply["candidates"][0]["finishReason"], "MAX_TOKENS");
  EXPECT_EQ(reply["usageMetadata"]["thoughtsTokenCount"], 4);
  EXPECT_EQ(reply["usageMetadata"]["candidatesTokenCount"], 0);
}

TEST_F(MockUpstreamTest, GeminiRejectsAMissingOrWrongKeyAsGoogleDoes) {
  const std::string path = "/s/k/v1beta/models/gemini-2.5-flash:generateContent";
  for (const httplib::Headers& headers : {httplib::Headers{}, httplib::Headers{{"x-goog-api-key", "wrong"}},
                                          httplib::Headers{{"Authorization", std::string("Bearer ") + kGeminiApiKey}}}) {
    const auto result = Post(path, kGeminiChat, headers);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 400);
    const json error = json::parse(result->body)["error"];
    EXPECT_EQ(error["code"], 400);
    EXPECT_EQ(error["status"], "INVALID_ARGUMENT");
    EXPECT_EQ(error["message"], "API key not valid. Please pass a valid API key.");
    EXPECT_EQ(error["details"][0]["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    EXPECT_EQ(error["details"][0]["reason"], "API_KEY_INVALID");
  }
  EXPECT_EQ(Post(path + "?key=" + kGeminiApiKey, kGeminiChat)->status, 200);  // the query form Google also takes
  EXPECT_EQ(Post(path, kGeminiChat, kGeminiKey)->status, 200);
}

TEST_F(MockUpstreamTest, GeminiModelsArePaged) {
  mock_.SetBehaviour("p", Behaviour{.models = {"gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004"}});
  client_->set_default_headers(kGeminiKey);
  const json first = json::parse(Get("/s/p/v1beta/models?pageSize=2")->body);
  ASSERT_EQ(first["models"].size(), 2u);
  EXPECT_EQ(first["models"][0]["name"], "models/gemini-2.5-flash");
  EXPECT_EQ(first["models"][1]["supportedGenerationMethods"], json::parse(R"(["generateContent","countTokens"])"));
  ASSERT_TRUE(first["nextPageToken"].is_string());
  const json second =
      json::parse(Get("/s/p/v1beta/models?pageSize=2&pageToken=" + first["nextPageToken"].get<std::string>())->body);
  ASSERT_EQ(second["models"].size(), 1u);
  EXPECT_EQ(second["models"][0]["name"], "models/text-embedding-004");
  EXPECT_FALSE(second.contains("nextPageToken"));
  EXPECT_EQ(json::parse(Get("/s/p/v1beta/models")->body)["models"].size(), 3u);  // default page: 50
  // models_page_size (here through the control API's JSON) caps a page whatever pageSize asks.
  mock_.SetBehaviour("q", BehaviourFromJson(json::parse(R"({"models": ["a", "b", "c"], "models_page_size": 2})")));
  const json capped = json::parse(Get("/s/q/v1beta/models?pageSize=1000")->body);
  EXPECT_EQ(capped["models"].size(), 2u);
  EXPECT_EQ(capped["nextPageToken"], "page-2");
}

TEST_F(MockUpstreamTest, GeminiEmbedContent) {
  const json reply = json::parse(
      Post("/s/e/v1beta/models/text-embedding-004:embedContent", {{"content", {{"parts", {{{"text", "hi"}}}}}}}, kGeminiKey)
          ->body);
  EXPECT_EQ(reply["embedding"]["values"].size(), 8u);
}

TEST_F(MockUpstreamTest, GeminiStreamIsCrlfFramedAndEndsWithFinishReason) {
  mock_.SetBehaviour("s", Behaviour{.content = "Hello there friend", .stream = {.token_count = 3}});
  const auto result = Post("/s/s/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", kGeminiChat, kGeminiKey);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
  const auto [events, crlf] = GeminiEvents(result->body);
  EXPECT_TRUE(crlf) << result->body;
  ASSERT_EQ(events.size(), 4u);
  std::string text;
  for (const json& event : events) text += event["candidates"][0]["content"]["parts"][0]["text"].get<std::string>();
  EXPECT_EQ(text, "Hello there friend");
  EXPECT_FALSE(events[2]["candidates"][0].contains("finishReason"));
  EXPECT_EQ(events[3]["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(events[3]["usageMetadata"]["candidatesTokenCount"], 3);
}

TEST_F(MockUpstreamTest, GeminiStreamCutHasNoFinishReason) {
  mock_.SetBehaviour("c", Behaviour{.stream = {.token_count = 5, .cut_after_tokens = 2}});
  // httplib reports the cut chunked body as an error; what arrived before it is what counts.
  httplib::Request request;
  request.method = "POST";
  request.path = "/s/c/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
  request.body = kGeminiChat.dump();
  request.set_header("x-goog-api-key", kGeminiApiKey);
  std::string body;
  request.content_receiver = [&body](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
    body.append(data, size);
    return true;
  };
  EXPECT_NE(client_->send(request).error(), httplib::Error::Success);
  const auto [events, crlf] = GeminiEvents(body);
  EXPECT_EQ(events.size(), 2u);
  for (const json& event : events) EXPECT_FALSE(event["candidates"][0].contains("finishReason")) << event;
}

TEST_F(MockUpstreamTest, GeminiSafetyFiltersAndQuota) {
  mock_.SetBehaviour("f", std::vector<Behaviour>{{.body = BodyKind::kSafetyBlock},
                                                 {.body = BodyKind::kPromptBlocked},
                                                 {.status = 429, .error_code = "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                                                  .error_message = "You exceeded your current quota"}});
  const std::string path = "/s/f/v1beta/models/gemini-2.5-flash:generateContent";
  const json safety = json::parse(Post(path, kGeminiChat, kGeminiKey)->body);
  EXPECT_EQ(safety["candidates"][0]["finishReason"], "SAFETY");
  EXPECT_FALSE(safety["candidates"][0].contains("content"));
  EXPECT_EQ(safety["candidates"][0]["safetyRatings"][1]["blocked"], true);
  const json blocked = json::parse(Post(path, kGeminiChat, kGeminiKey)->body);
  EXPECT_EQ(blocked["promptFeedback"]["blockReason"], "PROHIBITED_CONTENT");
  EXPECT_FALSE(blocked.contains("candidates"));
  const auto quota = Post(path, kGeminiChat, kGeminiKey);
  EXPECT_EQ(quota->status, 429);
  const json error = json::parse(quota->body)["error"];
  EXPECT_EQ(error["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(error["details"][0]["@type"], "type.googleapis.com/google.rpc.QuotaFailure");
  EXPECT_EQ(error["details"][0]["violations"][0]["quotaId"], "GenerateRequestsPerDayPerProjectPerModel-FreeTier");
}

// OpenAI Responses API (samples: tests/testdata/real/openai-responses.json).
const json kResponsesRequest = {{"model", "gpt-4o"}, {"input", "hi"}, {"max_output_tokens", 50}};

TEST_F(MockUpstreamTest, ResponsesSyncHasTheReferenceShape) {
  mock_.SetBehaviour("r", Behaviour{.content = "Silent circuits hum"});
  const json reply = PostForJson("/s/r/v1/responses", kResponsesRequest);
  EXPECT_THAT(reply["id"].get<std::string>(), ::testing::StartsWith("resp_"));
  EXPECT_EQ(reply["object"], "response");
  EXPECT_EQ(reply["status"], "completed");
  EXPECT_EQ(reply["model"], "gpt-4o");
  ASSERT_EQ(reply["output"].size(), 1u);
  EXPECT_EQ(reply["output"][0]["type"], "message");
  EXPECT_EQ(reply["output"][0]["content"][0]["type"], "output_text");
  EXPECT_EQ(reply["output"][0]["content"][0]["text"], "Silent circuits hum");
  EXPECT_EQ(reply["usage"]["output_tokens"], 3);
  EXPECT_EQ(reply["usage"]["total_tokens"], 11);
}

TEST_F(MockUpstreamTest, ResponsesIncompleteWithoutTextWhenReasoningSpendsTheLimit) {
  mock_.SetBehaviour("i", Behaviour{.stream = {.reasoning_tokens = 6}});
  json request = kResponsesRequest;
  request["max_output_tokens"] = 6;
  const json reply = PostForJson("/s/i/v1/responses", request);
  EXPECT_EQ(reply["status"], "incomplete");
  EXPECT_EQ(reply["incomplete_details"]["reason"], "max_output_tokens");
  ASSERT_EQ(reply["output"].size(), 1u);
  EXPECT_EQ(reply["output"][0]["type"], "reasoning");
  EXPECT_EQ(reply["usage"]["output_tokens_details"]["reasoning_tokens"], 6);
}

TEST_F(MockUpstreamTest, ResponsesFailedAndErrorEnvelope) {
  mock_.SetBehaviour("x", std::vector<Behaviour>{{.body = BodyKind::kErrorEnvelope, .error_message = "The model failed to generate a response."},
                                                 {.status = 429, .error_message = "Rate limit reached"}});
  const json failed = PostForJson("/s/x/v1/responses", kResponsesRequest);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["error"], json::parse(R"({"code":"server_error","message":"The model failed to generate a response."})"));
  const auto limited = Post("/s/x/v1/responses", kResponsesRequest);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(json::parse(limited->body)["error"]["message"], "Rate limit reached");
}

TEST_F(MockUpstreamTest, ResponsesStreamEvents) {
  mock_.SetBehaviour("rs", Behaviour{.content = "Hi there", .stream = {.token_count = 2}});
  json request = kResponsesRequest;
  request["stream"] = true;
  const auto result = Post("/s/rs/v1/responses", request);
  ASSERT_TRUE(result);
  const Sse sse = ParseSse(result->body);
  EXPECT_THAT(EventNames(sse),
              ElementsAre("response.created", "response.in_progress", "response.output_item.added",
                          "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                          "response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"));
  std::string text;
  for (std::size_t i = 0; i < sse.events.size(); ++i) {
    const json data = json::parse(sse.events[i].data);
    EXPECT_EQ(data["type"], sse.events[i].event);
    EXPECT_EQ(data["sequence_number"], i);
    if (data["type"] == "response.output_text.delta") text += data["delta"].get<std::string>();
  }
  EXPECT_EQ(text, "Hi there");
  const json completed = json::parse(sse.events.back().data)["response"];
  EXPECT_EQ(completed["status"], "completed");
  EXPECT_EQ(completed["usage"]["output_tokens"], 2);
}

TEST_F(MockUpstreamTest, ResponsesStreamFaults) {
  mock_.SetBehaviour("rf", std::vector<Behaviour>{{.stream = {.token_count = 3, .error_after_tokens = 1}},
                                                  {.error_type = "error_event", .error_code = "ERR_SOMETHING",
                                                   .error_message = "Something went wrong",
                                                   .stream = {.token_count = 3, .error_after_tokens = 1}}});
  json request = kResponsesRequest;
  request["stream"] = true;
  const Sse failed = ParseSse(Post("/s/rf/v1/responses", request)->body);
  EXPECT_EQ(failed.events.back().event, "response.failed");
  EXPECT_EQ(json::parse(failed.events.back().data)["response"]["error"]["code"], "server_error");
  const Sse error = ParseSse(Post("/s/rf/v1/responses", request)->body);
  EXPECT_EQ(error.events.back().event, "error");
  EXPECT_EQ(json::parse(error.events.back().data)["code"], "ERR_SOMETHING");
  EXPECT_EQ(json::parse(error.events.back().data)["message"], "Something went wrong");
}

// Bedrock Converse (samples: tests/testdata/real/bedrock.json), signed by the probe's signer.
const json kConverse = {{"messages", {{{"role", "user"}, {"content", {{{"text", "hi"}}}}}}},
                        {"inferenceConfig", {{"maxTokens", 50}}}};

class BedrockTest : public MockUpstreamTest {
 protected:
  // The model id's ':' goes on the wire as %3A, as the probe sends it.
  std::string PathOf(const std::string& scenario, const std::string& method) const {
    return "/s/" + scenario + "/model/" + llm_probe::AwsUriEncode("anthropic.claude-3-haiku-20240307-v1:0") + "/" + method;
  }

  // Signs at the current time, lets `tamper` change the signed request, sends it.
  httplib::Result SendSigned(const std::string& path, const json& body,
                             const std::function<void(llm_probe::HttpRequest&)>& tamper = {},
                             std::string secret = kAwsSecretAccessKey) {
    llm_probe::HttpRequest signed_request;
    signed_request.method = "POST";
    signed_request.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    signed_request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    signed_request.body = body.dump();
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    llm_probe::SignV4(signed_request, {kAwsAccessKeyId, std::move(secret), ""}, {"us-east-1", "bedrock"}, now.count());
    if (tamper) tamper(signed_request);
    httplib::Request request;
    request.method = signed_request.method;
    request.path = signed_request.url.substr(signed_request.url.find('/', 7));
    for (const auto& [name, value] : signed_request.headers) request.set_header(name, value);
    request.body = signed_request.body;
    return client_->send(request);
  }

  static std::vector<llm_probe::EventStreamMessage> Decode(const std::string& body, llm_probe::EventStreamDecoder& decoder) {
    std::vector<llm_probe::EventStreamMessage> messages;
    decoder.Feed(body, messages);
    return messages;
  }
};

TEST_F(BedrockTest, AcceptsACorrectlySignedConverse) {
  const auto result = SendSigned(PathOf("b", "converse"), kConverse);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json reply = json::parse(result->body);
  EXPECT_EQ(reply["output"]["message"]["role"], "assistant");
  EXPECT_EQ(reply["output"]["message"]["content"][0]["text"], "OK");
  EXPECT_EQ(reply["stopReason"], "end_turn");
  EXPECT_EQ(reply["usage"], json::parse(R"({"inputTokens":8,"outputTokens":1,"totalTokens":9})"));
  EXPECT_EQ(mock_.Requests("b").back().path, "/model/anthropic.claude-3-haiku-20240307-v1:0/converse");
}

// A signer that is not ours: curl's --aws-sigv4 (curl 7.75+). It signs the path as sent, without
// the second encoding AWS applies for non-S3 services, so a model id without '%' is used here.
std::string CurlStatus(int port, const std::string& secret) {
  const std::string command = "curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:bedrock --user '" +
                              std::string(kAwsAccessKeyId) + ":" + secret +
                              "' -H 'Content-Type: application/json' -d '{\"messages\":[]}' http://127.0.0.1:" +
                              std::to_string(port) + "/s/curl/model/amazon.nova-micro-v1/converse";
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  for (char buffer[64]; pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr;) out += buffer;
  if (pipe != nullptr) pclose(pipe);
  return out;
}

TEST_F(BedrockTest, AcceptsCurlsSignatureAndRefusesItWithTheWrongSecret) {
  EXPECT_EQ(CurlStatus(port_, kAwsSecretAccessKey), "200");
  EXPECT_EQ(CurlStatus(port_, "wrong-secret"), "403");
}

TEST_F(BedrockTest, RejectsTamperedOrWronglyKeyedSignaturesAsAwsDoes) {
  const std::string path = PathOf("b", "converse");
  const auto expect_refused = [](const httplib::Result& result, const std::string& type) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 403);
    EXPECT_EQ(result->get_header_value("x-amzn-ErrorType"),
              type + ":http://internal.amazon.com/coral/com.amazon.coral.service/");
    EXPECT_TRUE(json::parse(result->body)["message"].is_string());
  };
  const auto body_changed = SendSigned(path, kConverse, [](llm_probe::HttpRequest& request) { request.body += " "; });
  expect_refused(body_changed, "InvalidSignatureException");
  EXPECT_EQ(json::parse(body_changed->body)["message"],
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.");
  expect_refused(SendSigned(path, kConverse, [](llm_probe::HttpRequest& request) {
                   request.url = request.url.substr(0, request.url.find("haiku")) + "sonnet-20240229-v1%3A0/converse";
                 }),
                 "InvalidSignatureException");
  expect_refused(SendSigned(path, kConverse, {}, "not-the-secret"), "InvalidSignatureException");
  expect_refused(SendSigned(path, kConverse,
                            [](llm_probe::HttpRequest& request) {
                              for (auto& [name, value] : request.headers) {
                                if (name == "X-Amz-Date") value = "20200101T000000Z";
                              }
                            }),
                 "InvalidSignatureException");
  expect_refused(SendSigned(path, kConverse,
                            [](llm_probe::HttpRequest& request) {
                              for (auto& [name, value] : request.headers) {
                                if (name == "Authorization") value.replace(value.find(kAwsAccessKeyId), 4, "XXXX");
                              }
                            }),
                 "UnrecognizedClientException");
  expect_refused(Post(path, kConverse), "MissingAuthenticationTokenException");
  EXPECT_EQ(SendSigned(path, kConverse)->status, 200);
}

TEST_F(BedrockTest, ScriptedExceptionsCarryTheirTypeHeader) {
  mock_.SetBehaviour("t", std::vector<Behaviour>{{.status = 429, .error_message = "Too many tokens, please wait before trying again."},
                                                 {.status = 429, .error_type = "ModelNotReadyException"}});
  const auto throttled = SendSigned(PathOf("t", "converse"), kConverse);
  EXPECT_EQ(throttled->status, 429);
  EXPECT_EQ(throttled->get_header_value("x-amzn-ErrorType"), "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");
  EXPECT_EQ(throttled->body, R"({"message":"Too many tokens, please wait before trying again."})");
  const auto not_ready = SendSigned(PathOf("t", "converse"), kConverse);
  EXPECT_EQ(not_ready->status, 429);
  EXPECT_THAT(not_ready->get_header_value("x-amzn-ErrorType"), ::testing::StartsWith("ModelNotReadyException:"));
}

TEST_F(BedrockTest, ConverseStreamIsAnEventStream) {
  mock_.SetBehaviour("s", Behaviour{.content = "Hello there friend", .stream = {.token_count = 3}});
  const auto result = SendSigned(PathOf("s", "converse-stream"), kConverse);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/vnd.amazon.eventstream");
  llm_probe::EventStreamDecoder decoder;
  const auto messages = Decode(result->body, decoder);
  EXPECT_EQ(decoder.error(), llm_probe::EventStreamError::kNone);
  EXPECT_FALSE(decoder.HasPartialMessage());
  std::vector<std::string> types;
  std::string text;
  for (const auto& message : messages) {
    EXPECT_EQ(message.StringHeader(":message-type"), "event");
    EXPECT_EQ(message.StringHeader(":content-type"), "application/json");
    types.emplace_back(*message.StringHeader(":event-type"));
    const json payload = json::parse(message.payload);
    if (types.back() == "contentBlockDelta") text += payload["delta"]["text"].get<std::string>();
    if (types.back() == "metadata") {
      EXPECT_EQ(payload["usage"]["outputTokens"], 3);
    }
    if (types.back() == "messageStop") {
      EXPECT_EQ(payload["stopReason"], "end_turn");
    }
  }
  EXPECT_THAT(types, ElementsAre("messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta",
                                 "contentBlockStop", "messageStop", "metadata"));
  EXPECT_EQ(text, "Hello there friend");
}

TEST_F(BedrockTest, ConverseStreamFaults) {
  mock_.SetBehaviour("f", std::vector<Behaviour>{
                              {.error_type = "ThrottlingException", .error_message = "Too many requests",
                               .stream = {.token_count = 4, .error_after_tokens = 2}},
                              BehaviourFromJson(json::parse(R"({"stream": {"token_count": 4, "damaged_crc_after_tokens": 1}})"))});
  llm_probe::EventStreamDecoder exception_decoder;
  const auto with_exception = Decode(SendSigned(PathOf("f", "converse-stream"), kConverse)->body, exception_decoder);
  ASSERT_EQ(with_exception.size(), 4u);  // messageStart, two deltas, the exception
  EXPECT_EQ(exception_decoder.error(), llm_probe::EventStreamError::kNone);
  EXPECT_EQ(with_exception.back().StringHeader(":message-type"), "exception");
  EXPECT_EQ(with_exception.back().StringHeader(":exception-type"), "ThrottlingException");
  EXPECT_EQ(json::parse(with_exception.back().payload)["message"], "Too many requests");

  llm_probe::EventStreamDecoder damaged_decoder;
  const auto damaged = Decode(SendSigned(PathOf("f", "converse-stream"), kConverse)->body, damaged_decoder);
  EXPECT_EQ(damaged.size(), 2u);  // messageStart and the first delta, then the damaged frame
  EXPECT_EQ(damaged_decoder.error(), llm_probe::EventStreamError::kMessageCrc);
}

// Tool probes: one weather tool with two required keys, in each flavour's request spelling.
const json kSchema = {{"type", "object"},
                      {"properties", {{"city", {{"type", "string"}}}, {"unit", {{"type", "string"}}}}},
                      {"required", {"city", "unit"}}};

TEST_F(MockUpstreamTest, ToolCallsInEveryFlavour) {
  mock_.SetBehaviour("tc", Behaviour{});  // a request with tools gets a correct call unless scripted otherwise
  json chat = kChat;
  chat["tools"] = {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", kSchema}}}}};
  const json openai = PostForJson("/s/tc/v1/chat/completions", chat)["choices"][0];
  EXPECT_EQ(openai["finish_reason"], "tool_calls");
  EXPECT_EQ(openai["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(openai["message"]["tool_calls"][0]["function"]["arguments"].get<std::string>()),
            json::parse(R"({"city":"mock","unit":"mock"})"));

  json responses = kResponsesRequest;
  responses["tools"] = {{{"type", "function"}, {"name", "get_weather"}, {"parameters", kSchema}}};
  const json call = PostForJson("/s/tc/v1/responses", responses)["output"][0];
  EXPECT_EQ(call["type"], "function_call");
  EXPECT_EQ(call["name"], "get_weather");
  EXPECT_EQ(json::parse(call["arguments"].get<std::string>()), json::parse(R"({"city":"mock","unit":"mock"})"));

  const json anthropic = PostForJson("/s/tc/v1/messages", {{"model", "claude-sonnet-4-5"}, {"max_tokens", 50},
                                                            {"messages", kChat["messages"]},
                                                            {"tools", {{{"name", "get_weather"}, {"input_schema", kSchema}}}}});
  EXPECT_EQ(anthropic["stop_reason"], "tool_use");
  EXPECT_EQ(anthropic["content"][0]["type"], "tool_use");
  EXPECT_EQ(anthropic["content"][0]["input"], json::parse(R"({"city":"mock","unit":"mock"})"));

  json gemini = kGeminiChat;
  gemini["tools"] = {{{"functionDeclarations", {{{"name", "get_weather"}, {"parameters", kSchema}}}}}};
  const json part = json::parse(Post("/s/tc/v1beta/models/gemini-2.5-flash:generateContent", gemini, kGeminiKey)->body)
                        ["candidates"][0]["content"]["parts"][0];
  EXPECT_EQ(part["functionCall"]["name"], "get_weather");
  EXPECT_EQ(part["functionCall"]["args"], json::parse(R"({"city":"mock","unit":"mock"})"));
}

TEST_F(BedrockTest, ToolUseAndItsFaults) {
  mock_.SetBehaviour("bt", std::vector<Behaviour>{{}, {.structured = "missing_key"}, {.structured = "invalid_json"},
                                                  {.structured = "missing"}});
  json converse = kConverse;
  converse["toolConfig"] = {{"tools", {{{"toolSpec", {{"name", "get_weather"}, {"inputSchema", {{"json", kSchema}}}}}}}}};
  const auto reply = [&] { return json::parse(SendSigned(PathOf("bt", "converse"), converse)->body); };
  const json called = reply();
  EXPECT_EQ(called["stopReason"], "tool_use");
  EXPECT_EQ(called["output"]["message"]["content"][0]["toolUse"]["input"], json::parse(R"({"city":"mock","unit":"mock"})"));
  EXPECT_EQ(reply()["output"]["message"]["content"][0]["toolUse"]["input"], json::parse(R"({"unit":"mock"})"));
  const json bad = reply()["output"]["message"]["content"][0]["toolUse"]["input"];
  ASSERT_TRUE(bad.is_string());
  EXPECT_TRUE(json::parse(bad.get<std::string>(), nullptr, false).is_discarded());
  const json missing = reply();
  EXPECT_EQ(missing["stopReason"], "end_turn");
  EXPECT_EQ(missing["output"]["message"]["content"][0]["text"], "OK");
}

TEST_F(MockUpstreamTest, ToolCallFaultsWithStringArguments) {
  mock_.SetBehaviour("tf", std::vector<Behaviour>{{.structured = "invalid_json"}, {.structured = "missing_key"}});
  json chat = kChat;
  chat["tools"] = {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", kSchema}}}}};
  const auto arguments = [&] {
    return PostForJson("/s/tf/v1/chat/completions", chat)["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        .get<std::string>();
  };
  EXPECT_TRUE(json::parse(arguments(), nullptr, false).is_discarded());
  EXPECT_EQ(json::parse(arguments()), json::parse(R"({"unit":"mock"})"));
  EXPECT_THROW(BehaviourFromJson(json::parse(R"({"structured": "maybe"})")), std::invalid_argument);
}

// json probes: a request for JSON output (each flavour's spelling) gets a JSON text that holds
// the schema's required keys, unless a fault is scripted.
TEST_F(MockUpstreamTest, StructuredOutputInEveryFlavourAndItsFaults) {
  mock_.SetBehaviour("so", std::vector<Behaviour>{{}, {.structured = "missing_key"}, {.structured = "invalid_json"},
                                                  {.structured = "missing"}});
  json chat = kChat;
  chat["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "json"}, {"schema", kSchema}, {"strict", true}}}};
  json responses = kResponsesRequest;
  responses["text"] = {{"format", {{"type", "json_schema"}, {"name", "json"}, {"schema", kSchema}}}};
  json gemini = kGeminiChat;
  gemini["generationConfig"]["responseMimeType"] = "application/json";
  gemini["generationConfig"]["responseSchema"] = kSchema;
  const std::vector<std::function<std::string()>> flavours = {
      [&] { return PostForJson("/s/so/v1/chat/completions", chat)["choices"][0]["message"]["content"].get<std::string>(); },
      [&] {
        return PostForJson("/s/so/v1/responses", responses)["output"][0]["content"][0]["text"].get<std::string>();
      },
      [&] {
        return json::parse(Post("/s/so/v1beta/models/gemini-2.5-flash:generateContent", gemini, kGeminiKey)->body)
            ["candidates"][0]["content"]["parts"][0]["text"]
                .get<std::string>();
      },
  };
  for (std::size_t i = 0; i < flavours.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(json::parse(flavours[i]()), json::parse(R"({"city":"mock","unit":"mock"})"));
    EXPECT_EQ(json::parse(flavours[i]()), json::parse(R"({"unit":"mock"})"));
    EXPECT_TRUE(json::parse(flavours[i](), nullptr, false).is_discarded());
    EXPECT_EQ(flavours[i](), "OK");  // the schema ignored: the scenario's text
  }
  // Without a schema in the request the reply is text, whatever is scripted.
  EXPECT_EQ(PostForJson("/s/so/v1/chat/completions", kChat)["choices"][0]["message"]["content"], "OK");
}

TEST_F(MockUpstreamTest, AnthropicToolCallFaults) {
  mock_.SetBehaviour("at", std::vector<Behaviour>{{.structured = "missing_key"}, {.structured = "invalid_json"},
                                                  {.structured = "missing"}});
  const json request = {{"model", "claude-sonnet-4-5"}, {"max_tokens", 50}, {"messages", kChat["messages"]},
                        {"tools", {{{"name", "json"}, {"input_schema", kSchema}}}}};
  EXPECT_EQ(PostForJson("/s/at/v1/messages", request)["content"][0]["input"], json::parse(R"({"unit":"mock"})"));
  const json cut = PostForJson("/s/at/v1/messages", request)["content"][0]["input"];
  ASSERT_TRUE(cut.is_string());  // where the object belongs
  EXPECT_TRUE(json::parse(cut.get<std::string>(), nullptr, false).is_discarded());
  const json text = PostForJson("/s/at/v1/messages", request);
  EXPECT_EQ(text["stop_reason"], "end_turn");
  EXPECT_EQ(text["content"][0]["type"], "text");
}

TEST(MockUpstreamStart, FailsOnABusyPort) {
  MockUpstream first;
  const int port = first.Start();
  MockUpstream second;
  EXPECT_THROW(second.Start("127.0.0.1", port), std::runtime_error);
}

}  // namespace
}  // namespace mock_upstream
