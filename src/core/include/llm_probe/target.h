// A configured target and its probes, as the config loader validated them: the values protocol
// builds requests from and state records against. Here in core, below both, so protocol needs
// no link to the loader (which in turn asks protocol's provider table what a provider accepts).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm_probe/enum_names.h"

namespace llm_probe {

using Duration = std::chrono::milliseconds;

// tools: one function call forced; json: structured output (both non-streamed).
enum class ProbeType { kModels, kChat, kStream, kEmbeddings, kTools, kJson };

inline constexpr EnumNames<ProbeType, 6> kProbeTypeNames = {{
    {ProbeType::kModels, "models"},
    {ProbeType::kChat, "chat"},
    {ProbeType::kStream, "stream"},
    {ProbeType::kEmbeddings, "embeddings"},
    {ProbeType::kTools, "tools"},
    {ProbeType::kJson, "json"},
}};

std::string_view ProbeTypeName(ProbeType type);
// Which of its provider's APIs a chat or stream probe calls: OpenAI has Chat Completions and the
// Responses API (a provider row with a responses_adapter).
enum class ProbeApi { kChatCompletions, kResponses };
inline constexpr EnumNames<ProbeApi, 2> kProbeApiNames = {{
    {ProbeApi::kChatCompletions, "chat_completions"},
    {ProbeApi::kResponses, "responses"},
}};

// Probes that spend tokens; the models probe is free.
bool IsBilled(ProbeType type);

// One API flavour's row of the provider table (protocol's provider.h).
struct Provider;

struct TlsConfig {
  std::string ca_file;
  bool insecure_skip_verify = false;
  bool session_resumption = false;  // docs/operations.md: cheaper, but not what a new client sees
};

// What a tools probe's function call or a json probe's output must hold: the function (tools),
// or the schema of the output (json; `name` is then the forced tool's name where the API has no
// JSON mode, as Anthropic's and Bedrock's).
struct ReplySchema {
  std::string name;
  std::string description;
  std::string json_schema;            // a JSON Schema object, as JSON text
  std::vector<std::string> required;  // its top-level required keys: the reply must hold each
};

// The built-in function (get_weather, a required string `city`) and output schema (an object
// with a required string `status`, named "json"); empty for the other probe types.
ReplySchema DefaultReplySchema(ProbeType type);

struct ProbeConfig {
  std::string name;
  ProbeType type = ProbeType::kModels;
  ProbeApi api = ProbeApi::kChatCompletions;
  std::string model;  // empty for models probes
  Duration interval{30000};
  Duration timeout{10000};
  std::string prompt = "health check test";
  int max_tokens = 5;
  std::string token_param = "max_tokens";  // or max_completion_tokens
  std::string reasoning_effort;
  std::string expect_content;  // ECMAScript regex, validated at load; empty: no check
  std::vector<std::string> expect_models;
  bool follow_redirects = false;
  ReplySchema reply_schema;  // tools and json probes
};

// The `aws:` block of a SigV4-signed target (bedrock): where the signature is valid and the keys
// it is made with, each read from an environment variable or a file.
struct AwsConfig {
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;  // secret: never log, render or copy into a label
  std::string session_token;      // secret; empty unless the keys are temporary (STS)
  std::vector<std::string> key_files;  // resolved paths of the *_file keys; watched for rotation
};

struct TargetConfig {
  std::string name;
  // Null when the config names none: the default provider (protocol's ProviderOf reads it).
  const Provider* provider = nullptr;
  std::string base_url;
  std::string api_key;  // secret: never log, render or copy into a label
  std::string api_key_file;  // resolved path when the key comes from a file; watched for rotation
  std::map<std::string, std::string> headers;  // ${ENV} already expanded
  std::vector<std::string> header_expansions;  // what the ${ENV} references expanded to: secrets
  TlsConfig tls;
  std::string proxy_url;
  std::optional<double> max_usd_per_day;
  std::string api_version;  // azure: api-version query; anthropic: anthropic-version header
  AwsConfig aws;            // bedrock only
  std::vector<ProbeConfig> probes;
};

}  // namespace llm_probe
