#include <algorithm>

#include "llm_probe/http.h"

namespace llm_probe {
namespace {

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::string_view TransportErrorName(TransportError error) {
  switch (error) {
    case TransportError::kNone:
      return "none";
    case TransportError::kTimeout:
      return "timeout";
    case TransportError::kDns:
      return "dns";
    case TransportError::kConnect:
      return "connect";
    case TransportError::kTls:
      return "tls";
    case TransportError::kRecv:
      return "recv";
    case TransportError::kBodyTooLarge:
      return "body_too_large";
    case TransportError::kTooManyRedirects:
      return "too_many_redirects";
    case TransportError::kOther:
      return "other";
  }
  return "other";  // a value cast from outside the enumeration
}

std::optional<std::string_view> HttpExchange::Header(std::string_view lower_name) const {
  // The engine lower-cases names already; comparing without case keeps hand-built exchanges
  // (tests, the mock upstream) from silently missing a header.
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoringAsciiCase(name, lower_name)) return value;
  }
  return std::nullopt;
}

}  // namespace llm_probe
