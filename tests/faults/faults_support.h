// Shared by the fault, hostile-scraper, bad-config and concurrency tests: process memory and
// fds from /proc, the exposition text read back, and config snippets.
#pragma once

#include <dirent.h>
#include <malloc.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "../integration/test_support.h"

namespace llm_probe::faults {

// A field of /proc/<process>/status in KiB ("VmRSS", "VmHWM"); 0 when absent.
inline long ProcStatusKib(const std::string& field, const std::string& process = "self") {
  std::ifstream status("/proc/" + process + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

// RSS after handing the allocator's free pages back (malloc_trim), so two samples compare memory
// in use rather than what glibc's per-thread arenas happen to keep. The fault server runs in
// the same process and churns big buffers on its connection threads: without the trim, their
// arenas' free pages show up as growth.
inline long TrimmedRssKib() {
  malloc_trim(0);
  return ProcStatusKib("VmRSS");
}

inline int OpenFds() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir)) ++count;
    closedir(dir);
  }
  return count - 3;  // ".", ".." and the directory's own fd
}

// Sanitizers keep freed memory in quarantine and shadow every byte, so memory bounds checked
// in a test are multiplied under them.
constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

// Every `name{...} value` line of the exposition whose labels contain `label_fragment`.
inline std::map<std::string, double> SeriesMatching(const std::string& exposition, const std::string& name,
                                                    const std::string& label_fragment = "") {
  std::map<std::string, double> found;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    if (!label_fragment.empty() && line.find(label_fragment) == std::string::npos) continue;
    const auto space = line.rfind(' ');
    found[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return found;
}

// The one status the llm_probe_status one-hot shows for a target, or "" when none is 1.
inline std::string StatusOf(const std::string& exposition, const std::string& target) {
  for (const auto& [series, value] :
       SeriesMatching(exposition, "llm_probe_status", "target=\"" + target + "\"")) {
    if (value != 1) continue;
    const auto at = series.find("status=\"");
    return series.substr(at + 8, series.find('"', at + 8) - at - 8);
  }
  return "";
}

// Mean and count of the schedule lag histogram.
struct Lag {
  double sum = 0;
  double count = 0;
  double over_one_second = 0;  // observations above the 1 s bucket
};
inline Lag ScheduleLag(const std::string& exposition) {
  Lag lag;
  lag.sum = SeriesMatching(exposition, "llm_probe_exporter_schedule_lag_seconds_sum").begin()->second;
  lag.count = SeriesMatching(exposition, "llm_probe_exporter_schedule_lag_seconds_count").begin()->second;
  const auto within = SeriesMatching(exposition, "llm_probe_exporter_schedule_lag_seconds_bucket", "le=\"1\"");
  if (!within.empty()) lag.over_one_second = lag.count - within.begin()->second;
  return lag;
}

}  // namespace llm_probe::faults
