// process_* metrics with the names and meanings of the Go client's process collector, so the
// usual dashboards and alerts work on this exporter too.
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "families.h"

namespace llm_probe::internal {
namespace {

using prometheus::MetricType;

// Fields of /proc/self/stat after the command name, which may itself contain spaces.
std::vector<std::string> StatFields() {
  std::ifstream file("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) return {};
  std::istringstream rest(text.substr(name_end + 2));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

double BootTimeUnix() {
  std::ifstream file("/proc/stat");
  std::string key;
  double value = 0;
  while (file >> key) {
    if (key == "btime") {
      file >> value;
      return value;
    }
    file.ignore(1 << 16, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* directory = opendir("/proc/self/fd");
  if (!directory) return 0;
  double count = 0;
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(directory);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

void WriteProcessMetrics(FamilyWriter& writer) {
  const std::vector<std::string> stat = StatFields();
  // Indexes are the proc(5) field numbers minus 3 (pid and comm precede the split).
  constexpr std::size_t kUtime = 11, kStime = 12, kStartTime = 19, kVsize = 20, kRss = 21;
  if (stat.size() > kRss) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    writer.Begin("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                 MetricType::Counter);
    writer.Counter({}, (std::stod(stat[kUtime]) + std::stod(stat[kStime])) / ticks);
    writer.Begin("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge);
    writer.Gauge({}, std::stod(stat[kRss]) * page);
    writer.Begin("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge);
    writer.Gauge({}, std::stod(stat[kVsize]));
    writer.Begin("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                 MetricType::Gauge);
    writer.Gauge({}, BootTimeUnix() + std::stod(stat[kStartTime]) / ticks);
  }
  writer.Begin("process_open_fds", "Number of open file descriptors.", MetricType::Gauge);
  writer.Gauge({}, OpenFds());
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    writer.Begin("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge);
    writer.Gauge({}, static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace llm_probe::internal
