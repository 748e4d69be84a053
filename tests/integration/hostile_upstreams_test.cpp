// Issue 17's attacks, each against the built binary over loopback: hostile upstreams written for
// the test (1-byte chunks, a redirect to another port, an echo of the key, a proxy that records
// what it receives), broken files on reload, and the ways a secret reached the page, the API,
// /probe and the logs. Memory is read from the exporter's /proc/PID/status.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <list>
#include <mutex>

#include "test_support.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Get;
using testing::Process;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitFor;

// Item 14: a line break in api_version reached the upstream as a header of its own.
TEST(HostileUpstreamTest, ConfigCheckRefusesALineBreakInApiVersion) {
  TempDir dir;
  const std::string file = dir.Write("config.yaml",
                                     "targets:\n  - name: claude\n    provider: anthropic\n    base_url: http://127.0.0.1:1/v1\n"
                                     "    api_version: \"2023-06-01\\r\\nX-Injected: smuggled\"\n"
                                     "    probes: [{name: models, type: models}]\n");
  std::string output;
  EXPECT_EQ(testing::RunCommand(testing::kExporterBinary + " --config.check --config.file " + file, &output), 1);
  EXPECT_THAT(output, HasSubstr(file + ":5:18: \"api_version\" must not contain byte 0x0D"));
}

}  // namespace
}  // namespace llm_probe
