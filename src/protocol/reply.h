// Internal to the protocol module: the flavour-independent facts of a reply, and the
// per-flavour builders and readers that probe.cpp dispatches to.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llm_probe/config.h"
#include "llm_probe/exchange.h"
#include "llm_probe/result.h"
#include "llm_probe/sse.h"
#include "json_parse.h"

namespace llm_probe::internal {

// What a chat, stream or embeddings reply said, whatever the API flavour.
struct ReplyFacts {
  std::string content;
  std::string finish_reason;
  bool length_limited = false;  // the model stopped at max_tokens
  std::optional<std::string> served_model;
  std::optional<TokenUsage> usage;
  std::optional<std::string> malformed;  // set when the body is not the promised shape

  // Streams only: seconds since the request started.
  std::optional<double> first_content_seconds;
  double last_event_seconds = 0;
  int content_events = 0;
  bool stream_completed = false;  // [DONE] or message_stop seen
};

// Reads "data": [{"id": ...}] model lists (OpenAI, Azure and Anthropic share the shape).
void ReadModelList(const ProbeConfig& probe, std::string_view body, ProbeResult& result);

HttpRequest BuildOpenAIRequest(const TargetConfig& target, const ProbeConfig& probe);
HttpRequest BuildAzureRequest(const TargetConfig& target, const ProbeConfig& probe);
HttpRequest BuildAnthropicRequest(const TargetConfig& target, const ProbeConfig& probe);

// Method, headers and JSON body of OpenAI-style probes (OpenAI and Azure share them).
void AttachOpenAIBody(const ProbeConfig& probe, HttpRequest& request);

ReplyFacts ReadOpenAIReply(ProbeType type, std::string_view body);
void ReadOpenAIStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts);
ReplyFacts ReadAnthropicReply(std::string_view body);
void ReadAnthropicStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts);

// Small JSON accessors that never throw.
std::string StringAt(const nlohmann::json& object, const char* key);
std::optional<double> NumberAt(const nlohmann::json& object, const char* key);

}  // namespace llm_probe::internal
