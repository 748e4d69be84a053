// A config of 10,000 probes (issue 8): it loads, every probe runs, /metrics renders them all.
// Run alone (RUN_SERIAL): it keeps both cores busy for a while.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "fault_server.h"
#include "faults_support.h"
#include "llm_probe/collector.h"
#include "llm_probe/config.h"
#include "llm_probe/runner.h"
#include "llm_probe/snapshot.h"

namespace llm_probe {
namespace {

using testing::SeriesValue;
using testing::WaitFor;

// 10,000 probes (100 targets x 100 probes) against the fault server's "ok": the file loads, every
// probe runs at least once, and /metrics renders all of them.
TEST(HugeConfigTest, TenThousandProbesLoadAndRun) {
  faults::FaultServer upstream;
  upstream.Start();
  std::string yaml = "global: {interval: 20s, timeout: 10s}\ntargets:\n";
  for (int t = 0; t < 100; ++t) {
    yaml += "  - name: target-" + std::to_string(t) + "\n    base_url: " + upstream.BaseUrl("ok") + "\n    probes:\n";
    for (int p = 0; p < 100; ++p) {
      yaml += "      - {name: chat-" + std::to_string(p) + ", type: chat, model: gpt-4o}\n";
    }
  }
  const auto load_start = std::chrono::steady_clock::now();
  auto config = std::make_shared<const Config>(
      ParseConfig(yaml, "huge.yaml", [](const std::string&) -> std::optional<std::string> { return std::nullopt; }));
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();

  SnapshotStore store;
  // First runs spread evenly over the 20 s interval.
  auto spread = std::make_shared<std::atomic<int>>(0);
  ProbeRunner runner(store, RunnerOptions{[spread] { return (spread->fetch_add(1) % 10007) / 10007.0; }, {}});
  runner.Apply(config);
  Collector collector(store, {"test", "test"});
  auto probes_run = [&] {
    int run = 0;
    for (const auto& probe : store.Read().probes) run += probe->last_result ? 1 : 0;
    return run;
  };
  EXPECT_TRUE(WaitFor([&] { return probes_run() == 10000; }, std::chrono::seconds(120))) << probes_run();
  int up = 0;
  for (const auto& probe : store.Read().probes) {
    up += probe->last_result && probe->last_result->result_class == ResultClass::kUp ? 1 : 0;
  }
  const auto render_start = std::chrono::steady_clock::now();
  const std::string text = RenderText(collector.Collect());
  const double render_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - render_start).count();
  std::printf("HUGE config: %zu bytes parsed in %.2f s; %d of 10000 UP; /metrics %zu bytes rendered in %.2f s; "
              "RSS %ld KiB\n",
              yaml.size(), load_seconds, up, text.size(), render_seconds, faults::ProcStatusKib("VmRSS"));
  EXPECT_EQ(up, 10000);
  EXPECT_EQ(SeriesValue(text, "llm_probe_exporter_probes_configured"), 10000.0);
  runner.Stop();
  upstream.Stop();
}

}  // namespace
}  // namespace llm_probe
