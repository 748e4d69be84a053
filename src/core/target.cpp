#include "llm_probe/target.h"

namespace llm_probe {

std::string_view ProbeTypeName(ProbeType type) { return NameOf(kProbeTypeNames, type); }

bool IsBilled(ProbeType type) { return type != ProbeType::kModels; }

}  // namespace llm_probe
