// The web config loader (--web.config.file) takes any bytes: a WebConfig or a ConfigError.
// Files it names resolve under a directory that does not exist, so no certificate loads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "llm_probe/config.h"
#include "llm_probe/server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)llm_probe::ParseWebConfig(text, "/nonexistent-fuzz-dir/web.yaml");
  } catch (const llm_probe::ConfigError& error) {
    if (std::string_view(error.what()).empty()) __builtin_trap();
  }
  return 0;
}
