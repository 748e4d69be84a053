#include "llm_probe/result.h"

namespace llm_probe {
namespace {

constexpr std::array<std::string_view, kResultClassCount> kNames = {
    "UP",           "TIMEOUT",        "DNS_ERROR",       "CONNECTION_ERROR", "TLS_ERROR",
    "AUTH_ERROR",   "FORBIDDEN",      "RATE_LIMITED",    "QUOTA_EXCEEDED",   "MODEL_NOT_FOUND",
    "BAD_REQUEST",  "OVERLOADED",     "SERVER_ERROR",    "HTTP_ERROR",       "BAD_RESPONSE",
    "EMPTY_CONTENT", "CONTENT_MISMATCH", "MODEL_MISMATCH",
};

constexpr std::array<ResultClass, kResultClassCount> MakeAll() {
  std::array<ResultClass, kResultClassCount> all{};
  for (std::size_t i = 0; i < kResultClassCount; ++i) all[i] = static_cast<ResultClass>(i);
  return all;
}

constexpr std::array<ResultClass, kResultClassCount> kAll = MakeAll();

}  // namespace

std::string_view ResultClassName(ResultClass result_class) { return kNames[Index(result_class)]; }

const std::array<ResultClass, kResultClassCount>& AllResultClasses() { return kAll; }

std::optional<ResultClass> ParseResultClass(std::string_view name) {
  for (std::size_t i = 0; i < kResultClassCount; ++i) {
    if (kNames[i] == name) return kAll[i];
  }
  return std::nullopt;
}

}  // namespace llm_probe
