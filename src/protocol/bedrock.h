// Internal to the protocol module: AWS Bedrock Runtime's Converse API (POST
// /model/{modelId}/converse and /converse-stream, SigV4-signed, the stream as AWS event-stream
// frames): the readers behind bedrock.cpp's provider row, exposed for their unit tests.
#pragma once

#include <string_view>

#include "llm_probe/classify.h"
#include "llm_probe/event_stream.h"
#include "llm_probe/exchange.h"
#include "reply.h"

namespace llm_probe::internal {

// A ConverseResponse: output.message.content[].text, its toolUse blocks as calls (input an
// object), stopReason (max_tokens is length
// limited), usage.inputTokens/outputTokens. Bedrock names no served model.
ReplyFacts ReadBedrockReply(std::string_view body);

// One decoded ConverseStream message: `:message-type` event with `:event-type`
// contentBlockDelta (text; TTFT at the first non-empty one), messageStop (the end, with the stop
// reason) or metadata (usage); `:message-type` exception (`:exception-type`) or error is a
// failure inside a 2xx.
void ReadBedrockStreamMessage(const EventStreamMessage& message, double seconds, ReplyFacts& facts);

// Class of a non-2xx Bedrock reply from its error type, not its status (ModelNotReadyException
// comes as a 429): x-amzn-ErrorType with its ":http://internal.amazon.com/coral/..." suffix cut,
// or the body's __type; a ValidationException (or an untyped 400) saying the model identifier is
// invalid is MODEL_NOT_FOUND, a ThrottlingException naming a per-day quota ("Too many tokens per
// day") QUOTA_EXCEEDED; without a type, the status as ClassifyHttpError reads it.
Classification ClassifyBedrockError(int status, const HeaderList& headers, std::string_view body);

}  // namespace llm_probe::internal
