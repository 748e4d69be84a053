// The parsers of what upstreams put in headers, and the config's durations: rate limits
// (x-ratelimit-*, anthropic-ratelimit-*), Retry-After, Go durations, RFC 3339, HTTP-date,
// certificate times and Prometheus durations. They return nullopt or a sane number, never NaN,
// never a negative wait.
//
// Input: lines "name: value" become the header list; every line's value (and the whole input)
// also goes through each scalar parser.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "llm_probe/config.h"
#include "llm_probe/exchange.h"
#include "llm_probe/upstream_headers.h"

namespace {

void CheckFinite(std::optional<double> value, bool non_negative) {
  if (!value) return;
  if (!std::isfinite(*value)) __builtin_trap();
  if (non_negative && *value < 0) __builtin_trap();
}

void Scalars(std::string_view text) {
  using namespace llm_probe;
  CheckFinite(ParseGoDuration(text), true);
  CheckFinite(ParseRfc3339(text), false);
  CheckFinite(ParseHttpDate(text), false);
  CheckFinite(ParseRetryAfter(text, 1.8e9), true);
  if (const auto duration = ParseDuration(text)) {
    if (duration->count() < 0) __builtin_trap();
    // Whatever parses formats back to a duration that parses to the same value.
    if (ParseDuration(FormatDuration(*duration)) != duration) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llm_probe;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Scalars(text);
  HeaderList headers;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
      Scalars(line.substr(colon + 1));
    }
    pos = end + 1;
  }
  const auto limits = ParseRateLimits(headers, 1.8e9);
  if (limits.size() > 16) __builtin_trap();  // the resource label's cardinality cap
  for (const RateLimit& limit : limits) {
    if (limit.resource.empty() || limit.resource.size() > 64) __builtin_trap();
    CheckFinite(limit.remaining, true);
    CheckFinite(limit.limit, true);
    CheckFinite(limit.reset_seconds, true);
  }
  return 0;
}
