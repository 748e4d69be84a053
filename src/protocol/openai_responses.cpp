// OpenAI's Responses API: output[] items of type "message" with output_text parts, a status of
// completed / incomplete / failed, and typed stream events named by their "type".
#include "openai_responses.h"

#include <string>

#include "json_parse.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

// output[] items: messages' output_text parts are the text, function_call items the calls
// ({name, arguments}, the arguments a JSON text); reasoning items are neither.
std::string ReadOutput(const json& response, ReplyFacts& facts) {
  std::string text;
  const auto output = response.find("output");
  if (output == response.end() || !output->is_array()) return text;
  for (const json& item : *output) {
    if (!item.is_object()) continue;
    if (StringAt(item, "type") == "function_call") {
      const auto arguments = item.find("arguments");
      facts.tool_calls.push_back({StringAt(item, "name"), {arguments == item.end() ? json() : *arguments, true}});
      continue;
    }
    if (StringAt(item, "type") != "message") continue;
    const auto content = item.find("content");
    if (content == item.end() || !content->is_array()) continue;
    for (const json& part : *content) {
      if (part.is_object() && StringAt(part, "type") == "output_text") text += StringAt(part, "text");
    }
  }
  return text;
}

void ReadUsage(const json& response, ReplyFacts& facts) {
  const auto usage = response.find("usage");
  if (usage == response.end() || !usage->is_object()) return;
  TokenUsage tokens;
  tokens.prompt = NumberAt(*usage, "input_tokens").value_or(0);
  tokens.completion = NumberAt(*usage, "output_tokens").value_or(0);
  const auto details = usage->find("output_tokens_details");
  if (details != usage->end() && details->is_object()) {
    tokens.reasoning = NumberAt(*details, "reasoning_tokens").value_or(0);
  }
  facts.usage = tokens;
}

bool HasError(const json& response) {
  const auto error = response.find("error");
  return error != response.end() && !error->is_null();
}

// Reads the status, model and usage of a Response object; false when it failed.
bool ReadStatus(const json& response, ReplyFacts& facts) {
  std::string model = StringAt(response, "model");
  if (!model.empty()) facts.served_model = std::move(model);
  ReadUsage(response, facts);
  const std::string status = StringAt(response, "status");
  if (status == "failed" || HasError(response)) {
    const auto error = response.find("error");
    const std::string code = error != response.end() && error->is_object() ? StringAt(*error, "code") : "";
    facts.malformed = NamingUpstreamError("response failed", code);
    return false;
  }
  if (status == "incomplete") {
    const auto details = response.find("incomplete_details");
    const std::string reason =
        details != response.end() && details->is_object() ? StringAt(*details, "reason") : "";
    facts.length_limited = reason == "max_output_tokens" || reason == "max_tokens";
    facts.finish_reason = reason.empty() ? "incomplete" : "incomplete: " + reason;
  } else if (!status.empty()) {
    facts.finish_reason = status;
  }
  return true;
}

// The API reference's `error` event has its code at the top; the API also sends it nested, as
// {"type": "error", "error": {"type", "code", "message"}} (openai-responses.json:
// responses-stream-insufficient-quota).
std::string ErrorEventCode(const json& event) {
  std::string code = StringAt(event, "code");
  const auto error = event.find("error");
  if (!code.empty() || error == event.end() || !error->is_object()) return code;
  code = StringAt(*error, "code");
  return code.empty() ? StringAt(*error, "type") : code;
}

const json* ResponseIn(const json& event) {
  const auto response = event.find("response");
  return response != event.end() && response->is_object() ? &*response : nullptr;
}

}  // namespace

ReplyFacts ReadResponsesReply(std::string_view body) {
  ReplyFacts facts;
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object()) {
    facts.malformed = "reply is not a JSON object";
    return facts;
  }
  if (StringAt(*reply, "object") != "response" && !reply->contains("output")) {
    facts.malformed = HasError(*reply) ? "error object in a 2xx reply" : "reply is not a Response object";
    return facts;
  }
  if (ReadStatus(*reply, facts)) facts.content = ReadOutput(*reply, facts);
  return facts;
}

void ReadResponsesStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts) {
  facts.last_event_seconds = seconds;
  const auto data = ParseJson(event.data);
  if (!data || !data->is_object()) {
    facts.malformed = "stream event is not a JSON object";
    return;
  }
  // The `event:` line repeats the type; the data's own "type" is what the API documents.
  const std::string type = StringAt(*data, "type");
  if (type == "response.output_text.delta") {
    const std::string delta = StringAt(*data, "delta");
    if (delta.empty()) return;
    facts.content += delta;
    ++facts.content_events;
    if (!facts.first_content_seconds) facts.first_content_seconds = seconds;
  } else if (type == "response.completed" || type == "response.incomplete") {
    const json* response = ResponseIn(*data);
    if (response == nullptr) {
      facts.malformed = type + " without its response";
      return;
    }
    if (ReadStatus(*response, facts)) facts.stream_completed = true;
  } else if (type == "response.failed") {
    const json* response = ResponseIn(*data);
    if (response == nullptr || ReadStatus(*response, facts)) facts.malformed = "response failed";
  } else if (type == "error") {
    facts.malformed = NamingUpstreamError("error event in the stream", ErrorEventCode(*data));
  } else if (type == "response.created") {
    if (const json* response = ResponseIn(*data)) {
      std::string model = StringAt(*response, "model");
      if (!model.empty()) facts.served_model = std::move(model);
    }
  }
}

namespace {

// POST {base}/responses: the prompt as `input`, the token limit as max_output_tokens (the
// loader keeps it at 16 or more, the API's minimum), reasoning effort under `reasoning`.
HttpRequest BuildResponsesRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request;
  request.url = target.base_url + "/responses";
  request.method = "POST";
  if (!target.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + target.api_key);
  request.headers.emplace_back("Content-Type", "application/json");
  json body = {{"model", probe.model}, {"input", probe.prompt}, {"max_output_tokens", probe.max_tokens}};
  if (!probe.reasoning_effort.empty()) body["reasoning"] = {{"effort", probe.reasoning_effort}};
  const ReplySchema& schema = probe.reply_schema;
  if (probe.type == ProbeType::kTools) {
    // The API's default for function tools is strict, which refuses any schema that does not
    // list every property as required and forbid the others; the probe checks the keys itself.
    json function = {{"type", "function"}, {"name", schema.name}, {"parameters", SchemaOf(probe)}, {"strict", false}};
    if (!schema.description.empty()) function["description"] = schema.description;
    body["tools"] = json::array({function});
    body["tool_choice"] = {{"type", "function"}, {"name", schema.name}};
  } else if (probe.type == ProbeType::kJson) {
    body["text"] = {{"format", {{"type", "json_schema"}, {"name", schema.name}, {"schema", SchemaOf(probe)}, {"strict", true}}}};
  }
  if (probe.type == ProbeType::kStream) {
    body["stream"] = true;
    request.headers.emplace_back("Accept", "text/event-stream");
  }
  request.body = body.dump();
  return request;
}

ReplyFacts ReadResponsesReplyOf(ProbeType /*chat, tools and json read alike*/, std::string_view body) {
  return ReadResponsesReply(body);
}

}  // namespace

extern const ProviderAdapter kResponsesAdapter = {
    .build_request = BuildResponsesRequest,
    .read_model_list = ReadModelList,  // only chat and stream probes choose an api
    .read_reply = ReadResponsesReplyOf,
    .read_sse_event = ReadResponsesStreamEvent,
    .read_error = ReadJsonErrorEnvelope,
};

}  // namespace llm_probe::internal
