#include "llm_probe/health.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llm_probe {
namespace {

constexpr ResultClass U = ResultClass::kUp;
constexpr ResultClass T = ResultClass::kTimeout;
constexpr ResultClass A = ResultClass::kAuthError;

// Feeds a scripted sequence, one result per second, and returns the transitions it caused.
std::vector<Transition> Feed(HealthTracker& tracker, const std::vector<ResultClass>& results) {
  std::vector<Transition> transitions;
  double now = 1000;
  for (ResultClass result : results) transitions.push_back(tracker.Record(result, now++));
  return transitions;
}

TEST(HealthTrackerTest, StartsHealthyWithNoHistory) {
  HealthTracker tracker({3, 1, 10});
  EXPECT_TRUE(tracker.healthy());
  EXPECT_FALSE(tracker.availability().has_value());
  EXPECT_FALSE(tracker.last().has_value());
  EXPECT_EQ(tracker.total(), 0u);
}

TEST(HealthTrackerTest, BecomesUnhealthyOnlyAtFailureThreshold) {
  HealthTracker tracker({3, 1, 10});
  auto transitions = Feed(tracker, {T, T});
  EXPECT_TRUE(tracker.healthy());
  EXPECT_EQ(tracker.consecutive_failures(), 2);
  EXPECT_EQ(tracker.Record(A, 2000), Transition::kBecameUnhealthy);
  EXPECT_FALSE(tracker.healthy());
  EXPECT_EQ(tracker.consecutive_failures(), 3);
  EXPECT_EQ(tracker.Record(T, 2001), Transition::kNone);
  EXPECT_EQ(tracker.consecutive_failures(), 4);
}

TEST(HealthTrackerTest, SuccessResetsTheFailureRunBeforeTheThreshold) {
  HealthTracker tracker({3, 1, 10});
  Feed(tracker, {T, T, U, T, T});
  EXPECT_TRUE(tracker.healthy());
  EXPECT_EQ(tracker.consecutive_failures(), 2);
  EXPECT_EQ(tracker.consecutive_successes(), 0);
}

TEST(HealthTrackerTest, RecoveryNeedsRecoveryThresholdSuccesses) {
  HealthTracker tracker({2, 3, 10});
  Feed(tracker, {T, T});
  ASSERT_FALSE(tracker.healthy());
  auto transitions = Feed(tracker, {U, U, T, U, U});
  EXPECT_FALSE(tracker.healthy()) << "a failure in between restarts the recovery count";
  EXPECT_EQ(tracker.consecutive_successes(), 2);
  EXPECT_EQ(tracker.Record(U, 3000), Transition::kBecameHealthy);
  EXPECT_TRUE(tracker.healthy());
  for (Transition transition : transitions) EXPECT_EQ(transition, Transition::kNone);
}

TEST(HealthTrackerTest, AvailabilityCoversOnlyTheWindow) {
  HealthTracker tracker({3, 1, 4});
  Feed(tracker, {T, T, T, T});
  EXPECT_DOUBLE_EQ(*tracker.availability(), 0.0);
  Feed(tracker, {U, U, U});
  EXPECT_DOUBLE_EQ(*tracker.availability(), 0.75);
  Feed(tracker, {U});
  EXPECT_DOUBLE_EQ(*tracker.availability(), 1.0);
  Feed(tracker, {A});
  EXPECT_DOUBLE_EQ(*tracker.availability(), 0.75);
  EXPECT_EQ(tracker.history().size(), 4u);
}

TEST(HealthTrackerTest, HistoryIsOldestFirstAndLastIsTheNewest) {
  HealthTracker tracker({3, 1, 3});
  Feed(tracker, {T, U, A, U, T});
  auto history = tracker.history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].result_class, A);
  EXPECT_EQ(history[1].result_class, U);
  EXPECT_EQ(history[2].result_class, T);
  EXPECT_LT(history[0].unix_time, history[2].unix_time);
  EXPECT_EQ(tracker.last()->result_class, T);
  EXPECT_DOUBLE_EQ(tracker.last()->unix_time, 1004);
}

TEST(HealthTrackerTest, FailuresOutliveALongHealthyRun) {
  HealthTracker tracker({3, 1, 5});
  Feed(tracker, {A, T});
  Feed(tracker, std::vector<ResultClass>(50, U));
  auto failures = tracker.recent_failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].result_class, A);
  EXPECT_EQ(failures[1].result_class, T);
  for (const auto& entry : tracker.history()) EXPECT_EQ(entry.result_class, U);
}

TEST(HealthTrackerTest, CountsEveryClassAndRemembersLastSuccess) {
  HealthTracker tracker({3, 1, 10});
  Feed(tracker, {U, T, T, A, U, T});
  EXPECT_EQ(tracker.count(U), 2u);
  EXPECT_EQ(tracker.count(T), 3u);
  EXPECT_EQ(tracker.count(A), 1u);
  EXPECT_EQ(tracker.count(ResultClass::kOverloaded), 0u);
  EXPECT_EQ(tracker.total(), 6u);
  EXPECT_DOUBLE_EQ(*tracker.last_success_unix(), 1004);
}

TEST(HealthTrackerTest, ScriptedOutageAndRecoveryProducesExactlyTwoTransitions) {
  HealthTracker tracker({3, 2, 100});
  auto transitions = Feed(tracker, {U, U, T, T, T, T, T, U, T, U, U, U});
  std::vector<Transition> expected(transitions.size(), Transition::kNone);
  expected[4] = Transition::kBecameUnhealthy;
  expected[10] = Transition::kBecameHealthy;
  EXPECT_EQ(transitions, expected);
  EXPECT_NEAR(*tracker.availability(), 6.0 / 12.0, 1e-12);
}

}  // namespace
}  // namespace llm_probe
