#include "llm_probe/clock.h"

#include <chrono>

namespace llm_probe {

double NowUnix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace llm_probe
