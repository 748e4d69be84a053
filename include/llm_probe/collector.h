// Renders the snapshot store as Prometheus metric families (DESIGN.md §4). Collect() reads
// one consistent view and does no I/O beyond /proc for the process_* metrics.
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "llm_probe/snapshot.h"

namespace llm_probe {

struct BuildInfo {
  std::string version;
  std::string revision;
};

class Collector : public prometheus::Collectable {
 public:
  Collector(const SnapshotStore& store, BuildInfo build);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const SnapshotStore& store_;
  BuildInfo build_;
};

// The text exposition format of the families.
std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace llm_probe
