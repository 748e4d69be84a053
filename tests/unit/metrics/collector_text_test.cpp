// Collector::CollectText() (the /metrics path) writes the text format directly; it must give the
// very bytes prometheus-cpp's TextSerializer gives for Collect().
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "llm_probe/collector.h"

namespace llm_probe {
namespace {

// process_* values (CPU seconds, open fds) may move between two renders: compare the rest.
std::string WithoutProcessMetrics(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::string out;
  while (std::getline(lines, line)) {
    if (line.rfind("process_", 0) == 0 || line.rfind("# HELP process_", 0) == 0 ||
        line.rfind("# TYPE process_", 0) == 0) {
      continue;
    }
    out += line + "\n";
  }
  return out;
}

std::shared_ptr<Config> RichConfig(bool external_labels) {
  auto config = std::make_shared<Config>();
  if (external_labels) config->global.external_labels = {{"region", "eu-west"}, {"zone", "a\"b\\c"}};
  for (int t = 0; t < 4; ++t) {
    TargetConfig target;
    target.name = "target-" + std::to_string(t);
    for (ProbeType type : {ProbeType::kModels, ProbeType::kChat, ProbeType::kStream, ProbeType::kEmbeddings}) {
      ProbeConfig probe;
      probe.name = std::string(ProbeTypeName(type));
      probe.type = type;
      probe.model = type == ProbeType::kModels ? "" : "gpt-4o";
      target.probes.push_back(probe);
    }
    config->targets.push_back(target);
  }
  config->groups = {{"primary", {"target-0", "target-1"}}, {"backup", {"target-2"}}};
  return config;
}

void Fill(ProbeSnapshot& snapshot, int seed) {
  ProbeResult result;
  result.result_class = seed % 3 == 0 ? ResultClass::kUp : ResultClass::kRateLimited;
  result.http_status = seed % 3 == 0 ? 200 : 429;
  result.duration_seconds = 0.1 * seed + 1.0 / 3;
  result.phases = {1e-5, 0.000123, 0, 0.0521999999999, 9.000000000000674e-05};
  if (snapshot.probe->type == ProbeType::kStream) {
    result.time_to_first_token_seconds = 0.25 + seed;
    result.output_tokens_per_second = 123.456789;
    snapshot.time_to_first_token.Observe(0.3);
    snapshot.time_to_first_token.Observe(7.5);
  }
  result.rate_limits = {{"requests", 99, 100, 0.5}, {"tokens", std::nullopt, 1e7, std::nullopt}};
  if (snapshot.probe->type == ProbeType::kModels) {
    result.models_listed = 42;
    result.expected_models = {{"gpt-4o", true}, {"o\"dd\\model\n", false}};
  }
  snapshot.last_result = result;
  snapshot.last_run_unix = 1761234567.123456 + seed;
  for (int i = 0; i <= seed; ++i) {
    snapshot.health.Record(i % 2 ? ResultClass::kUp : ResultClass::kTimeout, 1761234000.0 + i, 0.05 * i);
    snapshot.duration.Observe(0.05 * i);
  }
  snapshot.tokens = {8.0 * seed, 5.0 * seed, 1e16};
  snapshot.cost_usd = 0.000123456789012345 * seed;
  snapshot.skipped_backoff = static_cast<std::uint64_t>(seed);
  snapshot.served_model = seed % 2 ? std::string("gpt-4o-2024-08-06") : std::string("we\"ird\\\nname");
  if (seed % 4 == 1) snapshot.tls_cert_expiry_unix = 1.8e9 + seed;
  if (seed == 5) snapshot.cost_usd = std::numeric_limits<double>::quiet_NaN();
}

class CollectorTextTest : public ::testing::TestWithParam<bool> {};

TEST_P(CollectorTextTest, SameBytesAsTheTextSerializer) {
  const auto config = RichConfig(GetParam());
  SnapshotStore store;
  std::vector<std::shared_ptr<const ProbeSnapshot>> snapshots;
  int seed = 0;
  for (const auto& target : config->targets) {
    for (const auto& probe : target.probes) {
      auto snapshot = std::make_shared<ProbeSnapshot>(HealthPolicy{2, 1, 5});
      snapshot->config = config;
      snapshot->target = &target;
      snapshot->probe = &probe;
      snapshot->duration = HistogramData({0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60});
      snapshot->time_to_first_token = HistogramData({0.1, 0.5, 1});
      if (seed % 5 != 4) Fill(*snapshot, seed);  // some probes have no result yet
      snapshots.push_back(snapshot);
      ++seed;
    }
  }
  store.Reset(config, snapshots);
  store.UpdateStatus([](ExporterStatus& status) {
    status.config_reload_success_unix = 1761234567.5;
    status.schedule_lag = HistogramData({0.001, 0.005, 0.01});
    status.schedule_lag.Observe(0.0004);
    status.schedule_lag.Observe(0.02);
  });
  const Collector collector(store, {"1.2.3", "abc\"def"});
  const std::string direct = collector.CollectText();
  const std::string serialized = RenderText(collector.Collect());
  EXPECT_EQ(WithoutProcessMetrics(direct), WithoutProcessMetrics(serialized));
  EXPECT_NE(direct.find("process_cpu_seconds_total"), std::string::npos);
  EXPECT_NE(direct.find("llm_probe_duration_seconds_bucket{target=\"target-0\",probe=\"models\",model=\"\""),
            std::string::npos);
  // A second render reuses the size estimate and still gives the same text.
  EXPECT_EQ(WithoutProcessMetrics(collector.CollectText()), WithoutProcessMetrics(direct));
  // Into a reused buffer (the server's): the old contents are replaced, not appended to.
  std::string reused(direct.size() * 2, 'x');
  collector.CollectText(reused);
  EXPECT_EQ(WithoutProcessMetrics(reused), WithoutProcessMetrics(direct));
}

INSTANTIATE_TEST_SUITE_P(ExternalLabels, CollectorTextTest, ::testing::Bool());

TEST(CollectorTextEmptyTest, NoConfigYet) {
  SnapshotStore store;
  const Collector collector(store, {"1.2.3", "abc"});
  EXPECT_EQ(WithoutProcessMetrics(collector.CollectText()), WithoutProcessMetrics(RenderText(collector.Collect())));
}

}  // namespace
}  // namespace llm_probe
