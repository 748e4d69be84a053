// Internal to the protocol module: Google's native Gemini API (generateContent,
// streamGenerateContent?alt=sse and its google.rpc error envelopes): the readers behind
// gemini.cpp's provider row, exposed for their unit tests.
#pragma once

#include <string_view>

#include "llm_probe/classify.h"
#include "llm_probe/sse.h"
#include "reply.h"

namespace llm_probe::internal {

// A GenerateContentResponse: the text of the first candidate's parts without its thought parts,
// its functionCall parts as calls (args an object);
// finishReason; usage from usageMetadata, with completion counted as OpenAI counts it
// (candidatesTokenCount + thoughtsTokenCount, the thoughts also as reasoning); modelVersion as
// the served model. A prompt refused before generation (promptFeedback.blockReason, no
// candidates) has no content and the block reason as its finish reason.
ReplyFacts ReadGeminiReply(std::string_view body);

// One `data:` event of streamGenerateContent?alt=sse, each a whole GenerateContentResponse.
// Gemini sends no end marker: the stream is complete once a candidate carries a finishReason
// (or the prompt was blocked); usageMetadata is cumulative, so the last one counts.
void ReadGeminiStreamEvent(const SseEvent& event, double seconds, ReplyFacts& facts);

// Class of a non-2xx Gemini reply: the google.rpc details first (an ErrorInfo reason; a
// QuotaFailure whose quotaId names a per-day limit is QUOTA_EXCEEDED, a per-minute one is not),
// then the canonical status name (RESOURCE_EXHAUSTED saying the prepayment credits are
// depleted is QUOTA_EXCEEDED, FAILED_PRECONDITION naming the location FORBIDDEN), then the HTTP
// status as ClassifyHttpError reads it.
Classification ClassifyGeminiError(int status, std::string_view body);

}  // namespace llm_probe::internal
