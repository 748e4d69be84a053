// The OpenAI-compatible flavour: OpenAI itself, relays and gateways, Gemini's and vLLM's
// OpenAI-compatible endpoints.
#include <string>

#include "openai_responses.h"
#include "reply.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

const char* PathOf(ProbeType type) {
  switch (type) {
    case ProbeType::kModels:
      return "/models";
    case ProbeType::kEmbeddings:
      return "/embeddings";
    case ProbeType::kChat:
    case ProbeType::kStream:
    case ProbeType::kTools:
    case ProbeType::kJson:
      break;
  }
  return "/chat/completions";
}

std::optional<TokenUsage> UsageOf(const json& reply) {
  const auto usage = reply.find("usage");
  if (usage == reply.end() || !usage->is_object()) return std::nullopt;
  TokenUsage tokens;
  tokens.prompt = NumberAt(*usage, "prompt_tokens").value_or(0);
  tokens.completion = NumberAt(*usage, "completion_tokens").value_or(0);
  const auto details = usage->find("completion_tokens_details");
  if (details != usage->end() && details->is_object()) {
    tokens.reasoning = NumberAt(*details, "reasoning_tokens").value_or(0);
  }
  return tokens;
}

void ReadServedModel(const json& reply, ReplyFacts& facts) {
  std::string model = StringAt(reply, "model");
  if (!model.empty()) facts.served_model = std::move(model);
}

// Mistral's reasoning models send `content` as a list of parts: "thinking" parts are not the
// answer, "text" parts are.
std::string ContentText(const json& message) {
  const auto content = message.find("content");
  if (content == message.end() || !content->is_array()) return StringAt(message, "content");
  std::string text;
  for (const json& part : *content) {
    if (part.is_object() && StringAt(part, "type") == "text") text += StringAt(part, "text");
  }
  return text;
}

void ReadChoice(const json& choice, const char* message_key, ReplyFacts& facts) {
  const auto message = choice.find(message_key);
  if (message != choice.end() && message->is_object()) facts.content += ContentText(*message);
  std::string finish_reason = StringAt(choice, "finish_reason");
  if (!finish_reason.empty()) {
    facts.length_limited = finish_reason == "length";
    facts.finish_reason = std::move(finish_reason);
  }
}

// message.tool_calls[].function: {name, arguments}, the arguments a JSON text.
void ReadToolCalls(const json& message, ReplyFacts& facts) {
  const auto calls = message.find("tool_calls");
  if (calls == message.end() || !calls->is_array()) return;
  for (const json& call : *calls) {
    const auto function = call.is_object() ? call.find("function") : call.end();
    if (function == call.end() || !function->is_object()) continue;
    const auto arguments = function->find("arguments");
    facts.tool_calls.push_back(
        {StringAt(*function, "name"), {arguments == function->end() ? json() : *arguments, /*sent_as_text=*/true}});
  }
}

void ReadEmbeddings(const json& reply, ReplyFacts& facts) {
  const auto data = reply.find("data");
  if (data == reply.end() || !data->is_array() || data->empty() || !data->front().is_object() ||
      !data->front().contains("embedding")) {
    facts.malformed = "no embedding in the reply";
    return;
  }
  const json& vector = data->front().at("embedding");
  // A list of floats, or a base64 string when the upstream defaults to encoding_format=base64.
  if (!vector.is_array() && !vector.is_string()) {
    facts.malformed = "embedding is neither a vector nor base64";
    return;
  }
  if (!vector.empty()) facts.content = "embedding";  // an empty vector is a reply without content
}

}  // namespace

namespace {

std::string RequestBody(const ProbeConfig& probe) {
  json body = {{"model", probe.model}};
  if (probe.type == ProbeType::kEmbeddings) {
    body["input"] = probe.prompt;
    return body.dump();
  }
  body["messages"] = json::array({{{"role", "user"}, {"content", probe.prompt}}});
  body[probe.token_param] = probe.max_tokens;
  const ReplySchema& schema = probe.reply_schema;
  if (probe.type == ProbeType::kTools) {
    json function = {{"name", schema.name}, {"parameters", SchemaOf(probe)}};
    if (!schema.description.empty()) function["description"] = schema.description;
    body["tools"] = json::array({{{"type", "function"}, {"function", function}}});
    body["tool_choice"] = {{"type", "function"}, {"function", {{"name", schema.name}}}};
  } else if (probe.type == ProbeType::kJson) {
    body["response_format"] = {{"type", "json_schema"},
                               {"json_schema", {{"name", schema.name}, {"schema", SchemaOf(probe)}, {"strict", true}}}};
  }
  if (!probe.reasoning_effort.empty()) body["reasoning_effort"] = probe.reasoning_effort;
  body["stream"] = probe.type == ProbeType::kStream;
  if (probe.type == ProbeType::kStream) body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

}  // namespace

void AttachOpenAIBody(const ProbeConfig& probe, HttpRequest& request) {
  if (probe.type == ProbeType::kModels) return;
  request.method = "POST";
  request.headers.emplace_back("Content-Type", "application/json");
  if (probe.type == ProbeType::kStream) request.headers.emplace_back("Accept", "text/event-stream");
  request.body = RequestBody(probe);
}

namespace {

HttpRequest BuildOpenAIRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request;
  request.url = target.base_url + PathOf(probe.type);
  if (!target.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + target.api_key);
  AttachOpenAIBody(probe, request);
  return request;
}

}  // namespace

ReplyFacts ReadOpenAIReply(ProbeType type, std::string_view body) {
  ReplyFacts facts;
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object()) {
    facts.malformed = "reply is not a JSON object";
    return facts;
  }
  if (reply->contains("error")) {
    facts.malformed = "error object in a 2xx reply";
    return facts;
  }
  ReadServedModel(*reply, facts);
  facts.usage = UsageOf(*reply);
  if (type == ProbeType::kEmbeddings) {
    ReadEmbeddings(*reply, facts);
    return facts;
  }
  const auto choices = reply->find("choices");
  if (choices == reply->end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    facts.malformed = "no choices in the reply";
    return facts;
  }
  const json& choice = (*choices)[0];
  ReadChoice(choice, "message", facts);
  if (const auto message = choice.find("message"); message != choice.end() && message->is_object()) {
    ReadToolCalls(*message, facts);
  }
  return facts;
}

void ReadOpenAIStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts) {
  facts.last_event_seconds = seconds;
  if (event.data == "[DONE]") {
    facts.stream_completed = true;
    return;
  }
  const auto chunk = ParseJson(event.data);
  if (!chunk || !chunk->is_object()) {
    facts.malformed = "stream event is not a JSON object";
    return;
  }
  if (chunk->contains("error")) {
    facts.malformed = "error event in the stream";
    return;
  }
  if (!facts.served_model) ReadServedModel(*chunk, facts);
  if (auto usage = UsageOf(*chunk)) facts.usage = usage;
  const auto choices = chunk->find("choices");
  if (choices == chunk->end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    return;  // the usage chunk has no choices
  }
  const std::size_t content_before = facts.content.size();
  ReadChoice((*choices)[0], "delta", facts);
  if (facts.content.size() > content_before) {
    ++facts.content_events;
    if (!facts.first_content_seconds) facts.first_content_seconds = seconds;
  }
}

namespace {

constexpr ProviderAdapter kAdapter = {
    .build_request = BuildOpenAIRequest,
    .read_model_list = ReadModelList,
    .read_reply = ReadOpenAIReply,
    .read_sse_event = ReadOpenAIStreamEvent,
    .read_error = ReadJsonErrorEnvelope,
};

}  // namespace

extern const Provider kOpenAIProvider = {
    .name = "openai",
    .probe_types = kEveryProbeType,
    .adapter = &kAdapter,
    .responses_adapter = &kResponsesAdapter,
};

}  // namespace llm_probe::internal
