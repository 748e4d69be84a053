// Google's native Gemini API (`provider: gemini`): GET /models, :generateContent,
// :streamGenerateContent?alt=sse, :embedContent, the key in x-goog-api-key;
// candidates[].content.parts[], usageMetadata, finishReason, and errors as google.rpc.Status
// ({"error": {"code", "message", "status", "details"}}).
#include "gemini.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string>

#include "json_parse.h"
#include "llm_probe/sigv4.h"
#include "llm_probe/text.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

// Candidate.FinishReason values that mean the model was stopped by the token limit.
constexpr std::string_view kLengthFinish = "MAX_TOKENS";

struct NamedClass {
  std::string_view name;
  ResultClass result_class;
};

// A google.rpc ErrorInfo reason that says more than the canonical status does.
constexpr std::array<NamedClass, 4> kReasonClasses = {{
    {"API_KEY_INVALID", ResultClass::kAuthError},
    {"API_KEY_SERVICE_BLOCKED", ResultClass::kForbidden},
    {"CONSUMER_SUSPENDED", ResultClass::kForbidden},
    {"SERVICE_DISABLED", ResultClass::kForbidden},
}};

// google.rpc.Code names, as Google's APIs put them in error.status. Two of them also carry a
// case that needs another action, told apart by the wording ClassifyHttpError knows: a
// FAILED_PRECONDITION from a region Google does not serve ("User location is not supported")
// and a RESOURCE_EXHAUSTED that is the project's spent prepaid credit ("Your prepayment credits
// are depleted") rather than a per-minute limit.
struct StatusClass {
  std::string_view name;
  ResultClass result_class;
  std::optional<ResultClass> wording_may_make = std::nullopt;
};

constexpr std::array<StatusClass, 9> kStatusClasses = {{
    {"INVALID_ARGUMENT", ResultClass::kBadRequest},
    {"FAILED_PRECONDITION", ResultClass::kBadRequest, ResultClass::kForbidden},
    {"UNAUTHENTICATED", ResultClass::kAuthError},
    {"PERMISSION_DENIED", ResultClass::kForbidden},
    {"NOT_FOUND", ResultClass::kModelNotFound},
    {"RESOURCE_EXHAUSTED", ResultClass::kRateLimited, ResultClass::kQuotaExceeded},
    {"UNAVAILABLE", ResultClass::kOverloaded},
    {"DEADLINE_EXCEEDED", ResultClass::kTimeout},
    {"INTERNAL", ResultClass::kServerError},
}};

template <typename Row, std::size_t N>
const Row* RowNamed(const std::array<Row, N>& table, std::string_view name) {
  const auto found = std::find_if(table.begin(), table.end(), [&](const Row& row) { return row.name == name; });
  return found == table.end() ? nullptr : &*found;
}

const json* FirstCandidate(const json& reply) {
  const auto candidates = reply.find("candidates");
  if (candidates == reply.end() || !candidates->is_array() || candidates->empty()) return nullptr;
  return candidates->front().is_object() ? &candidates->front() : nullptr;
}

// The text of a candidate, thought summaries left out: they are the model's reasoning, not
// its answer.
std::string AnswerText(const json& candidate) {
  std::string text;
  const auto content = candidate.find("content");
  if (content == candidate.end() || !content->is_object()) return text;
  const auto parts = content->find("parts");
  if (parts == content->end() || !parts->is_array()) return text;
  for (const json& part : *parts) {
    if (!part.is_object()) continue;
    const auto thought = part.find("thought");
    if (thought != part.end() && thought->is_boolean() && thought->get<bool>()) continue;
    text += StringAt(part, "text");
  }
  return text;
}

// functionCall parts: {"functionCall": {"name", "args"}}, the args an object. A call ends with
// finishReason STOP like text does, so the parts tell, not the finish reason.
void ReadFunctionCalls(const json& candidate, ReplyFacts& facts) {
  const auto content = candidate.find("content");
  if (content == candidate.end() || !content->is_object()) return;
  const auto parts = content->find("parts");
  if (parts == content->end() || !parts->is_array()) return;
  for (const json& part : *parts) {
    const auto call = part.is_object() ? part.find("functionCall") : part.end();
    if (call == part.end() || !call->is_object()) continue;
    const auto args = call->find("args");
    facts.tool_calls.push_back({StringAt(*call, "name"), {args == call->end() ? json() : *args}});
  }
}

void ReadUsage(const json& reply, ReplyFacts& facts) {
  const auto usage = reply.find("usageMetadata");
  if (usage == reply.end() || !usage->is_object()) return;
  const double thoughts = NumberAt(*usage, "thoughtsTokenCount").value_or(0);
  TokenUsage tokens;
  tokens.prompt = NumberAt(*usage, "promptTokenCount").value_or(0);
  tokens.completion = NumberAt(*usage, "candidatesTokenCount").value_or(0) + thoughts;
  tokens.reasoning = thoughts;
  facts.usage = tokens;
}

void ReadServedModel(const json& reply, ReplyFacts& facts) {
  std::string model = StringAt(reply, "modelVersion");
  if (model.empty()) return;
  // The stream names it "models/gemini-2.5-flash-...", generateContent "gemini-2.5-flash".
  constexpr std::string_view kPrefix = "models/";
  if (model.starts_with(kPrefix)) model.erase(0, kPrefix.size());
  facts.served_model = std::move(model);
}

// The prompt itself was refused: no candidates, promptFeedback.blockReason says why.
std::string BlockReason(const json& reply) {
  const auto feedback = reply.find("promptFeedback");
  if (feedback == reply.end() || !feedback->is_object()) return {};
  return StringAt(*feedback, "blockReason");
}

// Reads one GenerateContentResponse into facts; false when it is not one.
bool ReadResponse(const json& reply, ReplyFacts& facts, std::string& text) {
  if (!reply.is_object()) return false;
  ReadServedModel(reply, facts);
  ReadUsage(reply, facts);
  if (const std::string blocked = BlockReason(reply); !blocked.empty()) {
    facts.finish_reason = "prompt blocked: " + blocked;
    return true;
  }
  const json* candidate = FirstCandidate(reply);
  if (candidate == nullptr) return reply.contains("usageMetadata");
  text = AnswerText(*candidate);
  std::string finish = StringAt(*candidate, "finishReason");
  if (!finish.empty()) {
    facts.length_limited = finish == kLengthFinish;
    facts.finish_reason = std::move(finish);
  }
  return true;
}

const json* ErrorObject(const json& root) {
  const json& candidate = root.is_array() && !root.empty() ? root.front() : root;
  if (!candidate.is_object()) return nullptr;
  const auto error = candidate.find("error");
  return error != candidate.end() && error->is_object() ? &*error : nullptr;
}

bool NamesPerDayQuota(const json& detail) {
  const auto violations = detail.find("violations");
  if (violations == detail.end() || !violations->is_array()) return false;
  return std::any_of(violations->begin(), violations->end(), [](const json& violation) {
    return violation.is_object() && StringAt(violation, "quotaId").find("PerDay") != std::string::npos;
  });
}

// The class the google.rpc details decide, if any.
std::optional<ResultClass> ClassFromDetails(const json& error) {
  const auto details = error.find("details");
  if (details == error.end() || !details->is_array()) return std::nullopt;
  for (const json& detail : *details) {
    if (!detail.is_object()) continue;
    const std::string type = StringAt(detail, "@type");
    if (type.ends_with("google.rpc.QuotaFailure") && NamesPerDayQuota(detail)) {
      return ResultClass::kQuotaExceeded;
    }
    if (type.ends_with("google.rpc.ErrorInfo")) {
      if (const NamedClass* found = RowNamed(kReasonClasses, StringAt(detail, "reason"))) return found->result_class;
    }
  }
  return std::nullopt;
}

}  // namespace

ReplyFacts ReadGeminiReply(std::string_view body) {
  ReplyFacts facts;
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object()) {
    facts.malformed = "reply is not a JSON object";
    return facts;
  }
  if (const json* error = ErrorObject(*reply)) {
    facts.malformed = NamingUpstreamError("error object in a 2xx reply", StringAt(*error, "status"));
    return facts;
  }
  if (!ReadResponse(*reply, facts, facts.content)) {
    facts.malformed = "no candidates in the reply";
  } else if (const json* candidate = FirstCandidate(*reply)) {
    ReadFunctionCalls(*candidate, facts);
  }
  return facts;
}

void ReadGeminiStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts) {
  facts.last_event_seconds = seconds;
  const auto data = ParseJson(event.data);
  if (!data || !data->is_object()) {
    facts.malformed = "stream event is not a JSON object";
    return;
  }
  if (const json* error = ErrorObject(*data)) {
    facts.malformed = NamingUpstreamError("error event in the stream", StringAt(*error, "status"));
    return;
  }
  std::string text;
  if (!ReadResponse(*data, facts, text)) {
    facts.malformed = "stream event without candidates";
    return;
  }
  if (!text.empty()) {
    facts.content += text;
    ++facts.content_events;
    if (!facts.first_content_seconds) facts.first_content_seconds = seconds;
  }
  if (!facts.finish_reason.empty()) facts.stream_completed = true;
}

Classification ClassifyGeminiError(int status, std::string_view body) {
  Classification classification = ClassifyHttpError(status, body);
  const auto root = ParseJson(body);
  const json* error = root ? ErrorObject(*root) : nullptr;
  if (error == nullptr) return classification;
  if (auto decided = ClassFromDetails(*error)) {
    classification.result_class = *decided;
    return classification;
  }
  if (const StatusClass* status_class = RowNamed(kStatusClasses, StringAt(*error, "status"))) {
    const bool wording_decided = classification.result_class == status_class->wording_may_make;
    if (!wording_decided) classification.result_class = status_class->result_class;
  }
  return classification;
}

namespace {

// Gemini's Schema is a subset of OpenAPI's that refuses these JSON Schema keywords with a 400
// "Invalid JSON payload received. Unknown name" (additionalProperties: obsidian-smart-composer#455,
// pickeld/pick-a-recipe#29; $schema: QuantumNous/new-api#1037): they are left out, recursively,
// and property names, which may be anything, are kept.
json GeminiSchema(json schema) {
  if (schema.is_array()) {
    for (json& item : schema) item = GeminiSchema(std::move(item));
    return schema;
  }
  if (!schema.is_object()) return schema;
  schema.erase("additionalProperties");
  schema.erase("$schema");
  for (auto& [key, value] : schema.items()) {
    if (key == "properties" && value.is_object()) {
      for (auto& [name, property] : value.items()) property = GeminiSchema(std::move(property));
    } else {
      value = GeminiSchema(std::move(value));
    }
  }
  return schema;
}

// models.list's largest page (Google's reference: pageSize "at most 1000"), so today's list
// is one page; a page that ends with nextPageToken is followed (NextPageRequest).
constexpr std::string_view kModelsPage = "/models?pageSize=1000";

HttpRequest BuildGeminiRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request;
  // In a header, never in the URL's ?key=: URLs end up in proxy and access logs.
  if (!target.api_key.empty()) request.headers.emplace_back("x-goog-api-key", target.api_key);
  const std::string model_url = target.base_url + "/models/" + probe.model;
  json body;
  switch (probe.type) {
    case ProbeType::kModels:
      request.url = target.base_url + std::string(kModelsPage);
      return request;
    case ProbeType::kEmbeddings:
      request.url = model_url + ":embedContent";
      body = {{"content", {{"parts", json::array({{{"text", probe.prompt}}})}}}};
      break;
    case ProbeType::kChat:
    case ProbeType::kStream:
    case ProbeType::kTools:
    case ProbeType::kJson:
      request.url = model_url + (probe.type == ProbeType::kStream ? ":streamGenerateContent?alt=sse"
                                                                   : ":generateContent");
      body = {{"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", probe.prompt}}})}}})},
              {"generationConfig", {{"maxOutputTokens", probe.max_tokens}}}};
      if (probe.type == ProbeType::kStream) request.headers.emplace_back("Accept", "text/event-stream");
      if (probe.type == ProbeType::kTools) {
        json declaration = {{"name", probe.reply_schema.name}, {"parameters", GeminiSchema(SchemaOf(probe))}};
        if (!probe.reply_schema.description.empty()) declaration["description"] = probe.reply_schema.description;
        body["tools"] = json::array({{{"functionDeclarations", json::array({declaration})}}});
        // ANY: the model must call one of allowedFunctionNames.
        body["toolConfig"] = {{"functionCallingConfig",
                               {{"mode", "ANY"}, {"allowedFunctionNames", json::array({probe.reply_schema.name})}}}};
      } else if (probe.type == ProbeType::kJson) {
        body["generationConfig"]["responseMimeType"] = "application/json";
        body["generationConfig"]["responseSchema"] = GeminiSchema(SchemaOf(probe));
      }
      break;
  }
  request.method = "POST";
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body.dump();
  return request;
}

// {"models": [{"name": "models/<id>", ...}], "nextPageToken": ...}: one page of the list.
bool ReadGeminiModelList(std::string_view body, ModelList& list) {
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object()) return false;
  // A list with no models at all comes without the key.
  const auto models = reply->find("models");
  if (models != reply->end() && !models->is_array()) return false;
  if (models != reply->end()) {
    for (const json& model : *models) {
      if (!model.is_object()) continue;
      std::string name = StringAt(model, "name");
      constexpr std::string_view kPrefix = "models/";
      if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
      list.ids.insert(std::move(name));
    }
    list.count += static_cast<int>(models->size());
  }
  list.next_page_token = StringAt(*reply, "nextPageToken");
  return true;
}

// The first page's URL with the token of the page asked for (opaque base64: percent-encoded).
void AskForGeminiModelPage(std::string_view page_token, HttpRequest& request) {
  request.url += "&pageToken=" + AwsUriEncode(page_token);
}

// {"embedding": {"values": [...]}}
ReplyFacts ReadGeminiEmbedding(std::string_view body) {
  ReplyFacts facts;
  const auto reply = ParseJson(body);
  const json* values = nullptr;
  if (reply && reply->is_object()) {
    const auto embedding = reply->find("embedding");
    if (embedding != reply->end() && embedding->is_object()) {
      const auto found = embedding->find("values");
      if (found != embedding->end() && found->is_array()) values = &*found;
    }
  }
  if (values == nullptr) {
    facts.malformed = "no embedding in the reply";
  } else if (!values->empty()) {
    facts.content = "embedding";  // an empty vector is a reply without content
  }
  return facts;
}

ReplyFacts ReadGeminiReplyOf(ProbeType type, std::string_view body) {
  return type == ProbeType::kEmbeddings ? ReadGeminiEmbedding(body) : ReadGeminiReply(body);
}

Classification ReadGeminiError(int status, const HeaderList& /*headers*/, std::string_view body) {
  return ClassifyGeminiError(status, body);
}

// Gemini's thinking budget and token limit have other names (thinkingConfig, maxOutputTokens).
constexpr std::string_view kInapplicableProbeKeys[] = {"token_param", "reasoning_effort"};
constexpr ProviderAdapter kAdapter = {
    .build_request = BuildGeminiRequest,
    .read_model_list = ReadGeminiModelList,
    .ask_for_page = AskForGeminiModelPage,
    .read_reply = ReadGeminiReplyOf,
    .read_sse_event = ReadGeminiStreamEvent,
    .read_error = ReadGeminiError,
};

}  // namespace

extern const Provider kGeminiProvider = {
    .name = "gemini",
    .probe_types = kEveryProbeType,
    .inapplicable_probe_keys = kInapplicableProbeKeys,
    .model_in_url_path = true,  // models/{model}:generateContent
    .adapter = &kAdapter,
};

}  // namespace llm_probe::internal
