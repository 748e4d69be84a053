// The closed set of probe outcomes (DESIGN.md §3) and the result of one probe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm_probe/exchange.h"

namespace llm_probe {

enum class ResultClass : std::uint8_t {
  kUp,
  kTimeout,
  kDnsError,
  kConnectionError,
  kTlsError,
  kAuthError,
  kForbidden,
  kRateLimited,
  kQuotaExceeded,
  kModelNotFound,
  kBadRequest,
  kOverloaded,
  kServerError,
  kHttpError,
  kBadResponse,
  kEmptyContent,
  kContentMismatch,
  kModelMismatch,
};

inline constexpr std::size_t kResultClassCount = 18;

// "UP", "TIMEOUT", ... exactly as they appear in the `status` label.
std::string_view ResultClassName(ResultClass result_class);
const std::array<ResultClass, kResultClassCount>& AllResultClasses();
std::optional<ResultClass> ParseResultClass(std::string_view name);

constexpr std::size_t Index(ResultClass result_class) {
  return static_cast<std::size_t>(result_class);
}

struct TokenUsage {
  double prompt = 0;
  double completion = 0;
  double reasoning = 0;
};

// One resource of an upstream's rate-limit headers ("requests", "tokens", "input-tokens" ...).
struct RateLimit {
  std::string resource;
  std::optional<double> remaining;
  std::optional<double> limit;
  std::optional<double> reset_seconds;
};

struct ProbeResult {
  ResultClass result_class = ResultClass::kUp;
  // Short human explanation for logs and the status page; secrets redacted, never a label.
  std::string detail;
  int http_status = 0;  // 0 when no response arrived
  double duration_seconds = 0;
  PhaseTimings phases;

  // Stream probes.
  std::optional<double> time_to_first_token_seconds;
  std::optional<double> output_tokens_per_second;

  std::optional<TokenUsage> usage;  // absent when the reply carried no usage object
  std::vector<RateLimit> rate_limits;
  std::optional<std::string> served_model;
  std::optional<double> retry_after_seconds;

  // Models probes.
  std::optional<int> models_listed;
  std::vector<std::pair<std::string, bool>> expected_models;  // entry, present

  std::optional<double> tls_cert_expiry_unix;
};

}  // namespace llm_probe
