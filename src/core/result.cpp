#include "llm_probe/result.h"

#include "llm_probe/enum_names.h"

namespace llm_probe {
namespace {

constexpr EnumNames<ResultClass, kResultClassCount> kNames = {{
    {ResultClass::kUp, "UP"},
    {ResultClass::kTimeout, "TIMEOUT"},
    {ResultClass::kDnsError, "DNS_ERROR"},
    {ResultClass::kConnectionError, "CONNECTION_ERROR"},
    {ResultClass::kTlsError, "TLS_ERROR"},
    {ResultClass::kAuthError, "AUTH_ERROR"},
    {ResultClass::kForbidden, "FORBIDDEN"},
    {ResultClass::kRateLimited, "RATE_LIMITED"},
    {ResultClass::kQuotaExceeded, "QUOTA_EXCEEDED"},
    {ResultClass::kModelNotFound, "MODEL_NOT_FOUND"},
    {ResultClass::kBadRequest, "BAD_REQUEST"},
    {ResultClass::kOverloaded, "OVERLOADED"},
    {ResultClass::kServerError, "SERVER_ERROR"},
    {ResultClass::kHttpError, "HTTP_ERROR"},
    {ResultClass::kBadResponse, "BAD_RESPONSE"},
    {ResultClass::kEmptyContent, "EMPTY_CONTENT"},
    {ResultClass::kContentMismatch, "CONTENT_MISMATCH"},
    {ResultClass::kModelMismatch, "MODEL_MISMATCH"},
}};

constexpr std::array<ResultClass, kResultClassCount> MakeAll() {
  std::array<ResultClass, kResultClassCount> all{};
  for (std::size_t i = 0; i < kResultClassCount; ++i) all[i] = kNames[i].value;
  return all;
}

constexpr std::array<ResultClass, kResultClassCount> kAll = MakeAll();

// Index() addresses per-class arrays: the table must list the classes in enumeration order.
constexpr bool InEnumerationOrder() {
  for (std::size_t i = 0; i < kResultClassCount; ++i) {
    if (Index(kNames[i].value) != i) return false;
  }
  return true;
}
static_assert(InEnumerationOrder());

}  // namespace

std::string_view ResultClassName(ResultClass result_class) {
  return Index(result_class) < kResultClassCount ? kNames[Index(result_class)].name : "UNKNOWN";
}

const std::array<ResultClass, kResultClassCount>& AllResultClasses() { return kAll; }

std::optional<ResultClass> ParseResultClass(std::string_view name) { return ValueOf(kNames, name); }

}  // namespace llm_probe
