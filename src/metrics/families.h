// Internal to the metrics module: writes metric families one sample at a time, either as
// prometheus::MetricFamily objects (Collector::Collect) or straight into the text exposition
// format (Collector::CollectText, the scrape path). Both forms come from the same calls, so they
// cannot drift apart: CollectText() == RenderText(Collect()), byte for byte.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "llm_probe/snapshot.h"

namespace llm_probe::internal {

using LabelList = std::vector<prometheus::ClientMetric::Label>;

// A label set in both forms: the list, and the same rendered as `name="escaped value",...`.
// Built once per probe and scrape, then reused by every sample of that probe.
class LabelSet {
 public:
  LabelSet() = default;
  explicit LabelSet(LabelList labels);

  const LabelList& list() const { return list_; }
  const std::string& text() const { return text_; }

 private:
  LabelList list_;
  std::string text_;
};

// Appends `value` escaped for a label value: backslash, double quote and newline.
void AppendEscaped(std::string& out, std::string_view value);
// Appends a sample value exactly as prometheus-cpp 1.0.1's TextSerializer writes it.
void AppendValue(std::string& out, double value);

class FamilyWriter {
 public:
  FamilyWriter(std::vector<prometheus::MetricFamily>& out, const LabelList& external_labels);
  FamilyWriter(std::string& text, const LabelList& external_labels);

  // Starts a family; the samples that follow belong to it. A family left without samples is
  // dropped, since the text format would show a TYPE line for nothing.
  void Begin(const char* name, const char* help, prometheus::MetricType type);
  // A sample with `labels`, then the optional extra label (e.g. status="UP"), then the external labels.
  void Gauge(const LabelSet& labels, double value, std::string_view extra_name = {},
             std::string_view extra_value = {});
  void Counter(const LabelSet& labels, double value, std::string_view extra_name = {},
               std::string_view extra_value = {});
  void Histogram(const LabelSet& labels, const HistogramData& histogram);
  void Finish();

 private:
  prometheus::ClientMetric& Sample(const LabelSet& labels, std::string_view extra_name,
                                   std::string_view extra_value);
  void TextSample(const LabelSet& labels, std::string_view suffix, std::string_view extra_name,
                  std::string_view extra_value, bool extra_last);
  void TextHeader();
  void Scalar(const LabelSet& labels, double value, std::string_view extra_name, std::string_view extra_value,
              bool counter);

  std::vector<prometheus::MetricFamily>* families_ = nullptr;
  std::string* text_ = nullptr;
  LabelList external_;
  std::string external_text_;  // rendered external labels
  prometheus::MetricFamily current_;
  const char* help_ = nullptr;
  bool open_ = false;
  bool header_written_ = false;
};

// process_* metrics as the Go client reports them, read from /proc/self.
void WriteProcessMetrics(FamilyWriter& writer);

}  // namespace llm_probe::internal
