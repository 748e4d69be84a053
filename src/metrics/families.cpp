#include "families.h"

namespace llm_probe::internal {

void FamilyWriter::Begin(const char* name, const char* help, prometheus::MetricType type) {
  Finish();
  current_ = prometheus::MetricFamily{};
  current_.name = name;
  current_.help = help;
  current_.type = type;
  open_ = true;
}

void FamilyWriter::Finish() {
  if (open_ && !current_.metric.empty()) out_.push_back(std::move(current_));
  open_ = false;
}

prometheus::ClientMetric& FamilyWriter::Sample(const LabelList& labels) {
  prometheus::ClientMetric& metric = current_.metric.emplace_back();
  metric.label = labels;
  metric.label.insert(metric.label.end(), external_.begin(), external_.end());
  return metric;
}

void FamilyWriter::Gauge(const LabelList& labels, double value) { Sample(labels).gauge.value = value; }

void FamilyWriter::Counter(const LabelList& labels, double value) {
  Sample(labels).counter.value = value;
}

void FamilyWriter::Histogram(const LabelList& labels, const HistogramData& histogram) {
  prometheus::ClientMetric::Histogram& out = Sample(labels).histogram;
  out.sample_count = histogram.count;
  out.sample_sum = histogram.sum;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < histogram.bounds.size(); ++i) {
    cumulative += histogram.counts[i];
    out.bucket.push_back({cumulative, histogram.bounds[i]});
  }
  out.bucket.push_back({histogram.count, std::numeric_limits<double>::infinity()});
}

}  // namespace llm_probe::internal
