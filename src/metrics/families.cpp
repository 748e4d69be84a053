#include "families.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace llm_probe::internal {
namespace {

void AppendLabelText(std::string& out, const LabelList& labels) {
  for (const auto& label : labels) {
    if (!out.empty()) out += ',';
    out += label.name;
    out += "=\"";
    AppendEscaped(out, label.value);
    out += '"';
  }
}

template <typename Integer>
void AppendInteger(std::string& out, Integer value) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
}

const char* TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Histogram:
      return "histogram";
    default:
      return "untyped";
  }
}

}  // namespace

LabelSet::LabelSet(LabelList labels) : list_(std::move(labels)) { AppendLabelText(text_, list_); }

void AppendEscaped(std::string& out, std::string_view value) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.data() + start, i - start);
    out += '\\';
    out += c == '\n' ? 'n' : c;
    start = i + 1;
  }
  out.append(value.data() + start, value.size() - start);
}

// prometheus-cpp 1.0.1 streams doubles with precision 16 in the default float format, i.e.
// printf's %.16g; std::to_chars with the same precision gives the same characters, without a
// stream or a locale.
void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
  } else {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16).ptr;
    out.append(buffer, end);
  }
}

FamilyWriter::FamilyWriter(std::vector<prometheus::MetricFamily>& out, const LabelList& external_labels)
    : families_(&out), external_(external_labels) {
  AppendLabelText(external_text_, external_);
}

FamilyWriter::FamilyWriter(std::string& text, const LabelList& external_labels)
    : text_(&text), external_(external_labels) {
  AppendLabelText(external_text_, external_);
}

void FamilyWriter::Begin(const char* name, const char* help, prometheus::MetricType type) {
  Finish();
  current_.name = name;
  current_.help = help;
  current_.type = type;
  help_ = help;
  open_ = true;
  header_written_ = false;
}

void FamilyWriter::Finish() {
  if (families_ && open_ && !current_.metric.empty()) families_->push_back(std::move(current_));
  current_ = prometheus::MetricFamily{};
  open_ = false;
}

void FamilyWriter::TextHeader() {
  if (header_written_) return;
  header_written_ = true;
  std::string& out = *text_;
  if (help_ && *help_) {
    out += "# HELP ";
    out += current_.name;
    out += ' ';
    out += help_;
    out += '\n';
  }
  out += "# TYPE ";
  out += current_.name;
  out += ' ';
  out += TypeName(current_.type);
  out += '\n';
}

// name{labels[,extra],external[,extra when extra_last]} — without a trailing space.
void FamilyWriter::TextSample(const LabelSet& labels, std::string_view suffix, std::string_view extra_name,
                              std::string_view extra_value, bool extra_last) {
  TextHeader();
  std::string& out = *text_;
  out += current_.name;
  out += suffix;
  const bool has_extra = !extra_name.empty();
  if (labels.text().empty() && !has_extra && external_text_.empty()) return;
  out += '{';
  bool first = true;
  auto part = [&](std::string_view text) {
    if (text.empty()) return;
    if (!first) out += ',';
    out += text;
    first = false;
  };
  auto extra = [&] {
    if (!has_extra) return;
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    AppendEscaped(out, extra_value);
    out += '"';
    first = false;
  };
  part(labels.text());
  if (!extra_last) extra();
  part(external_text_);
  if (extra_last) extra();
  out += '}';
}

prometheus::ClientMetric& FamilyWriter::Sample(const LabelSet& labels, std::string_view extra_name,
                                               std::string_view extra_value) {
  prometheus::ClientMetric& metric = current_.metric.emplace_back();
  metric.label.reserve(labels.list().size() + external_.size() + 1);
  metric.label = labels.list();
  if (!extra_name.empty()) metric.label.push_back({std::string(extra_name), std::string(extra_value)});
  metric.label.insert(metric.label.end(), external_.begin(), external_.end());
  return metric;
}

void FamilyWriter::Scalar(const LabelSet& labels, double value, std::string_view extra_name,
                          std::string_view extra_value, bool counter) {
  if (text_) {
    TextSample(labels, {}, extra_name, extra_value, false);
    *text_ += ' ';
    AppendValue(*text_, value);
    *text_ += '\n';
    return;
  }
  prometheus::ClientMetric& metric = Sample(labels, extra_name, extra_value);
  (counter ? metric.counter.value : metric.gauge.value) = value;
}

void FamilyWriter::Gauge(const LabelSet& labels, double value, std::string_view extra_name,
                         std::string_view extra_value) {
  Scalar(labels, value, extra_name, extra_value, false);
}

void FamilyWriter::Counter(const LabelSet& labels, double value, std::string_view extra_name,
                           std::string_view extra_value) {
  Scalar(labels, value, extra_name, extra_value, true);
}

void FamilyWriter::Histogram(const LabelSet& labels, const HistogramData& histogram) {
  if (text_) {
    std::string& out = *text_;
    TextSample(labels, "_count", {}, {}, false);
    out += ' ';
    AppendInteger(out, histogram.count);
    out += '\n';
    TextSample(labels, "_sum", {}, {}, false);
    out += ' ';
    AppendValue(out, histogram.sum);
    out += '\n';
    std::uint64_t cumulative = 0;
    std::string bound;
    for (std::size_t i = 0; i < histogram.bounds.size(); ++i) {
      cumulative += histogram.counts[i];
      bound.clear();
      AppendValue(bound, histogram.bounds[i]);
      TextSample(labels, "_bucket", "le", bound, true);
      out += ' ';
      AppendInteger(out, cumulative);
      out += '\n';
    }
    TextSample(labels, "_bucket", "le", "+Inf", true);
    out += ' ';
    AppendInteger(out, histogram.count);
    out += '\n';
    return;
  }
  prometheus::ClientMetric::Histogram& out = Sample(labels, {}, {}).histogram;
  out.sample_count = histogram.count;
  out.sample_sum = histogram.sum;
  std::uint64_t cumulative = 0;
  out.bucket.reserve(histogram.bounds.size() + 1);
  for (std::size_t i = 0; i < histogram.bounds.size(); ++i) {
    cumulative += histogram.counts[i];
    out.bucket.push_back({cumulative, histogram.bounds[i]});
  }
  out.bucket.push_back({histogram.count, std::numeric_limits<double>::infinity()});
}

}  // namespace llm_probe::internal
