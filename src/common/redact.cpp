#include "llm_probe/redact.h"

#include <algorithm>
#include <cctype>

namespace llm_probe {
namespace {

// Shortest secrets are not redacted by value: "a" would shred every message.
constexpr std::size_t kMinSecretLength = 4;
// Key-shaped tokens: a prefix like sk- or sk-ant- and at least this many key characters.
constexpr std::size_t kMinKeyTail = 8;

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool StartsWithWord(std::string_view text, std::size_t at, std::string_view word) {
  if (at > 0 && IsKeyChar(text[at - 1])) return false;
  return text.substr(at, word.size()) == word;
}

std::size_t KeyRunEnd(std::string_view text, std::size_t from) {
  while (from < text.size() && (IsKeyChar(text[from]) || text[from] == '.')) ++from;
  return from;
}

// Masks "sk-XXXXXXXX..." and the credential after "Bearer " even when the value is not a
// configured secret: upstream error messages sometimes echo the key they received.
std::string MaskKeyShapes(std::string_view text) {
  struct KeyShape {
    std::string_view lead;
    bool keep_lead;
  };
  static constexpr KeyShape kShapes[] = {{"sk-", false}, {"Bearer ", true}};
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool masked = false;
    for (const KeyShape& shape : kShapes) {
      if (!StartsWithWord(text, i, shape.lead)) continue;
      const std::size_t tail = i + shape.lead.size();
      const std::size_t end = KeyRunEnd(text, tail);
      if (end - tail < kMinKeyTail) continue;
      if (shape.keep_lead) out.append(shape.lead);
      out.append(kRedacted);
      i = end;
      masked = true;
      break;
    }
    if (!masked) out.push_back(text[i++]);
  }
  return out;
}

}  // namespace

Redactor::Redactor(std::vector<std::string> secrets) {
  for (auto& secret : secrets) {
    if (secret.size() >= kMinSecretLength) secrets_.push_back(std::move(secret));
  }
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::Redact(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : secrets_) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at)) {
      out.replace(at, secret.size(), kRedacted);
      at += kRedacted.size();
    }
  }
  return MaskKeyShapes(out);
}

}  // namespace llm_probe
