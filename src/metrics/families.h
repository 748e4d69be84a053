// Internal to the metrics module: builds metric families one sample at a time.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "llm_probe/snapshot.h"

namespace llm_probe::internal {

using LabelList = std::vector<prometheus::ClientMetric::Label>;

class FamilyWriter {
 public:
  FamilyWriter(std::vector<prometheus::MetricFamily>& out, LabelList external_labels)
      : out_(out), external_(std::move(external_labels)) {}

  // Starts a family; the samples that follow belong to it. A family left without samples is
  // dropped, since the text format would show a TYPE line for nothing.
  void Begin(const char* name, const char* help, prometheus::MetricType type);
  void Gauge(const LabelList& labels, double value);
  void Counter(const LabelList& labels, double value);
  void Histogram(const LabelList& labels, const HistogramData& histogram);
  void Finish();

 private:
  prometheus::ClientMetric& Sample(const LabelList& labels);

  std::vector<prometheus::MetricFamily>& out_;
  LabelList external_;
  prometheus::MetricFamily current_;
  bool open_ = false;
};

// process_* metrics as the Go client reports them, read from /proc/self.
void WriteProcessMetrics(FamilyWriter& writer);

}  // namespace llm_probe::internal
