// Internal to the config module: the `tool:` of a tools probe and the `schema:` of a json probe,
// read from YAML into the JSON Schema the requests carry.
#pragma once

#include "llm_probe/target.h"
#include "llm_probe/yaml_reader.h"

namespace llm_probe::config_detail {

// `tool: {name, description?, parameters}`: a function name as OpenAI, Anthropic, Gemini and
// Bedrock all accept it ([A-Za-z0-9_-], 1 to 64) and its parameters' schema.
ReplySchema ParseTool(const Source& source, const MappingEntry& entry);

// `schema: <JSON Schema of an object>`: a json probe's output; named like the built-in one.
ReplySchema ParseOutputSchema(const Source& source, const MappingEntry& entry);

}  // namespace llm_probe::config_detail
