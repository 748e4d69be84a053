// What the HTTP side reads: immutable per-probe snapshots, published by the probe loop and
// swapped under a short lock, so a scrape never waits for a probe and a probe never waits for
// a scrape.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "llm_probe/config.h"
#include "llm_probe/health.h"
#include "llm_probe/result.h"

namespace llm_probe {

struct HistogramData {
  std::vector<double> bounds;          // upper bounds, increasing, without +Inf
  std::vector<std::uint64_t> counts;   // per bucket, not cumulative; bounds.size() + 1 slots
  double sum = 0;
  std::uint64_t count = 0;

  explicit HistogramData(std::vector<double> upper_bounds = {});
  void Observe(double value);
};

enum class SkipReason { kBackoff, kBudget };

// Why an on-demand run was refused, and when it may be asked again.
struct OnDemandRefusal {
  SkipReason reason;
  double retry_after_seconds = 0;
};

struct ProbeSnapshot {
  const TargetConfig* target = nullptr;  // owned by `config`
  const ProbeConfig* probe = nullptr;
  std::shared_ptr<const Config> config;

  HealthTracker health;
  std::optional<ProbeResult> last_result;
  std::optional<double> last_run_unix;
  HistogramData duration;
  HistogramData time_to_first_token;
  TokenUsage tokens;
  double cost_usd = 0;
  std::uint64_t skipped_backoff = 0;
  std::uint64_t skipped_budget = 0;
  std::optional<std::string> served_model;  // latest, cut to a sane length
  std::vector<RateLimit> rate_limits;       // latest seen
  std::optional<double> tls_cert_expiry_unix;

  explicit ProbeSnapshot(HealthPolicy policy) : health(policy) {}
};

struct ExporterStatus {
  bool config_reload_successful = true;
  double config_reload_success_unix = 0;
  std::string config_error;  // last failed load, for the status page
  HistogramData schedule_lag;
};

// The state of every probe at one moment: the config they came from and their snapshots.
struct StoreView {
  std::shared_ptr<const Config> config;
  std::vector<std::shared_ptr<const ProbeSnapshot>> probes;
  ExporterStatus status;
};

class SnapshotStore {
 public:
  // A new probe set (start or reload): snapshots in config order, targets then probes.
  void Reset(std::shared_ptr<const Config> config,
             std::vector<std::shared_ptr<const ProbeSnapshot>> probes);
  void Publish(std::size_t index, std::shared_ptr<const ProbeSnapshot> snapshot);
  void UpdateStatus(const std::function<void(ExporterStatus&)>& change);
  StoreView Read() const;

 private:
  mutable std::mutex mutex_;
  StoreView view_;
};

// Failover groups from the probes' health: a target is healthy when every probe of it is.
struct GroupHealth {
  std::string name;
  int targets = 0;
  int healthy_targets = 0;
  // Best first: highest availability over the window (of the target's least available probe),
  // then lowest median latency of UP results (of its slowest probe).
  std::vector<std::string> healthy_members;
};
std::vector<GroupHealth> ComputeGroupHealth(const StoreView& view);

}  // namespace llm_probe
