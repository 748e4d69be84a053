// Small text helpers for HTTP header values, shared by the protocol parsers and the server.
#pragma once

#include <string_view>

namespace llm_probe {

// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
std::string_view TrimOws(std::string_view text);

// ASCII case-insensitive equality, independent of the locale.
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

}  // namespace llm_probe
