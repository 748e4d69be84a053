#include "llm_probe/probe_state.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace llm_probe {
namespace {

using std::chrono::seconds;

const SteadyTime kStart = SteadyTime() + std::chrono::hours(1);
// 2026-03-01T23:59:00Z: a minute before a UTC day ends.
constexpr double kLateInTheDay = 1772409540;

// A config with one target of a chat and a models probe, priced and budgeted; the clock is the
// RecordTime each test passes.
struct Fixture {
  std::shared_ptr<Config> config = std::make_shared<Config>();
  std::shared_ptr<DailyBudget> budget;

  Fixture() {
    config->global.duration_buckets = {0.1, 0.5, 1};
    config->pricing["gpt-4o"] = {2.0, 8.0};
    TargetConfig target;
    target.name = "relay";
    target.max_usd_per_day = 0.01;
    ProbeConfig chat;
    chat.name = "chat";
    chat.type = ProbeType::kChat;
    chat.model = "gpt-4o";
    ProbeConfig models;
    models.name = "models";
    models.type = ProbeType::kModels;
    target.probes = {chat, models};
    config->targets.push_back(target);
    budget = std::make_shared<DailyBudget>(target.max_usd_per_day);
  }

  ProbeState Make(std::size_t probe_index) const {
    const ProbeSchedule schedule(seconds(30), 0.1);
    ProbeState state(PolicyOf(*config), schedule, config->global.duration_buckets);
    const TargetConfig& target = config->targets[0];
    state.Bind(config, target, target.probes[probe_index], schedule, budget);
    return state;
  }
};

ProbeResult Up(double duration = 0.2) {
  ProbeResult result;
  result.duration_seconds = duration;
  return result;
}

ProbeResult WithUsage(double prompt, double completion) {
  ProbeResult result = Up();
  result.usage = TokenUsage{prompt, completion, 0};
  return result;
}

RecordTime At(double unix_seconds, SteadyTime steady = kStart) { return {unix_seconds, steady}; }

TEST(ProbeStateTest, DurationsAndTimeToFirstTokenFillTheirBuckets) {
  const Fixture fixture;
  ProbeState state = fixture.Make(0);
  state.Record(Up(0.05), At(kLateInTheDay));
  state.Record(Up(0.7), At(kLateInTheDay));
  ProbeResult stream = Up(2.5);
  stream.time_to_first_token_seconds = 0.3;
  state.Record(stream, At(kLateInTheDay));

  const HistogramData& duration = state.data().duration;
  EXPECT_EQ(duration.bounds, (std::vector<double>{0.1, 0.5, 1}));
  EXPECT_EQ(duration.counts, (std::vector<std::uint64_t>{1, 0, 1, 1}));  // last slot: +Inf
  EXPECT_EQ(duration.count, 3u);
  EXPECT_DOUBLE_EQ(duration.sum, 3.25);
  const HistogramData& ttft = state.data().time_to_first_token;
  EXPECT_EQ(ttft.bounds, TimeToFirstTokenBuckets());
  EXPECT_EQ(ttft.count, 1u) << "only results with a first token count";
  EXPECT_DOUBLE_EQ(ttft.sum, 0.3);
}

TEST(ProbeStateTest, TokensAndCostAddUpAtTheModelsPrice) {
  const Fixture fixture;
  ProbeState state = fixture.Make(0);
  state.Record(WithUsage(1000, 500), At(kLateInTheDay));
  state.Record(Up(), At(kLateInTheDay));  // no usage object: nothing added
  EXPECT_DOUBLE_EQ(state.data().tokens.prompt, 1000);
  EXPECT_DOUBLE_EQ(state.data().tokens.completion, 500);
  EXPECT_DOUBLE_EQ(state.data().cost_usd, (1000 * 2.0 + 500 * 8.0) / 1e6);
  EXPECT_DOUBLE_EQ(CostOf(*fixture.config, "unpriced-model", TokenUsage{1000, 500, 0}), 0);
}

TEST(ProbeStateTest, ASpentBudgetPausesBilledProbesUntilTheUtcDayChanges) {
  const Fixture fixture;
  ProbeState chat = fixture.Make(0);
  const ProbeState models = fixture.Make(1);
  EXPECT_EQ(chat.SkipNow(At(kLateInTheDay)), std::nullopt);
  chat.Record(WithUsage(1000, 2000), At(kLateInTheDay));  // 0.018 USD: over the 0.01 budget
  EXPECT_EQ(chat.SkipNow(At(kLateInTheDay + 30)), SkipReason::kBudget);
  EXPECT_EQ(models.SkipNow(At(kLateInTheDay + 30)), std::nullopt) << "the models probe is free";
  EXPECT_EQ(chat.SkipNow(At(kLateInTheDay + 61)), std::nullopt) << "a new UTC day, a new budget";

  chat.RecordSkip(SkipReason::kBudget);
  EXPECT_EQ(chat.data().skipped_budget, 1u);
  EXPECT_EQ(chat.data().health.total(), 1u) << "a skip is not a result";
}

TEST(ProbeStateTest, ServedModelIsCutOnACharacterBoundary) {
  const Fixture fixture;
  ProbeState state = fixture.Make(0);
  ProbeResult result = Up();
  // 127 ASCII bytes and a 3-byte euro sign: a cut at 128 bytes would split the sign, and
  // Prometheus rejects a scrape with invalid UTF-8 in a label value.
  result.served_model = std::string(127, 'm') + "\xe2\x82\xac";
  state.Record(result, At(kLateInTheDay));
  EXPECT_EQ(state.data().served_model, std::string(127, 'm'));

  result.served_model = std::string(300, 'x');
  state.Record(result, At(kLateInTheDay));
  EXPECT_EQ(state.data().served_model, std::string(kServedModelMaxBytes, 'x'));

  result.served_model.reset();
  state.Record(result, At(kLateInTheDay));
  EXPECT_EQ(state.data().served_model, std::string(kServedModelMaxBytes, 'x')) << "the latest seen stays";
}

TEST(ProbeStateTest, RateLimitsStayUntilAReplyBringsNewOnes) {
  const Fixture fixture;
  ProbeState state = fixture.Make(0);
  ProbeResult limited = Up();
  limited.rate_limits = {{"requests", 99, 100, 1}};
  state.Record(limited, At(kLateInTheDay));
  state.Record(Up(), At(kLateInTheDay + 10));  // an error page without rate-limit headers
  ASSERT_EQ(state.data().rate_limits.size(), 1u);
  EXPECT_EQ(state.data().rate_limits[0].remaining, 99);

  limited.rate_limits = {{"tokens", 5, 10, 2}};
  state.Record(limited, At(kLateInTheDay + 20));
  ASSERT_EQ(state.data().rate_limits.size(), 1u);
  EXPECT_EQ(state.data().rate_limits[0].resource, "tokens");
}

TEST(ProbeStateTest, RetryAfterBacksOffThenRunsAgain) {
  const Fixture fixture;
  ProbeState state = fixture.Make(1);
  ProbeResult limited = Up();
  limited.result_class = ResultClass::kRateLimited;
  limited.retry_after_seconds = 30;
  state.Record(limited, At(kLateInTheDay, kStart));
  EXPECT_EQ(state.SkipNow(At(kLateInTheDay, kStart + seconds(29))), SkipReason::kBackoff);
  EXPECT_EQ(state.SkipNow(At(kLateInTheDay, kStart + seconds(30))), std::nullopt);

  limited.retry_after_seconds = 86400;  // a day: cut to the longest back-off
  state.Record(limited, At(kLateInTheDay, kStart));
  EXPECT_EQ(state.SkipNow(At(kLateInTheDay, kStart + ProbeSchedule::kMaxBackoff - seconds(1))),
            SkipReason::kBackoff);
  EXPECT_EQ(state.SkipNow(At(kLateInTheDay, kStart + ProbeSchedule::kMaxBackoff)), std::nullopt);
  state.RecordSkip(SkipReason::kBackoff);
  EXPECT_EQ(state.data().skipped_backoff, 1u);
}

// /probe (issue 17, item 11): refused while a scheduled run would be skipped, with the reason and
// the seconds until it may be asked again.
TEST(ProbeStateTest, OnDemandRunsAreRefusedForBackoffAndBudgetWithTheWaitLeft) {
  const Fixture fixture;
  ProbeState chat = fixture.Make(0);
  EXPECT_FALSE(chat.RefuseOnDemand(At(kLateInTheDay, kStart)).has_value());

  ProbeResult limited = Up();
  limited.result_class = ResultClass::kRateLimited;
  limited.retry_after_seconds = 120;
  chat.Record(limited, At(kLateInTheDay - 3600, kStart));
  const auto backoff = chat.RefuseOnDemand(At(kLateInTheDay - 3600, kStart + seconds(20)));
  ASSERT_TRUE(backoff.has_value());
  EXPECT_EQ(backoff->reason, SkipReason::kBackoff);
  EXPECT_DOUBLE_EQ(backoff->retry_after_seconds, 100);
  EXPECT_FALSE(chat.RefuseOnDemand(At(kLateInTheDay - 3600, kStart + seconds(120))).has_value());

  chat.Record(WithUsage(1000, 2000), At(kLateInTheDay, kStart + seconds(200)));  // over the budget
  const auto budget = chat.RefuseOnDemand(At(kLateInTheDay + 30, kStart + seconds(230)));
  ASSERT_TRUE(budget.has_value());
  EXPECT_EQ(budget->reason, SkipReason::kBudget);
  EXPECT_DOUBLE_EQ(budget->retry_after_seconds, 30) << "until the UTC day changes";
  EXPECT_FALSE(fixture.Make(1).RefuseOnDemand(At(kLateInTheDay + 30, kStart)).has_value()) << "models is free";
}

TEST(ProbeStateTest, HealthTimestampsAndCertificateExpiryFollowTheResults) {
  const Fixture fixture;
  ProbeState state = fixture.Make(0);
  ProbeResult down = Up();
  down.result_class = ResultClass::kTimeout;
  down.tls_cert_expiry_unix = 1800000000;
  EXPECT_EQ(state.Record(down, At(kLateInTheDay)), Transition::kNone);
  EXPECT_EQ(state.Record(down, At(kLateInTheDay + 1)), Transition::kNone);
  EXPECT_EQ(state.Record(down, At(kLateInTheDay + 2)), Transition::kBecameUnhealthy);
  EXPECT_EQ(state.data().last_run_unix, kLateInTheDay + 2);
  EXPECT_EQ(state.data().last_result->result_class, ResultClass::kTimeout);
  EXPECT_EQ(state.data().tls_cert_expiry_unix, 1800000000);
  EXPECT_EQ(state.Record(Up(), At(kLateInTheDay + 3)), Transition::kBecameHealthy);
  EXPECT_EQ(state.data().health.last_success_unix(), kLateInTheDay + 3);
}

TEST(ProbeStateTest, AReloadKeepsStateOnlyForTheSameProbeAndPolicy) {
  const Fixture fixture;
  ProbeState state = fixture.Make(0);
  state.Record(Up(), At(kLateInTheDay));
  const HealthPolicy policy = PolicyOf(*fixture.config);
  ProbeConfig same = fixture.config->targets[0].probes[0];
  EXPECT_TRUE(state.CanKeep(same, policy));
  ProbeConfig other_model = same;
  other_model.model = "gpt-4o-mini";
  EXPECT_FALSE(state.CanKeep(other_model, policy));
  HealthPolicy stricter = policy;
  stricter.failure_threshold = 5;
  EXPECT_FALSE(state.CanKeep(same, stricter));

  const std::shared_ptr<const ProbeSnapshot> published = state.Snapshot();
  state.Record(Up(), At(kLateInTheDay + 1));
  EXPECT_EQ(published->health.total(), 1u) << "a published snapshot does not change";
  EXPECT_EQ(state.data().health.total(), 2u);
}

}  // namespace
}  // namespace llm_probe
