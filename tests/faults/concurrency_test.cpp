// Threads together (run under ThreadSanitizer by scripts/test.sh, label "concurrency"): the probe
// loop publishing snapshots while readers render them, scrapes of every page while the config is
// reloaded from two threads, and on-demand runs racing reloads and Stop(). Each test counts
// iterations rather than running for a time, and asserts what every reader saw was whole.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "faults_support.h"
#include "llm_probe/collector.h"
#include "llm_probe/exporter.h"
#include "llm_probe/runner.h"
#include "llm_probe/snapshot.h"
#include "mock_upstream.h"

namespace llm_probe {
namespace {

using testing::Get;
using testing::TempDir;
using testing::WaitFor;

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

std::string Yaml(const std::string& base_url, int targets, const std::string& extra = "") {
  std::string yaml = "global: {interval: 1s, timeout: 500ms" + extra + "}\ngroups:\n  - {name: all, targets: [t0]}\ntargets:\n";
  for (int i = 0; i < targets; ++i) {
    yaml += "  - name: t" + std::to_string(i) + "\n    base_url: " + base_url +
            "\n    probes: [{name: chat, type: chat, model: gpt-4o}, {name: stream, type: stream, model: gpt-4o}]\n";
  }
  return yaml;
}

// Snapshots swapped by a writer while readers render them: each view is one consistent set.
TEST(ConcurrencyTest, SnapshotSwapsWhileReadersRender) {
  auto config = std::make_shared<const Config>(ParseConfig(Yaml("http://127.0.0.1:1/v1", 5), "c.yaml", NoEnv));
  SnapshotStore store;
  Collector collector(store, {"test", "test"});
  auto snapshots = [&](int generation) {
    std::vector<std::shared_ptr<const ProbeSnapshot>> probes;
    for (const auto& target : config->targets) {
      for (const auto& probe : target.probes) {
        auto snapshot = std::make_shared<ProbeSnapshot>(HealthPolicy{});
        snapshot->config = config;
        snapshot->target = &target;
        snapshot->probe = &probe;
        snapshot->health.Record(generation % 2 ? ResultClass::kUp : ResultClass::kTimeout, generation, 0.1);
        probes.push_back(std::move(snapshot));
      }
    }
    return probes;
  };
  store.Reset(config, snapshots(0));
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int generation = 1; generation <= 2000; ++generation) {
      if (generation % 100 == 0) {
        store.Reset(config, snapshots(generation));
      } else {
        auto probes = snapshots(generation);
        store.Publish(static_cast<std::size_t>(generation) % probes.size(), probes[generation % probes.size()]);
      }
      store.UpdateStatus([generation](ExporterStatus& status) { status.schedule_lag.Observe(generation * 1e-6); });
    }
    writing = false;
  });
  std::vector<std::thread> readers;
  std::atomic<int> renders{0};
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (writing) {
        const StoreView view = store.Read();
        ASSERT_EQ(view.probes.size(), 10u);
        for (const auto& probe : view.probes) ASSERT_EQ(probe->config, view.config);
        (void)ComputeGroupHealth(view);
        const std::string text = RenderText(collector.Collect());
        ASSERT_NE(text.find("llm_probe_exporter_build_info"), std::string::npos);
        ++renders;
      }
    });
  }
  writer.join();
  for (auto& reader : readers) reader.join();
  EXPECT_GT(renders.load(), 0);
}

// Every page scraped from four threads while two threads reload (changed files, so the probe
// set is really swapped) and probes run against the mock.
TEST(ConcurrencyTest, ScrapesOfEveryPageDuringReloads) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  TempDir dir;
  ExporterOptions options;
  options.config_file = dir.Write("config.yaml", Yaml(mock.BaseUrl("up"), 3));
  options.listen = {"127.0.0.1", 0};
  options.build = {"test", "test"};
  options.env = NoEnv;
  Exporter exporter(options);
  exporter.Start();
  const int port = exporter.port();
  ASSERT_TRUE(WaitFor([&] { return mock.RequestCount("up") >= 6; }));
  // One request of each kind from this thread first: cpp-httplib (a prebuilt library, not
  // instrumented) builds function-local statics on first use, published in a way TSan cannot
  // see; created before the threads below start, they are ordered by the thread creation.
  Get(port, "/metrics");
  httplib::Client("127.0.0.1", port).Post("/-/reload");

  std::atomic<int> reloads{0};
  std::atomic<bool> running{true};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < 40; ++i) {
      // Written aside and renamed over, as config management does: a reader never sees a
      // half-written file (a truncating write would make the HTTP reloads below fail).
      const std::string next = dir.Write("config.next", Yaml(mock.BaseUrl("up"), 2 + i % 3, i % 2 ? ", failure_threshold: 2" : ""));
      std::filesystem::rename(next, options.config_file);
      EXPECT_NE(exporter.Reload().kind, ReloadOutcome::kFailed);
      ++reloads;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      httplib::Client client("127.0.0.1", port);
      auto response = client.Post("/-/reload");
      ASSERT_TRUE(response) << httplib::to_string(response.error());
      EXPECT_EQ(response->status, 200) << response->body;
    }
  });
  std::atomic<int> scrapes{0};
  for (const char* path : {"/metrics", "/", "/api/v1/targets", "/api/v1/targets?group=all"}) {
    threads.emplace_back([&, path] {
      while (running) {
        int status = 0;
        Get(port, path, &status);
        EXPECT_TRUE(status == 200 || status == 404) << path << " status " << status;  // the group may be gone
        ++scrapes;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 3; ++i) {
      int status = 0;
      testing::Post(port, "/probe?target=t" + std::to_string(i) + "&probe=chat", &status);
      EXPECT_TRUE(status == 200 || status == 404) << status;  // t2 may be gone by then
    }
  });
  threads[0].join();
  threads[1].join();
  running = false;
  for (std::size_t i = 2; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(reloads.load(), 40);
  EXPECT_GT(scrapes.load(), 0);
  exporter.Stop();
  mock.Stop();
}

// On-demand runs from several threads racing config swaps, then Stop() with runs still
// queued: every future is fulfilled (a result, or nullopt for a probe that was swapped out).
TEST(ConcurrencyTest, OnDemandRunsRaceReloadsAndStop) {
  mock_upstream::MockUpstream mock;
  mock.Start();
  SnapshotStore store;
  auto runner = std::make_unique<ProbeRunner>(store);
  auto config_a = std::make_shared<const Config>(ParseConfig(Yaml(mock.BaseUrl("up"), 3), "a.yaml", NoEnv));
  auto config_b = std::make_shared<const Config>(ParseConfig(Yaml(mock.BaseUrl("up"), 1), "b.yaml", NoEnv));
  runner->Apply(config_a);
  std::vector<std::thread> threads;
  std::atomic<int> fulfilled{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto future = runner->RunNow("t" + std::to_string((t + i) % 3), i % 2 ? "chat" : "stream");
        ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
        (void)future.get();
        ++fulfilled;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 30; ++i) runner->Apply(i % 2 ? config_a : config_b);
  });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(fulfilled.load(), 45);

  std::vector<std::future<std::optional<OnDemandResult>>> late;
  for (int i = 0; i < 10; ++i) late.push_back(runner->RunNow("t0", "chat"));
  runner->Stop();
  for (auto& future : late) {
    ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  }
  runner.reset();
  mock.Stop();
}

}  // namespace
}  // namespace llm_probe
