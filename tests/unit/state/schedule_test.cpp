#include "llm_probe/schedule.h"

#include <gtest/gtest.h>

namespace llm_probe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime kStart = SteadyTime() + std::chrono::hours(1);

TEST(ProbeScheduleTest, FirstRunIsSpreadOverTheFirstInterval) {
  const ProbeSchedule schedule(seconds(30), 0.1);
  EXPECT_EQ(schedule.First(kStart, 0.0), kStart);
  EXPECT_EQ(schedule.First(kStart, 0.5), kStart + seconds(15));
  EXPECT_LT(schedule.First(kStart, 0.999), kStart + seconds(30));
}

TEST(ProbeScheduleTest, NextRunAddsIntervalAndUpToJitterToTheDueTime) {
  const ProbeSchedule schedule(seconds(10), 0.2);
  EXPECT_EQ(schedule.Next(kStart, kStart + milliseconds(5), 0.0), kStart + seconds(10));
  EXPECT_EQ(schedule.Next(kStart, kStart + milliseconds(5), 1.0), kStart + seconds(12));
  EXPECT_EQ(schedule.Next(kStart, kStart, 0.5), kStart + seconds(11));
}

TEST(ProbeScheduleTest, ARunningLateScheduleDoesNotDrift) {
  const ProbeSchedule schedule(seconds(10), 0.0);
  // Started 3 s late: the next run keeps the original cadence.
  EXPECT_EQ(schedule.Next(kStart, kStart + seconds(3), 0.0), kStart + seconds(10));
}

TEST(ProbeScheduleTest, AScheduleFarBehindRestartsFromNowInsteadOfBursting) {
  const ProbeSchedule schedule(seconds(10), 0.0);
  const SteadyTime now = kStart + seconds(45);
  EXPECT_EQ(schedule.Next(kStart, now, 0.0), now + seconds(10));
}

TEST(ProbeScheduleTest, BackOffHoldsUntilRetryAfterAndIsCapped) {
  ProbeSchedule schedule(seconds(10), 0.0);
  EXPECT_FALSE(schedule.BackingOff(kStart));
  schedule.BackOff(kStart, 30);
  EXPECT_TRUE(schedule.BackingOff(kStart + seconds(29)));
  EXPECT_FALSE(schedule.BackingOff(kStart + seconds(30)));
  schedule.BackOff(kStart, 86400);
  EXPECT_TRUE(schedule.BackingOff(kStart + ProbeSchedule::kMaxBackoff - seconds(1)));
  EXPECT_FALSE(schedule.BackingOff(kStart + ProbeSchedule::kMaxBackoff));
}

TEST(DailyBudgetTest, UnlimitedBudgetIsNeverExhausted) {
  DailyBudget budget(std::nullopt);
  budget.Spend(1e9, 1000);
  EXPECT_FALSE(budget.Exhausted(1000));
}

TEST(DailyBudgetTest, ExhaustedOnceTheDaysSpendReachesTheLimit) {
  DailyBudget budget(0.01);
  const double noon = 20000 * 86400.0 + 43200;
  budget.Spend(0.004, noon);
  budget.Spend(0.004, noon + 1);
  EXPECT_FALSE(budget.Exhausted(noon + 2));
  budget.Spend(0.004, noon + 3);
  EXPECT_TRUE(budget.Exhausted(noon + 4));
  EXPECT_NEAR(budget.spent_today(noon + 4), 0.012, 1e-12);
}

TEST(DailyBudgetTest, ThePauseEndsAtTheNextUtcDay) {
  DailyBudget budget(0.01);
  const double last_second = 20001 * 86400.0 - 1;
  budget.Spend(0.02, last_second);
  EXPECT_TRUE(budget.Exhausted(last_second));
  EXPECT_FALSE(budget.Exhausted(last_second + 1));
  EXPECT_EQ(budget.spent_today(last_second + 1), 0);
  budget.Spend(0.005, last_second + 2);
  EXPECT_NEAR(budget.spent_today(last_second + 2), 0.005, 1e-12);
}

TEST(DailyBudgetTest, UtcDayBoundaries) {
  EXPECT_EQ(DailyBudget::UtcDay(0), 0);
  EXPECT_EQ(DailyBudget::UtcDay(86399.9), 0);
  EXPECT_EQ(DailyBudget::UtcDay(86400), 1);
}

}  // namespace
}  // namespace llm_probe
