#include "llm_probe/probe_state.h"

#include <cmath>
#include <utility>

#include "llm_probe/text.h"

namespace llm_probe {

const std::vector<double>& TimeToFirstTokenBuckets() {
  static const std::vector<double> buckets = {0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30};
  return buckets;
}

HealthPolicy PolicyOf(const Config& config) {
  return {config.global.failure_threshold, config.global.recovery_threshold,
          static_cast<std::size_t>(config.global.history_size)};
}

double CostOf(const Config& config, const std::string& model, const TokenUsage& usage) {
  const auto price = config.pricing.find(model);
  if (price == config.pricing.end()) return 0;
  return (usage.prompt * price->second.input + usage.completion * price->second.output) / 1e6;
}

ProbeState::ProbeState(HealthPolicy policy, ProbeSchedule schedule, std::vector<double> duration_buckets)
    : data_(policy), schedule_(schedule) {
  data_.duration = HistogramData(std::move(duration_buckets));
  data_.time_to_first_token = HistogramData(TimeToFirstTokenBuckets());
}

void ProbeState::Bind(std::shared_ptr<const Config> config, const TargetConfig& target,
                      const ProbeConfig& probe, ProbeSchedule schedule,
                      std::shared_ptr<DailyBudget> budget) {
  data_.config = std::move(config);
  data_.target = &target;
  data_.probe = &probe;
  schedule_ = schedule;
  budget_ = std::move(budget);
}

bool ProbeState::CanKeep(const ProbeConfig& probe, const HealthPolicy& policy) const {
  const HealthPolicy& current = data_.health.policy();
  return data_.probe->type == probe.type && data_.probe->api == probe.api && data_.probe->model == probe.model &&
         current.failure_threshold == policy.failure_threshold &&
         current.recovery_threshold == policy.recovery_threshold &&
         current.history_size == policy.history_size;
}

Transition ProbeState::Record(const ProbeResult& result, const RecordTime& now) {
  const Transition transition =
      data_.health.Record(result.result_class, now.unix_seconds, result.duration_seconds);
  data_.last_result = result;
  data_.last_run_unix = now.unix_seconds;
  // Latency histograms hold UP exchanges only: a timeout is a TIMEOUT result, not a 10 s latency.
  if (result.result_class == ResultClass::kUp) {
    data_.duration.Observe(result.duration_seconds);
    if (result.time_to_first_token_seconds) data_.time_to_first_token.Observe(*result.time_to_first_token_seconds);
  }
  if (result.usage) {
    data_.tokens.prompt += result.usage->prompt;
    data_.tokens.completion += result.usage->completion;
    data_.tokens.reasoning += result.usage->reasoning;
    const double cost = CostOf(*data_.config, data_.probe->model, *result.usage);
    data_.cost_usd += cost;
    budget_->Spend(cost, now.unix_seconds);
  }
  if (result.served_model) data_.served_model = Utf8LabelValue(*result.served_model, kServedModelMaxBytes);
  if (!result.rate_limits.empty()) data_.rate_limits = result.rate_limits;
  if (result.tls_cert_expiry_unix) data_.tls_cert_expiry_unix = result.tls_cert_expiry_unix;
  if (result.retry_after_seconds) schedule_.BackOff(now.steady, *result.retry_after_seconds);
  return transition;
}

std::optional<SkipReason> ProbeState::SkipNow(const RecordTime& now) const {
  if (schedule_.BackingOff(now.steady)) return SkipReason::kBackoff;
  if (IsBilled(data_.probe->type) && budget_->Exhausted(now.unix_seconds)) return SkipReason::kBudget;
  return std::nullopt;
}

std::optional<OnDemandRefusal> ProbeState::RefuseOnDemand(const RecordTime& now) const {
  const std::optional<SkipReason> reason = SkipNow(now);
  if (!reason) return std::nullopt;
  if (*reason == SkipReason::kBackoff) return OnDemandRefusal{*reason, schedule_.BackoffSecondsLeft(now.steady)};
  constexpr double kDay = 86400;  // the budget is spent until the UTC day changes
  return OnDemandRefusal{*reason, kDay - std::fmod(now.unix_seconds, kDay)};
}

void ProbeState::RecordSkip(SkipReason reason) {
  if (reason == SkipReason::kBackoff) {
    ++data_.skipped_backoff;
  } else {
    ++data_.skipped_budget;
  }
}

}  // namespace llm_probe
