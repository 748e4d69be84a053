#include "connection_limits.h"

#include <sys/resource.h>

#include <algorithm>

namespace llm_probe::internal {

ConnectionLimits LimitsForFdLimit(long fd_limit) {
  constexpr long kLeast = 4;
  constexpr long kMost = 64;
  const long share = fd_limit / 4;
  const long workers = std::clamp(share / 2 / kFdsPerWorker, kLeast, kMost);
  const long queued = std::clamp(share / 2, kLeast, kMost);
  return {static_cast<int>(workers), static_cast<int>(queued)};
}

long RaiseFdLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? 1L << 20 : static_cast<long>(limit.rlim_cur);
}

}  // namespace llm_probe::internal
