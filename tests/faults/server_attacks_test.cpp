// Issue 17, the HTTP server's half: hostile clients against the real exporter binary (a process
// of its own, its memory and fds read from /proc/<pid>), over real sockets. Each test is an
// attack that worked on the cpp-httplib server (docs/reliability.md has the figures); the
// assertions are on bounded quantities: peak memory, descriptors held, probe results that stay
// UP, a correct login answered within Prometheus' scrape timeout.
// LLM_PROBE_EXPORTER_UNDER_TEST=<old build>/src/llm_probe_exporter runs them against another build.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include "../integration/web_config_support.h"
#include "faults_support.h"
#include "mock_upstream.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using testing::Process;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitFor;

// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM").
long StatusKib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

int OpenFds(pid_t pid) {
  int count = 0;
  if (DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (const dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
    closedir(dir);
  }
  return count;
}

// A blocking TCP connection from `source` (a loopback address) to the exporter.
int Connect(int port, const char* source = "127.0.0.1", bool blocking = true) {
  const int fd = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int result = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (result != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` and reads until the server closes or `limit` passes; "" when nothing came.
std::string Exchange(int fd, const std::string& request, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  char buffer[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd poll_fd{fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 50) <= 0) continue;
    const ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(got));
  }
  close(fd);
  return reply;
}

std::string Request(int port, const std::string& request_text, const char* source = "127.0.0.1") {
  const int fd = Connect(port, source);
  return fd < 0 ? "" : Exchange(fd, request_text);
}

std::string Header(const std::string& reply, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(reply, match, std::regex("\r\n" + name + ": ([^\r]*)\r\n", std::regex::icase))) return "";
  return match[1];
}

int StatusCode(const std::string& reply) { return reply.size() > 12 ? std::atoi(reply.c_str() + 9) : 0; }

class ServerAttacksTest : public ::testing::Test {
 protected:
  void SetUp() override { mock_.Start(); }
  void TearDown() override {
    exporter_.reset();
    mock_.Stop();
  }

  std::string Config(int targets, const std::string& interval) {
    std::string yaml = "global: {interval: " + interval + ", timeout: 2s, jitter: 0%}\ntargets:\n";
    for (int i = 0; i < targets; ++i) {
      yaml += "  - name: t" + std::to_string(i) + "\n    base_url: " + mock_.BaseUrl("up") +
              "\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n";
    }
    return yaml;
  }

  // Starts the exporter binary; returns its port (read from its "listening" line).
  int Start(const std::string& yaml, const std::string& web_yaml = "", long fd_limit = 0) {
    log_ = dir_.path() + "/exporter.log";
    std::vector<std::string> args = {"--config.file", dir_.Write("config.yaml", yaml), "--web.listen-address",
                                     "127.0.0.1:0"};
    if (!web_yaml.empty()) {
      args.push_back("--web.config.file");
      args.push_back(dir_.Write("web.yml", web_yaml));
    }
    exporter_ = std::make_unique<Process>(args, log_, fd_limit);
    std::smatch match;
    const std::regex listening(R"(address=127\.0\.0\.1:(\d+))");
    std::string text;
    EXPECT_TRUE(WaitFor([&] {
      text = ReadFile(log_);
      return std::regex_search(text, match, listening);
    })) << text;
    return match.empty() ? 0 : std::stoi(match[1]);
  }

  std::string Metrics(int port) { return Request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); }

  double Total(const std::string& exposition, const std::string& status) {
    double sum = 0;
    for (const auto& [series, value] : faults::SeriesMatching(exposition, "llm_probe_total", "status=\"" + status + "\"")) {
      sum += value;
    }
    return sum;
  }

  mock_upstream::MockUpstream mock_{64};
  TempDir dir_;
  std::string log_;
  std::unique_ptr<Process> exporter_;
};

// Item 1: "Range: bytes=0-,0-,..." with 2,700 ranges made cpp-httplib build one copy of the page
// per range (85 MB of reply per request at 30 probes; three at once took peak RSS from 18 MB to
// 378 MB), and parse the header with a recursive regex before any handler. No endpoint serves
// ranges now: the reply is the page, once.
TEST_F(ServerAttacksTest, ManyRangesGetOneCopyOfThePage) {
  const int port = Start(Config(30, "1h"));
  ASSERT_GT(port, 0);
  const std::string plain = Request(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(StatusCode(plain), 200) << plain.substr(0, 200);
  const long peak_before = StatusKib(exporter_->pid(), "VmHWM");

  std::string ranges = "bytes=0-";
  for (int i = 1; i < 2700; ++i) ranges += ",0-";
  std::vector<std::size_t> sizes(6);
  std::vector<std::thread> attackers;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    attackers.emplace_back([&, i] {
      const std::string path = i % 2 == 0 ? "/" : "/api/v1/targets";
      sizes[i] = Request(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nRange: " + ranges + "\r\nConnection: close\r\n\r\n").size();
    });
  }
  for (auto& attacker : attackers) attacker.join();
  const long growth_kib = StatusKib(exporter_->pid(), "VmHWM") - peak_before;
  std::printf("RANGE peak RSS growth %ld KiB, replies %zu..%zu bytes (page %zu)\n", growth_kib,
              *std::min_element(sizes.begin(), sizes.end()), *std::max_element(sizes.begin(), sizes.end()), plain.size());
  EXPECT_LT(growth_kib, 32 * 1024);
  for (std::size_t size : sizes) EXPECT_LT(size, 4 * plain.size() + 64 * 1024);
  EXPECT_EQ(StatusCode(Metrics(port)), 200);
}

// Item 3: idle connections beyond the workers used to queue without bound, each holding an fd;
// at the fd limit libcurl could not open a socket and healthy probes failed with
// CONNECTION_ERROR. Here the exporter runs with 256 fds and 300 idle connections are opened:
// it keeps to its share of descriptors and every probe run during the attack is UP.
TEST_F(ServerAttacksTest, IdleConnectionsNeverTakeTheProbesSockets) {
  constexpr long kFdLimit = 256;
  const int port = Start(Config(20, "3s"), "", kFdLimit);
  ASSERT_GT(port, 0);
  ASSERT_TRUE(WaitFor([&] { return mock_.RequestCount("up") >= 20; }));
  const int fds_before = OpenFds(exporter_->pid());

  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    const int fd = Connect(port, "127.0.0.1", false);
    if (fd >= 0) idle.push_back(fd);
  }
  // Two rounds of every probe while the connections are held (or the limit, when they fail).
  const int requests_before = mock_.RequestCount("up");
  WaitFor([&] { return mock_.RequestCount("up") >= requests_before + 40; });
  const int fds_during = OpenFds(exporter_->pid());
  const int probes_during = mock_.RequestCount("up") - requests_before;
  for (int fd : idle) close(fd);

  std::string exposition;
  ASSERT_TRUE(WaitFor([&] { return StatusCode(exposition = Metrics(port)) == 200; }, std::chrono::seconds(60)));
  std::printf("IDLE %zu connections: exporter fds %d -> %d (limit %ld), %d probe requests reached the upstream\n",
              idle.size(), fds_before, fds_during, kFdLimit, probes_during);
  EXPECT_LE(fds_during, kFdLimit / 2) << "the server holds at most a quarter of the limit, plus the process's own";
  EXPECT_GE(probes_during, 40);
  EXPECT_EQ(Total(exposition, "CONNECTION_ERROR"), 0) << "a scraper changed a probe result";
}

// Item 6: "Accept-Encoding: br" made cpp-httplib compress the page and the API at brotli's
// quality 11 (10-15x the CPU of gzip). Only gzip, at zlib's fastest level, is offered.
TEST_F(ServerAttacksTest, BrotliIsNeverUsed) {
  const int port = Start(Config(30, "1h"));
  ASSERT_GT(port, 0);
  for (const char* path : {"/", "/api/v1/targets", "/metrics"}) {
    const std::string br = Request(port, std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(StatusCode(br), 200) << path;
    EXPECT_EQ(Header(br, "Content-Encoding"), "") << path;
    const std::string both = Request(port, std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(Header(both, "Content-Encoding"), "gzip") << path;
  }
}

// GET /probe ran a billed probe: any web page could make a visitor's browser start one with an
// <img>. An on-demand run is a POST now, refused when a browser says another site sent it.
TEST_F(ServerAttacksTest, OnDemandRunsNeedAPostFromNoOtherSite) {
  const int port = Start(Config(1, "1h"));  // its first scheduled run comes at a random time within the hour
  ASSERT_GT(port, 0);
  const int before = mock_.RequestCount("up");
  const std::string get = Request(port, "GET /probe?target=t0&probe=chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusCode(get), 405);
  EXPECT_EQ(Header(get, "Allow"), "POST");
  const std::string cross = Request(port,
      "POST /probe?target=t0&probe=chat HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n"
      "Content-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusCode(cross), 403);
  const std::string fetch = Request(port,
      "POST /-/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusCode(fetch), 403);
  EXPECT_EQ(mock_.RequestCount("up"), before) << "a refused request reached the upstream";

  const std::string own = "127.0.0.1:" + std::to_string(port);
  const std::string same = Request(port,
      "POST /probe?target=t0&probe=chat HTTP/1.1\r\nHost: " + own + "\r\nOrigin: http://" + own +
      "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusCode(same), 200) << same;
  EXPECT_THAT(same, HasSubstr("\"status\": \"UP\""));
}

// Item 4: bcrypt checks run one at a time and wrong passwords pushed Prometheus' cached verdict
// out, so 32 connections sending wrong passwords made a correct login wait 12.7 s, past the
// 10 s scrape timeout. Now each address gets one check at a time and good verdicts are kept
// apart: the attackers (from 127.0.0.2) cannot hold back a login from 127.0.0.1.
TEST_F(ServerAttacksTest, WrongPasswordFloodDoesNotLockOutPrometheus) {
  const std::string hash = testing::BcryptHash("scrape-pass", 12);
  const int port = Start(Config(1, "1h"), "basic_auth_users:\n  prometheus: " + hash + "\n");
  ASSERT_GT(port, 0);
  std::atomic<bool> attacking{true};
  std::atomic<int> attempts{0};
  std::vector<std::thread> attackers;
  for (int i = 0; i < 32; ++i) {
    attackers.emplace_back([&, i] {
      for (int n = 0; attacking; ++n) {
        // "prometheus:wrong-<i>-<n>", a new password each time, as a guesser sends.
        const std::string credentials = "prometheus:wrong-" + std::to_string(i) + "-" + std::to_string(n);
        std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
        encoded.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
            reinterpret_cast<const unsigned char*>(credentials.data()), static_cast<int>(credentials.size()))));
        Request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + encoded + "\r\nConnection: close\r\n\r\n",
                "127.0.0.2");
        ++attempts;
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return attempts >= 32; }, std::chrono::seconds(60)));
  // Prometheus' first scrape, its credentials not yet cached, with its 10 s scrape timeout.
  httplib::Client prometheus("127.0.0.1", port);
  prometheus.set_basic_auth("prometheus", "scrape-pass");
  prometheus.set_read_timeout(10, 0);
  const auto scrape = prometheus.Get("/metrics");
  attacking = false;
  for (auto& attacker : attackers) attacker.join();
  ASSERT_TRUE(scrape) << "no answer within the scrape timeout: " << httplib::to_string(scrape.error());
  EXPECT_EQ(scrape->status, 200);
}

// Item 4: an unknown user was checked at the highest configured cost and a known one at its own,
// so a wrong password for a cost-4 user answered ~60x faster than one for a user who does not
// exist. Failures now all take as long as the costliest check.
TEST_F(ServerAttacksTest, FailedLoginsDoNotTellWhichUsersExist) {
  const std::string web = "basic_auth_users:\n  cheap: " + testing::BcryptHash("a", 4) +
                          "\n  dear: " + testing::BcryptHash("b", 11) + "\n";
  const int port = Start(Config(1, "1h"), web);
  ASSERT_GT(port, 0);
  auto median_failure = [&](const std::string& user) {
    std::vector<double> seconds;
    for (int i = 0; i < 5; ++i) {
      httplib::Client client("127.0.0.1", port);
      client.set_basic_auth(user, "wrong-" + std::to_string(i));
      client.set_read_timeout(30, 0);
      const auto start = std::chrono::steady_clock::now();
      const auto response = client.Get("/-/healthy");
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      EXPECT_TRUE(response && response->status == 401);
    }
    std::sort(seconds.begin(), seconds.end());
    return seconds[2];
  };
  const double known = median_failure("cheap");
  const double unknown = median_failure("nobody");
  std::printf("ENUMERATION median failure: existing cost-4 user %.4f s, unknown user %.4f s\n", known, unknown);
  // A cost-11 check is 128 cost-4 checks: without the padding the ratio is far beyond 4.
  EXPECT_LT(std::max(known, unknown) / std::min(known, unknown), 4);
}

}  // namespace
}  // namespace llm_probe
