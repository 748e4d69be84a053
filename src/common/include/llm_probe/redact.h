// The one redaction layer shared by logs, the status page, the API and debug output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llm_probe {

inline constexpr std::string_view kRedacted = "<redacted>";

class Redactor {
 public:
  Redactor() = default;
  explicit Redactor(std::vector<std::string> secrets);

  // Every occurrence of a configured secret, and anything shaped like an API key
  // ("sk-..." tokens, "Bearer ..." credentials), becomes <redacted>.
  std::string Redact(std::string_view text) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so a secret containing another goes whole
};

}  // namespace llm_probe
