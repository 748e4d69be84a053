// The per-probe health state machine: consecutive counts with failure/recovery hysteresis,
// a window of recent results for availability, counters by class. No clock of its own: the
// caller passes each result's time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "llm_probe/result.h"

namespace llm_probe {

struct HealthPolicy {
  int failure_threshold = 3;   // consecutive failures before unhealthy
  int recovery_threshold = 1;  // consecutive successes before healthy again
  std::size_t history_size = 100;
};

struct HistoryEntry {
  ResultClass result_class;
  double unix_time;
  double duration_seconds = 0;
};

enum class Transition { kNone, kBecameUnhealthy, kBecameHealthy };

class HealthTracker {
 public:
  explicit HealthTracker(HealthPolicy policy);

  Transition Record(ResultClass result_class, double unix_time, double duration_seconds = 0);
  // Median duration of the UP results in the window; nullopt when there are none.
  std::optional<double> median_up_duration() const;

  // A probe starts healthy: it takes failure_threshold failures to call it down.
  bool healthy() const { return healthy_; }
  int consecutive_failures() const { return consecutive_failures_; }
  int consecutive_successes() const { return consecutive_successes_; }
  // UP share of the results in the window; nullopt before the first result.
  std::optional<double> availability() const;
  std::uint64_t count(ResultClass result_class) const { return counts_[Index(result_class)]; }
  std::uint64_t total() const { return total_; }
  std::optional<HistoryEntry> last() const;
  std::optional<double> last_success_unix() const { return last_success_unix_; }
  // Oldest first. Failures are also kept in a window of their own, so a long healthy run
  // does not push the last failures out of sight.
  std::vector<HistoryEntry> history() const;
  std::vector<HistoryEntry> recent_failures() const;
  const HealthPolicy& policy() const { return policy_; }

 private:
  HealthPolicy policy_;
  bool healthy_ = true;
  int consecutive_failures_ = 0;
  int consecutive_successes_ = 0;
  std::array<std::uint64_t, kResultClassCount> counts_{};
  std::uint64_t total_ = 0;
  std::vector<HistoryEntry> history_;  // ring of policy_.history_size
  std::size_t history_next_ = 0;
  std::size_t up_in_history_ = 0;
  std::vector<HistoryEntry> failures_;  // ring of policy_.history_size
  std::size_t failures_next_ = 0;
  std::optional<double> last_success_unix_;
};

}  // namespace llm_probe
