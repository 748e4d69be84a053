// The provider table: one row per API flavour, holding everything the rest of the code asks
// about a provider. Each flavour file (src/protocol/<flavour>.cpp) fills its row; providers.cpp
// registers it. The config loader validates targets against the rows, protocol dispatches
// through them and the runner asks them whether a request is re-made for each run.
#pragma once

#include <span>
#include <string_view>

#include "llm_probe/target.h"

namespace llm_probe {
namespace internal {
struct ProviderAdapter;  // the flavour's functions (src/protocol/reply.h)
}  // namespace internal

// How a streamed reply is cut into events: SSE, or AWS event-stream's binary frames (Bedrock),
// each read by its own decoder in probe.cpp's ReadStream.
enum class StreamFraming { kSse, kAwsEventStream };

// A row names what differs from the defaults below (see azure.cpp).
struct Provider {
  std::string_view name;  // the config's `provider:` value and the API's "provider" field
  // `api_version` when the target sets none; whether a target may set one at all.
  std::string_view default_api_version = {};
  bool api_version_applies = false;
  std::span<const ProbeType> probe_types = {};  // the probe types its API has
  // Probe keys its requests do not read (anthropic: token_param, reasoning_effort): refused at
  // load rather than silently ignored.
  std::span<const std::string_view> inapplicable_probe_keys = {};
  // False when the reply's `model` is not comparable to the configured one (Azure answers with
  // the model behind a deployment name).
  bool checks_served_model = true;
  // True when `model` is a segment of the request's URL path (Azure's deployment): it may then
  // hold no ' ', '/', '?', '#' or '%'.
  bool model_in_url_path = false;
  // True when requests are SigV4-signed with the target's `aws:` block (region and keys), which
  // the loader then requires in place of api_key_env / api_key_file.
  bool aws_signed = false;
  StreamFraming stream_framing = StreamFraming::kSse;
  const internal::ProviderAdapter* adapter = nullptr;
  // The adapter of chat and stream probes with `api: responses` (OpenAI's Responses API); null
  // when the provider has no such API, which the config loader then refuses.
  const internal::ProviderAdapter* responses_adapter = nullptr;

  bool Supports(ProbeType type) const;
  bool Supports(ProbeApi api) const;
  // The adapter that builds and reads this probe's requests.
  const internal::ProviderAdapter& AdapterFor(const ProbeConfig& probe) const;
  // A request re-made for each run (signed with the time, or carrying a fresh token) instead of
  // built once per config; the adapter's complete_for_run does it.
  bool RequestIsPerRun() const;
};

// Every provider, in the order the docs list them.
std::span<const Provider* const> Providers();
// Null when `name` is no provider's.
const Provider* FindProvider(std::string_view name);
// The target's provider; openai when the config names none.
const Provider& ProviderOf(const TargetConfig& target);

}  // namespace llm_probe
