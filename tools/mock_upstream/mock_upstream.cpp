#include "mock_upstream.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "llm_probe/event_stream.h"
#include "llm_probe/sigv4.h"
#include "llm_probe/text.h"

namespace mock_upstream {
namespace {

// Keeps the keys in the order the real APIs write them, which people reading a reply expect.
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;
using HeaderMap = std::map<std::string, std::string, httplib::detail::ci>;

constexpr std::size_t kDefaultWorkerThreads = 64;
constexpr std::size_t kRecordedRequestsKept = 1000;
// Idle keep-alive connections pin a worker and delay Stop() by up to this long.
constexpr time_t kKeepAliveSeconds = 1;
constexpr std::size_t kKeepAliveRequests = 10000;
constexpr int kEmbeddingDimensions = 8;
constexpr std::int64_t kModelsCreated = 1715367049;
constexpr const char* kReasoningText = "Let me think about the question first.";
constexpr const char* kJson = "application/json";

// Azure speaks the OpenAI body format; kResponses is OpenAI's /v1/responses, kGemini Google's
// native generativelanguage API (v1beta).
// kBedrock is Bedrock Runtime's Converse API.
enum class Api { kOpenAi, kAnthropic, kResponses, kGemini, kBedrock };
enum class Endpoint { kUnknown, kModels, kChat, kEmbeddings };

struct Route {
  std::string scenario = "default";
  std::string path;  // without the scenario prefix
  Api api = Api::kOpenAi;
  Endpoint endpoint = Endpoint::kUnknown;
  std::string deployment;  // Azure and Gemini: names the model when the body does not
  bool stream_endpoint = false;  // Gemini's :streamGenerateContent streams whatever the body says
  std::string page_token;        // Gemini models.list: where the page starts
  std::string page_size;
};

Route RouteOf(const httplib::Request& request) {
  struct KnownPath {
    const char* method;
    const char* path;
    Api api;
    Endpoint endpoint;
  };
  static constexpr KnownPath kPaths[] = {
      {"GET", "/v1/models", Api::kOpenAi, Endpoint::kModels},
      {"POST", "/v1/chat/completions", Api::kOpenAi, Endpoint::kChat},
      {"POST", "/v1/embeddings", Api::kOpenAi, Endpoint::kEmbeddings},
      {"POST", "/v1/messages", Api::kAnthropic, Endpoint::kChat},
      {"POST", "/v1/responses", Api::kResponses, Endpoint::kChat},
      {"GET", "/v1beta/models", Api::kGemini, Endpoint::kModels},
  };
  static const std::regex kScenarioPrefix(R"(/s/([^/]+)(/.*)?)");
  static const std::regex kAzureDeployment(R"(/openai/deployments/([^/]+)/(chat/completions|embeddings))");
  // https://ai.google.dev/api/generate-content: POST {base}/models/{model}:generateContent
  // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
  static const std::regex kBedrockMethod(R"(/model/([^/]+)/(converse|converse-stream))");
  static const std::regex kGeminiMethod(R"(/v1beta/models/([^/:]+):(generateContent|streamGenerateContent|embedContent))");

  Route route;
  route.path = request.path;
  std::smatch match;
  if (std::regex_match(request.path, match, kScenarioPrefix)) {
    route.scenario = match[1];
    route.path = match[2].matched ? match[2].str() : "/";
  }
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  for (const KnownPath& known : kPaths) {
    if (method == known.method && route.path == known.path) {
      route.api = known.api;
      route.endpoint = known.endpoint;
      route.page_token = request.get_param_value("pageToken");
      route.page_size = request.get_param_value("pageSize");
      return route;
    }
  }
  if (method == "POST" && std::regex_match(route.path, match, kGeminiMethod)) {
    route.api = Api::kGemini;
    route.deployment = match[1];
    route.endpoint = match[2] == "embedContent" ? Endpoint::kEmbeddings : Endpoint::kChat;
    route.stream_endpoint = match[2] == "streamGenerateContent";
    return route;
  }
  if (method == "POST" && std::regex_match(route.path, match, kBedrockMethod)) {
    route.api = Api::kBedrock;
    route.deployment = match[1];
    route.endpoint = Endpoint::kChat;
    route.stream_endpoint = match[2] == "converse-stream";
    return route;
  }
  // Azure answers 404 without api-version, which catches probes that forget it.
  if (!request.has_param("api-version")) return route;
  if (method == "GET" && route.path == "/openai/models") {
    route.endpoint = Endpoint::kModels;
  } else if (method == "POST" && std::regex_match(route.path, match, kAzureDeployment)) {
    route.deployment = match[1];
    route.endpoint = match[2] == "embeddings" ? Endpoint::kEmbeddings : Endpoint::kChat;
  }
  return route;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

bool IsTrue(const json& object, const char* key) {
  const auto value = object.find(key);
  return value != object.end() && *value == true;
}

// Tokens as a BPE tokenizer roughly cuts them: whitespace opens a token, and a token holds at
// most 8 code points besides its leading whitespace, so text without spaces (CJK) splits too.
// Joined, the tokens give the text back.
std::vector<std::string> SplitTokens(const std::string& text) {
  constexpr int kMaxCodePoints = 8;
  std::vector<std::string> tokens;
  int code_points = 0;  // non-space code points in the last token
  for (std::size_t i = 0; i < text.size();) {
    const bool space = std::isspace(static_cast<unsigned char>(text[i])) != 0;
    std::size_t length = 1;
    while (i + length < text.size() && (static_cast<unsigned char>(text[i + length]) & 0xC0) == 0x80) {
      ++length;
    }
    if (tokens.empty() || (space && code_points > 0) || (!space && code_points == kMaxCodePoints)) {
      tokens.emplace_back();
      code_points = 0;
    }
    tokens.back().append(text, i, length);
    if (!space) ++code_points;
    i += length;
  }
  return tokens;
}

// `count` tokens cycling through `tokens`; repeats get a leading space so words stay apart.
std::vector<std::string> RepeatTokens(const std::vector<std::string>& tokens, int count) {
  std::vector<std::string> repeated;
  for (int i = 0; !tokens.empty() && i < count; ++i) {
    std::string token = tokens[static_cast<std::size_t>(i) % tokens.size()];
    if (static_cast<std::size_t>(i) >= tokens.size() && !std::isspace(static_cast<unsigned char>(token[0]))) {
      token.insert(0, " ");
    }
    repeated.push_back(std::move(token));
  }
  return repeated;
}

std::string Join(const std::vector<std::string>& tokens) {
  std::string text;
  for (const std::string& token : tokens) text += token;
  return text;
}

// What a reply says, whatever its wire format.
struct Reply {
  std::string id;
  std::int64_t created = 0;
  std::string model;
  std::vector<std::string> reasoning;
  std::vector<std::string> content;
  bool length_limited = false;  // "length" / "max_tokens" instead of "stop" / "end_turn"
  int prompt_tokens = 0;
  int completion_tokens = 0;
  // A tool call instead of text (Behaviour::structured): the tool's name and its arguments, an
  // object, or (invalid_json) the cut text.
  std::optional<std::pair<std::string, json>> tool_call;
};

// The value at `path`, stepping into the first item of every array on the way; null when absent.
const json* At(const json& object, std::initializer_list<const char*> path) {
  const json* node = &object;
  for (const char* key : path) {
    if (node->is_array()) {
      if (node->empty()) return nullptr;
      node = &(*node)[0];
    }
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
  }
  return node;
}

// The first tool of the request, whatever the flavour spells it: its name and the required
// keys of its parameter schema.
std::optional<std::pair<std::string, json>> FirstTool(const json& request) {
  struct Spelling {
    std::initializer_list<const char*> name;
    std::initializer_list<const char*> required;
  };
  static const Spelling kSpellings[] = {
      {{"tools", "function", "name"}, {"tools", "function", "parameters", "required"}},  // OpenAI chat
      {{"tools", "functionDeclarations", "name"}, {"tools", "functionDeclarations", "parameters", "required"}},  // Gemini
      {{"toolConfig", "tools", "toolSpec", "name"},
       {"toolConfig", "tools", "toolSpec", "inputSchema", "json", "required"}},  // Bedrock
      {{"tools", "name"}, {"tools", "input_schema", "required"}},  // Anthropic
      {{"tools", "name"}, {"tools", "parameters", "required"}},    // Responses
  };
  // Anthropic and Responses both name the tool at tools[0].name: the schema's place tells them apart.
  std::optional<std::pair<std::string, json>> without_required;
  for (const Spelling& spelling : kSpellings) {
    const json* name = At(request, spelling.name);
    if (name == nullptr || !name->is_string()) continue;
    const json* required = At(request, spelling.required);
    if (required != nullptr && required->is_array()) return std::pair{name->get<std::string>(), *required};
    if (!without_required) without_required = std::pair{name->get<std::string>(), json::array()};
  }
  return without_required;
}

// The required keys of the JSON output the request asks for, whatever the flavour spells it:
// OpenAI's response_format, the Responses API's text.format, Gemini's generationConfig; nullopt
// when it asks for none.
std::optional<json> RequestedOutput(const json& request) {
  struct Spelling {
    std::initializer_list<const char*> mode;
    const char* mode_value;
    std::initializer_list<const char*> schema;
  };
  static const Spelling kSpellings[] = {
      {{"response_format", "type"}, "json_schema", {"response_format", "json_schema", "schema"}},  // OpenAI chat
      {{"text", "format", "type"}, "json_schema", {"text", "format", "schema"}},                 // Responses
      {{"generationConfig", "responseMimeType"}, "application/json", {"generationConfig", "responseSchema"}},  // Gemini
  };
  for (const Spelling& spelling : kSpellings) {
    const json* mode = At(request, spelling.mode);
    const json* schema = At(request, spelling.schema);
    if (mode == nullptr || *mode != spelling.mode_value || schema == nullptr || !schema->is_object()) continue;
    const auto required = schema->find("required");
    return required != schema->end() && required->is_array() ? *required : json::array();
  }
  return std::nullopt;
}

// Every required key set to "mock", or the scripted fault: the first one left out, or the JSON
// text cut in half (a string).
json PlanArguments(const Behaviour& behaviour, const json& required) {
  json arguments = json::object();
  for (const json& key : required) {
    if (key.is_string()) arguments[key.get<std::string>()] = "mock";
  }
  if (behaviour.structured == "missing_key" && !arguments.empty()) arguments.erase(arguments.begin());
  if (behaviour.structured == "invalid_json") {
    const std::string text = arguments.dump();
    return text.substr(0, text.size() / 2);
  }
  return arguments;
}

std::optional<std::pair<std::string, json>> PlanToolCall(const Behaviour& behaviour, const json& request) {
  const auto tool = FirstTool(request);
  if (behaviour.structured == "missing" || !tool) return std::nullopt;
  return std::pair{tool->first, PlanArguments(behaviour, tool->second)};
}

// OpenAI and Responses send arguments as JSON text; a cut one is already text.
std::string ArgumentsText(const json& arguments) {
  return arguments.is_string() ? arguments.get<std::string>() : arguments.dump();
}

// The text of a reply to a request for JSON output; nullopt for text as `content` says.
std::optional<std::string> PlanOutputText(const Behaviour& behaviour, const json& request) {
  const auto required = RequestedOutput(request);
  if (behaviour.structured == "missing" || !required) return std::nullopt;
  return ArgumentsText(PlanArguments(behaviour, *required));
}

Reply PlanReply(const Route& route, const Behaviour& behaviour, const json& request, bool stream,
                std::uint64_t sequence) {
  Reply reply;
  static const std::map<Api, std::string> kIdPrefixes = {
      {Api::kOpenAi, "chatcmpl-mock-"}, {Api::kAnthropic, "msg_mock_"}, {Api::kResponses, "resp_mock_"},
      {Api::kGemini, "mockResponseId"}, {Api::kBedrock, "mock-request-"}};
  reply.id = kIdPrefixes.at(route.api) + std::to_string(sequence);
  reply.created = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  const auto model = request.find("model");
  reply.model = !behaviour.served_model.empty() ? behaviour.served_model
                : model != request.end() && model->is_string() ? model->get<std::string>()
                                                               : route.deployment;
  const std::optional<std::string> output = stream ? std::nullopt : PlanOutputText(behaviour, request);
  const auto content = SplitTokens(output.value_or(behaviour.content));
  reply.content = stream ? RepeatTokens(content, behaviour.stream.token_count) : content;
  reply.reasoning = RepeatTokens(SplitTokens(kReasoningText), behaviour.stream.reasoning_tokens);
  if (behaviour.body == BodyKind::kEmptyContent) {
    reply.content.clear();
    reply.length_limited = true;
  } else if (behaviour.body == BodyKind::kNoChoices) {
    reply.content.clear();
    reply.reasoning.clear();
  }
  // A stream script's token counts are taken as given; plain replies obey the request's limit.
  // Reasoning spends the budget first, which is how reasoning models end up with no content.
  // Gemini's generationConfig.maxOutputTokens, Bedrock's inferenceConfig.maxTokens.
  const auto generation_config = request.find("generationConfig");
  const auto inference_config = request.find("inferenceConfig");
  const json& limits = generation_config != request.end() && generation_config->is_object() ? *generation_config
                       : inference_config != request.end() && inference_config->is_object() ? *inference_config
                                                                                              : request;
  for (const char* key : {"max_completion_tokens", "max_tokens", "max_output_tokens", "maxOutputTokens", "maxTokens"}) {
    const auto limit = limits.find(key);
    if (stream || limit == limits.end() || !limit->is_number_integer()) continue;
    const auto budget = static_cast<std::size_t>(std::max<std::int64_t>(0, limit->get<std::int64_t>()));
    if (reply.reasoning.size() > budget) reply.reasoning.resize(budget);
    if (reply.content.size() > budget - reply.reasoning.size()) {
      reply.content.resize(budget - reply.reasoning.size());
      reply.length_limited = true;
    }
    break;
  }
  if (!stream) reply.tool_call = PlanToolCall(behaviour, request);
  reply.prompt_tokens = behaviour.prompt_tokens;
  reply.completion_tokens = behaviour.completion_tokens >= 0
                                ? behaviour.completion_tokens
                                : static_cast<int>(reply.reasoning.size() + reply.content.size());
  return reply;
}

std::string DefaultErrorType(Api api, int status) {
  if (api == Api::kOpenAi || api == Api::kResponses) {
    return status == 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error";
  }
  static const std::map<int, std::string> kAnthropicTypes = {
      {401, "authentication_error"}, {402, "billing_error"},     {403, "permission_error"},
      {404, "not_found_error"},      {413, "request_too_large"}, {429, "rate_limit_error"},
      {529, "overloaded_error"}};
  const auto known = kAnthropicTypes.find(status);
  if (known != kAnthropicTypes.end()) return known->second;
  return status >= 500 ? "api_error" : "invalid_request_error";
}

// google.rpc.Status names by HTTP status, as Google's APIs map them
// (https://cloud.google.com/apis/design/errors#handling_errors).
std::string GoogleStatusName(int status) {
  static const std::map<int, std::string> kNames = {
      {400, "INVALID_ARGUMENT"}, {401, "UNAUTHENTICATED"},    {403, "PERMISSION_DENIED"},
      {404, "NOT_FOUND"},        {409, "ABORTED"},            {429, "RESOURCE_EXHAUSTED"},
      {499, "CANCELLED"},        {500, "INTERNAL"},           {501, "NOT_IMPLEMENTED"},
      {503, "UNAVAILABLE"},      {504, "DEADLINE_EXCEEDED"}};
  const auto known = kNames.find(status);
  return known != kNames.end() ? known->second : status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
}

// Google's error envelope (samples: tests/testdata/real/gemini-native.json). error_type
// names the status (default from the HTTP status); error_code is, on a 429, the QuotaFailure's
// quotaId (a "PerDay" one is a daily quota), otherwise an ErrorInfo reason such as
// API_KEY_INVALID or API_KEY_SERVICE_BLOCKED, sent with the LocalizedMessage Google adds to it.
json GeminiErrorEnvelope(const Behaviour& behaviour) {
  json error = {{"code", behaviour.status},
                {"message", behaviour.error_message},
                {"status", behaviour.error_type.empty() ? GoogleStatusName(behaviour.status) : behaviour.error_type}};
  if (behaviour.status == 429) {
    const std::string quota_id =
        behaviour.error_code.empty() ? "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" : behaviour.error_code;
    error["details"] = {{{"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
                         {"violations",
                          {{{"quotaMetric", "generativelanguage.googleapis.com/generate_content_free_tier_requests"},
                            {"quotaId", quota_id},
                            {"quotaDimensions", {{"location", "global"}, {"model", "gemini-2.5-flash"}}},
                            {"quotaValue", "10"}}}}},
                        {{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", "27s"}}};
  } else if (!behaviour.error_code.empty()) {
    error["details"] = {{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                         {"reason", behaviour.error_code},
                         {"domain", "googleapis.com"},
                         {"metadata", {{"service", "generativelanguage.googleapis.com"}}}},
                        {{"@type", "type.googleapis.com/google.rpc.LocalizedMessage"},
                         {"locale", "en-US"},
                         {"message", behaviour.error_message}}};
  }
  return {{"error", error}};
}

// Bedrock's exception names by status (API reference, Converse "Errors"); error_type overrides.
std::string BedrockErrorType(const Behaviour& behaviour) {
  if (!behaviour.error_type.empty()) return behaviour.error_type;
  static const std::map<int, std::string> kTypes = {
      {400, "ValidationException"},   {403, "AccessDeniedException"},   {404, "ResourceNotFoundException"},
      {408, "ModelTimeoutException"}, {424, "ModelErrorException"},     {429, "ThrottlingException"},
      {500, "InternalServerException"}, {503, "ServiceUnavailableException"}};
  const auto known = kTypes.find(behaviour.status);
  return known != kTypes.end() ? known->second : behaviour.status >= 500 ? "InternalServerException" : "ValidationException";
}

json ErrorEnvelope(Api api, const Behaviour& behaviour) {
  if (api == Api::kGemini) return GeminiErrorEnvelope(behaviour);
  // AWS JSON protocol: the type is in x-amzn-ErrorType (set by the caller), the body a message
  // (real/bedrock.json).
  if (api == Api::kBedrock) return {{"message", behaviour.error_message}};
  const std::string type =
      behaviour.error_type.empty() ? DefaultErrorType(api, behaviour.status) : behaviour.error_type;
  if (api == Api::kAnthropic) {
    return {{"type", "error"}, {"error", {{"type", type}, {"message", behaviour.error_message}}}};
  }
  return {{"error",
           {{"message", behaviour.error_message},
            {"type", type},
            {"param", nullptr},
            {"code", behaviour.error_code.empty() ? json(nullptr) : json(behaviour.error_code)}}}};
}

std::string HtmlPage(int status) {
  static const std::map<int, std::string> kReasons = {{500, "Internal Server Error"},
                                                      {502, "Bad Gateway"},
                                                      {503, "Service Temporarily Unavailable"},
                                                      {504, "Gateway Time-out"}};
  const auto reason = kReasons.find(status);
  const std::string title =
      std::to_string(status) + " " + (reason == kReasons.end() ? std::string("Error") : reason->second);
  return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
         "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
}

json OpenAiUsage(const Reply& reply) {
  return {{"prompt_tokens", reply.prompt_tokens},
          {"completion_tokens", reply.completion_tokens},
          {"total_tokens", reply.prompt_tokens + reply.completion_tokens},
          {"completion_tokens_details", {{"reasoning_tokens", reply.reasoning.size()}}}};
}

json AnthropicUsage(const Reply& reply) {
  return {{"input_tokens", reply.prompt_tokens}, {"output_tokens", reply.completion_tokens}};
}

// The success body of the OpenAI format (Azure included), in the well-formed variants of `kind`.
json OpenAiBody(Endpoint endpoint, const Reply& reply, const Behaviour& behaviour) {
  const BodyKind kind = behaviour.body;
  if (endpoint == Endpoint::kModels) {
    json data = json::array();
    if (kind != BodyKind::kEmptyModelList && kind != BodyKind::kEmptyContent && kind != BodyKind::kNoChoices) {
      for (const std::string& model : behaviour.models) {
        data.push_back({{"id", model}, {"object", "model"}, {"created", kModelsCreated}, {"owned_by", "mock"}});
      }
    }
    return {{"object", "list"}, {"data", data}};
  }
  if (endpoint == Endpoint::kEmbeddings) {
    json embedding = json::array();  // fixed values: replies stay reproducible
    for (int i = 0; kind != BodyKind::kEmptyContent && i < kEmbeddingDimensions; ++i) {
      embedding.push_back(std::round(std::sin(i + 1.0) * 1e4) / 1e5);
    }
    json data = json::array();
    if (kind != BodyKind::kNoChoices) data.push_back({{"object", "embedding"}, {"index", 0}, {"embedding", embedding}});
    json body = {{"object", "list"}, {"data", data}, {"model", reply.model}};
    if (!behaviour.omit_usage) {
      body["usage"] = {{"prompt_tokens", reply.prompt_tokens}, {"total_tokens", reply.prompt_tokens}};
    }
    return body;
  }
  json choices = json::array();
  if (kind != BodyKind::kNoChoices && reply.tool_call) {
    const json call = {{"id", "call_mock_" + reply.id},
                       {"type", "function"},
                       {"function", {{"name", reply.tool_call->first}, {"arguments", ArgumentsText(reply.tool_call->second)}}}};
    choices.push_back({{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {call}}, {"refusal", nullptr}}},
                       {"logprobs", nullptr},
                       {"finish_reason", "tool_calls"}});
  } else if (kind != BodyKind::kNoChoices) {
    choices.push_back({{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", Join(reply.content)}, {"refusal", nullptr}}},
                       {"logprobs", nullptr},
                       {"finish_reason", reply.length_limited ? "length" : "stop"}});
  }
  json body = {{"id", reply.id},       {"object", "chat.completion"}, {"created", reply.created},
               {"model", reply.model}, {"choices", choices},          {"system_fingerprint", "fp_mock"}};
  if (!behaviour.omit_usage) body["usage"] = OpenAiUsage(reply);
  return body;
}

json AnthropicBody(const Reply& reply, const Behaviour& behaviour) {
  json content = json::array();
  if (behaviour.body != BodyKind::kNoChoices && reply.tool_call) {
    content.push_back({{"type", "tool_use"}, {"id", "toolu_mock_" + reply.id}, {"name", reply.tool_call->first},
                       {"input", reply.tool_call->second}});
  } else if (behaviour.body != BodyKind::kNoChoices) {
    content.push_back({{"type", "text"}, {"text", Join(reply.content)}});
  }
  json body = {{"id", reply.id},
               {"type", "message"},
               {"role", "assistant"},
               {"model", reply.model},
               {"content", content},
               {"stop_reason", reply.tool_call ? "tool_use" : reply.length_limited ? "max_tokens" : "end_turn"},
               {"stop_sequence", nullptr}};
  if (!behaviour.omit_usage) body["usage"] = AnthropicUsage(reply);
  return body;
}

// Gemini's usage: candidatesTokenCount excludes the thoughts, which Google counts apart.
json GeminiUsage(const Reply& reply) {
  const int thoughts = static_cast<int>(reply.reasoning.size());
  const int candidates = std::max(0, reply.completion_tokens - thoughts);
  json usage = {{"promptTokenCount", reply.prompt_tokens},
                {"candidatesTokenCount", candidates},
                {"totalTokenCount", reply.prompt_tokens + candidates + thoughts},
                {"promptTokensDetails", {{{"modality", "TEXT"}, {"tokenCount", reply.prompt_tokens}}}}};
  if (thoughts > 0) usage["thoughtsTokenCount"] = thoughts;
  return usage;
}

json GeminiCandidate(const json& parts, const char* finish_reason) {
  json content = {{"role", "model"}};
  if (!parts.empty()) content = {{"parts", parts}, {"role", "model"}};
  json candidate = {{"content", content}};
  if (finish_reason != nullptr) candidate["finishReason"] = finish_reason;
  candidate["index"] = 0;
  return candidate;
}

// Google's models.list: a page of pageSize models (default 50, as Google's) and the token of the
// next page while models remain (https://ai.google.dev/api/models#method:-models.list).
json GeminiModels(const Route& route, const Behaviour& behaviour) {
  const std::size_t first = route.page_token.empty() ? 0 : std::stoul(route.page_token.substr(5));
  std::size_t size = route.page_size.empty() ? 50 : std::max<std::size_t>(1, std::stoul(route.page_size));
  if (behaviour.models_page_size > 0) size = std::min(size, static_cast<std::size_t>(behaviour.models_page_size));
  json models = json::array();
  const bool empty = behaviour.body == BodyKind::kEmptyModelList || behaviour.body == BodyKind::kEmptyContent ||
                     behaviour.body == BodyKind::kNoChoices;
  for (std::size_t i = first; !empty && i < behaviour.models.size() && i < first + size; ++i) {
    const std::string& id = behaviour.models[i];
    const bool embedding = id.find("embedding") != std::string::npos;
    models.push_back({{"name", "models/" + id},
                      {"version", "001"},
                      {"displayName", id},
                      {"inputTokenLimit", 1048576},
                      {"outputTokenLimit", embedding ? 1 : 65536},
                      {"supportedGenerationMethods",
                       embedding ? json{"embedContent"} : json{"generateContent", "countTokens"}}});
  }
  json body = {{"models", models}};
  if (!empty && first + size < behaviour.models.size()) body["nextPageToken"] = "page-" + std::to_string(first + size);
  return body;
}

// The generateContent / embedContent bodies; safety_block and prompt_blocked are the two ways
// Google's filters refuse (real/gemini-native.json: gemini-native-safety-finish and
// gemini-native-prompt-blocked).
json GeminiBody(const Route& route, const Reply& reply, const Behaviour& behaviour) {
  if (route.endpoint == Endpoint::kModels) return GeminiModels(route, behaviour);
  if (route.endpoint == Endpoint::kEmbeddings) {
    json values = json::array();
    for (int i = 0; behaviour.body != BodyKind::kEmptyContent && i < kEmbeddingDimensions; ++i) {
      values.push_back(std::round(std::sin(i + 1.0) * 1e4) / 1e5);
    }
    return {{"embedding", {{"values", values}}}};
  }
  json body = json::object();
  if (behaviour.body == BodyKind::kPromptBlocked) {
    body["promptFeedback"] = {{"blockReason", "PROHIBITED_CONTENT"}};
  } else if (behaviour.body == BodyKind::kSafetyBlock) {
    json candidate = GeminiCandidate(json::array(), "SAFETY");
    candidate.erase("content");
    candidate["safetyRatings"] = {{{"category", "HARM_CATEGORY_HATE_SPEECH"}, {"probability", "NEGLIGIBLE"}},
                                  {{"category", "HARM_CATEGORY_DANGEROUS_CONTENT"}, {"probability", "HIGH"}, {"blocked", true}}};
    body["candidates"] = {candidate};
  } else if (behaviour.body == BodyKind::kNoChoices) {
    body["candidates"] = json::array();
  } else {
    json parts = json::array();
    if (reply.tool_call) {
      parts.push_back({{"functionCall", {{"name", reply.tool_call->first}, {"args", reply.tool_call->second}}}});
    } else if (!reply.content.empty()) {
      parts.push_back({{"text", Join(reply.content)}});
    }
    body["candidates"] = {GeminiCandidate(parts, reply.length_limited ? "MAX_TOKENS" : "STOP")};
  }
  if (!behaviour.omit_usage) body["usageMetadata"] = GeminiUsage(reply);
  body["modelVersion"] = reply.model;
  body["responseId"] = reply.id;
  return body;
}

json ResponsesUsage(const Reply& reply) {
  return {{"input_tokens", reply.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", 0}}},
          {"output_tokens", reply.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", reply.reasoning.size()}}},
          {"total_tokens", reply.prompt_tokens + reply.completion_tokens}};
}

// A Responses API response object in the API reference's shape (real/openai-responses.json,
// responses-completed). `status` is in_progress, completed, incomplete or failed.
json ResponsesObject(const Reply& reply, const Behaviour& behaviour, const std::string& status, bool with_output) {
  json output = json::array();
  if (with_output && !reply.reasoning.empty()) {
    output.push_back({{"type", "reasoning"}, {"id", "rs_" + reply.id}, {"summary", json::array()}});
  }
  if (with_output && reply.tool_call) {
    output.push_back({{"type", "function_call"}, {"id", "fc_" + reply.id}, {"call_id", "call_" + reply.id},
                      {"name", reply.tool_call->first}, {"arguments", ArgumentsText(reply.tool_call->second)},
                      {"status", "completed"}});
  } else if (with_output && behaviour.body != BodyKind::kNoChoices && !reply.content.empty()) {
    output.push_back({{"type", "message"},
                      {"id", "msg_" + reply.id},
                      {"status", status == "incomplete" ? "incomplete" : "completed"},
                      {"role", "assistant"},
                      {"content", {{{"type", "output_text"}, {"text", Join(reply.content)}, {"annotations", json::array()}}}}});
  }
  json error = nullptr;
  if (status == "failed") {
    error = {{"code", behaviour.error_code.empty() ? "server_error" : behaviour.error_code},
             {"message", behaviour.error_message}};
  }
  const bool ended = status == "completed" || status == "incomplete";
  return {{"id", reply.id},
          {"object", "response"},
          {"created_at", reply.created},
          {"status", status},
          {"error", error},
          {"incomplete_details", status == "incomplete" ? json{{"reason", "max_output_tokens"}} : json(nullptr)},
          {"instructions", nullptr},
          {"max_output_tokens", nullptr},
          {"model", reply.model},
          {"output", output},
          {"parallel_tool_calls", true},
          {"previous_response_id", nullptr},
          {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
          {"store", true},
          {"temperature", 1.0},
          {"text", {{"format", {{"type", "text"}}}}},
          {"tool_choice", "auto"},
          {"tools", json::array()},
          {"top_p", 1.0},
          {"truncation", "disabled"},
          {"usage", ended && !behaviour.omit_usage ? ResponsesUsage(reply) : json(nullptr)},
          {"user", nullptr},
          {"metadata", json::object()}};
}

std::string ResponsesStatus(const Reply& reply, const Behaviour& behaviour) {
  if (behaviour.body == BodyKind::kErrorEnvelope) return "failed";  // a 200 whose response failed
  return reply.length_limited ? "incomplete" : "completed";
}

json BedrockUsage(const Reply& reply) {
  return {{"inputTokens", reply.prompt_tokens},
          {"outputTokens", reply.completion_tokens},
          {"totalTokens", reply.prompt_tokens + reply.completion_tokens}};
}

const char* BedrockStopReason(const Reply& reply) {
  return reply.tool_call ? "tool_use" : reply.length_limited ? "max_tokens" : "end_turn";
}

// Converse's reply (API reference, Converse "Response Syntax"); reasoning is a reasoningContent block.
json BedrockBody(const Reply& reply, const Behaviour& behaviour) {
  json content = json::array();
  if (behaviour.body != BodyKind::kNoChoices) {
    if (!reply.reasoning.empty()) {
      content.push_back({{"reasoningContent", {{"reasoningText", {{"text", Join(reply.reasoning)}, {"signature", "mock"}}}}}});
    }
    if (reply.tool_call) {
      content.push_back({{"toolUse", {{"toolUseId", "tooluse_mock_" + reply.id}, {"name", reply.tool_call->first},
                                      {"input", reply.tool_call->second}}}});
    } else {
      content.push_back({{"text", Join(reply.content)}});
    }
  }
  json body = {{"metrics", {{"latencyMs", 42}}},
               {"output", {{"message", {{"content", content}, {"role", "assistant"}}}}},
               {"stopReason", BedrockStopReason(reply)}};
  if (!behaviour.omit_usage) body["usage"] = BedrockUsage(reply);
  return body;
}

struct Body {
  std::string text;
  std::string content_type;
};

Body RenderBody(const Route& route, const Reply& reply, const Behaviour& behaviour) {
  if (behaviour.body == BodyKind::kHtml) return {HtmlPage(behaviour.status), "text/html; charset=utf-8"};
  const bool failed_response = route.api == Api::kResponses && IsSuccess(behaviour.status);
  if ((behaviour.body == BodyKind::kErrorEnvelope && !failed_response) || !IsSuccess(behaviour.status)) {
    return {ErrorEnvelope(route.api, behaviour).dump(), kJson};
  }
  json body;
  switch (route.api) {
    case Api::kAnthropic: body = AnthropicBody(reply, behaviour); break;
    case Api::kGemini: body = GeminiBody(route, reply, behaviour); break;
    case Api::kResponses: body = ResponsesObject(reply, behaviour, ResponsesStatus(reply, behaviour), true); break;
    case Api::kBedrock: body = BedrockBody(reply, behaviour); break;
    case Api::kOpenAi: body = OpenAiBody(route.endpoint, reply, behaviour); break;
  }
  const std::string text = behaviour.body == BodyKind::kJsonArray ? json::array({body}).dump() : body.dump();
  // Cut in half, the object never closes: invalid whatever the endpoint.
  if (behaviour.body == BodyKind::kMalformedJson) return {text.substr(0, text.size() / 2), kJson};
  return {text, kJson};
}

bool StreamsReply(const Route& route, const Behaviour& behaviour, const json& request) {
  const bool streamable_body = behaviour.body == BodyKind::kNormal || behaviour.body == BodyKind::kEmptyContent ||
                               behaviour.body == BodyKind::kNoChoices;
  return route.endpoint == Endpoint::kChat && (route.stream_endpoint || IsTrue(request, "stream")) &&
         IsSuccess(behaviour.status) && streamable_body;
}

std::string Rfc3339(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Remaining requests count down with the scenario's requests; tokens with this reply's usage.
HeaderMap RateLimitHeaders(Api api, const Reply& reply, int status, int scenario_request) {
  struct Window {
    std::string resource;
    std::int64_t limit;
    std::int64_t used;
  };
  const std::int64_t requests_limit = 10000;
  const std::int64_t tokens_limit = 2000000;
  std::vector<Window> windows = {{"requests", requests_limit, (scenario_request - 1) % requests_limit + 1},
                                 {"tokens", tokens_limit, reply.prompt_tokens + reply.completion_tokens}};
  if (api == Api::kAnthropic) {
    windows.push_back({"input-tokens", tokens_limit, reply.prompt_tokens});
    windows.push_back({"output-tokens", tokens_limit, reply.completion_tokens});
  }
  const std::string anthropic_reset = Rfc3339(std::chrono::system_clock::now() + std::chrono::seconds(60));
  HeaderMap headers;
  for (const Window& window : windows) {
    const std::string remaining = std::to_string(status == 429 ? 0 : window.limit - window.used);
    if (api == Api::kAnthropic) {
      const std::string prefix = "anthropic-ratelimit-" + window.resource;
      headers[prefix + "-limit"] = std::to_string(window.limit);
      headers[prefix + "-remaining"] = remaining;
      headers[prefix + "-reset"] = anthropic_reset;
    } else {
      headers["x-ratelimit-limit-" + window.resource] = std::to_string(window.limit);
      headers["x-ratelimit-remaining-" + window.resource] = remaining;
      headers["x-ratelimit-reset-" + window.resource] = window.resource == "requests" ? "6m0s" : "1s";
    }
  }
  return headers;
}

// The provider-specific events of a streamed reply; timing and faults are the caller's.
class StreamFormat {
 public:
  virtual ~StreamFormat() = default;
  virtual std::vector<std::string> Opening() = 0;
  virtual std::vector<std::string> Token(const std::string& text, bool reasoning) = 0;
  virtual std::vector<std::string> Closing() = 0;
  virtual std::string Error() = 0;
  // Sent between the opening and the first token when the script asks for keep-alives.
  virtual std::string KeepAlive() { return ": keep-alive\n\n"; }
};

// :streamGenerateContent?alt=sse: one GenerateContentResponse per event, framed with CRLF as
// Google sends it; the last carries finishReason and the whole usage. No opening event and no
// keep-alive comments. Reasoning tokens are thought parts ("thought": true).
class GeminiStream : public StreamFormat {
 public:
  GeminiStream(const Reply& reply, const Behaviour& behaviour) : reply_(reply), behaviour_(behaviour) {}

  std::vector<std::string> Opening() override { return {}; }
  std::vector<std::string> Token(const std::string& text, bool reasoning) override {
    json part = {{"text", text}};
    if (reasoning) part["thought"] = true;
    return {Chunk(json::array({part}), nullptr)};
  }
  std::vector<std::string> Closing() override {
    return {Chunk(json::array({{{"text", ""}}}), reply_.length_limited ? "MAX_TOKENS" : "STOP")};
  }
  std::string Error() override { return Data(GeminiErrorEnvelope(ErrorOf(behaviour_))); }
  std::string KeepAlive() override { return ""; }

 private:
  static std::string Data(const json& payload) { return "data: " + payload.dump() + "\r\n\r\n"; }
  // An error inside a 200 stream names a status of its own; 500 INTERNAL unless scripted.
  static Behaviour ErrorOf(Behaviour behaviour) {
    if (IsSuccess(behaviour.status)) behaviour.status = 500;
    return behaviour;
  }

  std::string Chunk(const json& parts, const char* finish_reason) const {
    json body = json::object();
    body["candidates"] = json::array();
    if (behaviour_.body != BodyKind::kNoChoices) body["candidates"].push_back(GeminiCandidate(parts, finish_reason));
    if (!behaviour_.omit_usage) body["usageMetadata"] = GeminiUsage(reply_);
    body["modelVersion"] = reply_.model;
    body["responseId"] = reply_.id;
    return Data(body);
  }

  const Reply& reply_;
  const Behaviour& behaviour_;
};

// ConverseStream: application/vnd.amazon.eventstream frames (both CRCs) whose JSON payloads are
// the events of the first frames botocore logged in boto/boto3#4584 (real/bedrock.json):
// messageStart, contentBlockDelta..., contentBlockStop, messageStop, metadata; each with the
// "p" padding Bedrock adds. A scripted error is an exception frame; damaged_crc_after_tokens
// sends one token frame with a wrong message CRC.
class BedrockStream : public StreamFormat {
 public:
  BedrockStream(const Reply& reply, const Behaviour& behaviour) : reply_(reply), behaviour_(behaviour) {}

  std::vector<std::string> Opening() override { return {Event("messageStart", {{"role", "assistant"}})}; }
  std::vector<std::string> Token(const std::string& text, bool reasoning) override {
    const json delta = reasoning ? json{{"reasoningContent", {{"text", text}}}} : json{{"text", text}};
    std::vector<std::string> frames;
    if (reasoning != reasoning_ && tokens_ > 0) frames.push_back(Event("contentBlockStop", {{"contentBlockIndex", block_++}}));
    reasoning_ = reasoning;
    std::string frame = Event("contentBlockDelta", {{"contentBlockIndex", block_}, {"delta", delta}});
    if (tokens_++ == behaviour_.stream.damaged_crc_after_tokens) frame.back() = static_cast<char>(frame.back() ^ 0x01);
    frames.push_back(std::move(frame));
    return frames;
  }
  std::vector<std::string> Closing() override {
    std::vector<std::string> frames;
    if (tokens_ > 0) frames.push_back(Event("contentBlockStop", {{"contentBlockIndex", block_}}));
    frames.push_back(Event("messageStop", {{"stopReason", BedrockStopReason(reply_)}}));
    json metadata = {{"metrics", {{"latencyMs", 42}}}};
    if (!behaviour_.omit_usage) metadata["usage"] = BedrockUsage(reply_);
    frames.push_back(Event("metadata", metadata));
    return frames;
  }
  std::string Error() override {
    Behaviour behaviour = behaviour_;
    if (IsSuccess(behaviour.status)) behaviour.status = 500;
    return Frame({{":exception-type", BedrockErrorType(behaviour)}, {":content-type", "application/json"},
                  {":message-type", "exception"}},
                 json{{"message", behaviour.error_message}}.dump());
  }
  std::string KeepAlive() override { return ""; }

 private:
  static std::string Frame(const std::vector<std::pair<std::string, std::string>>& headers, std::string payload) {
    llm_probe::EventStreamMessage message;
    for (const auto& [name, value] : headers) message.headers.push_back({name, llm_probe::EventStreamValueType::kString, 0, value});
    message.payload = std::move(payload);
    return llm_probe::EncodeEventStreamMessage(message);
  }
  std::string Event(const char* type, json payload) const {
    payload["p"] = std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789").substr(0, 10 + reply_.id.size());
    return Frame({{":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}}, payload.dump());
  }

  const Reply& reply_;
  const Behaviour& behaviour_;
  int block_ = 0;
  int tokens_ = 0;
  bool reasoning_ = false;
};

// Responses API streaming events (https://platform.openai.com/docs/api-reference/responses-streaming;
// samples in real/openai-responses.json), each with its sequence_number. The end is
// response.completed, or response.incomplete when the output limit cut it. A scripted error is
// response.failed, or the bare `error` event when error_type is "error_event".
class ResponsesStream : public StreamFormat {
 public:
  ResponsesStream(const Reply& reply, const Behaviour& behaviour) : reply_(reply), behaviour_(behaviour) {}

  std::vector<std::string> Opening() override {
    std::vector<std::string> events = {
        Event("response.created", {{"response", ResponsesObject(reply_, behaviour_, "in_progress", false)}}),
        Event("response.in_progress", {{"response", ResponsesObject(reply_, behaviour_, "in_progress", false)}})};
    if (HasMessage()) {
      events.push_back(Event("response.output_item.added", {{"output_index", 0}, {"item", Message("in_progress", false)}}));
      events.push_back(Event("response.content_part.added", {{"item_id", MessageId()}, {"output_index", 0},
                                                             {"content_index", 0}, {"part", Part(false)}}));
    }
    return events;
  }
  // Reasoning is not streamed as text (only counted in usage), as the API does without summaries.
  std::vector<std::string> Token(const std::string& text, bool reasoning) override {
    if (reasoning || !HasMessage()) return {};
    return {Event("response.output_text.delta",
                  {{"item_id", MessageId()}, {"output_index", 0}, {"content_index", 0}, {"delta", text}})};
  }
  std::vector<std::string> Closing() override {
    std::vector<std::string> events;
    if (HasMessage()) {
      events.push_back(Event("response.output_text.done", {{"item_id", MessageId()}, {"output_index", 0},
                                                           {"content_index", 0}, {"text", Join(reply_.content)}}));
      events.push_back(Event("response.content_part.done", {{"item_id", MessageId()}, {"output_index", 0},
                                                            {"content_index", 0}, {"part", Part(true)}}));
      events.push_back(Event("response.output_item.done", {{"output_index", 0}, {"item", Message("completed", true)}}));
    }
    const std::string status = ResponsesStatus(reply_, behaviour_);
    events.push_back(Event("response." + status, {{"response", ResponsesObject(reply_, behaviour_, status, true)}}));
    return events;
  }
  std::string Error() override {
    if (behaviour_.error_type == "error_event") {
      return Event("error", {{"code", behaviour_.error_code.empty() ? "server_error" : behaviour_.error_code},
                             {"message", behaviour_.error_message},
                             {"param", nullptr}});
    }
    return Event("response.failed", {{"response", ResponsesObject(reply_, behaviour_, "failed", false)}});
  }

 private:
  bool HasMessage() const { return behaviour_.body != BodyKind::kNoChoices && !reply_.content.empty(); }
  std::string MessageId() const { return "msg_" + reply_.id; }
  json Part(bool done) const {
    return {{"type", "output_text"}, {"text", done ? Join(reply_.content) : ""}, {"annotations", json::array()}};
  }
  json Message(const char* status, bool done) const {
    return {{"id", MessageId()}, {"type", "message"}, {"status", status}, {"role", "assistant"},
            {"content", done ? json::array({Part(true)}) : json::array()}};
  }
  std::string Event(const std::string& name, json fields) {
    json data = {{"type", name}};
    for (auto& [key, value] : fields.items()) data[key] = std::move(value);
    data["sequence_number"] = sequence_++;
    return "event: " + name + "\ndata: " + data.dump() + "\n\n";
  }

  const Reply& reply_;
  const Behaviour& behaviour_;
  int sequence_ = 0;
};

class OpenAiStream : public StreamFormat {
 public:
  OpenAiStream(const Reply& reply, const Behaviour& behaviour, bool include_usage)
      : reply_(reply), behaviour_(behaviour), include_usage_(include_usage) {}

  std::vector<std::string> Opening() override {
    return {Data(Chunk({{"role", "assistant"}, {"content", ""}}, nullptr))};
  }
  std::vector<std::string> Token(const std::string& text, bool reasoning) override {
    return {Data(Chunk({{reasoning ? "reasoning_content" : "content", text}}, nullptr))};
  }
  std::vector<std::string> Closing() override {
    std::vector<std::string> events = {Data(Chunk(json::object(), reply_.length_limited ? "length" : "stop"))};
    if (include_usage_ && !behaviour_.omit_usage) {
      json usage_chunk = Chunk(json::object(), nullptr);
      usage_chunk["choices"] = json::array();
      usage_chunk["usage"] = OpenAiUsage(reply_);
      events.push_back(Data(usage_chunk));
    }
    events.push_back("data: [DONE]\n\n");
    return events;
  }
  std::string Error() override {
    const std::string type = behaviour_.error_type.empty() ? "server_error" : behaviour_.error_type;
    return Data({{"error", {{"message", behaviour_.error_message}, {"type", type}}}});
  }

 private:
  static std::string Data(const json& payload) { return "data: " + payload.dump() + "\n\n"; }

  json Chunk(json delta, json finish_reason) const {
    json choices = json::array();
    if (behaviour_.body != BodyKind::kNoChoices) {
      choices.push_back({{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                         {"finish_reason", std::move(finish_reason)}});
    }
    return {{"id", reply_.id},       {"object", "chat.completion.chunk"}, {"created", reply_.created},
            {"model", reply_.model}, {"system_fingerprint", "fp_mock"},   {"choices", choices}};
  }

  const Reply& reply_;
  const Behaviour& behaviour_;
  bool include_usage_;
};

class AnthropicStream : public StreamFormat {
 public:
  AnthropicStream(const Reply& reply, const Behaviour& behaviour) : reply_(reply), behaviour_(behaviour) {}

  std::vector<std::string> Opening() override {
    json message = {{"id", reply_.id},          {"type", "message"},     {"role", "assistant"},
                    {"model", reply_.model},    {"content", json::array()}, {"stop_reason", nullptr},
                    {"stop_sequence", nullptr}};
    if (!behaviour_.omit_usage) message["usage"] = {{"input_tokens", reply_.prompt_tokens}, {"output_tokens", 1}};
    std::vector<std::string> events = {Event("message_start", {{"type", "message_start"}, {"message", message}})};
    if (behaviour_.body != BodyKind::kNoChoices) Append(events, OpenBlock(!reply_.reasoning.empty()));
    events.push_back(Event("ping", {{"type", "ping"}}));
    return events;
  }
  std::vector<std::string> Token(const std::string& text, bool reasoning) override {
    std::vector<std::string> events;
    if (reasoning != thinking_) {
      Append(events, CloseBlock());
      Append(events, OpenBlock(reasoning));
    }
    const json delta = reasoning ? json{{"type", "thinking_delta"}, {"thinking", text}}
                                 : json{{"type", "text_delta"}, {"text", text}};
    events.push_back(BlockEvent("content_block_delta", "delta", delta));
    return events;
  }
  std::vector<std::string> Closing() override {
    std::vector<std::string> events;
    if (block_ >= 0) Append(events, CloseBlock());
    json message_delta = {{"type", "message_delta"},
                          {"delta", {{"stop_reason", reply_.length_limited ? "max_tokens" : "end_turn"},
                                     {"stop_sequence", nullptr}}}};
    if (!behaviour_.omit_usage) message_delta["usage"] = {{"output_tokens", reply_.completion_tokens}};
    events.push_back(Event("message_delta", message_delta));
    events.push_back(Event("message_stop", {{"type", "message_stop"}}));
    return events;
  }
  std::string Error() override {
    const std::string type = behaviour_.error_type.empty() ? "overloaded_error" : behaviour_.error_type;
    return Event("error", {{"type", "error"}, {"error", {{"type", type}, {"message", behaviour_.error_message}}}});
  }

 private:
  static std::string Event(const std::string& name, const json& data) {
    return "event: " + name + "\ndata: " + data.dump() + "\n\n";
  }
  static void Append(std::vector<std::string>& events, std::vector<std::string> more) {
    events.insert(events.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  std::string BlockEvent(const std::string& name, const char* key, const json& value) const {
    json data = {{"type", name}, {"index", block_}};
    if (key != nullptr) data[key] = value;
    return Event(name, data);
  }
  std::vector<std::string> OpenBlock(bool thinking) {
    ++block_;
    thinking_ = thinking;
    const json block = thinking ? json{{"type", "thinking"}, {"thinking", ""}} : json{{"type", "text"}, {"text", ""}};
    return {BlockEvent("content_block_start", "content_block", block)};
  }
  std::vector<std::string> CloseBlock() {
    std::vector<std::string> events;
    if (thinking_) {
      events.push_back(BlockEvent("content_block_delta", "delta", {{"type", "signature_delta"}, {"signature", "mock"}}));
    }
    events.push_back(BlockEvent("content_block_stop", nullptr, nullptr));
    return events;
  }

  const Reply& reply_;
  const Behaviour& behaviour_;
  int block_ = -1;
  bool thinking_ = false;
};

struct TimedEvent {
  Milliseconds at;  // after the opening events
  std::string text;
};

struct StreamPlan {
  std::vector<TimedEvent> events;
  std::optional<Milliseconds> cut_at;  // close the connection then, instead of ending the body
};

// Lays the events out in time: the opening at once, the first token after first_token_delay_ms,
// then one token per token_interval_ms; a cut or an error takes the place of the next token.
StreamPlan PlanStream(StreamFormat& format, const Reply& reply, const Behaviour& behaviour) {
  const StreamScript& script = behaviour.stream;
  std::vector<std::pair<std::string, bool>> tokens;  // text, is reasoning
  for (const std::string& token : reply.reasoning) tokens.emplace_back(token, true);
  for (const std::string& token : reply.content) tokens.emplace_back(token, false);
  const std::size_t total = tokens.size();
  const auto after = [total](int count) {
    return count < 0 ? std::numeric_limits<std::size_t>::max() : std::min<std::size_t>(count, total);
  };
  const std::size_t cut = behaviour.reset_mid_body ? total / 2 : after(script.cut_after_tokens);
  const std::size_t error = after(script.error_after_tokens);
  const auto slot = [&script](std::size_t index) {
    return Milliseconds(script.first_token_delay_ms + static_cast<std::int64_t>(index) * script.token_interval_ms);
  };

  StreamPlan plan;
  const auto add = [&plan](Milliseconds at, const std::vector<std::string>& texts) {
    for (const std::string& text : texts) plan.events.push_back({at, text});
  };
  add(Milliseconds(0), format.Opening());
  if (script.keepalive_comments && !format.KeepAlive().empty()) add(Milliseconds(0), {format.KeepAlive()});
  const std::size_t sent = std::min({cut, error, total});
  for (std::size_t i = 0; i < sent; ++i) add(slot(i), format.Token(tokens[i].first, tokens[i].second));
  if (sent == cut) {
    plan.cut_at = slot(sent);
  } else if (sent == error) {
    add(slot(sent), {format.Error()});
  } else {
    add(slot(total == 0 ? 0 : total - 1), format.Closing());
  }
  return plan;
}

struct Scenario {
  std::vector<Behaviour> cycle;
  std::size_t next = 0;
  std::deque<Behaviour> queued;
  int request_count = 0;
  std::deque<RecordedRequest> requests;
};

RecordedRequest Record(const Route& route, const httplib::Request& request) {
  RecordedRequest recorded{request.method, route.path, {}, request.body, {}};
  for (const auto& [name, value] : request.headers) {
    std::string lower = llm_probe::AsciiLower(name);
    // httplib adds the peer's address as pseudo headers; they were never sent.
    if (lower == "remote_addr" || lower == "remote_port" || lower == "local_addr" || lower == "local_port") continue;
    recorded.headers.emplace(std::move(lower), value);
  }
  for (const auto& [name, value] : request.params) recorded.params.emplace(name, value);
  return recorded;
}

// The mock's own answers, in the provider's envelope, for requests no behaviour covers.
Behaviour OwnError(int status, std::string type, std::string code, std::string message) {
  Behaviour behaviour;
  behaviour.status = status;
  behaviour.error_type = std::move(type);
  behaviour.error_code = std::move(code);
  behaviour.error_message = std::move(message);
  return behaviour;
}

bool HasGeminiKey(const httplib::Request& request) {
  const std::string key =
      request.has_header("x-goog-api-key") ? request.get_header_value("x-goog-api-key") : request.get_param_value("key");
  return key == kGeminiApiKey;
}

// "20150830T123600Z" → Unix seconds; nullopt when it is not that form.
std::optional<std::int64_t> ParseAmzDate(const std::string& text) {
  std::tm utc{};
  if (text.size() != 16 || strptime(text.c_str(), "%Y%m%dT%H%M%SZ", &utc) == nullptr) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&utc));
}

// Signs the request again with the mock's secret, over the headers it says it signed, at the time
// it says, and compares the Authorization headers. nullopt: accepted; else AWS's refusal
// (real/bedrock.json, bedrock-invalid-signature; the header with the coral service suffix).
std::optional<Behaviour> CheckSigV4(const httplib::Request& request) {
  const auto refuse = [](std::string type, std::string message) {
    Behaviour refusal = OwnError(403, std::move(type), "", std::move(message));
    refusal.headers["x-amzn-ErrorType"] = refusal.error_type + ":http://internal.amazon.com/coral/com.amazon.coral.service/";
    return refusal;
  };
  static const std::regex kAuthorization(
      R"(AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64}))");
  const std::string authorization = request.get_header_value("Authorization");
  std::smatch match;
  const std::optional<std::int64_t> when = ParseAmzDate(request.get_header_value("X-Amz-Date"));
  if (!std::regex_match(authorization, match, kAuthorization) || !when) {
    return refuse("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  if (match[1] != kAwsAccessKeyId) {
    return refuse("UnrecognizedClientException", "The security token included in the request is invalid.");
  }
  llm_probe::HttpRequest resigned;
  resigned.method = request.method;
  resigned.url = "http://" + request.get_header_value("Host") + request.target;
  resigned.body = request.body;
  std::stringstream names(match[5].str());
  for (std::string name; std::getline(names, name, ';');) {
    if (name == "host" || name == "x-amz-date" || name == "x-amz-security-token") continue;  // SignV4 adds them
    if (!request.has_header(name)) return refuse("InvalidSignatureException", "Signed header " + name + " is missing.");
    resigned.headers.emplace_back(name, request.get_header_value(name));
  }
  const llm_probe::AwsCredentials credentials{kAwsAccessKeyId, kAwsSecretAccessKey,
                                              request.get_header_value("X-Amz-Security-Token")};
  llm_probe::SignV4(resigned, credentials, {match[3], match[4]}, *when);
  for (const auto& [name, value] : resigned.headers) {
    if (name == "Authorization" && value == authorization && match[4] == "bedrock") return std::nullopt;
  }
  return refuse("InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method. Consult the service documentation for details.");
}

// httplib 0.11 listens with a backlog of 5, so a burst of connections (a whole probe round at
// once) loses SYNs that the clients retry only a second later; Linux lets a second listen()
// widen the backlog.
class Server : public httplib::Server {
 public:
  void WidenBacklog() { ::listen(svr_sock_.load(), SOMAXCONN); }
};

}  // namespace

struct MockUpstream::Impl {
  explicit Impl(std::size_t threads) : worker_threads(threads) {}

  struct Admission {
    std::optional<Behaviour> behaviour;  // none for an unknown path
    std::uint64_t sequence = 0;          // across the mock, for reply ids
    int scenario_request = 0;            // 1 for the scenario's first request
  };

  // Handing out the behaviour and recording happen under one lock, so concurrent requests see
  // the cycle in order.
  Admission Admit(const Route& route, const httplib::Request& request) {
    RecordedRequest recorded = Record(route, request);
    std::lock_guard lock(mutex);
    Scenario& scenario = scenarios[route.scenario];
    scenario.requests.push_back(std::move(recorded));
    if (scenario.requests.size() > kRecordedRequestsKept) scenario.requests.pop_front();
    Admission admission{std::nullopt, next_sequence++, ++scenario.request_count};
    if (route.endpoint == Endpoint::kUnknown) return admission;
    if (!scenario.queued.empty()) {
      admission.behaviour = std::move(scenario.queued.front());
      scenario.queued.pop_front();
    } else if (scenario.cycle.empty()) {
      admission.behaviour = Behaviour{};
    } else {
      admission.behaviour = scenario.cycle[scenario.next++ % scenario.cycle.size()];
    }
    return admission;
  }

  // False when the mock stops first.
  bool WaitUntil(Clock::time_point deadline) {
    std::unique_lock lock(mutex);
    return !stop_requested.wait_until(lock, deadline, [this] { return stopping; });
  }

  void WaitForStop() {
    std::unique_lock lock(mutex);
    stop_requested.wait(lock, [this] { return stopping; });
  }

  void Serve(const httplib::Request& request, httplib::Response& response) {
    const Route route = RouteOf(request);
    const Admission admission = Admit(route, request);
    const json no_request = json::object();
    if (!admission.behaviour) {
      const std::string message = "Unknown request URL: " + request.method + " " + route.path +
                                  ". Please check the URL for typos, or see the docs at "
                                  "https://platform.openai.com/docs/api-reference/.";
      const Behaviour unknown_url = OwnError(404, "invalid_request_error", "unknown_url", message);
      return Respond(route, unknown_url, no_request, admission, response);
    }
    if (route.api == Api::kGemini && !HasGeminiKey(request)) {
      // Google's reply to a missing or wrong key (real/gemini-native.json,
      // gemini-native-api-key-invalid).
      const Behaviour invalid_key = OwnError(400, "INVALID_ARGUMENT", "API_KEY_INVALID",
                                             "API key not valid. Please pass a valid API key.");
      return Respond(route, invalid_key, no_request, admission, response);
    }
    if (route.api == Api::kBedrock) {
      if (const std::optional<Behaviour> refused = CheckSigV4(request)) {
        return Respond(route, *refused, no_request, admission, response);
      }
    }
    const Behaviour& behaviour = *admission.behaviour;
    Behaviour stopped = OwnError(503, "", "", "mock upstream is stopping");
    stopped.headers["Connection"] = "close";  // an idle keep-alive connection would hold up Stop()
    if (behaviour.hang) {
      WaitForStop();
      return Respond(route, stopped, no_request, admission, response);
    }
    if (!WaitUntil(Clock::now() + Milliseconds(behaviour.delay_ms))) {
      return Respond(route, stopped, no_request, admission, response);
    }
    json body = json::object();
    if (request.method == "POST") {
      body = json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        const Behaviour unparsable = OwnError(400, "invalid_request_error", "",
                                              "We could not parse the JSON body of your request. (HINT: This likely "
                                              "means you aren't using your HTTP library correctly.)");
        return Respond(route, unparsable, no_request, admission, response);
      }
    }
    Respond(route, behaviour, body, admission, response);
  }

  void Respond(const Route& route, const Behaviour& behaviour, const json& request, const Admission& admission,
               httplib::Response& response) {
    const bool stream = StreamsReply(route, behaviour, request);
    const Reply reply = PlanReply(route, behaviour, request, stream, admission.sequence);
    HeaderMap headers;
    if (behaviour.ratelimit_headers) {
      headers = RateLimitHeaders(route.api, reply, behaviour.status, admission.scenario_request);
    }
    if (route.api == Api::kBedrock) {
      headers["x-amzn-RequestId"] = "00000000-0000-4000-8000-" + std::string(12 - std::min<std::size_t>(12, std::to_string(admission.sequence).size()), '0') + std::to_string(admission.sequence);
      if (!IsSuccess(behaviour.status) || behaviour.body == BodyKind::kErrorEnvelope) {
        headers["x-amzn-ErrorType"] = BedrockErrorType(behaviour) + ":http://internal.amazon.com/coral/com.amazon.bedrock/";
      }
    }
    for (const auto& [name, value] : behaviour.headers) headers[name] = value;
    for (const auto& [name, value] : headers) response.set_header(name, value);
    response.status = behaviour.status;

    if (stream) {
      std::unique_ptr<StreamFormat> format;
      if (route.api == Api::kAnthropic) {
        format = std::make_unique<AnthropicStream>(reply, behaviour);
      } else if (route.api == Api::kGemini) {
        format = std::make_unique<GeminiStream>(reply, behaviour);
      } else if (route.api == Api::kResponses) {
        format = std::make_unique<ResponsesStream>(reply, behaviour);
      } else if (route.api == Api::kBedrock) {
        format = std::make_unique<BedrockStream>(reply, behaviour);
        return SendStream(PlanStream(*format, reply, behaviour), response, "application/vnd.amazon.eventstream");
      } else {
        const auto options = request.find("stream_options");
        const bool include_usage = options != request.end() && options->is_object() && IsTrue(*options, "include_usage");
        format = std::make_unique<OpenAiStream>(reply, behaviour, include_usage);
      }
      return SendStream(PlanStream(*format, reply, behaviour), response, "text/event-stream");
    }
    Body body = RenderBody(route, reply, behaviour);
    if (!behaviour.reset_mid_body) return response.set_content(body.text, body.content_type);
    auto text = std::make_shared<std::string>(std::move(body.text));
    response.set_content_provider(text->size(), body.content_type, [text](std::size_t, std::size_t, httplib::DataSink& sink) {
      sink.write(text->data(), text->size() / 2);
      return false;  // httplib closes the connection short of Content-Length
    });
  }

  // One event per call and per chunk, each written when due; the provider runs on the worker.
  void SendStream(StreamPlan plan, httplib::Response& response, const char* content_type) {
    struct Progress {
      StreamPlan plan;
      std::size_t next = 0;
      std::optional<Clock::time_point> started;
    };
    auto progress = std::make_shared<Progress>(Progress{std::move(plan), 0, std::nullopt});
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider(content_type, [this, progress](std::size_t, httplib::DataSink& sink) {
      if (!progress->started) progress->started = Clock::now();
      const Clock::time_point start = *progress->started;
      if (progress->next < progress->plan.events.size()) {
        const TimedEvent& event = progress->plan.events[progress->next++];
        return WaitUntil(start + event.at) && sink.write(event.text.data(), event.text.size());
      }
      if (progress->plan.cut_at) {
        WaitUntil(start + *progress->plan.cut_at);
        return false;
      }
      sink.done();
      return true;
    });
  }

  void Control(httplib::Response& response, const std::function<json()>& action) {
    try {
      response.set_content(action().dump(), kJson);
    } catch (const nlohmann::json::exception& error) {
      response.status = 400;
      response.set_content(json{{"error", std::string("invalid JSON: ") + error.what()}}.dump(), kJson);
    } catch (const std::invalid_argument& error) {
      response.status = 400;
      response.set_content(json{{"error", error.what()}}.dump(), kJson);
    }
  }

  void SetCycle(const std::string& name, std::vector<Behaviour> cycle) {
    std::lock_guard lock(mutex);
    Scenario& scenario = scenarios[name];
    scenario.cycle = std::move(cycle);
    scenario.next = 0;
  }

  void Enqueue(const std::string& name, std::vector<Behaviour> behaviours) {
    std::lock_guard lock(mutex);
    Scenario& scenario = scenarios[name];
    for (Behaviour& behaviour : behaviours) scenario.queued.push_back(std::move(behaviour));
  }

  int RequestCount(const std::string& name) const {
    std::lock_guard lock(mutex);
    const auto scenario = scenarios.find(name);
    return scenario == scenarios.end() ? 0 : scenario->second.request_count;
  }

  void InstallRoutes() {
    const std::string scenario = R"(/_mock/scenarios/([^/]+))";
    server.Put(scenario, [this](const httplib::Request& request, httplib::Response& response) {
      Control(response, [&] {
        const std::string name = request.matches[1];
        auto cycle = CycleFromJson(nlohmann::json::parse(request.body));
        const std::size_t size = cycle.size();
        SetCycle(name, std::move(cycle));
        return json{{"scenario", name}, {"cycle", size}};
      });
    });
    server.Post(scenario + "/enqueue", [this](const httplib::Request& request, httplib::Response& response) {
      Control(response, [&] {
        const std::string name = request.matches[1];
        auto behaviours = CycleFromJson(nlohmann::json::parse(request.body));
        const std::size_t size = behaviours.size();
        Enqueue(name, std::move(behaviours));
        return json{{"scenario", name}, {"enqueued", size}};
      });
    });
    server.Get(scenario + "/requests", [this](const httplib::Request& request, httplib::Response& response) {
      Control(response, [&] { return json{{"count", RequestCount(request.matches[1])}}; });
    });
    const auto serve = [this](const httplib::Request& request, httplib::Response& response) { Serve(request, response); };
    server.Get(".*", serve);
    server.Post(".*", serve);
    server.Put(".*", serve);
    server.Patch(".*", serve);
    server.Delete(".*", serve);
    server.Options(".*", serve);
    server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& exception) {
        what = exception.what();
      } catch (...) {
      }
      response.status = 500;
      response.set_content(ErrorEnvelope(Api::kOpenAi, OwnError(500, "", "", "mock_upstream: " + what)).dump(), kJson);
    });
  }

  Server server;
  std::size_t worker_threads;
  std::thread listener;
  std::string host;
  int port = 0;

  mutable std::mutex mutex;
  std::condition_variable stop_requested;
  bool stopping = false;
  std::map<std::string, Scenario> scenarios;
  std::uint64_t next_sequence = 1;
};

MockUpstream::MockUpstream() : MockUpstream(kDefaultWorkerThreads) {}

MockUpstream::MockUpstream(std::size_t worker_threads) : impl_(std::make_unique<Impl>(worker_threads)) {
  impl_->InstallRoutes();
  // Without it, Nagle's algorithm holds back the small SSE chunks and skews stream timing.
  impl_->server.set_tcp_nodelay(true);
  // httplib's default adds SO_REUSEPORT, with which a second mock binds a busy port and the
  // kernel splits the connections between the two.
  impl_->server.set_socket_options([](socket_t socket) {
    const int enable = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof enable);
  });
  impl_->server.set_keep_alive_timeout(kKeepAliveSeconds);
  impl_->server.set_keep_alive_max_count(kKeepAliveRequests);
}

MockUpstream::~MockUpstream() { Stop(); }

int MockUpstream::Start(const std::string& host, int port) {
  Impl& impl = *impl_;
  if (impl.listener.joinable() || impl.stopping) throw std::logic_error("mock_upstream: Start() runs once");
  const int bound = port == 0 ? impl.server.bind_to_any_port(host) : (impl.server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) throw std::runtime_error("mock_upstream: cannot bind " + host + ":" + std::to_string(port));
  impl.server.WidenBacklog();
  impl.host = host;
  impl.port = bound;
  // httplib asks for its task queue once it counts as running, and only then does stop() work;
  // connections arriving before that wait in the listen backlog.
  auto listening = std::make_shared<std::promise<void>>();
  std::future<void> ready = listening->get_future();
  impl.server.new_task_queue = [listening, threads = impl.worker_threads] {
    listening->set_value();
    return new httplib::ThreadPool(threads);
  };
  impl.listener = std::thread([&impl] { impl.server.listen_after_bind(); });
  ready.wait();
  return bound;
}

void MockUpstream::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->stop_requested.notify_all();
  if (impl_->listener.joinable()) {
    impl_->server.stop();
    impl_->listener.join();
  }
}

int MockUpstream::port() const { return impl_->port; }

std::string MockUpstream::RootUrl(const std::string& scenario) const {
  const std::string& host = impl_->host;
  const std::string authority = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + authority + ":" + std::to_string(impl_->port) + "/s/" + scenario;
}

std::string MockUpstream::BaseUrl(const std::string& scenario) const { return RootUrl(scenario) + "/v1"; }

void MockUpstream::SetBehaviour(const std::string& scenario, std::vector<Behaviour> cycle) {
  impl_->SetCycle(scenario, std::move(cycle));
}

void MockUpstream::SetBehaviour(const std::string& scenario, Behaviour behaviour) {
  impl_->SetCycle(scenario, {std::move(behaviour)});
}

void MockUpstream::Enqueue(const std::string& scenario, Behaviour once) { impl_->Enqueue(scenario, {std::move(once)}); }

int MockUpstream::RequestCount(const std::string& scenario) const { return impl_->RequestCount(scenario); }

std::vector<RecordedRequest> MockUpstream::Requests(const std::string& scenario) const {
  std::lock_guard lock(impl_->mutex);
  const auto found = impl_->scenarios.find(scenario);
  if (found == impl_->scenarios.end()) return {};
  return {found->second.requests.begin(), found->second.requests.end()};
}

namespace {

template <typename Target>
using Binders = std::map<std::string, std::function<void(const nlohmann::json&, Target&)>>;

template <typename Target, typename Field>
std::function<void(const nlohmann::json&, Target&)> Bind(Field Target::*member) {
  return [member](const nlohmann::json& value, Target& target) { target.*member = value.get<Field>(); };
}

template <typename Target>
void ReadObject(const nlohmann::json& object, Target& target, const Binders<Target>& binders, const std::string& prefix) {
  if (!object.is_object()) {
    const std::string what = prefix.empty() ? "a behaviour" : "behaviour key \"" + prefix.substr(0, prefix.size() - 1) + "\"";
    throw std::invalid_argument(what + " must be a JSON object");
  }
  for (const auto& [key, value] : object.items()) {
    const auto binder = binders.find(key);
    if (binder == binders.end()) throw std::invalid_argument("unknown behaviour key \"" + prefix + key + "\"");
    try {
      binder->second(value, target);
    } catch (const nlohmann::json::exception& error) {
      throw std::invalid_argument("behaviour key \"" + prefix + key + "\": " + error.what());
    }
  }
}

const Binders<StreamScript> kStreamBinders = {
    {"first_token_delay_ms", Bind(&StreamScript::first_token_delay_ms)},
    {"token_count", Bind(&StreamScript::token_count)},
    {"token_interval_ms", Bind(&StreamScript::token_interval_ms)},
    {"cut_after_tokens", Bind(&StreamScript::cut_after_tokens)},
    {"error_after_tokens", Bind(&StreamScript::error_after_tokens)},
    {"keepalive_comments", Bind(&StreamScript::keepalive_comments)},
    {"reasoning_tokens", Bind(&StreamScript::reasoning_tokens)},
    {"damaged_crc_after_tokens", Bind(&StreamScript::damaged_crc_after_tokens)},
};

const std::map<std::string, BodyKind> kBodyKinds = {
    {"normal", BodyKind::kNormal},
    {"empty_content", BodyKind::kEmptyContent},
    {"no_choices", BodyKind::kNoChoices},
    {"malformed_json", BodyKind::kMalformedJson},
    {"html", BodyKind::kHtml},
    {"error_envelope", BodyKind::kErrorEnvelope},
    {"json_array", BodyKind::kJsonArray},
    {"empty_model_list", BodyKind::kEmptyModelList},
    {"safety_block", BodyKind::kSafetyBlock},
    {"prompt_blocked", BodyKind::kPromptBlocked},
};

const Binders<Behaviour> kBehaviourBinders = {
    {"status", Bind(&Behaviour::status)},
    {"delay_ms", Bind(&Behaviour::delay_ms)},
    {"body",
     [](const nlohmann::json& value, Behaviour& behaviour) {
       const auto kind = kBodyKinds.find(value.get<std::string>());
       if (kind == kBodyKinds.end()) throw std::invalid_argument("unknown body kind \"" + value.get<std::string>() + "\"");
       behaviour.body = kind->second;
     }},
    {"error_type", Bind(&Behaviour::error_type)},
    {"error_code", Bind(&Behaviour::error_code)},
    {"error_message", Bind(&Behaviour::error_message)},
    {"hang", Bind(&Behaviour::hang)},
    {"reset_mid_body", Bind(&Behaviour::reset_mid_body)},
    {"served_model", Bind(&Behaviour::served_model)},
    {"content", Bind(&Behaviour::content)},
    {"models", Bind(&Behaviour::models)},
    {"headers", Bind(&Behaviour::headers)},
    {"omit_usage", Bind(&Behaviour::omit_usage)},
    {"prompt_tokens", Bind(&Behaviour::prompt_tokens)},
    {"completion_tokens", Bind(&Behaviour::completion_tokens)},
    {"stream", [](const nlohmann::json& value, Behaviour& behaviour) { ReadObject(value, behaviour.stream, kStreamBinders, "stream."); }},
    {"ratelimit_headers", Bind(&Behaviour::ratelimit_headers)},
    {"structured",
     [](const nlohmann::json& value, Behaviour& behaviour) {
       const std::string kind = value.get<std::string>();
       if (kind != "" && kind != "missing" && kind != "missing_key" && kind != "invalid_json") {
         throw std::invalid_argument("unknown structured \"" + kind + "\"");
       }
       behaviour.structured = kind;
     }},
    {"models_page_size", Bind(&Behaviour::models_page_size)},
};

}  // namespace

Behaviour BehaviourFromJson(const nlohmann::json& json) {
  Behaviour behaviour;
  ReadObject(json, behaviour, kBehaviourBinders, "");
  if (behaviour.status < 100 || behaviour.status > 599) {
    throw std::invalid_argument("behaviour status " + std::to_string(behaviour.status) + " is not an HTTP status");
  }
  return behaviour;
}

std::vector<Behaviour> CycleFromJson(const nlohmann::json& json) {
  if (!json.is_array()) return {BehaviourFromJson(json)};
  std::vector<Behaviour> cycle;
  for (const auto& behaviour : json) cycle.push_back(BehaviourFromJson(behaviour));
  return cycle;
}

}  // namespace mock_upstream
