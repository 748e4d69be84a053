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
#include "llm_probe/probe.h"
#include "llm_probe/schedule.h"
#include "llm_probe/text.h"

namespace llm_probe {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kServedModelMaxLength = 128;
constexpr std::size_t kRemoved = static_cast<std::size_t>(-1);
// The loop wakes at least this often even with nothing due, to notice commands promptly.
constexpr std::chrono::milliseconds kMaxPollWait{1000};
const std::vector<double> kTimeToFirstTokenBuckets = {0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30};

HealthPolicy PolicyOf(const Config& config) {
  return {config.global.failure_threshold, config.global.recovery_threshold,
          static_cast<std::size_t>(config.global.history_size)};
}

bool SamePolicy(const HealthPolicy& a, const HealthPolicy& b) {
  return a.failure_threshold == b.failure_threshold && a.recovery_threshold == b.recovery_threshold &&
         a.history_size == b.history_size;
}

double CostOf(const Config& config, const std::string& model, const TokenUsage& usage) {
  const auto price = config.pricing.find(model);
  if (price == config.pricing.end()) return 0;
  return (usage.prompt * price->second.input + usage.completion * price->second.output) / 1e6;
}

struct LiveProbe {
  std::size_t index = kRemoved;
  ProbeSnapshot data;
  ProbeSchedule schedule;
  std::shared_ptr<DailyBudget> budget;
  HttpRequest request;  // built once per config: the same every run
  bool in_flight = false;

  LiveProbe(HealthPolicy policy, ProbeSchedule probe_schedule)
      : data(policy), schedule(probe_schedule) {}
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

  std::mutex commands_mutex;  // guards the three fields below
  std::shared_ptr<const Config> pending_config;
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
    if (!options.now_unix) {
      options.now_unix = [] {
        return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      };
    }
  }

  void Loop() {
    bool stopping = false;
    while (!stopping || client.InFlight() > 0) {
      std::shared_ptr<const Config> next_config;
      std::vector<RunNowRequest> runs;
      {
        std::lock_guard lock(commands_mutex);
        next_config = std::move(pending_config);
        pending_config.reset();
        runs.swap(pending_runs);
        stopping = stop_requested;
      }
      if (next_config && !stopping) ApplyConfig(std::move(next_config));
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
      previous[{probe->data.target->name, probe->data.probe->name}] = std::move(probe);
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
      for (const auto& probe_config : target.probes) {
        const ProbeSchedule schedule(probe_config.interval, next->global.jitter);
        auto found = previous.find({target.name, probe_config.name});
        std::shared_ptr<LiveProbe> probe;
        SteadyTime due = schedule.First(now, options.random01());
        if (found != previous.end() && found->second->data.probe->type == probe_config.type &&
            found->second->data.probe->model == probe_config.model &&
            SamePolicy(found->second->data.health.policy(), policy)) {
          probe = std::move(found->second);
          previous.erase(found);
          probe->schedule = schedule;
        } else {
          probe = std::make_shared<LiveProbe>(policy, schedule);
          probe->data.duration = HistogramData(next->global.duration_buckets);
          probe->data.time_to_first_token = HistogramData(kTimeToFirstTokenBuckets);
          if (!first) due = now;  // a probe added by a reload starts at once
        }
        probe->data.config = next;
        probe->data.target = &target;
        probe->data.probe = &probe_config;
        probe->request = BuildProbeRequest(target, probe_config);
        probe->budget = budget;
        probe->index = next_probes.size();
        if (IsBilled(probe_config.type) && !next->pricing.count(probe_config.model)) {
          Log(LogLevel::kWarn, "runner", "no pricing for the probe's model; its cost counts as 0",
              {{"target", target.name}, {"probe", probe_config.name}, {"model", probe_config.model}});
        }
        due_queue.push({due, generation, probe});
        snapshots.push_back(std::make_shared<const ProbeSnapshot>(probe->data));
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
      due_queue.push({probe.schedule.Next(entry.due, now, options.random01()), generation, entry.probe});
      if (probe.in_flight) continue;
      const double now_unix = options.now_unix();
      if (probe.schedule.BackingOff(now)) {
        ++probe.data.skipped_backoff;
        Publish(probe);
      } else if (IsBilled(probe.data.probe->type) && probe.budget->Exhausted(now_unix)) {
        ++probe.data.skipped_budget;
        Publish(probe);
      } else {
        Launch(entry.probe, nullptr);
      }
    }
    if (started_any) store.UpdateStatus([this](ExporterStatus& status) { status.schedule_lag = schedule_lag; });
  }

  void RunOnDemand(RunNowRequest& run, bool stopping) {
    for (auto& probe : probes) {
      if (!stopping && probe->data.target->name == run.target && probe->data.probe->name == run.probe) {
        Launch(probe, run.promise);
        return;
      }
    }
    run.promise->set_value(std::nullopt);
  }

  void Launch(const std::shared_ptr<LiveProbe>& probe,
              std::shared_ptr<std::promise<std::optional<OnDemandResult>>> promise) {
    if (!promise) probe->in_flight = true;
    // Only an on-demand run hands the request back (debug output); a scheduled one copies it once.
    std::optional<HttpRequest> sent;
    if (promise) sent = probe->request;
    auto on_done = [this, probe, promise, sent = std::move(sent)](HttpExchange exchange) mutable {
      const double now_unix = options.now_unix();
      ProbeResult result = InterpretExchange(*probe->data.target, *probe->data.probe, exchange, now_unix);
      if (!promise) probe->in_flight = false;
      Record(*probe, result, now_unix);
      Publish(*probe);
      if (promise) promise->set_value(OnDemandResult{std::move(result), std::move(*sent), std::move(exchange)});
    };
    client.Start(probe->request, std::move(on_done));
  }

  void Record(LiveProbe& probe, const ProbeResult& result, double now_unix) {
    ProbeSnapshot& data = probe.data;
    const Transition transition = data.health.Record(result.result_class, now_unix, result.duration_seconds);
    data.last_result = result;
    data.last_run_unix = now_unix;
    // Latency histograms hold UP exchanges only: a timeout is a TIMEOUT result, not a 10 s latency.
    if (result.result_class == ResultClass::kUp) {
      data.duration.Observe(result.duration_seconds);
      if (result.time_to_first_token_seconds) data.time_to_first_token.Observe(*result.time_to_first_token_seconds);
    }
    if (result.usage) {
      data.tokens.prompt += result.usage->prompt;
      data.tokens.completion += result.usage->completion;
      data.tokens.reasoning += result.usage->reasoning;
      const double cost = CostOf(*data.config, data.probe->model, *result.usage);
      data.cost_usd += cost;
      probe.budget->Spend(cost, now_unix);
    }
    if (result.served_model) data.served_model = Utf8LabelValue(*result.served_model, kServedModelMaxLength);
    if (!result.rate_limits.empty()) data.rate_limits = result.rate_limits;
    if (result.tls_cert_expiry_unix) data.tls_cert_expiry_unix = result.tls_cert_expiry_unix;
    if (result.retry_after_seconds) probe.schedule.BackOff(Clock::now(), *result.retry_after_seconds);

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
    store.Publish(probe.index, std::make_shared<const ProbeSnapshot>(probe.data));
  }
};

ProbeRunner::ProbeRunner(SnapshotStore& store, RunnerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

ProbeRunner::~ProbeRunner() { Stop(); }

void ProbeRunner::Apply(std::shared_ptr<const Config> config) {
  if (!impl_->thread.joinable()) {
    // The first config is applied here, before the loop thread exists (its start orders this
    // before everything the loop does), so every probe is in the store when Apply returns: a
    // scrape right after start shows all pre-created series instead of none (found by the
    // ASan run of ExporterTest.EveryStatusAndTotalSeriesExistsBeforeTheFirstResult).
    impl_->ApplyConfig(std::move(config));
    impl_->thread = std::thread([impl = impl_.get()] { impl->Loop(); });
    return;
  }
  {
    std::lock_guard lock(impl_->commands_mutex);
    impl_->pending_config = std::move(config);
  }
  impl_->client.Wakeup();
}

void ProbeRunner::Stop() {
  {
    std::lock_guard lock(impl_->commands_mutex);
    impl_->stop_requested = true;
  }
  impl_->client.Wakeup();
  if (impl_->thread.joinable()) impl_->thread.join();
  std::vector<RunNowRequest> runs;
  {
    std::lock_guard lock(impl_->commands_mutex);
    runs.swap(impl_->pending_runs);
  }
  for (auto& run : runs) run.promise->set_value(std::nullopt);
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
