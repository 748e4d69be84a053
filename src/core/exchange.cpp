#include "llm_probe/exchange.h"

#include "llm_probe/enum_names.h"
#include "llm_probe/text.h"

namespace llm_probe {
namespace {

constexpr EnumNames<TransportError, 9> kTransportErrorNames = {{
    {TransportError::kNone, "none"},
    {TransportError::kTimeout, "timeout"},
    {TransportError::kDns, "dns"},
    {TransportError::kConnect, "connect"},
    {TransportError::kTls, "tls"},
    {TransportError::kRecv, "recv"},
    {TransportError::kBodyTooLarge, "body_too_large"},
    {TransportError::kTooManyRedirects, "too_many_redirects"},
    {TransportError::kOther, "other"},
}};

}  // namespace

std::string_view TransportErrorName(TransportError error) {
  return NameOf(kTransportErrorNames, error, "other");  // "other" for a value cast from outside
}

std::optional<std::string_view> HttpExchange::Header(std::string_view lower_name) const {
  // The engine lower-cases names already; comparing without case keeps hand-built exchanges
  // (tests, the mock upstream) from silently missing a header.
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoringCase(name, lower_name)) return value;
  }
  return std::nullopt;
}

}  // namespace llm_probe
