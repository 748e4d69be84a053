#include "llm_probe/config_text.h"

#include <algorithm>
#include <cstdio>

namespace llm_probe::config_detail {

std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  std::string quoted = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    // Cut at a character boundary: continuation bytes of UTF-8 are 10xxxxxx.
    if (i >= kMaxShown && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      quoted += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
      quoted += escaped;
    } else {
      quoted += static_cast<char>(c);
    }
  }
  quoted += '"';
  return quoted;
}

bool IsIdentifier(std::string_view text) {
  const auto is_letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  const auto is_word = [&](char c) { return is_letter(c) || (c >= '0' && c <= '9'); };
  return !text.empty() && is_letter(text.front()) && std::all_of(text.begin(), text.end(), is_word);
}

}  // namespace llm_probe::config_detail
