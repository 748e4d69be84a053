// AWS Bedrock Runtime's Converse API (`provider: bedrock`), SigV4-signed for every run:
// {"output": {"message": {"content": [{"text"}]}},
// "stopReason", "usage"}, the stream's events as event-stream messages, and errors typed by
// x-amzn-ErrorType ({"message": ...} in the body).
#include "bedrock.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "json_parse.h"
#include "llm_probe/sigv4.h"
#include "llm_probe/text.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

struct ErrorTypeClass {
  std::string_view type;
  ResultClass result_class;
};

// Bedrock Runtime's error types (API reference, Converse "Errors"), and the AWS-wide ones of
// the signing and credential checks.
constexpr std::array<ErrorTypeClass, 15> kErrorTypes = {{
    {"ThrottlingException", ResultClass::kRateLimited},
    {"ServiceQuotaExceededException", ResultClass::kQuotaExceeded},
    {"AccessDeniedException", ResultClass::kForbidden},
    {"UnrecognizedClientException", ResultClass::kAuthError},
    {"InvalidSignatureException", ResultClass::kAuthError},
    {"IncompleteSignatureException", ResultClass::kAuthError},
    {"MissingAuthenticationTokenException", ResultClass::kAuthError},
    {"ExpiredTokenException", ResultClass::kAuthError},
    {"ResourceNotFoundException", ResultClass::kModelNotFound},
    {"ValidationException", ResultClass::kBadRequest},
    {"ModelNotReadyException", ResultClass::kOverloaded},
    {"ServiceUnavailableException", ResultClass::kOverloaded},
    {"ModelTimeoutException", ResultClass::kTimeout},
    {"ModelErrorException", ResultClass::kServerError},
    {"InternalServerException", ResultClass::kServerError},
}};

// Wording inside a type that calls for another action than the type's usual one.
struct TypeWordingClass {
  std::string_view type;
  std::string_view wording;
  ResultClass result_class;
};

constexpr std::string_view kInvalidModelWording = "model identifier is invalid";
constexpr std::array<TypeWordingClass, 2> kTypeWordingClasses = {{
    {"ValidationException", kInvalidModelWording, ResultClass::kModelNotFound},
    // "Too many tokens per day": a daily quota, which no retry within the day clears (as a
    // Gemini QuotaFailure naming a per-day limit); "Too many tokens" alone stays RATE_LIMITED.
    {"ThrottlingException", "per day", ResultClass::kQuotaExceeded},
}};

void ReadUsage(const json& object, ReplyFacts& facts) {
  const auto usage = object.find("usage");
  if (usage == object.end() || !usage->is_object()) return;
  TokenUsage tokens;
  tokens.prompt = NumberAt(*usage, "inputTokens").value_or(0);
  tokens.completion = NumberAt(*usage, "outputTokens").value_or(0);
  facts.usage = tokens;
}

void ReadStopReason(const json& object, ReplyFacts& facts) {
  std::string stop_reason = StringAt(object, "stopReason");
  if (stop_reason.empty()) return;
  facts.length_limited = stop_reason == "max_tokens";
  facts.finish_reason = std::move(stop_reason);
}

// "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" or, in a body's
// __type, "com.amazon.coral.service#ThrottlingException": the bare type name.
std::string_view BareErrorType(std::string_view type) {
  type = TrimOws(type);
  type = type.substr(0, type.find(':'));
  const std::size_t hash = type.rfind('#');
  return hash == std::string_view::npos ? type : type.substr(hash + 1);
}

std::string ErrorType(const HeaderList& headers, const json* body) {
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoringCase(name, "x-amzn-ErrorType")) return std::string(BareErrorType(value));
  }
  if (body != nullptr && body->is_object()) return std::string(BareErrorType(StringAt(*body, "__type")));
  return {};
}

std::string ErrorMessage(const json* body) {
  if (body == nullptr || !body->is_object()) return {};
  std::string message = StringAt(*body, "message");
  return message.empty() ? StringAt(*body, "Message") : message;
}

}  // namespace

ReplyFacts ReadBedrockReply(std::string_view body) {
  ReplyFacts facts;
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object()) {
    facts.malformed = "reply is not a JSON object";
    return facts;
  }
  const json* message = nullptr;
  if (const auto output = reply->find("output"); output != reply->end() && output->is_object()) {
    const auto found = output->find("message");
    if (found != output->end() && found->is_object()) message = &*found;
  }
  if (message == nullptr) {
    facts.malformed = "no output message in the reply";
    return facts;
  }
  const auto content = message->find("content");
  if (content != message->end() && content->is_array()) {
    for (const json& block : *content) {
      if (!block.is_object()) continue;
      facts.content += StringAt(block, "text");
      // {"toolUse": {"toolUseId", "name", "input"}}
      const auto tool_use = block.find("toolUse");
      if (tool_use == block.end() || !tool_use->is_object()) continue;
      const auto input = tool_use->find("input");
      facts.tool_calls.push_back({StringAt(*tool_use, "name"), {input == tool_use->end() ? json() : *input}});
    }
  }
  ReadStopReason(*reply, facts);
  ReadUsage(*reply, facts);
  return facts;
}

void ReadBedrockStreamMessage(const EventStreamMessage& message, double seconds, ReplyFacts& facts) {
  facts.last_event_seconds = seconds;
  const std::string_view message_type = message.StringHeader(":message-type").value_or("");
  if (message_type == "exception" || message_type == "error") {
    const auto type = message.StringHeader(message_type == "exception" ? ":exception-type" : ":error-code");
    facts.malformed = NamingUpstreamError("exception frame in the stream", type.value_or("unnamed"));
    return;
  }
  const std::string_view event_type = message.StringHeader(":event-type").value_or("");
  const auto payload = ParseJson(message.payload);
  if (!payload || !payload->is_object()) {
    facts.malformed = "stream event is not a JSON object";
    return;
  }
  if (event_type == "contentBlockDelta") {
    const auto delta = payload->find("delta");
    if (delta == payload->end() || !delta->is_object()) return;
    const std::string text = StringAt(*delta, "text");  // toolUse and reasoning deltas are not the answer
    if (text.empty()) return;
    facts.content += text;
    ++facts.content_events;
    if (!facts.first_content_seconds) facts.first_content_seconds = seconds;
  } else if (event_type == "messageStop") {
    ReadStopReason(*payload, facts);
    facts.stream_completed = true;
  } else if (event_type == "metadata") {
    ReadUsage(*payload, facts);
  }
}

Classification ClassifyBedrockError(int status, const HeaderList& headers, std::string_view body) {
  Classification classification = ClassifyHttpError(status, body);
  const auto parsed = ParseJson(body);
  const json* json_body = parsed ? &*parsed : nullptr;
  const std::string type = ErrorType(headers, json_body);
  const std::string message = ErrorMessage(json_body);
  const auto known = std::find_if(kErrorTypes.begin(), kErrorTypes.end(),
                                  [&](const ErrorTypeClass& row) { return row.type == type; });
  const auto refined = std::find_if(kTypeWordingClasses.begin(), kTypeWordingClasses.end(),
                                    [&](const TypeWordingClass& row) {
                                      return row.type == type && ContainsIgnoringCase(message, row.wording);
                                    });
  if (refined != kTypeWordingClasses.end()) {
    classification.result_class = refined->result_class;
  } else if (known != kErrorTypes.end()) {
    classification.result_class = known->result_class;
  } else if (type.empty() && status == 400 && ContainsIgnoringCase(message, kInvalidModelWording)) {
    classification.result_class = ResultClass::kModelNotFound;
  }
  if (!type.empty()) classification.detail += " (" + SanitizeUpstreamText(type, 64) + ")";
  return classification;
}

namespace {

// Bedrock Runtime signs as "bedrock", not as its host's "bedrock-runtime".
constexpr std::string_view kSigningName = "bedrock";

// POST {base}/model/{modelId}/converse(-stream): the model id goes on the wire percent-encoded
// (a ':' as %3A), which is also what SignV4 expects to encode once more.
HttpRequest BuildBedrockRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request;
  const bool stream = probe.type == ProbeType::kStream;
  request.url = target.base_url + "/model/" + AwsUriEncode(probe.model) + (stream ? "/converse-stream" : "/converse");
  request.method = "POST";
  request.headers.emplace_back("Content-Type", "application/json");
  if (stream) request.headers.emplace_back("Accept", "application/vnd.amazon.eventstream");
  json body = {
      {"messages", json::array({{{"role", "user"}, {"content", json::array({{{"text", probe.prompt}}})}}})},
      {"inferenceConfig", {{"maxTokens", probe.max_tokens}}}};
  // Converse has no JSON mode: a json probe forces a tool named after its schema, as a tools
  // probe its function (toolChoice.tool: Anthropic's and Mistral Large's models on Bedrock).
  if (probe.type == ProbeType::kTools || probe.type == ProbeType::kJson) {
    const ReplySchema& schema = probe.reply_schema;
    json spec = {{"name", schema.name}, {"inputSchema", {{"json", SchemaOf(probe)}}}};
    if (!schema.description.empty()) spec["description"] = schema.description;
    body["toolConfig"] = {{"tools", json::array({{{"toolSpec", spec}}})},
                          {"toolChoice", {{"tool", {{"name", schema.name}}}}}};
  }
  request.body = body.dump();
  return request;
}

// A SigV4 signature holds the time, so each run signs its own copy (AWS refuses one more than
// five minutes old).
void SignBedrockRequest(const TargetConfig& target, double now_unix, HttpRequest& request) {
  const AwsCredentials credentials{target.aws.access_key_id, target.aws.secret_access_key,
                                   target.aws.session_token};
  SignV4(request, credentials, SigV4Scope{target.aws.region, std::string(kSigningName)},
         static_cast<std::int64_t>(now_unix));
}

ReplyFacts ReadBedrockReplyOf(ProbeType /*chat, tools and json read alike*/, std::string_view body) {
  return ReadBedrockReply(body);
}

constexpr ProbeType kProbeTypes[] = {ProbeType::kChat, ProbeType::kStream, ProbeType::kTools, ProbeType::kJson};
// Converse has maxTokens only and no reasoning_effort.
constexpr std::string_view kInapplicableProbeKeys[] = {"token_param", "reasoning_effort"};
constexpr ProviderAdapter kAdapter = {
    .build_request = BuildBedrockRequest,
    .complete_for_run = SignBedrockRequest,
    .read_model_list = ReadModelList,  // no models probe; only reached by a config not made by the loader
    .read_reply = ReadBedrockReplyOf,
    .read_event_stream_message = ReadBedrockStreamMessage,
    .read_error = ClassifyBedrockError,
    .json_through_tool = true,
};

}  // namespace

extern const Provider kBedrockProvider = {
    .name = "bedrock",
    .probe_types = kProbeTypes,
    .inapplicable_probe_keys = kInapplicableProbeKeys,
    .checks_served_model = false,  // Converse names no model in its reply
    .model_in_url_path = true,
    .aws_signed = true,
    .stream_framing = StreamFraming::kAwsEventStream,
    .adapter = &kAdapter,
};

}  // namespace llm_probe::internal
