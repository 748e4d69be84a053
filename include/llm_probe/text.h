// Small text helpers for HTTP header values and UTF-8, shared by the protocol parsers, the
// probe engine and the server.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llm_probe {

// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
std::string_view TrimOws(std::string_view text);

// ASCII case-insensitive equality, independent of the locale.
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// Length of the well-formed UTF-8 sequence that starts `text` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0; `code_point` is its value.
std::size_t Utf8SequenceLength(std::string_view text, char32_t& code_point);

// A label value from outside the config (what an upstream sent): valid UTF-8, each invalid byte
// replaced by U+FFFD, cut after the last whole character within `max_bytes`. Prometheus rejects
// a whole scrape over one label value that is not valid UTF-8.
std::string Utf8LabelValue(std::string_view text, std::size_t max_bytes);

}  // namespace llm_probe
