// Maps transport failures, HTTP statuses and provider error envelopes to result classes.
// Pure functions over plain inputs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "llm_probe/exchange.h"
#include "llm_probe/result.h"

namespace llm_probe {

struct Classification {
  ResultClass result_class;
  std::string detail;
};

// The error object of an OpenAI ({"error": {"type", "code", "message"}}) or Anthropic
// ({"type": "error", "error": {"type", "message"}}) reply.
struct ErrorEnvelope {
  std::string type;
  std::string code;
  std::string message;
};

std::optional<ErrorEnvelope> ParseErrorEnvelope(std::string_view body);

// Class of an exchange that produced no usable HTTP reply (error != kNone).
Classification ClassifyTransport(TransportError error, std::string_view curl_detail);

// Class of a reply whose status is not 2xx: the envelope's type or code when it names one we
// know (429 insufficient_quota is QUOTA_EXCEEDED), otherwise the status.
Classification ClassifyHttpError(int status, std::string_view body);

// Upstream text (error messages, curl's words, a served model name) made fit for a detail or a
// log line: valid UTF-8 (bad bytes become U+FFFD), each run of control characters and
// whitespace one space, at most max_bytes, cut on a character boundary and then marked "...".
std::string SanitizeUpstreamText(std::string_view text, std::size_t max_bytes);

// Served model matches the requested one: equal, or a dated snapshot of it
// ("gpt-4o-2024-08-06" for "gpt-4o", "claude-sonnet-4-5-20250929" for "claude-sonnet-4-5").
bool ServedModelMatches(std::string_view requested, std::string_view served);

}  // namespace llm_probe
