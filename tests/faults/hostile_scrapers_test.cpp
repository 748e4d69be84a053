// Hostile scrapers (issue 8): wrk hammering /metrics while probes run and the config reloads,
// slowloris clients holding connections open, and oversized request lines and headers. The
// exporter must answer every scrape, keep its probe loop on schedule and refuse junk cleanly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "fault_server.h"
#include "faults_support.h"
#include "llm_probe/exporter.h"
#include "mock_upstream.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using testing::Get;
using testing::TempDir;
using testing::WaitFor;

// A TCP connection to the exporter driven byte by byte.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes, or `limit` passes; false when the limit passed first.
  bool ReadUntilClosed(std::string& out, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{fd_, POLLIN, 0};
      if (poll(&fd, 1, 50) <= 0) continue;
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) return true;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return false;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class HostileScrapersTest : public ::testing::Test {
 protected:
  void SetUp() override { mock_.Start(); }
  void TearDown() override {
    if (exporter_) exporter_->Stop();
    mock_.Stop();
  }

  // `count` probes against the mock, every `interval`; `variant` changes the file's bytes (so a
  // reload is a real one) without changing the probe set.
  std::string Config(int count, const std::string& interval, int variant) {
    std::string yaml = "global: {interval: " + interval + ", timeout: 1s, external_labels: {variant: v" +
                       std::to_string(variant) + "}}\ntargets:\n";
    for (int i = 0; i < count; ++i) {
      yaml += "  - name: t" + std::to_string(i) + "\n    base_url: " + mock_.BaseUrl("up") +
              "\n    probes: [{name: chat, type: chat, model: gpt-4o}, {name: models, type: models}]\n";
    }
    return yaml;
  }

  void StartExporter(const std::string& yaml) {
    ExporterOptions options;
    options.config_file = dir_.Write("config.yaml", yaml);
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
  }

  mock_upstream::MockUpstream mock_{128};
  TempDir dir_;
  std::unique_ptr<Exporter> exporter_;
};

// wrk: 2 threads, 16 connections for 8 s on /metrics while 50 probes run every 2 s and the
// config is reloaded (a changed file, so the probe set is swapped) every 250 ms.
TEST_F(HostileScrapersTest, WrkScrapesDuringProbingAndReloadsAllSucceed) {
  StartExporter(Config(25, "2s", 0));
  const int port = exporter_->port();
  ASSERT_TRUE(WaitFor([&] { return mock_.RequestCount("up") >= 50; }));
  const faults::Lag before = faults::ScheduleLag(Get(port, "/metrics"));

  std::atomic<bool> reloading{true};
  std::atomic<int> reloads{0}, failed_reloads{0};
  std::thread reloader([&] {
    for (int variant = 1; reloading; ++variant) {
      dir_.Write("config.yaml", Config(25, "2s", variant % 2));
      if (exporter_->Reload().kind == ReloadOutcome::kFailed) ++failed_reloads;
      ++reloads;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  std::string output;
  const int status = testing::RunCommand(
      "wrk -t2 -c16 -d8s --timeout 10s --latency http://127.0.0.1:" + std::to_string(port) + "/metrics", &output);
  reloading = false;
  reloader.join();
  ASSERT_EQ(status, 0) << "wrk failed (scripts/install-deps.sh --test installs it):\n" << output;
  std::printf("WRK %s\n", output.c_str());

  std::smatch match;
  ASSERT_TRUE(std::regex_search(output, match, std::regex(R"((\d+) requests in)"))) << output;
  EXPECT_GT(std::stol(match[1]), 100) << output;
  EXPECT_THAT(output, ::testing::Not(HasSubstr("Socket errors"))) << output;
  EXPECT_THAT(output, ::testing::Not(HasSubstr("Non-2xx"))) << output;
  EXPECT_GT(reloads.load(), 10);
  EXPECT_EQ(failed_reloads.load(), 0);

  // The probe loop kept its schedule while the server was saturated: at most a few of the
  // hundreds of starts were more than a second late. (A reload restarts every schedule, so
  // the count covers many starts.)
  const faults::Lag after = faults::ScheduleLag(Get(port, "/metrics"));
  const double starts = after.count - before.count;
  const double late = after.over_one_second - before.over_one_second;
  std::printf("LAG starts %.0f, mean %.4f s, over 1 s: %.0f\n", starts, (after.sum - before.sum) / starts, late);
  EXPECT_GT(starts, 100);
  EXPECT_LE(late, starts * 0.01);
  int code = 0;
  Get(port, "/metrics", &code);
  EXPECT_EQ(code, 200);
}

// Slowloris: idle and trickling connections hold server threads only until the server's read
// timeouts drop them; while fewer of them are open than the server has workers, a real scrape
// is answered at once (see DISABLED_ below for what happens beyond that).
TEST_F(HostileScrapersTest, SlowClientsDoNotStarveARealScrape) {
  StartExporter(Config(2, "5s", 0));
  const int port = exporter_->port();
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(slow.back()->connected());
    if (i % 2 == 0) slow.back()->Send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");  // never finished
  }
  int status = 0;
  const std::string body = Get(port, "/metrics", &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(body, HasSubstr("llm_probe_exporter_build_info"));

  // The server's timeouts (keep-alive 5 s for idle, read 10 s for a stalled request) close them.
  for (auto& client : slow) {
    std::string ignored;
    EXPECT_TRUE(client->ReadUntilClosed(ignored, std::chrono::seconds(30)));
  }
}

// cpp-httplib served a connection on one worker thread until it closed, and its default pool was
// fixed (8 here): 16 clients trickling a header line every 2 s (each within its 10 s read
// timeout) held every worker, and the scrape behind them was never answered. The server has
// more workers than that now (and a 10 s deadline per request), so it is answered while they
// trickle on.
TEST_F(HostileScrapersTest, TricklingClientsDoNotStarveTheScrape) {
  StartExporter(Config(1, "5s", 0));
  const int port = exporter_->port();
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send("GET /metrics HTTP/1.1\r\n");
  }
  std::atomic<bool> trickling{true};
  std::atomic<int> trickled{0};
  std::thread trickle([&] {
    while (trickling) {
      for (auto& client : slow) trickled += client->Send("X-Slow: a\r\n") ? 1 : 0;
      for (int i = 0; i < 20 && trickling; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Every trickler has been taken by a worker and has sent a header line more.
  ASSERT_TRUE(WaitFor([&] { return trickled >= 32; }));
  int status = 0;
  const std::string text = Get(port, "/metrics", &status);
  const bool all_still_connected = trickled >= 32;
  trickling = false;
  trickle.join();
  EXPECT_EQ(status, 200);
  EXPECT_THAT(text, HasSubstr("llm_probe_exporter_probes_configured"));
  EXPECT_TRUE(all_still_connected);
}

// A 100 KiB request line, a 100 KiB header and 10,000 headers: each gets a 4xx (or the
// connection closed) quickly, and the next scrape is answered.
TEST_F(HostileScrapersTest, HugeRequestLinesAndHeadersAreRefused) {
  StartExporter(Config(1, "5s", 0));
  const int port = exporter_->port();
  const std::string long_url = "GET /metrics?" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string long_header = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'b') + "\r\n\r\n";
  std::string many_headers = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  many_headers += "\r\n";

  for (const std::string* request : std::vector<const std::string*>{&long_url, &long_header, &many_headers}) {
    RawClient client(port);
    ASSERT_TRUE(client.connected());
    client.Send(*request);  // the server may close before it has read everything
    std::string reply;
    EXPECT_TRUE(client.ReadUntilClosed(reply, std::chrono::seconds(20)));
    const std::string status_line = reply.substr(0, reply.find("\r\n"));
    std::printf("HUGE request of %zu bytes -> '%s'\n", request->size(), status_line.c_str());
    // Request line and headers are capped together at 16 KiB (cpp-httplib 0.11.4 capped each
    // line, not their number, and served the 10,000 headers).
    EXPECT_TRUE(reply.empty() || std::regex_search(status_line, std::regex(R"(^HTTP/1\.1 4\d\d)")))
        << status_line;
    int code = 0;
    Get(port, "/metrics", &code);
    EXPECT_EQ(code, 200);
  }
}

}  // namespace
}  // namespace llm_probe
