// tools and json probes: the request each flavour sends, and the published tool-call and
// structured-output replies of tests/testdata/real/tool-calls.json read through
// InterpretExchange, plus the faults made from them. No sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm_probe/probe.h"
#include "llm_probe/provider.h"
#include "reply.h"
#include "test_corpus.h"

namespace llm_probe {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using test_corpus::CorpusCase;
using test_corpus::LoadCorpus;

constexpr const char* kCorpus = "real/tool-calls.json";

TargetConfig Target(std::string_view provider) {
  TargetConfig target;
  target.name = "t";
  target.provider = FindProvider(provider);
  target.base_url = "https://upstream.example/v1";
  target.api_key = "sk-unit-0123456789";
  target.api_version = provider == "anthropic" ? "2023-06-01" : "2024-10-21";
  target.aws = {"us-east-1", "AKIDUNIT", "unit/secret", "", {}};
  return target;
}

ProbeConfig Probe(ProbeType type, std::string model = "gpt-4o", ProbeApi api = ProbeApi::kChatCompletions) {
  ProbeConfig probe;
  probe.name = "p";
  probe.type = type;
  probe.api = api;
  probe.model = std::move(model);
  probe.max_tokens = 100;
  probe.reply_schema = DefaultReplySchema(type);
  return probe;
}

// What the config loader makes of a probe's `tool:` or `schema:` (src/config/reply_schema.cpp).
ReplySchema SchemaFrom(const std::string& name, const json& schema) {
  ReplySchema reply_schema{name, "", schema.dump(), {}};
  for (const json& key : schema.value("required", json::array())) reply_schema.required.push_back(key);
  return reply_schema;
}

// The probe a corpus case answers, with the tool or schema the case names.
ProbeConfig ProbeOf(const json& item) {
  const bool tools = item.at("probe") == "tools";
  ProbeConfig probe = Probe(tools ? ProbeType::kTools : ProbeType::kJson, item.at("model"),
                            item.value("api", "") == "responses" ? ProbeApi::kResponses : ProbeApi::kChatCompletions);
  if (tools) {
    probe.reply_schema = SchemaFrom(item.at("tool").at("name"), item.at("tool").at("parameters"));
  } else {
    probe.reply_schema = SchemaFrom("json", item.at("schema"));
  }
  return probe;
}

HttpExchange Reply(int status, std::string body) {
  HttpExchange exchange;
  exchange.status = status;
  exchange.headers = {{"content-type", "application/json"}};
  exchange.body = std::move(body);
  exchange.arrivals = {{exchange.body.size(), 0.1}};
  exchange.total_seconds = 0.1;
  return exchange;
}

ProbeResult Interpret(const json& item, const std::string& body) {
  return InterpretExchange(Target(item.at("flavour").get<std::string>()), ProbeOf(item), Reply(item.at("status"), body),
                           1.8e9);
}

ProbeResult Interpret(const json& item) { return Interpret(item, item.at("body")); }

// A corpus case's body with one change made to its JSON.
template <typename Change>
std::string Changed(const json& item, Change change) {
  json body = json::parse(item.at("body").get<std::string>());
  change(body);
  return body.dump();
}

// The case read as a json probe's reply whose schema wants a string `status` (the built-in one).
json AsJsonProbe(json item) {
  item["probe"] = "json";
  item["schema"] = json::parse(R"({"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]})");
  return item;
}

json RequestBody(std::string_view provider, const ProbeConfig& probe) {
  return json::parse(BuildProbeRequest(Target(provider), probe).body);
}

// --- the requests ---

TEST(StructuredRequestTest, OpenAIChatForcesTheFunctionOrAsksForAStrictJsonSchema) {
  const json tools = RequestBody("openai", Probe(ProbeType::kTools));
  EXPECT_EQ(tools["tools"][0]["type"], "function");
  EXPECT_EQ(tools["tools"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(tools["tools"][0]["function"]["parameters"]["required"], json::array({"city"}));
  EXPECT_EQ(tools["tool_choice"], json::parse(R"({"type": "function", "function": {"name": "get_weather"}})"));
  EXPECT_EQ(tools["stream"], false);
  EXPECT_EQ(tools["max_tokens"], 100);

  const json output = RequestBody("openai", Probe(ProbeType::kJson));
  EXPECT_EQ(output["response_format"]["type"], "json_schema");
  EXPECT_EQ(output["response_format"]["json_schema"]["name"], "json");
  EXPECT_EQ(output["response_format"]["json_schema"]["strict"], true);
  // Strict structured outputs need every property required and no others allowed.
  EXPECT_EQ(output["response_format"]["json_schema"]["schema"]["additionalProperties"], false);
  EXPECT_EQ(output["response_format"]["json_schema"]["schema"]["required"], json::array({"status"}));
  EXPECT_FALSE(output.contains("tools"));

  const HttpRequest azure = BuildProbeRequest(Target("azure"), Probe(ProbeType::kTools, "my-deployment"));
  EXPECT_EQ(azure.url, "https://upstream.example/v1/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(json::parse(azure.body)["tool_choice"]["function"]["name"], "get_weather");
}

TEST(StructuredRequestTest, ResponsesForcesTheFunctionOrAsksForAJsonSchemaTextFormat) {
  const HttpRequest request = BuildProbeRequest(Target("openai"), Probe(ProbeType::kTools, "gpt-5-mini", ProbeApi::kResponses));
  EXPECT_EQ(request.url, "https://upstream.example/v1/responses");
  const json tools = json::parse(request.body);
  EXPECT_EQ(tools["tools"][0]["type"], "function");
  EXPECT_EQ(tools["tools"][0]["name"], "get_weather");
  EXPECT_EQ(tools["tools"][0]["strict"], false);  // the API's default (true) refuses most schemas
  EXPECT_EQ(tools["tool_choice"], json::parse(R"({"type": "function", "name": "get_weather"})"));

  const json output = RequestBody("openai", Probe(ProbeType::kJson, "gpt-5-mini", ProbeApi::kResponses));
  EXPECT_EQ(output["text"]["format"]["type"], "json_schema");
  EXPECT_EQ(output["text"]["format"]["name"], "json");
  EXPECT_EQ(output["text"]["format"]["schema"]["required"], json::array({"status"}));
}

TEST(StructuredRequestTest, AnthropicForcesAToolForBoth) {
  const json tools = RequestBody("anthropic", Probe(ProbeType::kTools, "claude-sonnet-4-5"));
  EXPECT_EQ(tools["tools"][0]["name"], "get_weather");
  EXPECT_EQ(tools["tools"][0]["input_schema"]["required"], json::array({"city"}));
  EXPECT_EQ(tools["tool_choice"], json::parse(R"({"type": "tool", "name": "get_weather"})"));

  const json output = RequestBody("anthropic", Probe(ProbeType::kJson, "claude-sonnet-4-5"));
  EXPECT_EQ(output["tools"][0]["name"], "json");
  EXPECT_EQ(output["tools"][0]["input_schema"]["required"], json::array({"status"}));
  EXPECT_EQ(output["tool_choice"], json::parse(R"({"type": "tool", "name": "json"})"));
}

TEST(StructuredRequestTest, GeminiDeclaresTheFunctionWithModeAnyOrAsksForJsonWithoutKeywordsItRefuses) {
  ProbeConfig probe = Probe(ProbeType::kTools, "gemini-2.5-flash");
  // A property named like a refused keyword is a name, not a keyword: it stays.
  probe.reply_schema = SchemaFrom("lookup", json::parse(R"({"type": "object", "$schema": "x", "additionalProperties": false,
      "properties": {"additionalProperties": {"type": "object", "additionalProperties": false}},
      "required": ["additionalProperties"]})"));
  const HttpRequest request = BuildProbeRequest(Target("gemini"), probe);
  EXPECT_EQ(request.url, "https://upstream.example/v1/models/gemini-2.5-flash:generateContent");
  const json tools = json::parse(request.body);
  const json declaration = tools["tools"][0]["functionDeclarations"][0];
  EXPECT_EQ(declaration["name"], "lookup");
  EXPECT_EQ(declaration["parameters"], json::parse(R"({"type": "object",
      "properties": {"additionalProperties": {"type": "object"}}, "required": ["additionalProperties"]})"));
  EXPECT_EQ(tools["toolConfig"],
            json::parse(R"({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["lookup"]}})"));

  const json output = RequestBody("gemini", Probe(ProbeType::kJson, "gemini-2.5-flash"));
  EXPECT_EQ(output["generationConfig"]["responseMimeType"], "application/json");
  EXPECT_EQ(output["generationConfig"]["maxOutputTokens"], 100);
  EXPECT_EQ(output["generationConfig"]["responseSchema"]["required"], json::array({"status"}));
  EXPECT_FALSE(output["generationConfig"]["responseSchema"].contains("additionalProperties"));
}

TEST(StructuredRequestTest, BedrockForcesAToolSpecForBothAndIsSignedLikeChat) {
  const TargetConfig target = Target("bedrock");
  const HttpRequest built = BuildProbeRequest(target, Probe(ProbeType::kTools, "anthropic.claude-3-5-haiku-20241022-v1:0"));
  EXPECT_EQ(built.url, "https://upstream.example/v1/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
  const json tools = json::parse(built.body);
  EXPECT_EQ(tools["toolConfig"]["tools"][0]["toolSpec"]["name"], "get_weather");
  EXPECT_EQ(tools["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"], json::array({"city"}));
  EXPECT_EQ(tools["toolConfig"]["toolChoice"], json::parse(R"({"tool": {"name": "get_weather"}})"));
  const auto signed_request = CompleteRequestForRun(target, built, 1.8e9);
  ASSERT_TRUE(signed_request.has_value());
  EXPECT_THAT(signed_request->headers, ::testing::Contains(::testing::Pair("Authorization", HasSubstr("/bedrock/aws4_request"))));

  const json output = RequestBody("bedrock", Probe(ProbeType::kJson, "anthropic.claude-3-5-haiku-20241022-v1:0"));
  EXPECT_EQ(output["toolConfig"]["tools"][0]["toolSpec"]["name"], "json");
  EXPECT_EQ(output["toolConfig"]["toolChoice"]["tool"]["name"], "json");
}

// --- the published replies ---

TEST(StructuredReplyTest, EveryPublishedReplyGetsItsClass) {
  // Held in a variable: a range-for over a member of a temporary reads freed memory.
  const json corpus = LoadCorpus(kCorpus);
  for (const json& item : corpus.at("cases")) {
    if (!item.contains("body") || !item.value("replay", true)) continue;  // the streamed excerpt: below
    const ProbeResult result = Interpret(item);
    EXPECT_EQ(ResultClassName(result.result_class), item.at("expect").get<std::string>())
        << item.at("id") << ": " << result.detail;
  }
}

TEST(StructuredReplyTest, OpenAIArgumentsAreAJsonTextThatMustHoldTheRequiredKeys) {
  const json xai = CorpusCase(kCorpus, "tools-openai-chat-call-xai");
  const ProbeResult up = Interpret(xai);
  EXPECT_EQ(up.result_class, ResultClass::kUp) << up.detail;
  ASSERT_TRUE(up.usage.has_value());
  EXPECT_EQ(up.usage->completion, 26);
  EXPECT_EQ(up.served_model, "grok-3-mini");

  const ProbeResult groq = Interpret(CorpusCase(kCorpus, "tools-openai-chat-call-empty-arguments-groq"));
  EXPECT_EQ(groq.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(groq.detail, "the arguments of weather: the required key \"location\" is missing");

  const auto arguments = [](std::string text) {
    return [text](json& body) { body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = text; };
  };
  const ProbeResult cut = Interpret(xai, Changed(xai, arguments(R"({"location":"San Fr)")));
  EXPECT_EQ(cut.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(cut.detail, "the arguments of weather: not valid JSON");
  EXPECT_EQ(Interpret(xai, Changed(xai, arguments(R"(["San Francisco"])"))).detail,
            "the arguments of weather: not a JSON object");
  // An object where OpenAI's clients expect a JSON text.
  const ProbeResult object = Interpret(xai, Changed(xai, [](json& body) {
    body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = {{"location", "Paris"}};
  }));
  EXPECT_EQ(object.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(object.detail, "the arguments of weather: not a JSON text (a string)");
}

TEST(StructuredReplyTest, AMissingCallIsAMismatchAndNothingAtAllIsEmpty) {
  const json xai = CorpusCase(kCorpus, "tools-openai-chat-call-xai");
  const ProbeResult other = Interpret(xai, Changed(xai, [](json& body) {
    body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = "forecast";
  }));
  EXPECT_EQ(other.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(other.detail, "no call to weather in the reply (another function was called)");

  // The tools ignored: the model answers in text.
  const ProbeResult text = Interpret(xai, Changed(xai, [](json& body) {
    json& message = body["choices"][0]["message"];
    message.erase("tool_calls");
    message["content"] = "It is sunny in San Francisco.";
    body["choices"][0]["finish_reason"] = "stop";
  }));
  EXPECT_EQ(text.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(text.detail, "no call to weather in the reply");

  const ProbeResult nothing = Interpret(xai, Changed(xai, [](json& body) { body["choices"][0]["message"].erase("tool_calls"); }));
  EXPECT_EQ(nothing.result_class, ResultClass::kEmptyContent);

  // A call cut by the probe's own token limit: max_tokens is too small, nothing is broken upstream.
  const ProbeResult limited = Interpret(xai, Changed(xai, [](json& body) {
    body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = R"({"loca)";
    body["choices"][0]["finish_reason"] = "length";
  }));
  EXPECT_EQ(limited.result_class, ResultClass::kEmptyContent);
  EXPECT_THAT(limited.detail, HasSubstr("token limit"));
}

TEST(StructuredReplyTest, ResponsesFunctionCallItemsAfterReasoningAreRead) {
  const json o3 = CorpusCase(kCorpus, "tools-responses-function-call");
  const ProbeResult up = Interpret(o3);
  EXPECT_EQ(up.result_class, ResultClass::kUp) << up.detail;
  EXPECT_EQ(up.served_model, "o3-2025-04-16");
  const ProbeResult missing = Interpret(o3, Changed(o3, [](json& body) {
    body["output"][1]["arguments"] = R"({"query":"machine learning","limit":10,"offset":0})";
  }));
  EXPECT_EQ(missing.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(missing.detail, "the arguments of semantic_scholar_search: the required key \"year\" is missing");
  // Only the reasoning item: an incomplete response whose budget went to reasoning.
  const ProbeResult reasoning_only = Interpret(o3, Changed(o3, [](json& body) {
    body["output"].erase(1);
    body["status"] = "incomplete";
    body["incomplete_details"] = {{"reason", "max_output_tokens"}};
  }));
  EXPECT_EQ(reasoning_only.result_class, ResultClass::kEmptyContent) << reasoning_only.detail;
}

TEST(StructuredReplyTest, AnthropicJsonComesAsTheForcedToolsInputObject) {
  const json item = CorpusCase(kCorpus, "tools-anthropic-tool-use-json");
  EXPECT_EQ(Interpret(item).result_class, ResultClass::kUp);
  const ProbeResult missing = Interpret(item, Changed(item, [](json& body) { body["content"][0]["input"] = json::object(); }));
  EXPECT_EQ(missing.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(missing.detail, "the arguments of json: the required key \"elements\" is missing");
  // A JSON text where Anthropic sends an object is not what its clients can use.
  const ProbeResult text = Interpret(item, Changed(item, [](json& body) {
    body["content"][0]["input"] = body["content"][0]["input"].dump();
  }));
  EXPECT_EQ(text.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(text.detail, "the arguments of json: not a JSON object");
  // The JSON written as text instead of through the tool.
  const ProbeResult prose = Interpret(item, Changed(item, [](json& body) {
    body["content"] = json::parse(R"([{"type": "text", "text": "{\"elements\": []}"}])");
    body["stop_reason"] = "end_turn";
  }));
  EXPECT_EQ(prose.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(prose.detail, "no call to json in the reply");
}

TEST(StructuredReplyTest, GeminiFunctionCallPartsEndWithStopAndCarryAnObject) {
  const json item = CorpusCase(kCorpus, "tools-gemini-function-call");
  const ProbeResult up = Interpret(item);
  EXPECT_EQ(up.result_class, ResultClass::kUp) << up.detail;
  ASSERT_TRUE(up.usage.has_value());
  EXPECT_EQ(up.usage->reasoning, 893);
  const ProbeResult missing = Interpret(item, Changed(item, [](json& body) {
    body["candidates"][0]["content"]["parts"][0]["functionCall"]["args"] = json::object();
  }));
  EXPECT_EQ(missing.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(missing.detail, "the arguments of weather: the required key \"location\" is missing");
  // The same candidate as a json probe's output: text parts hold the JSON.
  const json output = AsJsonProbe(item);
  const auto text = [&](const std::string& part) {
    return Interpret(output, Changed(item, [&](json& body) {
      body["candidates"][0]["content"]["parts"] = json::array({{{"text", part}}});
    }));
  };
  EXPECT_EQ(text(R"({"status": "ok"})").result_class, ResultClass::kUp);
  const ProbeResult fenced = text("```json\n{\"status\": \"ok\"}\n```");
  EXPECT_EQ(fenced.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(fenced.detail, "the JSON output: not valid JSON");
  EXPECT_EQ(text(R"({"state": "ok"})").detail, "the JSON output: the required key \"status\" is missing");
}

TEST(StructuredReplyTest, BedrockToolUseAfterTextIsTheCall) {
  const json item = CorpusCase(kCorpus, "tools-bedrock-tool-use");
  const ProbeResult up = Interpret(item);
  EXPECT_EQ(up.result_class, ResultClass::kUp) << up.detail;
  ASSERT_TRUE(up.usage.has_value());
  EXPECT_EQ(up.usage->prompt, 446);
  const ProbeResult missing = Interpret(item, Changed(item, [](json& body) {
    body["output"]["message"]["content"][1]["toolUse"]["input"] = json::object();
  }));
  EXPECT_EQ(missing.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(missing.detail, "the arguments of get_resistor_value: the required key \"ref\" is missing");
  // Only the text before the call: the call never came.
  const ProbeResult no_call = Interpret(item, Changed(item, [](json& body) {
    body["output"]["message"]["content"].erase(1);
    body["stopReason"] = "end_turn";
  }));
  EXPECT_EQ(no_call.result_class, ResultClass::kContentMismatch);
  EXPECT_EQ(no_call.detail, "no call to get_resistor_value in the reply");
}

TEST(StructuredReplyTest, OpenAIJsonModeOutputIsTheMessageText) {
  const json xai = CorpusCase(kCorpus, "tools-openai-chat-call-xai");
  const json output = AsJsonProbe(xai);
  const auto content = [&](const std::string& text) {
    return Interpret(output, Changed(xai, [&](json& body) {
      body["choices"][0]["message"].erase("tool_calls");
      body["choices"][0]["message"]["content"] = text;
    }));
  };
  EXPECT_EQ(content(R"({"status":"ok"})").result_class, ResultClass::kUp);
  EXPECT_EQ(content(R"({"status":"o)").detail, "the JSON output: not valid JSON");
  EXPECT_EQ(content("").result_class, ResultClass::kEmptyContent);
}

TEST(StructuredReplyTest, ErrorsAndBrokenBodiesClassifyAsForChatProbes) {
  const json item = CorpusCase(kCorpus, "tools-openai-chat-call-xai");
  const std::string envelope = R"({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})";
  EXPECT_EQ(Interpret(item, envelope).result_class, ResultClass::kBadResponse) << "an error envelope in a 200";
  json limited = item;
  limited["status"] = 429;
  EXPECT_EQ(Interpret(limited, envelope).result_class, ResultClass::kRateLimited);
  EXPECT_EQ(Interpret(item, "not json").result_class, ResultClass::kBadResponse);
  EXPECT_EQ(Interpret(item, R"({"choices": []})").result_class, ResultClass::kBadResponse);
}

// vLLM's forced call whose arguments stream as plain text (vllm-project/vllm#13078): put
// together, they are no JSON, which the check every flavour shares says.
TEST(StructuredMismatchTest, TheStreamedArgumentsOfThePublishedVllmCallDoNotParse) {
  const json item = CorpusCase(kCorpus, "tools-vllm-forced-call-arguments-not-json");
  std::string arguments;
  const auto events = test_corpus::ReadSseStream<std::vector<std::string>>(
      item.at("body").get<std::string>(),
      [](const SseEvent& event, double, std::vector<std::string>& data) { data.push_back(event.data); });
  for (const std::string& data : events) {
    const json chunk = json::parse(data);
    const json& delta = chunk["choices"][0]["delta"];
    if (!delta.contains("tool_calls")) continue;
    EXPECT_EQ(delta["tool_calls"][0]["function"]["name"], "System-knowledge_base_search");
    arguments += delta["tool_calls"][0]["function"]["arguments"].get<std::string>();
  }
  EXPECT_EQ(arguments, "你好！");
  EXPECT_EQ(internal::StructuredMismatch({arguments, /*sent_as_text=*/true}, {"query"}), "not valid JSON");
}

TEST(StructuredMismatchTest, TextIsParsedValuesAreTakenAsTheyCame) {
  using internal::StructuredMismatch;
  EXPECT_EQ(StructuredMismatch({R"({"city": "Paris", "extra": 1})", true}, {"city"}), std::nullopt);
  EXPECT_EQ(StructuredMismatch({json::parse(R"({"city": null})"), false}, {"city"}), std::nullopt)
      << "present is enough: the schema's types are the model's business";
  EXPECT_EQ(StructuredMismatch({json::object(), false}, {}), std::nullopt);
  EXPECT_EQ(StructuredMismatch({json(), false}, {}), "not a JSON object");
  EXPECT_EQ(StructuredMismatch({json(), true}, {}), "not a JSON text (a string)");
  EXPECT_EQ(StructuredMismatch({"", true}, {}), "not valid JSON");
  EXPECT_EQ(StructuredMismatch({R"("{\"city\": 1}")", true}, {"city"}), "not a JSON object") << "JSON text inside a JSON string";
  EXPECT_EQ(StructuredMismatch({json::parse(R"({"a": 1})"), false}, {"a", "b"}), "the required key \"b\" is missing");
}

}  // namespace
}  // namespace llm_probe
