#include "llm_probe/schedule.h"

#include <algorithm>
#include <cmath>

namespace llm_probe {
namespace {

std::chrono::steady_clock::duration Scaled(std::chrono::milliseconds span, double factor) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double, std::milli>(static_cast<double>(span.count()) * factor));
}

}  // namespace

ProbeSchedule::ProbeSchedule(std::chrono::milliseconds interval, double jitter)
    : interval_(interval), jitter_(std::clamp(jitter, 0.0, 1.0)) {}

SteadyTime ProbeSchedule::First(SteadyTime now, double random01) const {
  return now + Scaled(interval_, std::clamp(random01, 0.0, 1.0));
}

SteadyTime ProbeSchedule::Next(SteadyTime due, SteadyTime now, double random01) const {
  const SteadyTime base = now - due > interval_ ? now : due;
  return base + interval_ + Scaled(interval_, jitter_ * std::clamp(random01, 0.0, 1.0));
}

void ProbeSchedule::BackOff(SteadyTime now, double retry_after_seconds) {
  const double capped = std::clamp(retry_after_seconds, 0.0, static_cast<double>(kMaxBackoff.count()));
  backoff_until_ = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(capped));
}

std::int64_t DailyBudget::UtcDay(double unix_seconds) {
  return static_cast<std::int64_t>(std::floor(unix_seconds / 86400.0));
}

void DailyBudget::Spend(double usd, double now_unix) {
  const std::int64_t today = UtcDay(now_unix);
  if (today != day_) {
    day_ = today;
    spent_ = 0;
  }
  spent_ += usd;
}

double DailyBudget::spent_today(double now_unix) const {
  return UtcDay(now_unix) == day_ ? spent_ : 0.0;
}

bool DailyBudget::Exhausted(double now_unix) const {
  return limit_ && spent_today(now_unix) >= *limit_;
}

}  // namespace llm_probe
