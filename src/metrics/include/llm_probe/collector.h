// Renders the snapshot store as Prometheus metric families (DESIGN.md §4). Collect() reads
// one consistent view and does no I/O beyond /proc for the process_* metrics.
#pragma once

#include <atomic>
#include <cstddef>
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
  // The same families written straight in the text exposition format: byte for byte
  // RenderText(Collect()), without building the families first (the /metrics path; with 1,000
  // probes several times faster and without the transient memory). Safe from several threads.
  std::string CollectText() const;
  // The same into `out`, replacing its contents and keeping its capacity: a scrape of 1,000
  // probes is ~6 MB, and writing it into fresh pages each time costs more page faults than the
  // rendering itself (the server reuses its buffers; docs/benchmarks.md).
  void CollectText(std::string& out) const;

 private:
  const SnapshotStore& store_;
  BuildInfo build_;
  mutable std::atomic<std::size_t> last_text_size_{0};  // to reserve the next scrape's buffer
};

// The text exposition format of the families.
std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace llm_probe
