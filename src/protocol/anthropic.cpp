// Anthropic's Messages API: POST /v1/messages, x-api-key, anthropic-version, content blocks,
// and named SSE events (message_start, content_block_delta, message_delta, message_stop, error).
#include <string>

#include "reply.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

void ReadUsage(const json& usage, ReplyFacts& facts) {
  if (!usage.is_object()) return;
  TokenUsage tokens = facts.usage.value_or(TokenUsage{});
  if (auto input = NumberAt(usage, "input_tokens")) tokens.prompt = *input;
  if (auto output = NumberAt(usage, "output_tokens")) tokens.completion = *output;
  facts.usage = tokens;
}

void ReadStopReason(const json& object, ReplyFacts& facts) {
  std::string stop_reason = StringAt(object, "stop_reason");
  if (stop_reason.empty()) return;
  facts.length_limited = stop_reason == "max_tokens";
  facts.finish_reason = std::move(stop_reason);
}

HttpRequest BuildAnthropicRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request;
  if (!target.api_key.empty()) request.headers.emplace_back("x-api-key", target.api_key);
  request.headers.emplace_back("anthropic-version", target.api_version);
  if (probe.type == ProbeType::kModels) {
    request.url = target.base_url + "/models";
    return request;
  }
  request.url = target.base_url + "/messages";
  request.method = "POST";
  request.headers.emplace_back("Content-Type", "application/json");
  json body = {{"model", probe.model},
               {"max_tokens", probe.max_tokens},
               {"messages", json::array({{{"role", "user"}, {"content", probe.prompt}}})}};
  // No JSON mode: a json probe forces a tool named after its schema, as a tools probe its function.
  if (probe.type == ProbeType::kTools || probe.type == ProbeType::kJson) {
    const ReplySchema& schema = probe.reply_schema;
    json tool = {{"name", schema.name}, {"input_schema", SchemaOf(probe)}};
    if (!schema.description.empty()) tool["description"] = schema.description;
    body["tools"] = json::array({tool});
    body["tool_choice"] = {{"type", "tool"}, {"name", schema.name}};
  }
  if (probe.type == ProbeType::kStream) {
    body["stream"] = true;
    request.headers.emplace_back("Accept", "text/event-stream");
  }
  request.body = body.dump();
  return request;
}

ReplyFacts ReadAnthropicReply(ProbeType /*chat, tools and json read alike*/, std::string_view body) {
  ReplyFacts facts;
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object()) {
    facts.malformed = "reply is not a JSON object";
    return facts;
  }
  if (StringAt(*reply, "type") == "error" || reply->contains("error")) {
    facts.malformed = "error object in a 2xx reply";
    return facts;
  }
  const auto content = reply->find("content");
  if (content == reply->end() || !content->is_array()) {
    facts.malformed = "no content blocks in the reply";
    return facts;
  }
  for (const auto& block : *content) {
    if (!block.is_object()) continue;
    const std::string type = StringAt(block, "type");
    if (type == "text") facts.content += StringAt(block, "text");
    if (type == "tool_use") {
      const auto input = block.find("input");
      facts.tool_calls.push_back({StringAt(block, "name"), {input == block.end() ? json() : *input}});
    }
  }
  std::string model = StringAt(*reply, "model");
  if (!model.empty()) facts.served_model = std::move(model);
  ReadStopReason(*reply, facts);
  if (reply->contains("usage")) ReadUsage(reply->at("usage"), facts);
  return facts;
}

void ReadAnthropicStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts) {
  facts.last_event_seconds = seconds;
  if (event.event == "ping") return;
  if (event.event == "message_stop") {
    facts.stream_completed = true;
    return;
  }
  const auto data = ParseJson(event.data);
  if (!data || !data->is_object()) {
    facts.malformed = "stream event is not a JSON object";
    return;
  }
  const std::string type = StringAt(*data, "type");
  if (event.event == "error" || type == "error") {
    facts.malformed = "error event in the stream";
  } else if (type == "message_start" && data->contains("message") && data->at("message").is_object()) {
    const json& message = data->at("message");
    std::string model = StringAt(message, "model");
    if (!model.empty()) facts.served_model = std::move(model);
    if (message.contains("usage")) ReadUsage(message.at("usage"), facts);
  } else if (type == "content_block_delta" && data->contains("delta") && data->at("delta").is_object()) {
    const json& delta = data->at("delta");
    if (StringAt(delta, "type") != "text_delta") return;
    const std::string text = StringAt(delta, "text");
    if (text.empty()) return;
    facts.content += text;
    ++facts.content_events;
    if (!facts.first_content_seconds) facts.first_content_seconds = seconds;
  } else if (type == "message_delta") {
    if (data->contains("delta") && data->at("delta").is_object()) ReadStopReason(data->at("delta"), facts);
    if (data->contains("usage")) ReadUsage(data->at("usage"), facts);
  }
}

constexpr ProbeType kProbeTypes[] = {ProbeType::kModels, ProbeType::kChat, ProbeType::kStream, ProbeType::kTools,
                                     ProbeType::kJson};
// The Messages API has max_tokens only and no reasoning_effort.
constexpr std::string_view kInapplicableProbeKeys[] = {"token_param", "reasoning_effort"};
constexpr ProviderAdapter kAdapter = {
    .build_request = BuildAnthropicRequest,
    .read_model_list = ReadModelList,
    .read_reply = ReadAnthropicReply,
    .read_sse_event = ReadAnthropicStreamEvent,
    .read_error = ReadJsonErrorEnvelope,
    .json_through_tool = true,
};

}  // namespace

extern const Provider kAnthropicProvider = {
    .name = "anthropic",
    .default_api_version = "2023-06-01",
    .api_version_applies = true,
    .probe_types = kProbeTypes,
    .inapplicable_probe_keys = kInapplicableProbeKeys,
    .adapter = &kAdapter,
};

}  // namespace llm_probe::internal
