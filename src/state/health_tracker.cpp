#include "llm_probe/health.h"

#include <algorithm>

namespace llm_probe {
namespace {

void PushRing(std::vector<HistoryEntry>& ring, std::size_t& next, std::size_t capacity,
              HistoryEntry entry) {
  if (ring.size() < capacity) {
    ring.push_back(entry);
  } else {
    ring[next] = entry;
  }
  next = (next + 1) % capacity;
}

std::vector<HistoryEntry> OldestFirst(const std::vector<HistoryEntry>& ring, std::size_t next,
                                      std::size_t capacity) {
  if (ring.size() < capacity) return ring;
  std::vector<HistoryEntry> ordered(ring.begin() + static_cast<std::ptrdiff_t>(next), ring.end());
  ordered.insert(ordered.end(), ring.begin(), ring.begin() + static_cast<std::ptrdiff_t>(next));
  return ordered;
}

}  // namespace

HealthTracker::HealthTracker(HealthPolicy policy) : policy_(policy) {
  policy_.history_size = std::max<std::size_t>(policy_.history_size, 1);
  policy_.failure_threshold = std::max(policy_.failure_threshold, 1);
  policy_.recovery_threshold = std::max(policy_.recovery_threshold, 1);
  history_.reserve(policy_.history_size);
}

Transition HealthTracker::Record(ResultClass result_class, double unix_time, double duration_seconds) {
  const bool up = result_class == ResultClass::kUp;
  const HistoryEntry entry{result_class, unix_time, duration_seconds};

  if (history_.size() == policy_.history_size && history_[history_next_].result_class == ResultClass::kUp) {
    --up_in_history_;
  }
  PushRing(history_, history_next_, policy_.history_size, entry);
  if (up) ++up_in_history_;

  ++counts_[Index(result_class)];
  ++total_;

  if (up) {
    ++consecutive_successes_;
    consecutive_failures_ = 0;
    last_success_unix_ = unix_time;
    if (!healthy_ && consecutive_successes_ >= policy_.recovery_threshold) {
      healthy_ = true;
      return Transition::kBecameHealthy;
    }
    return Transition::kNone;
  }

  PushRing(failures_, failures_next_, policy_.history_size, entry);
  ++consecutive_failures_;
  consecutive_successes_ = 0;
  if (healthy_ && consecutive_failures_ >= policy_.failure_threshold) {
    healthy_ = false;
    return Transition::kBecameUnhealthy;
  }
  return Transition::kNone;
}

std::optional<double> HealthTracker::availability() const {
  if (history_.empty()) return std::nullopt;
  return static_cast<double>(up_in_history_) / static_cast<double>(history_.size());
}

std::optional<double> HealthTracker::median_up_duration() const {
  std::vector<double> durations;
  for (const auto& entry : history_) {
    if (entry.result_class == ResultClass::kUp) durations.push_back(entry.duration_seconds);
  }
  if (durations.empty()) return std::nullopt;
  const auto middle = durations.begin() + static_cast<std::ptrdiff_t>(durations.size() / 2);
  std::nth_element(durations.begin(), middle, durations.end());
  return *middle;
}

std::optional<HistoryEntry> HealthTracker::last() const {
  if (history_.empty()) return std::nullopt;
  const std::size_t last_index = (history_next_ + policy_.history_size - 1) % policy_.history_size;
  return history_[last_index];
}

std::vector<HistoryEntry> HealthTracker::history() const {
  return OldestFirst(history_, history_next_, policy_.history_size);
}

std::vector<HistoryEntry> HealthTracker::recent_failures() const {
  return OldestFirst(failures_, failures_next_, policy_.history_size);
}

}  // namespace llm_probe
