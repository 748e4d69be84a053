// The secrets a target uses: its API key and the ${ENV} references in its header values.
// Messages name where a secret comes from, never the secret.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "llm_probe/target.h"
#include "llm_probe/yaml_reader.h"

namespace llm_probe::config_detail {

// The key from the target's api_key_env or api_key_file, checked against api_key_prefix; empty
// when the target has neither (local vLLM or Ollama need no key).
std::string ResolveApiKey(const StrictMapping& target, const std::string& target_name,
                          const EnvLookup& env);

// The region and keys of an `aws:` block (access key id and secret access key required, the
// session token optional), each key from its *_env or *_file; the files' paths go in key_files.
AwsConfig ResolveAwsConfig(const StrictMapping& aws, const std::string& target_name, const EnvLookup& env);

// The target's `headers` mapping with ${NAME} references expanded from `env`; what each
// reference expanded to is appended to `expansions`.
std::map<std::string, std::string> ParseHeaders(const Source& source, const MappingEntry& headers,
                                                const std::string& target_name, const EnvLookup& env,
                                                std::vector<std::string>& expansions);

// Header names whose values are credentials (Authorization, Cookie, X-Api-Key, ...).
bool IsSecretHeaderName(std::string_view name);

}  // namespace llm_probe::config_detail
