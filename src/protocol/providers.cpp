// The provider table's registration: one line per flavour file's row.
#include <algorithm>
#include <array>

#include "reply.h"

namespace llm_probe {
namespace internal {
extern const Provider kOpenAIProvider;
extern const Provider kAnthropicProvider;
extern const Provider kAzureProvider;
extern const Provider kGeminiProvider;
extern const Provider kBedrockProvider;
}  // namespace internal

namespace {

// The first row is the default provider.
constexpr std::array<const Provider*, 5> kProviders = {
    &internal::kOpenAIProvider,
    &internal::kAnthropicProvider,
    &internal::kAzureProvider,
    &internal::kGeminiProvider,
    &internal::kBedrockProvider,
};

}  // namespace

bool Provider::Supports(ProbeType type) const {
  return std::find(probe_types.begin(), probe_types.end(), type) != probe_types.end();
}

bool Provider::Supports(ProbeApi api) const {
  return api == ProbeApi::kChatCompletions || responses_adapter != nullptr;
}

const internal::ProviderAdapter& Provider::AdapterFor(const ProbeConfig& probe) const {
  return probe.api == ProbeApi::kResponses && responses_adapter != nullptr ? *responses_adapter : *adapter;
}

bool Provider::RequestIsPerRun() const { return adapter->complete_for_run != nullptr; }

std::span<const Provider* const> Providers() { return kProviders; }

const Provider* FindProvider(std::string_view name) {
  const auto found = std::find_if(kProviders.begin(), kProviders.end(),
                                  [name](const Provider* provider) { return provider->name == name; });
  return found == kProviders.end() ? nullptr : *found;
}

const Provider& ProviderOf(const TargetConfig& target) {
  return target.provider != nullptr ? *target.provider : *kProviders.front();
}

}  // namespace llm_probe
