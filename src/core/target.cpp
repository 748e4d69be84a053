#include "llm_probe/target.h"

namespace llm_probe {

std::string_view ProbeTypeName(ProbeType type) { return NameOf(kProbeTypeNames, type); }

bool IsBilled(ProbeType type) { return type != ProbeType::kModels; }

ReplySchema DefaultReplySchema(ProbeType type) {
  // additionalProperties false and every property required: what OpenAI's strict structured
  // outputs accept.
  switch (type) {
    case ProbeType::kTools:
      return {"get_weather", "Get the current weather in a city.",
              R"({"type":"object","properties":{"city":{"type":"string","description":"The city, e.g. Paris"}},)"
              R"("required":["city"],"additionalProperties":false})",
              {"city"}};
    case ProbeType::kJson:
      return {"json", "Respond with a JSON object that fits this schema.",
              R"({"type":"object","properties":{"status":{"type":"string","description":"ok when you can answer"}},)"
              R"("required":["status"],"additionalProperties":false})",
              {"status"}};
    case ProbeType::kModels:
    case ProbeType::kChat:
    case ProbeType::kStream:
    case ProbeType::kEmbeddings:
      break;
  }
  return {};
}

}  // namespace llm_probe
