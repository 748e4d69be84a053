// Parsers for what upstreams say in headers: rate limits (OpenAI x-ratelimit-*, Anthropic
// anthropic-ratelimit-*) and Retry-After. Pure functions; the current time is passed in.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "llm_probe/exchange.h"
#include "llm_probe/result.h"

namespace llm_probe {

// Go's time.Duration text as OpenAI sends it: "6m0s", "12ms", "1.5s", "2h3m". Seconds.
std::optional<double> ParseGoDuration(std::string_view text);

// RFC 3339 timestamp ("2026-11-27T13:00:00Z", with fraction or offset). Unix seconds.
std::optional<double> ParseRfc3339(std::string_view text);

// RFC 9110 HTTP-date ("Fri, 27 Nov 2026 13:00:00 GMT"). Unix seconds.
std::optional<double> ParseHttpDate(std::string_view text);

// Retry-After: delta seconds or an HTTP-date; seconds to wait from now_unix, never negative.
std::optional<double> ParseRetryAfter(std::string_view value, double now_unix);

// All rate-limit resources found in the headers, sorted by resource name; empty when none.
std::vector<RateLimit> ParseRateLimits(const HeaderList& headers, double now_unix);

}  // namespace llm_probe
