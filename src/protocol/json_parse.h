// Internal to the protocol module: the one way replies are parsed as JSON.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace llm_probe::internal {

// Parses without exceptions; nullopt when the text is not JSON or nests deeper than any API
// reply does. The depth is checked by a linear pre-scan before nlohmann parses anything:
// nlohmann 3.11 builds the tree without recursion, but its copy, comparison and dump() recurse
// over it, and every level costs a heap allocation, so a 4 MiB body of '[' would be millions of
// nodes one careless copy away from a stack overflow.
std::optional<nlohmann::json> ParseJson(std::string_view text);

}  // namespace llm_probe::internal
