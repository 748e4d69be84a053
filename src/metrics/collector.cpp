#include "llm_probe/collector.h"

#include <malloc.h>

#include <algorithm>
#include <map>
#include <mutex>

#include <prometheus/text_serializer.h>

#include "families.h"

namespace llm_probe {
namespace {

using internal::FamilyWriter;
using internal::LabelList;
using internal::LabelSet;
using prometheus::MetricType;

// One consistent view of the store, with every probe's labels built once per scrape.
struct Scrape {
  StoreView view;
  std::vector<LabelSet> labels;  // parallel to view.probes

  explicit Scrape(StoreView store_view) : view(std::move(store_view)) {
    labels.reserve(view.probes.size());
    for (const auto& snapshot : view.probes) {
      labels.emplace_back(LabelList{{"target", snapshot->target->name},
                                    {"probe", snapshot->probe->name},
                                    {"model", snapshot->probe->model}});
    }
  }
};

// Calls `write(snapshot, labels)` for every probe.
template <typename Write>
void ForEachProbe(const Scrape& scrape, Write write) {
  for (std::size_t i = 0; i < scrape.view.probes.size(); ++i) write(*scrape.view.probes[i], scrape.labels[i]);
}

// Writes one gauge family with a sample for each probe where `value` yields one.
template <typename ValueOf>
void ProbeGauge(FamilyWriter& writer, const Scrape& scrape, const char* name, const char* help,
                ValueOf value) {
  writer.Begin(name, help, MetricType::Gauge);
  ForEachProbe(scrape, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    if (const std::optional<double> sample = value(snapshot)) writer.Gauge(labels, *sample);
  });
}

void WriteStateMetrics(FamilyWriter& writer, const Scrape& view) {
  auto last = [](const ProbeSnapshot& s) { return s.last_result ? &*s.last_result : nullptr; };

  ProbeGauge(writer, view, "llm_probe_success", "Whether the last probe ended UP (1) or not (0).",
             [&](const ProbeSnapshot& s) -> std::optional<double> {
               if (!last(s)) return std::nullopt;
               return last(s)->result_class == ResultClass::kUp ? 1 : 0;
             });

  writer.Begin("llm_probe_status", "Class of the last probe result, one-hot over every class.",
               MetricType::Gauge);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    for (ResultClass result_class : AllResultClasses()) {
      const bool current = last(snapshot) && last(snapshot)->result_class == result_class;
      writer.Gauge(labels, current ? 1 : 0, "status", ResultClassName(result_class));
    }
  });

  ProbeGauge(writer, view, "llm_probe_healthy",
             "Thresholded health: 0 after failure_threshold consecutive failures, 1 again after "
             "recovery_threshold consecutive successes.",
             [](const ProbeSnapshot& s) -> std::optional<double> { return s.health.healthy() ? 1 : 0; });
  ProbeGauge(writer, view, "llm_probe_consecutive_failures", "Failures since the last UP result.",
             [](const ProbeSnapshot& s) -> std::optional<double> { return s.health.consecutive_failures(); });
  ProbeGauge(writer, view, "llm_probe_consecutive_successes", "UP results since the last failure.",
             [](const ProbeSnapshot& s) -> std::optional<double> { return s.health.consecutive_successes(); });
  ProbeGauge(writer, view, "llm_probe_availability_ratio",
             "Share of UP results among the last history_size results (0 to 1).",
             [](const ProbeSnapshot& s) { return s.health.availability(); });
  ProbeGauge(writer, view, "llm_probe_last_duration_seconds", "Duration of the last probe's whole exchange.",
             [&](const ProbeSnapshot& s) -> std::optional<double> {
               if (!last(s)) return std::nullopt;
               return last(s)->duration_seconds;
             });
  ProbeGauge(writer, view, "llm_probe_http_status_code",
             "HTTP status of the last probe; 0 when no response arrived.",
             [&](const ProbeSnapshot& s) -> std::optional<double> {
               if (!last(s)) return std::nullopt;
               return last(s)->http_status;
             });
  ProbeGauge(writer, view, "llm_probe_last_run_timestamp_seconds", "Unix time the last probe finished.",
             [](const ProbeSnapshot& s) { return s.last_run_unix; });
  ProbeGauge(writer, view, "llm_probe_last_success_timestamp_seconds",
             "Unix time of the last UP result.",
             [](const ProbeSnapshot& s) { return s.health.last_success_unix(); });

  writer.Begin("llm_probe_http_duration_seconds", "Phases of the last probe's HTTP exchange.",
               MetricType::Gauge);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    const ProbeResult* result = last(snapshot);
    if (!result) return;
    const PhaseTimings& phases = result->phases;
    for (const auto& [phase, seconds] : {std::pair{"resolve", phases.resolve},
                                         {"connect", phases.connect},
                                         {"tls", phases.tls},
                                         {"processing", phases.processing},
                                         {"transfer", phases.transfer}}) {
      writer.Gauge(labels, seconds, "phase", phase);
    }
  });
}

void WriteCounters(FamilyWriter& writer, const Scrape& view) {
  writer.Begin("llm_probe_duration_seconds", "Duration of probe exchanges that ended UP.", MetricType::Histogram);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    writer.Histogram(labels, snapshot.duration);
  });

  writer.Begin("llm_probe_total", "Completed probes by result class.", MetricType::Counter);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    for (ResultClass result_class : AllResultClasses()) {
      writer.Counter(labels, static_cast<double>(snapshot.health.count(result_class)), "status",
                     ResultClassName(result_class));
    }
  });

  writer.Begin("llm_probe_skipped_total",
               "Scheduled probes not run: backoff (Retry-After) or budget (daily spend reached).",
               MetricType::Counter);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    writer.Counter(labels, static_cast<double>(snapshot.skipped_backoff), "reason", "backoff");
    writer.Counter(labels, static_cast<double>(snapshot.skipped_budget), "reason", "budget");
  });
}

bool IsStream(const ProbeSnapshot& snapshot) { return snapshot.probe->type == ProbeType::kStream; }

void WriteLlmMetrics(FamilyWriter& writer, const Scrape& view) {
  writer.Begin("llm_probe_time_to_first_token_seconds",
               "Stream probes that ended UP: request start to the first non-empty content.",
               MetricType::Histogram);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    if (IsStream(snapshot)) writer.Histogram(labels, snapshot.time_to_first_token);
  });
  ProbeGauge(writer, view, "llm_probe_last_time_to_first_token_seconds",
             "Stream probes: time to first token of the last probe.",
             [](const ProbeSnapshot& s) -> std::optional<double> {
               return s.last_result ? s.last_result->time_to_first_token_seconds : std::nullopt;
             });
  ProbeGauge(writer, view, "llm_probe_output_tokens_per_second",
             "Stream probes: completion tokens over the time from first token to end.",
             [](const ProbeSnapshot& s) -> std::optional<double> {
               return s.last_result ? s.last_result->output_tokens_per_second : std::nullopt;
             });

  writer.Begin("llm_probe_tokens_total", "Tokens the probes used, from the replies' usage objects.",
               MetricType::Counter);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    if (!IsBilled(snapshot.probe->type)) return;
    writer.Counter(labels, snapshot.tokens.prompt, "kind", "prompt");
    writer.Counter(labels, snapshot.tokens.completion, "kind", "completion");
    writer.Counter(labels, snapshot.tokens.reasoning, "kind", "reasoning");
  });
  writer.Begin("llm_probe_cost_usd_total", "Estimated spend of the probes in USD, from pricing.",
               MetricType::Counter);
  ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
    if (IsBilled(snapshot.probe->type)) writer.Counter(labels, snapshot.cost_usd);
  });

  using Field = std::optional<double> RateLimit::*;
  for (const auto& [name, help, field] :
       {std::tuple{"llm_probe_ratelimit_remaining", "Rate-limit headroom the upstream reported.",
                   Field{&RateLimit::remaining}},
        std::tuple{"llm_probe_ratelimit_limit", "Rate limit the upstream reported.", Field{&RateLimit::limit}},
        std::tuple{"llm_probe_ratelimit_reset_seconds", "Seconds until the upstream's rate limit resets.",
                   Field{&RateLimit::reset_seconds}}}) {
    writer.Begin(name, help, MetricType::Gauge);
    ForEachProbe(view, [&](const ProbeSnapshot& snapshot, const LabelSet& labels) {
      for (const RateLimit& limit : snapshot.rate_limits) {
        if (limit.*field) writer.Gauge(labels, *(limit.*field), "resource", limit.resource);
      }
    });
  }

  writer.Begin("llm_probe_model_listed", "Each expect_models entry present in /models (1) or not (0).",
               MetricType::Gauge);
  for (const auto& snapshot : view.view.probes) {
    if (!snapshot->last_result) continue;
    for (const auto& [model, present] : snapshot->last_result->expected_models) {
      writer.Gauge(LabelSet({{"target", snapshot->target->name}, {"probe", snapshot->probe->name}, {"model", model}}),
                   present ? 1 : 0);
    }
  }
  ProbeGauge(writer, view, "llm_probe_models_listed", "Models in the last /models reply.",
             [](const ProbeSnapshot& s) -> std::optional<double> {
               if (!s.last_result || !s.last_result->models_listed) return std::nullopt;
               return *s.last_result->models_listed;
             });
  writer.Begin("llm_probe_served_model_info", "The model that actually answered the last probe.",
               MetricType::Gauge);
  for (const auto& snapshot : view.view.probes) {
    if (!snapshot->served_model) continue;
    writer.Gauge(LabelSet({{"target", snapshot->target->name},
                           {"probe", snapshot->probe->name},
                           {"model", snapshot->probe->model},
                           {"requested", snapshot->probe->model}}),
                 1, "served", *snapshot->served_model);
  }

  std::map<std::string, double> earliest_expiry;
  for (const auto& snapshot : view.view.probes) {
    if (!snapshot->tls_cert_expiry_unix) continue;
    auto [entry, inserted] = earliest_expiry.emplace(snapshot->target->name, *snapshot->tls_cert_expiry_unix);
    if (!inserted) entry->second = std::min(entry->second, *snapshot->tls_cert_expiry_unix);
  }
  writer.Begin("llm_probe_tls_cert_expiry_timestamp_seconds",
               "Earliest expiry (unix time) of the certificates a target presented.", MetricType::Gauge);
  for (const auto& [target, expiry] : earliest_expiry) writer.Gauge(LabelSet({{"target", target}}), expiry);
}

void WriteGroups(FamilyWriter& writer, const StoreView& view) {
  const std::vector<GroupHealth> groups = ComputeGroupHealth(view);
  writer.Begin("llm_probe_group_targets", "Targets in the failover group.", MetricType::Gauge);
  for (const auto& group : groups) writer.Gauge(LabelSet({{"group", group.name}}), group.targets);
  writer.Begin("llm_probe_group_healthy_targets",
               "Targets of the failover group whose every probe is healthy.", MetricType::Gauge);
  for (const auto& group : groups) writer.Gauge(LabelSet({{"group", group.name}}), group.healthy_targets);
  writer.Begin("llm_probe_group_rank",
               "Position of a target in its failover group's order, as the exporter ranks it (1 = switch here first).",
               MetricType::Gauge);
  for (const auto& group : groups) {
    for (std::size_t rank = 0; rank < group.healthy_members.size(); ++rank) {
      writer.Gauge(LabelSet({{"group", group.name}, {"target", group.healthy_members[rank]}}),
                   static_cast<double>(rank + 1));
    }
  }
  writer.Begin("llm_probe_group_member", "Membership of targets in failover groups (always 1).",
               MetricType::Gauge);
  if (view.config) {
    for (const auto& group : view.config->groups) {
      for (const auto& target : group.targets) writer.Gauge(LabelSet({{"group", group.name}, {"target", target}}), 1);
    }
  }
}

// The configured budget next to llm_probe_cost_usd_total, so a panel can show spend against it.
void WriteBudgets(FamilyWriter& writer, const StoreView& view) {
  writer.Begin("llm_probe_budget_max_usd_per_day",
               "Configured daily spend limit of a target (budget.max_usd_per_day); targets without a budget have none.",
               MetricType::Gauge);
  if (!view.config) return;
  for (const auto& target : view.config->targets) {
    if (target.max_usd_per_day) writer.Gauge(LabelSet({{"target", target.name}}), *target.max_usd_per_day);
  }
}

void WriteExporterMetrics(FamilyWriter& writer, const StoreView& view, const BuildInfo& build) {
  writer.Begin("llm_probe_exporter_build_info", "Version and revision of the exporter (always 1).",
               MetricType::Gauge);
  writer.Gauge(LabelSet({{"version", build.version}, {"revision", build.revision}}), 1);
  writer.Begin("llm_probe_exporter_config_last_reload_successful",
               "Whether the last configuration load succeeded.", MetricType::Gauge);
  writer.Gauge(LabelSet(), view.status.config_reload_successful ? 1 : 0);
  writer.Begin("llm_probe_exporter_config_last_reload_success_timestamp_seconds",
               "Unix time of the last successful configuration load.", MetricType::Gauge);
  writer.Gauge(LabelSet(), view.status.config_reload_success_unix);
  writer.Begin("llm_probe_exporter_probes_configured", "Probes in the running configuration.",
               MetricType::Gauge);
  writer.Gauge(LabelSet(), static_cast<double>(view.probes.size()));
  writer.Begin("llm_probe_exporter_schedule_lag_seconds", "How late probes start against their schedule.",
               MetricType::Histogram);
  writer.Histogram(LabelSet(), view.status.schedule_lag);
}

LabelList ExternalLabels(const StoreView& view) {
  LabelList labels;
  if (view.config) {
    for (const auto& [name, value] : view.config->global.external_labels) labels.push_back({name, value});
  }
  return labels;
}

void WriteAll(FamilyWriter& writer, const Scrape& scrape, const BuildInfo& build) {
  WriteStateMetrics(writer, scrape);
  WriteCounters(writer, scrape);
  WriteLlmMetrics(writer, scrape);
  WriteGroups(writer, scrape.view);
  WriteBudgets(writer, scrape.view);
  WriteExporterMetrics(writer, scrape.view, build);
  internal::WriteProcessMetrics(writer);
  writer.Finish();
}

}  // namespace

Collector::Collector(const SnapshotStore& store, BuildInfo build) : store_(store), build_(std::move(build)) {
  // A scrape of 1,000 probes builds ~6 MB of text, which the HTTP server copies and gzips, on
  // whichever of its threads serves it. glibc's dynamic mmap threshold rises to the size of the
  // first such buffer freed, after which every later one is carved from that thread's arena and
  // kept there: each server thread ends up holding tens of MB (RSS 128 MB instead of 30 MB at
  // 1,000 probes; docs/benchmarks.md). A fixed threshold keeps large buffers in mmap, returned to
  // the system on free; small allocations are unaffected.
  static std::once_flag tuned;
  std::call_once(tuned, [] { mallopt(M_MMAP_THRESHOLD, 256 * 1024); });
}

std::vector<prometheus::MetricFamily> Collector::Collect() const {
  const Scrape scrape(store_.Read());
  std::vector<prometheus::MetricFamily> families;
  FamilyWriter writer(families, ExternalLabels(scrape.view));
  WriteAll(writer, scrape, build_);
  return families;
}

std::string Collector::CollectText() const {
  std::string text;
  CollectText(text);
  return text;
}

void Collector::CollectText(std::string& text) const {
  const Scrape scrape(store_.Read());
  text.clear();
  // About 6 KiB per probe with the default buckets; one allocation for the usual case.
  text.reserve(std::max(last_text_size_.load(std::memory_order_relaxed), std::size_t{64 * 1024}) + 4096);
  FamilyWriter writer(text, ExternalLabels(scrape.view));
  WriteAll(writer, scrape, build_);
  last_text_size_.store(text.size(), std::memory_order_relaxed);
}

std::string RenderText(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace llm_probe
