// When each probe runs: interval plus additive jitter, a random first delay, Retry-After
// back-off, and the per-target daily cost budget. Plain objects; time and randomness passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace llm_probe {

using SteadyTime = std::chrono::steady_clock::time_point;

class ProbeSchedule {
 public:
  // A Retry-After longer than this is cut to it: a relay asking for a day must not silence a probe.
  static constexpr std::chrono::seconds kMaxBackoff{600};

  ProbeSchedule(std::chrono::milliseconds interval, double jitter);

  // First run: a random point of the first interval, so probes started together spread out.
  SteadyTime First(SteadyTime now, double random01) const;
  // The run after the one due at `due`: interval plus up to jitter*interval later. A schedule
  // that fell more than an interval behind restarts from `now` instead of bursting to catch up.
  SteadyTime Next(SteadyTime due, SteadyTime now, double random01) const;

  void BackOff(SteadyTime now, double retry_after_seconds);
  bool BackingOff(SteadyTime now) const { return backoff_until_ && now < *backoff_until_; }
  // Seconds until the back-off ends; 0 when there is none.
  double BackoffSecondsLeft(SteadyTime now) const {
    return BackingOff(now) ? std::chrono::duration<double>(*backoff_until_ - now).count() : 0;
  }

 private:
  std::chrono::milliseconds interval_;
  double jitter_;
  std::optional<SteadyTime> backoff_until_;
};

// Spend per UTC day against a limit; the pause ends when the day changes.
class DailyBudget {
 public:
  explicit DailyBudget(std::optional<double> max_usd_per_day) : limit_(max_usd_per_day) {}

  static std::int64_t UtcDay(double unix_seconds);
  void SetLimit(std::optional<double> max_usd_per_day) { limit_ = max_usd_per_day; }
  void Spend(double usd, double now_unix);
  bool Exhausted(double now_unix) const;
  double spent_today(double now_unix) const;

 private:
  std::optional<double> limit_;
  std::int64_t day_ = 0;
  double spent_ = 0;
};

}  // namespace llm_probe
