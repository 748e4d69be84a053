// Internal to the protocol module: OpenAI's Responses API (POST /responses and its typed SSE
// events): the readers of the openai row's responses_adapter (`api: responses`), exposed for
// their unit tests.
#pragma once

#include <string_view>

#include "llm_probe/sse.h"
#include "reply.h"

namespace llm_probe::internal {

// A Response object: the output_text of its message items, its function_call items as calls
// (arguments a JSON text); status `incomplete` is length
// limited when incomplete_details says max_output_tokens (or max_tokens, as the streaming
// reference spells it); status `failed` or a non-null `error` in a 2xx is malformed; usage with
// reasoning from output_tokens_details.reasoning_tokens (output_tokens already includes it).
ReplyFacts ReadResponsesReply(std::string_view body);

// One typed event of a streamed Response: response.output_text.delta carries the text (TTFT at
// the first non-empty one); response.completed and response.incomplete end the stream and carry
// the final Response; response.failed and `error` events are malformed.
void ReadResponsesStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts);

// The adapter of chat, stream, tools and json probes with `api: responses` (openai.cpp's row points to it).
extern const ProviderAdapter kResponsesAdapter;

}  // namespace llm_probe::internal
