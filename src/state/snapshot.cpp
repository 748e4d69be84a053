#include "llm_probe/snapshot.h"

#include <algorithm>
#include <map>

namespace llm_probe {

HistogramData::HistogramData(std::vector<double> upper_bounds)
    : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

void HistogramData::Observe(double value) {
  const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++counts[static_cast<std::size_t>(bucket)];
  sum += value;
  ++count;
}

void SnapshotStore::Reset(std::shared_ptr<const Config> config,
                          std::vector<std::shared_ptr<const ProbeSnapshot>> probes) {
  std::lock_guard lock(mutex_);
  view_.config = std::move(config);
  view_.probes = std::move(probes);
}

void SnapshotStore::Publish(std::size_t index, std::shared_ptr<const ProbeSnapshot> snapshot) {
  std::lock_guard lock(mutex_);
  if (index < view_.probes.size()) view_.probes[index] = std::move(snapshot);
}

void SnapshotStore::UpdateStatus(const std::function<void(ExporterStatus&)>& change) {
  std::lock_guard lock(mutex_);
  change(view_.status);
}

StoreView SnapshotStore::Read() const {
  std::lock_guard lock(mutex_);
  return view_;
}

std::vector<GroupHealth> ComputeGroupHealth(const StoreView& view) {
  std::vector<GroupHealth> groups;
  if (!view.config || view.config->groups.empty()) return groups;
  // A target is as healthy as its least healthy probe, as available as its least available one
  // and as fast as its slowest one. Only
  // group members matter: with 1,000 probes and a few groups, the medians of the others would
  // be most of a scrape's work here.
  struct TargetState {
    bool seen = false;  // a member without probes in the view is not healthy
    bool healthy = true;
    double availability = 1;  // a probe without results yet counts as 0: proven members first
    double median_latency = 0;
  };
  std::map<std::string, TargetState> targets;
  for (const auto& group : view.config->groups) {
    for (const auto& member : group.targets) targets.emplace(member, TargetState{});
  }
  for (const auto& snapshot : view.probes) {
    const auto member = targets.find(snapshot->target->name);
    if (member == targets.end()) continue;
    TargetState& state = member->second;
    state.seen = true;
    state.healthy = state.healthy && snapshot->health.healthy();
    state.availability = std::min(state.availability, snapshot->health.availability().value_or(0));
    state.median_latency =
        std::max(state.median_latency, snapshot->health.median_up_duration().value_or(0));
  }
  for (const auto& group : view.config->groups) {
    GroupHealth health{group.name, static_cast<int>(group.targets.size()), 0, {}};
    std::vector<std::pair<const TargetState*, std::string>> ranked;
    for (const auto& member : group.targets) {
      const auto found = targets.find(member);
      if (found == targets.end() || !found->second.seen || !found->second.healthy) continue;
      ++health.healthy_targets;
      ranked.emplace_back(&found->second, member);
    }
    // The steadiest first, the fastest among equally steady ones: a fast member that fails one
    // probe in five is a worse place to send traffic than a slower one that never fails.
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      if (a.first->availability != b.first->availability) return a.first->availability > b.first->availability;
      return a.first->median_latency < b.first->median_latency;
    });
    for (auto& [state, member] : ranked) health.healthy_members.push_back(std::move(member));
    groups.push_back(std::move(health));
  }
  return groups;
}

}  // namespace llm_probe
