// Azure OpenAI: OpenAI bodies, but the deployment (our `model`) is in the URL, the API version
// in the query and the key in an api-key header.
#include "reply.h"

namespace llm_probe::internal {
namespace {

HttpRequest BuildAzureRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request;
  const std::string query = "?api-version=" + target.api_version;
  switch (probe.type) {
    case ProbeType::kModels:
      request.url = target.base_url + "/openai/models" + query;
      break;
    case ProbeType::kEmbeddings:
      request.url = target.base_url + "/openai/deployments/" + probe.model + "/embeddings" + query;
      break;
    case ProbeType::kChat:
    case ProbeType::kStream:
    case ProbeType::kTools:
    case ProbeType::kJson:
      request.url = target.base_url + "/openai/deployments/" + probe.model + "/chat/completions" + query;
      break;
  }
  if (!target.api_key.empty()) request.headers.emplace_back("api-key", target.api_key);
  AttachOpenAIBody(probe, request);
  return request;
}

constexpr ProviderAdapter kAdapter = {
    .build_request = BuildAzureRequest,
    .read_model_list = ReadModelList,
    .read_reply = ReadOpenAIReply,
    .read_sse_event = ReadOpenAIStreamEvent,
    .read_error = ReadJsonErrorEnvelope,
};

}  // namespace

extern const Provider kAzureProvider = {
    .name = "azure",
    .default_api_version = "2024-10-21",
    .api_version_applies = true,
    .probe_types = kEveryProbeType,
    // `model` is a deployment name, which the served model never equals.
    .checks_served_model = false,
    .model_in_url_path = true,
    .adapter = &kAdapter,
};

}  // namespace llm_probe::internal
