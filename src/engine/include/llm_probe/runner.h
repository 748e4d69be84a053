// The probe loop: one thread drives every probe's schedule and all HTTP exchanges through one
// curl multi handle, records each result in the probe's health state, and publishes snapshots.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "llm_probe/config.h"
#include "llm_probe/exchange.h"
#include "llm_probe/result.h"
#include "llm_probe/snapshot.h"

namespace llm_probe {

struct RunnerOptions {
  std::function<double()> random01;  // [0, 1); default: a seeded Mersenne twister
  std::function<double()> now_unix;  // default: the system clock
};

struct OnDemandResult {
  ProbeResult result;
  // The run's last request and exchange: the only one, or the last page of a paged model list.
  HttpRequest request;
  HttpExchange exchange;
  std::optional<OnDemandRefusal> refusal;  // set when the run was refused: nothing was sent
};

class ProbeRunner {
 public:
  explicit ProbeRunner(SnapshotStore& store, RunnerOptions options = {});
  ~ProbeRunner();
  ProbeRunner(const ProbeRunner&) = delete;
  ProbeRunner& operator=(const ProbeRunner&) = delete;

  // Starts the loop on the first call; later calls swap the probe set in. Probes that stay
  // (same target and probe name) keep their history and counters; new ones start at once.
  // The future is ready once the store serves the new probe set (at once for the first call),
  // or once the runner has stopped without applying it.
  std::future<void> Apply(std::shared_ptr<const Config> config);
  // Stops scheduling, lets in-flight probes finish (each within its timeout), joins the loop.
  void Stop();
  // Runs one configured probe now, outside its schedule; its result counts like any other.
  // The future holds nullopt when there is no such probe or the runner is stopping, and a
  // refusal when a Retry-After back-off or the spent daily budget holds the probe back.
  std::future<std::optional<OnDemandResult>> RunNow(const std::string& target,
                                                    const std::string& probe);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llm_probe
