#include "llm_probe/collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<Config> TwoTargetConfig() {
  auto config = std::make_shared<Config>();
  config->global.external_labels = {{"region", "eu"}};
  TargetConfig relay;
  relay.name = "relay";
  ProbeConfig chat;
  chat.name = "chat";
  chat.type = ProbeType::kChat;
  chat.model = "gpt-4o";
  ProbeConfig stream = chat;
  stream.name = "stream";
  stream.type = ProbeType::kStream;
  ProbeConfig models;
  models.name = "models";
  models.type = ProbeType::kModels;
  models.model = "";
  relay.probes = {chat, stream, models};
  relay.max_usd_per_day = 1.5;
  TargetConfig backup;
  backup.name = "backup";
  backup.probes = {chat};
  config->targets = {relay, backup};
  config->groups = {{"primary", {"relay", "backup"}}};
  return config;
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = TwoTargetConfig();
    std::vector<std::shared_ptr<const ProbeSnapshot>> snapshots;
    for (const auto& target : config_->targets) {
      for (const auto& probe : target.probes) {
        auto snapshot = std::make_shared<ProbeSnapshot>(HealthPolicy{2, 1, 10});
        snapshot->config = config_;
        snapshot->target = &target;
        snapshot->probe = &probe;
        snapshot->duration = HistogramData({0.1, 1});
        snapshot->time_to_first_token = HistogramData({0.5});
        snapshots.push_back(snapshot);
      }
    }
    snapshots_ = snapshots;
    store_.Reset(config_, snapshots);
  }

  // Replaces probe `index` with a copy changed by `change`.
  void Update(std::size_t index, const std::function<void(ProbeSnapshot&)>& change) {
    auto copy = std::make_shared<ProbeSnapshot>(*snapshots_[index]);
    change(*copy);
    snapshots_[index] = copy;
    store_.Publish(index, copy);
  }

  std::string Render() { return RenderText(Collector(store_, {"1.2.3", "abc"}).Collect()); }

  std::shared_ptr<Config> config_;
  std::vector<std::shared_ptr<const ProbeSnapshot>> snapshots_;
  SnapshotStore store_;
};

TEST_F(CollectorTest, BeforeAnyResultOnlyStateAndCountersAreShown) {
  const std::string text = Render();
  EXPECT_THAT(text, HasSubstr("llm_probe_status{target=\"relay\",probe=\"chat\",model=\"gpt-4o\",status=\"UP\",region=\"eu\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_total{target=\"backup\",probe=\"chat\",model=\"gpt-4o\",status=\"MODEL_MISMATCH\",region=\"eu\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_healthy{target=\"relay\",probe=\"models\",model=\"\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("llm_probe_success{")));
  EXPECT_THAT(text, Not(HasSubstr("llm_probe_availability_ratio{")));
  EXPECT_THAT(text, Not(HasSubstr("# TYPE llm_probe_success gauge")))
      << "a family without samples is not written";
  EXPECT_THAT(text, HasSubstr("llm_probe_exporter_build_info{version=\"1.2.3\",revision=\"abc\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_exporter_probes_configured{region=\"eu\"} 4\n"));
}

TEST_F(CollectorTest, ResultsBecomeOneHotStatusCountersAndHistograms) {
  Update(0, [](ProbeSnapshot& s) {
    ProbeResult result;
    result.result_class = ResultClass::kAuthError;
    result.http_status = 401;
    result.duration_seconds = 0.4;
    result.phases.connect = 0.01;
    s.health.Record(ResultClass::kUp, 100, 0.05);
    s.health.Record(ResultClass::kAuthError, 101, 0.4);
    s.duration.Observe(0.05);
    s.duration.Observe(0.4);
    s.last_result = result;
    s.last_run_unix = 101;
  });
  const std::string text = Render();
  const std::string labels = "target=\"relay\",probe=\"chat\",model=\"gpt-4o\"";
  EXPECT_THAT(text, HasSubstr("llm_probe_success{" + labels + ",region=\"eu\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_status{" + labels + ",status=\"AUTH_ERROR\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_status{" + labels + ",status=\"UP\",region=\"eu\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_total{" + labels + ",status=\"UP\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_total{" + labels + ",status=\"AUTH_ERROR\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_availability_ratio{" + labels + ",region=\"eu\"} 0.5\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_http_status_code{" + labels + ",region=\"eu\"} 401\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_http_duration_seconds{" + labels + ",phase=\"connect\",region=\"eu\"} 0.01\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_last_success_timestamp_seconds{" + labels + ",region=\"eu\"} 100\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_duration_seconds_bucket{" + labels + ",region=\"eu\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_duration_seconds_bucket{" + labels + ",region=\"eu\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_duration_seconds_bucket{" + labels + ",region=\"eu\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_duration_seconds_count{" + labels + ",region=\"eu\"} 2\n"));
}

TEST_F(CollectorTest, StreamAndModelsMetricsAppearOnlyWhereTheyApply) {
  Update(1, [](ProbeSnapshot& s) {
    ProbeResult result;
    result.time_to_first_token_seconds = 0.3;
    result.output_tokens_per_second = 95;
    s.last_result = result;
    s.time_to_first_token.Observe(0.3);
    s.served_model = "gpt-4o-2024-08-06";
    s.rate_limits = {{"requests", 99, 100, 6}};
  });
  Update(2, [](ProbeSnapshot& s) {
    ProbeResult result;
    result.models_listed = 7;
    result.expected_models = {{"gpt-4o", true}, {"gpt-5", false}};
    s.last_result = result;
  });
  const std::string text = Render();
  const std::string stream = "target=\"relay\",probe=\"stream\",model=\"gpt-4o\"";
  EXPECT_THAT(text, HasSubstr("llm_probe_last_time_to_first_token_seconds{" + stream + ",region=\"eu\"} 0.3\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_output_tokens_per_second{" + stream + ",region=\"eu\"} 95\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_time_to_first_token_seconds_count{" + stream + ",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("llm_probe_time_to_first_token_seconds_count{target=\"relay\",probe=\"chat\"")));
  EXPECT_THAT(text, HasSubstr("llm_probe_served_model_info{" + stream +
                              ",requested=\"gpt-4o\",served=\"gpt-4o-2024-08-06\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_ratelimit_remaining{" + stream + ",resource=\"requests\",region=\"eu\"} 99\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_ratelimit_reset_seconds{" + stream + ",resource=\"requests\",region=\"eu\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_model_listed{target=\"relay\",probe=\"models\",model=\"gpt-5\",region=\"eu\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_models_listed{target=\"relay\",probe=\"models\",model=\"\",region=\"eu\"} 7\n"));
  EXPECT_THAT(text, Not(HasSubstr("llm_probe_tokens_total{target=\"relay\",probe=\"models\"")))
      << "the models probe spends no tokens";
  EXPECT_THAT(text, HasSubstr("llm_probe_tokens_total{target=\"relay\",probe=\"chat\",model=\"gpt-4o\",kind=\"reasoning\",region=\"eu\"} 0\n"));
}

TEST_F(CollectorTest, GroupsCountTargetsWhoseEveryProbeIsHealthy) {
  EXPECT_THAT(Render(), HasSubstr("llm_probe_group_healthy_targets{group=\"primary\",region=\"eu\"} 2\n"));
  Update(2, [](ProbeSnapshot& s) {
    s.health.Record(ResultClass::kTimeout, 1);
    s.health.Record(ResultClass::kTimeout, 2);
  });
  const std::string text = Render();
  EXPECT_THAT(text, HasSubstr("llm_probe_group_targets{group=\"primary\",region=\"eu\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_group_healthy_targets{group=\"primary\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_group_member{group=\"primary\",target=\"relay\",region=\"eu\"} 1\n"));
}

TEST_F(CollectorTest, ConfiguredDailyBudgetIsExportedOnlyForTargetsThatHaveOne) {
  const std::string text = Render();
  EXPECT_THAT(text, HasSubstr("# TYPE llm_probe_budget_max_usd_per_day gauge\n"));
  EXPECT_THAT(text, HasSubstr("llm_probe_budget_max_usd_per_day{target=\"relay\",region=\"eu\"} 1.5\n"));
  EXPECT_THAT(text, Not(HasSubstr("llm_probe_budget_max_usd_per_day{target=\"backup\"")));
}

TEST_F(CollectorTest, TlsExpiryIsTheEarliestOfATargetsProbes) {
  Update(0, [](ProbeSnapshot& s) { s.tls_cert_expiry_unix = 2000; });
  Update(1, [](ProbeSnapshot& s) { s.tls_cert_expiry_unix = 1000; });
  EXPECT_THAT(Render(), HasSubstr("llm_probe_tls_cert_expiry_timestamp_seconds{target=\"relay\",region=\"eu\"} 1000\n"));
}

TEST_F(CollectorTest, ProcessMetricsAreReported) {
  const std::string text = Render();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                           "process_max_fds", "process_start_time_seconds", "process_virtual_memory_bytes"}) {
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE ") + name)) << name;
  }
}

}  // namespace
}  // namespace llm_probe
