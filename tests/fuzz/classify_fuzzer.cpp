// The response classifier over arbitrary replies: InterpretExchange for every provider and probe
// type (OpenAI and Anthropic JSON bodies, SSE streams, error envelopes), ParseErrorEnvelope and
// ClassifyHttpError on the raw body. A reply of any shape gets exactly one class, no exception,
// and a detail that is valid UTF-8 (the status page and the API serialise it as JSON).
//
// Input: 4 header bytes, then the body.
//   [0] provider (% number of providers) and probe type (/ number of providers % 4)    [1] HTTP status (table below)
//   [2] transport error (>= 224: one of them)      [3] bit 0: text/event-stream content type,
//   bit 1: expect_content ".+", bit 2: served model check against a dated name, bits 3..7: read size seed
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llm_probe/classify.h"
#include "llm_probe/config.h"
#include "llm_probe/exchange.h"
#include "llm_probe/probe.h"
#include "llm_probe/provider.h"
#include "llm_probe/result.h"

namespace {

constexpr int kStatuses[] = {200, 200, 200, 200, 201, 204, 302, 400, 401, 402, 403, 404,
                             408, 418, 422, 429, 500, 502, 503, 504, 529, 0,   100, 599};

bool ValidUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();  // strict: throws on invalid UTF-8
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llm_probe;
  if (size < 4) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 4), size - 4);

  TargetConfig target;
  target.name = "fuzz";
  const auto providers = Providers();
  target.provider = providers[data[0] % providers.size()];
  target.base_url = "http://127.0.0.1:1/v1";
  target.api_version = target.provider->default_api_version;
  ProbeConfig probe;
  probe.name = "probe";
  probe.type = static_cast<ProbeType>((data[0] / providers.size()) % kProbeTypeNames.size());
  probe.reply_schema = DefaultReplySchema(probe.type);  // tools and json: the built-in function and schema
  if (probe.type != ProbeType::kModels) probe.model = (data[3] & 4) ? "gpt-4o" : "claude-sonnet-4-5";
  if (probe.type == ProbeType::kModels) probe.expect_models = {"gpt-4o", "claude-sonnet-4-5"};
  if (data[3] & 2) probe.expect_content = ".+";

  HttpExchange exchange;
  exchange.status = kStatuses[data[1] % (sizeof kStatuses / sizeof kStatuses[0])];
  if (data[2] >= 224) exchange.error = static_cast<TransportError>(1 + data[2] % 8);
  exchange.error_detail = std::string(body.substr(0, 64));
  exchange.headers.emplace_back("content-type", (data[3] & 1) ? "text/event-stream" : "application/json");
  exchange.headers.emplace_back("retry-after", std::string(body.substr(0, 32)));
  exchange.body = std::string(body);
  unsigned seed = data[3] >> 3;
  for (std::size_t end = 0; end < body.size();) {
    seed = seed * 1103515245u + 12345u;
    end = std::min(body.size(), end + 1 + (seed >> 16) % 64);
    exchange.arrivals.push_back({end, static_cast<double>(exchange.arrivals.size()) * 0.01});
  }
  exchange.total_seconds = 1;

  const ProbeResult result = InterpretExchange(target, probe, exchange, 1.8e9);
  if (static_cast<std::size_t>(result.result_class) >= kResultClassCount) __builtin_trap();
  if (result.result_class == ResultClass::kUp && exchange.error != TransportError::kNone) __builtin_trap();
  if (!ValidUtf8(result.detail)) __builtin_trap();
  if (result.retry_after_seconds && !(*result.retry_after_seconds >= 0)) __builtin_trap();

  const auto envelope = ParseErrorEnvelope(body);
  if (envelope) {
    (void)ServedModelMatches(envelope->type, envelope->code);
  }
  const Classification http = ClassifyHttpError(exchange.status, body);
  if (http.result_class == ResultClass::kUp || !ValidUtf8(http.detail)) __builtin_trap();
  const std::string clean = SanitizeUpstreamText(body, 200);
  if (clean.size() > 203 || !ValidUtf8(clean)) __builtin_trap();
  (void)ServedModelMatches(probe.model, body.substr(0, 80));
  return 0;
}
