// Text helpers every module shares: HTTP's optional whitespace, ASCII case folding (never the
// locale's), UTF-8 decoding and cutting, and the one hash. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llm_probe {

// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
std::string_view TrimOws(std::string_view text);

// ASCII case folding, independent of the locale: bytes outside A-Z are left as they are.
char AsciiLower(char c);
std::string AsciiLower(std::string_view text);
bool EqualsIgnoringCase(std::string_view a, std::string_view b);
bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix);
bool ContainsIgnoringCase(std::string_view text, std::string_view fragment);

// Length of the well-formed UTF-8 sequence that starts `text` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), its code point in `code_point`; 0 when there is none.
std::size_t DecodeUtf8(std::string_view text, char32_t& code_point);

// A label value from outside the config (what an upstream sent): valid UTF-8, each invalid byte
// replaced by U+FFFD, cut after the last whole character within `max_bytes`. Prometheus rejects
// a whole scrape over one label value that is not valid UTF-8.
std::string Utf8LabelValue(std::string_view text, std::size_t max_bytes);

// 64-bit FNV-1a: shard placement and the config checksum.
std::uint64_t Fnv1a64(std::string_view text);

}  // namespace llm_probe
