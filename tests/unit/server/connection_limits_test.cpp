// The server's share of the fd limit (issue 17, item 3): whatever the limit, the descriptors the
// HTTP server can hold stay at a quarter of it, and the rest is left to the probes.
#include "connection_limits.h"

#include <gtest/gtest.h>

namespace llm_probe::internal {
namespace {

long MostFdsHeld(const ConnectionLimits& limits) { return kFdsPerWorker * limits.workers + limits.queued + 1; }

TEST(ConnectionLimitsTest, TheServerHoldsAtMostAQuarterOfTheFdLimit) {
  for (long limit : {256L, 512L, 1024L, 4096L, 65536L, 1048576L}) {
    const ConnectionLimits limits = LimitsForFdLimit(limit);
    EXPECT_LE(MostFdsHeld(limits), limit / 4 + 1) << limit;
    EXPECT_GE(limits.workers, 4) << limit;
  }
  EXPECT_EQ(LimitsForFdLimit(1024).workers, 32);
  EXPECT_EQ(LimitsForFdLimit(1024).queued, 64);
  EXPECT_EQ(LimitsForFdLimit(1048576).workers, 64);
  EXPECT_EQ(MostFdsHeld(LimitsForFdLimit(1048576)), 321);
}

TEST(ConnectionLimitsTest, RaisingTheLimitNeverLowersIt) {
  const long raised = RaiseFdLimit();
  EXPECT_GE(raised, 64);
  EXPECT_EQ(RaiseFdLimit(), raised);
}

}  // namespace
}  // namespace llm_probe::internal
