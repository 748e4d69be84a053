#include "llm_probe/runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "llm_probe/log.h"
#include "llm_probe/clock.h"
#include "llm_probe/http_client.h"
#include "llm_probe/probe.h"
#include "llm_probe/probe_state.h"
#include "llm_probe/redact.h"

namespace llm_probe {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kRemoved = static_cast<std::size_t>(-1);
// The loop wakes at least this often even with nothing due, to notice commands promptly.
constexpr std::chrono::milliseconds kMaxPollWait{1000};
struct LiveProbe {
  std::size_t index = kRemoved;
  ProbeState state;
  HttpRequest request;  // built once per config (CompleteRequestForRun adds what changes per run)
  // The secrets of the config the request was built from: its result is redacted with them
  // before it is kept, so a rotated-out key never reaches the page, the API or the logs.
  std::shared_ptr<const Redactor> redactor;
  bool in_flight = false;

  LiveProbe(HealthPolicy policy, ProbeSchedule schedule, std::vector<double> duration_buckets)
      : state(policy, schedule, std::move(duration_buckets)) {}
};

struct DueEntry {
  SteadyTime due;
  std::uint64_t generation;
  std::shared_ptr<LiveProbe> probe;
  bool operator>(const DueEntry& other) const { return due > other.due; }
};

struct RunNowRequest {
  std::string target;
  std::string probe;
  std::shared_ptr<std::promise<std::optional<OnDemandResult>>> promise;
};

}  // namespace

struct ProbeRunner::Impl {
  SnapshotStore& store;
  RunnerOptions options;
  HttpClient client;
  std::thread thread;

  std::mutex commands_mutex;  // guards the four fields below
  std::shared_ptr<const Config> pending_config;
  std::vector<std::promise<void>> pending_applied;  // kept when a newer config supersedes one
  std::vector<RunNowRequest> pending_runs;
  bool stop_requested = false;

  // Loop thread only.
  std::shared_ptr<const Config> config;
  std::vector<std::shared_ptr<LiveProbe>> probes;
  std::map<std::string, std::shared_ptr<DailyBudget>> budgets;
  std::priority_queue<DueEntry, std::vector<DueEntry>, std::greater<>> due_queue;
  std::uint64_t generation = 0;
  HistogramData schedule_lag{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};

  Impl(SnapshotStore& snapshot_store, RunnerOptions runner_options)
      : store(snapshot_store), options(std::move(runner_options)) {
    if (!options.random01) {
      auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
      options.random01 = [engine] { return std::uniform_real_distribution<double>(0, 1)(*engine); };
    }
    if (!options.now_unix) options.now_unix = NowUnix;
  }

  void Loop() {
    bool stopping = false;
    while (!stopping || client.InFlight() > 0) {
      std::shared_ptr<const Config> next_config;
      std::vector<std::promise<void>> applied;
      std::vector<RunNowRequest> runs;
      {
        std::lock_guard lock(commands_mutex);
        next_config = std::move(pending_config);
        pending_config.reset();
        applied.swap(pending_applied);
        runs.swap(pending_runs);
        stopping = stop_requested;
      }
      if (next_config && !stopping) ApplyConfig(std::move(next_config));
      for (auto& promise : applied) promise.set_value();
      for (auto& run : runs) RunOnDemand(run, stopping);
      const SteadyTime now = Clock::now();
      if (!stopping) StartDue(now);
      client.Poll(stopping ? std::chrono::milliseconds(100) : WaitFor(now));
    }
  }

  std::chrono::milliseconds WaitFor(SteadyTime now) const {
    if (due_queue.empty()) return kMaxPollWait;
    const auto until_due =
        std::chrono::ceil<std::chrono::milliseconds>(due_queue.top().due - now);
    return std::clamp(until_due, std::chrono::milliseconds(0), kMaxPollWait);
  }

  void ApplyConfig(std::shared_ptr<const Config> next) {
    const bool first = config == nullptr;
    const SteadyTime now = Clock::now();
    const HealthPolicy policy = PolicyOf(*next);
    std::map<std::pair<std::string, std::string>, std::shared_ptr<LiveProbe>> previous;
    for (auto& probe : probes) {
      previous[{probe->state.data().target->name, probe->state.data().probe->name}] = std::move(probe);
    }
    std::map<std::string, std::shared_ptr<DailyBudget>> next_budgets;
    std::vector<std::shared_ptr<LiveProbe>> next_probes;
    std::vector<std::shared_ptr<const ProbeSnapshot>> snapshots;
    ++generation;
    due_queue = {};

    for (const auto& target : next->targets) {
      auto& budget = next_budgets[target.name];
      const auto old_budget = budgets.find(target.name);
      budget = old_budget != budgets.end() ? old_budget->second
                                           : std::make_shared<DailyBudget>(target.max_usd_per_day);
      budget->SetLimit(target.max_usd_per_day);
      // Only the target's own secrets: its upstream saw no others.
      const auto redactor = std::make_shared<const Redactor>(TargetSecrets(target));
      for (const auto& probe_config : target.probes) {
        const ProbeSchedule schedule(probe_config.interval, next->global.jitter);
        auto found = previous.find({target.name, probe_config.name});
        std::shared_ptr<LiveProbe> probe;
        SteadyTime due = schedule.First(now, options.random01());
        if (found != previous.end() && found->second->state.CanKeep(probe_config, policy)) {
          probe = std::move(found->second);
          previous.erase(found);
        } else {
          probe = std::make_shared<LiveProbe>(policy, schedule, next->global.duration_buckets);
          if (!first) due = now;  // a probe added by a reload starts at once
        }
        probe->state.Bind(next, target, probe_config, schedule, budget);
        probe->request = BuildProbeRequest(target, probe_config);
        probe->redactor = redactor;
        probe->index = next_probes.size();
        if (IsBilled(probe_config.type) && !next->pricing.count(probe_config.model)) {
          Log(LogLevel::kWarn, "runner", "no pricing for the probe's model; its cost counts as 0",
              {{"target", target.name}, {"probe", probe_config.name}, {"model", probe_config.model}});
        }
        due_queue.push({due, generation, probe});
        snapshots.push_back(probe->state.Snapshot());
        next_probes.push_back(std::move(probe));
      }
    }
    for (auto& [key, removed] : previous) removed->index = kRemoved;
    probes = std::move(next_probes);
    budgets = std::move(next_budgets);
    config = std::move(next);
    store.Reset(config, std::move(snapshots));
  }

  void StartDue(SteadyTime now) {
    bool started_any = false;
    while (!due_queue.empty() && due_queue.top().due <= now) {
      DueEntry entry = due_queue.top();
      due_queue.pop();
      if (entry.generation != generation) continue;
      LiveProbe& probe = *entry.probe;
      schedule_lag.Observe(std::chrono::duration<double>(now - entry.due).count());
      started_any = true;
      due_queue.push({probe.state.schedule().Next(entry.due, now, options.random01()), generation, entry.probe});
      if (probe.in_flight) continue;
      if (const auto skip = probe.state.SkipNow({options.now_unix(), now})) {
        probe.state.RecordSkip(*skip);
        Publish(probe);
      } else {
        Launch(entry.probe, nullptr);
      }
    }
    if (started_any) store.UpdateStatus([this](ExporterStatus& status) { status.schedule_lag = schedule_lag; });
  }

  void RunOnDemand(RunNowRequest& run, bool stopping) {
    for (auto& probe : probes) {
      const ProbeSnapshot& data = probe->state.data();
      if (!stopping && data.target->name == run.target && data.probe->name == run.probe) {
        if (auto refusal = probe->state.RefuseOnDemand({options.now_unix(), Clock::now()})) {
          OnDemandResult refused;
          refused.refusal = refusal;
          run.promise->set_value(std::move(refused));
          return;
        }
        Launch(probe, run.promise);
        return;
      }
    }
    run.promise->set_value(std::nullopt);
  }

  // One run's exchanges so far: one, or the pages of a paged model list.
  struct Run {
    std::shared_ptr<LiveProbe> probe;
    std::shared_ptr<std::promise<std::optional<OnDemandResult>>> promise;  // on-demand runs only
    std::shared_ptr<const Redactor> redactor;  // of the config the run started under
    SteadyTime started;
    std::vector<HttpExchange> exchanges;
    std::optional<HttpRequest> sent;  // an on-demand run's last request, for its debug output
  };

  void Launch(const std::shared_ptr<LiveProbe>& probe,
              std::shared_ptr<std::promise<std::optional<OnDemandResult>>> promise) {
    if (!promise) probe->in_flight = true;
    auto run = std::make_shared<Run>(Run{probe, std::move(promise), probe->redactor, Clock::now(), {}, {}});
    Send(run, probe->request);
  }

  void Send(const std::shared_ptr<Run>& run, const HttpRequest& built) {
    // A provider that signs or refreshes its request per run completes a copy for this run.
    const std::optional<HttpRequest> per_run =
        CompleteRequestForRun(*run->probe->state.data().target, built, options.now_unix());
    const HttpRequest& request = per_run ? *per_run : built;
    // Only an on-demand run keeps the request (debug output); a scheduled one copies it once.
    if (run->promise) run->sent = request;
    client.Start(request, [this, run](HttpExchange exchange) {
      run->exchanges.push_back(std::move(exchange));
      if (!SendNextPage(run)) Finish(*run);
    });
  }

  // A paged model list goes on with its next page while the probe's timeout has time left.
  bool SendNextPage(const std::shared_ptr<Run>& run) {
    const LiveProbe& probe = *run->probe;
    const ProbeSnapshot& data = probe.state.data();
    std::optional<HttpRequest> next =
        NextPageRequest(*data.target, *data.probe, probe.request, run->exchanges.back(), run->exchanges.size());
    if (!next) return false;
    // The whole walk stays within the timeout: a page started with no time left times out at
    // once and its TIMEOUT is the run's class.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(data.probe->timeout - (Clock::now() - run->started));
    next->timeout = std::max(left, std::chrono::milliseconds(1));
    Send(run, *next);
    return true;
  }

  void Finish(Run& run) {
    LiveProbe& probe = *run.probe;
    const double now_unix = options.now_unix();
    const ProbeSnapshot& data = probe.state.data();
    ProbeResult result = InterpretExchanges(*data.target, *data.probe, run.exchanges, now_unix, *run.redactor);
    if (!run.promise) probe.in_flight = false;
    Record(probe, result, {now_unix, Clock::now()});
    Publish(probe);
    if (run.promise) {
      run.promise->set_value(
          OnDemandResult{std::move(result), std::move(*run.sent), std::move(run.exchanges.back()), std::nullopt});
    }
  }

  void Record(LiveProbe& probe, const ProbeResult& result, const RecordTime& now) {
    const Transition transition = probe.state.Record(result, now);
    const ProbeSnapshot& data = probe.state.data();
    const LogFields fields = {{"target", data.target->name},
                              {"probe", data.probe->name},
                              {"status", std::string(ResultClassName(result.result_class))},
                              {"detail", result.detail}};
    if (transition == Transition::kBecameUnhealthy) {
      Log(LogLevel::kInfo, "health", "probe became unhealthy", fields);
    } else if (transition == Transition::kBecameHealthy) {
      Log(LogLevel::kInfo, "health", "probe became healthy", fields);
    } else if (LogEnabled(LogLevel::kDebug)) {
      Log(LogLevel::kDebug, "probe", "probe finished", fields);
    }
  }

  void Publish(const LiveProbe& probe) {
    if (probe.index == kRemoved) return;
    store.Publish(probe.index, probe.state.Snapshot());
  }
};

ProbeRunner::ProbeRunner(SnapshotStore& store, RunnerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

ProbeRunner::~ProbeRunner() { Stop(); }

std::future<void> ProbeRunner::Apply(std::shared_ptr<const Config> config) {
  std::promise<void> applied;
  std::future<void> future = applied.get_future();
  if (!impl_->thread.joinable()) {
    // The first config is applied here, before the loop thread exists (its start orders this
    // before everything the loop does), so every probe is in the store when Apply returns: a
    // scrape right after start shows all pre-created series instead of none (found by the
    // ASan run of ExporterTest.EveryStatusAndTotalSeriesExistsBeforeTheFirstResult).
    impl_->ApplyConfig(std::move(config));
    impl_->thread = std::thread([impl = impl_.get()] { impl->Loop(); });
    applied.set_value();
    return future;
  }
  {
    std::lock_guard lock(impl_->commands_mutex);
    impl_->pending_config = std::move(config);
    impl_->pending_applied.push_back(std::move(applied));
  }
  impl_->client.Wakeup();
  return future;
}

void ProbeRunner::Stop() {
  {
    std::lock_guard lock(impl_->commands_mutex);
    impl_->stop_requested = true;
  }
  impl_->client.Wakeup();
  if (impl_->thread.joinable()) impl_->thread.join();
  std::vector<RunNowRequest> runs;
  std::vector<std::promise<void>> applied;
  {
    std::lock_guard lock(impl_->commands_mutex);
    runs.swap(impl_->pending_runs);
    applied.swap(impl_->pending_applied);
  }
  for (auto& run : runs) run.promise->set_value(std::nullopt);
  for (auto& promise : applied) promise.set_value();
}

std::future<std::optional<OnDemandResult>> ProbeRunner::RunNow(const std::string& target,
                                                               const std::string& probe) {
  auto promise = std::make_shared<std::promise<std::optional<OnDemandResult>>>();
  auto future = promise->get_future();
  {
    std::lock_guard lock(impl_->commands_mutex);
    if (impl_->stop_requested || !impl_->thread.joinable()) {
      promise->set_value(std::nullopt);
      return future;
    }
    impl_->pending_runs.push_back({target, probe, std::move(promise)});
  }
  impl_->client.Wakeup();
  return future;
}

}  // namespace llm_probe
