// The config loader takes any bytes: it returns a Config or throws ConfigError, nothing else.
// Any other exception would escape Exporter::Reload() (which catches ConfigError only) and end
// the process, so it is a crash here too.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "llm_probe/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Every variable is set, so api_key_env paths get past the lookup; relative key and CA files
  // resolve under a directory that does not exist.
  const llm_probe::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "EMPTY") return std::string();
    return "sk-fuzz-" + name;
  };
  try {
    const llm_probe::Config config = llm_probe::ParseConfig(text, "/nonexistent-fuzz-dir/fuzz.yaml", env);
    (void)config.Secrets();
    for (const auto& target : config.targets) {
      for (const auto& probe : target.probes) (void)llm_probe::FormatDuration(probe.interval);
    }
  } catch (const llm_probe::ConfigError& error) {
    if (std::string_view(error.what()).empty()) __builtin_trap();  // every error says something
  }
  return 0;
}
