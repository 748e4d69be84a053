#include "llm_probe/text.h"

#include <algorithm>
#include <array>

namespace llm_probe {

std::string_view TrimOws(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = AsciiLower(c);
  return lower;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return AsciiLower(x) == AsciiLower(y); });
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoringCase(text.substr(0, prefix.size()), prefix);
}

bool ContainsIgnoringCase(std::string_view text, std::string_view fragment) {
  return std::search(text.begin(), text.end(), fragment.begin(), fragment.end(),
                     [](char a, char b) { return AsciiLower(a) == AsciiLower(b); }) != text.end();
}

std::size_t DecodeUtf8(std::string_view text, char32_t& code_point) {
  struct LeadByte {
    unsigned char mask;
    unsigned char pattern;
    std::size_t length;
    char32_t smallest;  // anything below has a shorter encoding
  };
  static constexpr std::array<LeadByte, 4> kLeadBytes = {{
      {0x80, 0x00, 1, 0},
      {0xE0, 0xC0, 2, 0x80},
      {0xF0, 0xE0, 3, 0x800},
      {0xF8, 0xF0, 4, 0x10000},
  }};
  if (text.empty()) return 0;
  const auto lead = static_cast<unsigned char>(text.front());
  const auto form = std::find_if(
      kLeadBytes.begin(), kLeadBytes.end(),
      [&](const LeadByte& candidate) { return (lead & candidate.mask) == candidate.pattern; });
  if (form == kLeadBytes.end() || text.size() < form->length) return 0;
  const std::size_t length = form->length;
  const char32_t smallest = form->smallest;
  code_point = lead & static_cast<unsigned char>(~form->mask);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[i]);
    if ((next & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  return code_point < smallest || code_point > 0x10FFFF || surrogate ? 0 : length;
}

std::string Utf8LabelValue(std::string_view text, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string value;
  while (!text.empty()) {
    char32_t code_point = 0;
    const std::size_t length = DecodeUtf8(text, code_point);
    const std::string_view piece = length == 0 ? kReplacement : text.substr(0, length);
    if (value.size() + piece.size() > max_bytes) break;
    value += piece;
    text.remove_prefix(length == 0 ? 1 : length);
  }
  return value;
}

std::uint64_t Fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace llm_probe
