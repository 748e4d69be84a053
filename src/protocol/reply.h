// Internal to the protocol module: the flavour-independent facts of a reply, the adapter
// functions a flavour's provider row points to, and the helpers flavours share.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "llm_probe/classify.h"
#include "llm_probe/event_stream.h"
#include "llm_probe/exchange.h"
#include "llm_probe/provider.h"
#include "llm_probe/result.h"
#include "llm_probe/sse.h"
#include "llm_probe/target.h"
#include "json_parse.h"

namespace llm_probe::internal {

// A function call's arguments, or a structured output, as the reply carries them: a JSON text in
// a string (OpenAI's arguments, any JSON mode's output) or a value in the reply itself
// (Anthropic's and Bedrock's input, Gemini's args).
struct StructuredPayload {
  nlohmann::json value;
  bool sent_as_text = false;
};

struct ToolCall {
  std::string name;
  StructuredPayload arguments;
};

// What a chat, stream, embeddings, tools or json reply said, whatever the API flavour.
struct ReplyFacts {
  std::string content;
  std::string finish_reason;
  bool length_limited = false;  // the model stopped at max_tokens
  std::optional<std::string> served_model;
  std::optional<TokenUsage> usage;
  std::optional<std::string> malformed;  // set when the body is not the promised shape
  std::vector<ToolCall> tool_calls;       // in the reply's order

  // Streams only: seconds since the request started.
  std::optional<double> first_content_seconds;
  double last_event_seconds = 0;
  int content_events = 0;
  bool stream_completed = false;  // [DONE] or message_stop seen
};

// The models of a model list, over the pages read so far.
struct ModelList {
  std::set<std::string> ids;
  int count = 0;                // entries listed, as the metric counts them
  std::string next_page_token;  // the last page read says more follow (Gemini's nextPageToken)
};

// The probe types of an API that has them all (OpenAI's and its copies).
inline constexpr ProbeType kEveryProbeType[] = {ProbeType::kModels, ProbeType::kChat,  ProbeType::kStream,
                                                ProbeType::kEmbeddings, ProbeType::kTools, ProbeType::kJson};

// What probe.cpp calls through a provider's row.
struct ProviderAdapter {
  HttpRequest (*build_request)(const TargetConfig& target, const ProbeConfig& probe) = nullptr;
  // Null when the built request goes out unchanged on every run; otherwise completes a copy of
  // it for the run at now_unix (a SigV4 signature over x-amz-date, a fresh OAuth token).
  void (*complete_for_run)(const TargetConfig& target, double now_unix, HttpRequest& request) = nullptr;
  // Adds one page of a model list to `list`; false when the body is not a model list.
  bool (*read_model_list)(std::string_view body, ModelList& list) = nullptr;
  // Null when model lists come whole; otherwise makes the list's first request into the one for
  // the page `page_token` names (Gemini's pageToken=).
  void (*ask_for_page)(std::string_view page_token, HttpRequest& request) = nullptr;
  ReplyFacts (*read_reply)(ProbeType type, std::string_view body) = nullptr;
  // One event of a stream framed as Provider::stream_framing says: an SSE event, or a decoded
  // AWS event-stream message.
  void (*read_sse_event)(const SseEvent& event, double seconds, ReplyFacts& facts) = nullptr;
  void (*read_event_stream_message)(const EventStreamMessage& message, double seconds, ReplyFacts& facts) = nullptr;
  // The class of a non-2xx reply; headers too, for providers that name the error there
  // (Bedrock's x-amzn-ErrorType).
  Classification (*read_error)(int status, const HeaderList& headers, std::string_view body) = nullptr;
  // True when the API has no JSON mode and a json probe forces a tool named after its schema
  // instead (Anthropic, Bedrock): the output is that call's arguments, not the reply's text.
  bool json_through_tool = false;
};

// Why a call's arguments or a structured output fail the probe's schema: not JSON, not an
// object, or without one of `required`; nullopt when they hold every required key. Every
// flavour's tools and json probes are judged by this one check.
std::optional<std::string> StructuredMismatch(const StructuredPayload& payload, const std::vector<std::string>& required);
// The schema a tools or json probe sends (its ReplySchema's JSON text, which the loader wrote).
nlohmann::json SchemaOf(const ProbeConfig& probe);

// Reads "data": [{"id": ...}] model lists (OpenAI, Azure and Anthropic share the shape).
bool ReadModelList(std::string_view body, ModelList& list);
// "<what>: <name>", naming the upstream's error type or code in a malformed reply's detail
// (InterpretExchange redacts and cuts it); `what` alone when the upstream named none.
std::string NamingUpstreamError(std::string what, std::string_view name);
// The error envelopes of OpenAI and Anthropic (ClassifyHttpError), which name the error in the
// body only.
Classification ReadJsonErrorEnvelope(int status, const HeaderList& headers, std::string_view body);

// Method, headers and JSON body of OpenAI-style probes (OpenAI and Azure share them).
void AttachOpenAIBody(const ProbeConfig& probe, HttpRequest& request);
ReplyFacts ReadOpenAIReply(ProbeType type, std::string_view body);
void ReadOpenAIStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts);

// Small JSON accessors that never throw.
std::string StringAt(const nlohmann::json& object, const char* key);
std::optional<double> NumberAt(const nlohmann::json& object, const char* key);

}  // namespace llm_probe::internal
