#include <chrono>
#include <cmath>

#include "llm_probe/provider.h"
#include "views.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

json Optional(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

json HistoryJson(const std::vector<HistoryEntry>& entries) {
  json out = json::array();
  for (const auto& entry : entries) {
    out.push_back({{"time", entry.unix_time},
                   {"status", ResultClassName(entry.result_class)},
                   {"duration_seconds", entry.duration_seconds}});
  }
  return out;
}

json ResultJson(const ProbeResult& result, const Redactor& redactor) {
  json out = {{"status", ResultClassName(result.result_class)},
              {"detail", Excerpt(redactor, result.detail)},
              {"http_status", result.http_status},
              {"duration_seconds", result.duration_seconds},
              {"time_to_first_token_seconds", Optional(result.time_to_first_token_seconds)},
              {"output_tokens_per_second", Optional(result.output_tokens_per_second)},
              {"served_model", result.served_model ? json(Excerpt(redactor, *result.served_model)) : json(nullptr)}};
  if (result.usage) {
    // Token counts are whole numbers; the engine keeps them as doubles only to add them up.
    out["usage"] = {{"prompt", std::llround(result.usage->prompt)},
                    {"completion", std::llround(result.usage->completion)},
                    {"reasoning", std::llround(result.usage->reasoning)}};
  }
  return out;
}

// The API a chat, stream, tools or json probe calls where its provider has two (openai:
// chat_completions or responses); null where the provider has one chat API (its name says which)
// and for model lists and embeddings, which have one endpoint whatever the API.
json ApiOf(const ProbeSnapshot& snapshot) {
  const ProbeType type = snapshot.probe->type;
  if (type == ProbeType::kModels || type == ProbeType::kEmbeddings) return nullptr;
  if (!ProviderOf(*snapshot.target).Supports(ProbeApi::kResponses)) return nullptr;
  return NameOf(kProbeApiNames, snapshot.probe->api);
}

json ProbeJson(const ProbeSnapshot& snapshot, const Redactor& redactor) {
  const HealthTracker& health = snapshot.health;
  json out = {{"target", snapshot.target->name},
              {"probe", snapshot.probe->name},
              {"type", ProbeTypeName(snapshot.probe->type)},
              {"provider", ProviderOf(*snapshot.target).name},
              {"api", ApiOf(snapshot)},
              {"model", snapshot.probe->model},
              {"interval_seconds", std::chrono::duration<double>(snapshot.probe->interval).count()},
              {"timeout_seconds", std::chrono::duration<double>(snapshot.probe->timeout).count()},
              {"healthy", health.healthy()},
              {"consecutive_failures", health.consecutive_failures()},
              {"consecutive_successes", health.consecutive_successes()},
              {"availability", Optional(health.availability())},
              {"median_duration_seconds", Optional(health.median_up_duration())},
              {"last_run", Optional(snapshot.last_run_unix)},
              {"last_success", Optional(health.last_success_unix())},
              {"last_result", snapshot.last_result ? ResultJson(*snapshot.last_result, redactor) : json(nullptr)},
              {"history", HistoryJson(health.history())},
              {"recent_failures", HistoryJson(health.recent_failures())}};
  return out;
}

}  // namespace

// Upstream text, redacted, cut and without control characters. Invalid UTF-8 is replaced
// when the document is serialised.
std::string Excerpt(const Redactor& redactor, std::string_view text) {
  const std::string redacted = redactor.Redact(text);
  std::string out;
  for (char c : redacted) {
    if (out.size() >= kExcerptBytes) break;
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out.push_back(c);
  }
  return out;
}

json TargetsDocument(const StoreView& view, const Redactor& redactor, double now_unix) {
  json probes = json::array();
  for (const auto& snapshot : view.probes) probes.push_back(ProbeJson(*snapshot, redactor));
  json groups = json::array();
  for (const auto& group : ComputeGroupHealth(view)) {
    groups.push_back({{"name", group.name},
                      {"targets", group.targets},
                      {"healthy_targets", group.healthy_targets},
                      {"healthy_members", group.healthy_members}});
  }
  return {{"time", now_unix},
          {"probes", std::move(probes)},
          {"groups", std::move(groups)},
          {"config", {{"reload_successful", view.status.config_reload_successful},
                      {"last_reload_success", view.status.config_reload_success_unix},
                      {"last_error", redactor.Redact(view.status.config_error)}}}};
}

std::optional<json> GroupDocument(const StoreView& view, const std::string& name) {
  for (const auto& group : ComputeGroupHealth(view)) {
    if (group.name != name) continue;
    return json{{"group", group.name},
                {"targets", group.targets},
                {"healthy_targets", group.healthy_targets},
                {"healthy_members", group.healthy_members}};
  }
  return std::nullopt;
}

json OnDemandDocument(const OnDemandResult& run, bool debug, const Redactor& redactor) {
  json out = ResultJson(run.result, redactor);
  if (!debug) return out;
  json request_headers = json::object();
  for (const auto& [name, value] : run.request.headers) request_headers[name] = redactor.Redact(value);
  json response_headers = json::object();
  for (const auto& [name, value] : run.exchange.headers) response_headers[name] = redactor.Redact(value);
  out["debug"] = {{"request", {{"method", run.request.method},
                               {"url", redactor.Redact(run.request.url)},
                               {"headers", request_headers},
                               {"body", Excerpt(redactor, run.request.body)}}},
                  {"response", {{"status", run.exchange.status},
                                {"headers", response_headers},
                                {"body", Excerpt(redactor, run.exchange.body)},
                                {"transport_error", TransportErrorName(run.exchange.error)},
                                {"transport_detail", redactor.Redact(run.exchange.error_detail)}}}};
  return out;
}

}  // namespace llm_probe::internal
