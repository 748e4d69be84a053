// A probe's live state: health, histograms, tokens, cost and budget, the latest served model,
// rate limits and certificate expiry, and its back-off. One Record(result, now) changes all of
// it. Only the probe loop holds a ProbeState; the HTTP side reads the ProbeSnapshot copies it
// publishes (llm_probe/snapshot.h). Pure: no clock of its own, no I/O.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llm_probe/config.h"
#include "llm_probe/health.h"
#include "llm_probe/result.h"
#include "llm_probe/schedule.h"
#include "llm_probe/snapshot.h"

namespace llm_probe {

// The longest `served` label value, in bytes, cut on a character boundary: a relay cannot grow
// the series, and the value stays valid UTF-8.
inline constexpr std::size_t kServedModelMaxBytes = 128;

// Bucket layout of llm_probe_time_to_first_token_seconds (duration buckets come from the config).
const std::vector<double>& TimeToFirstTokenBuckets();

HealthPolicy PolicyOf(const Config& config);

// Estimated USD of `usage` at the config's price for `model`; 0 when it has none.
double CostOf(const Config& config, const std::string& model, const TokenUsage& usage);

// When a result is recorded: wall-clock time for timestamps and the budget's UTC day, steady
// time for the back-off. Passed in, so tests set both.
struct RecordTime {
  double unix_seconds = 0;
  SteadyTime steady;
};

class ProbeState {
 public:
  ProbeState(HealthPolicy policy, ProbeSchedule schedule, std::vector<double> duration_buckets);

  // Points the state at a (re)loaded config. History, counters and histograms stay; the
  // schedule is the new one (a reload ends a back-off).
  void Bind(std::shared_ptr<const Config> config, const TargetConfig& target, const ProbeConfig& probe,
            ProbeSchedule schedule, std::shared_ptr<DailyBudget> budget);
  // A reload keeps a probe's state when its type, model and health policy are unchanged.
  bool CanKeep(const ProbeConfig& probe, const HealthPolicy& policy) const;

  Transition Record(const ProbeResult& result, const RecordTime& now);
  // Why a due run must not go out now (Retry-After back-off, spent budget), if it must not.
  std::optional<SkipReason> SkipNow(const RecordTime& now) const;
  void RecordSkip(SkipReason reason);
  // What holds a scheduled run back holds an on-demand run back too: /probe must not spend past
  // the budget or call an upstream that asked for a pause.
  std::optional<OnDemandRefusal> RefuseOnDemand(const RecordTime& now) const;

  ProbeSchedule& schedule() { return schedule_; }
  const ProbeSnapshot& data() const { return data_; }
  std::shared_ptr<const ProbeSnapshot> Snapshot() const {
    return std::make_shared<const ProbeSnapshot>(data_);
  }

 private:
  ProbeSnapshot data_;
  ProbeSchedule schedule_;
  std::shared_ptr<DailyBudget> budget_;
};

}  // namespace llm_probe
