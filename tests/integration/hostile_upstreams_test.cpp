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

#include "../faults/faults_support.h"
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

// A raw HTTP/1.1 upstream: one thread per connection reads the request (head and a
// Content-Length body), keeps it, and writes back whatever `respond` returns, then closes.
class RawUpstream {
 public:
  using Responder = std::function<std::string(const std::string& request)>;

  explicit RawUpstream(Responder respond) : respond_(std::move(respond)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listen_fd_, 64);
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawUpstream() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    for (std::thread& thread : connections_) thread.join();
    close(listen_fd_);
  }
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  int port() const { return port_; }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  bool stopping() const { return stopping_; }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string request;
    char buffer[16384];
    std::size_t wanted = std::string::npos;
    while (request.size() < wanted) {
      pollfd readable{fd, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0) {
        if (stopping_) break;
        continue;
      }
      const ssize_t count = recv(fd, buffer, sizeof buffer, 0);
      if (count <= 0) break;
      request.append(buffer, static_cast<std::size_t>(count));
      const std::size_t head_end = request.find("\r\n\r\n");
      if (head_end != std::string::npos && wanted == std::string::npos) {
        std::size_t body = 0;
        const std::size_t at = AsciiLowerCopy(request.substr(0, head_end)).find("content-length:");
        if (at != std::string::npos) body = std::strtoul(request.c_str() + at + 15, nullptr, 10);
        wanted = head_end + 4 + body;
      }
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    const std::string reply = respond_(request);
    for (std::size_t sent = 0; sent < reply.size();) {
      const ssize_t count = send(fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
      if (count <= 0) break;
      sent += static_cast<std::size_t>(count);
    }
    shutdown(fd, SHUT_WR);
    close(fd);
  }

  static std::string AsciiLowerCopy(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  Responder respond_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::list<std::thread> connections_;
  std::vector<std::string> requests_;
};

std::string Reply(const std::string& status, const std::string& content_type, const std::string& body,
                  const std::string& extra_headers = "") {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "Connection: close\r\n\r\n" + body;
}

const std::string kModelList = R"({"object":"list","data":[{"id":"gpt-4o","object":"model"}]})";

// The value of a request header, by its name as the exporter sends it (curl keeps the case).
std::string HeaderValue(const std::string& request, const std::string& name) {
  const std::size_t at = request.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const std::size_t begin = at + 4 + name.size();
  return request.substr(begin, request.find("\r\n", begin) - begin);
}

// The sum of the llm_probe_total series of a target.
double ProbeTotal(const std::string& metrics, const std::string& target) {
  double total = 0;
  for (const auto& [series, value] : faults::SeriesMatching(metrics, "llm_probe_total", "target=\"" + target + "\"")) {
    total += value;
  }
  return total;
}

// An on-demand run. POST once /probe requires it (issue 17's CSRF change); GET before that.
std::string OnDemand(int port, const std::string& query, int* status) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  auto response = client.Post("/probe?" + query, "", "application/x-www-form-urlencoded");
  if (!response || response->status == 404 || response->status == 405) response = client.Get("/probe?" + query);
  *status = response ? response->status : 0;
  return response ? response->body : std::string();
}

// Every run of 12 bytes of `secret`: none may show anywhere.
void ExpectNoPartOf(const std::string& text, const std::string& secret, const std::string& where) {
  for (std::size_t at = 0; at + 12 <= secret.size(); ++at) {
    EXPECT_THAT(text, Not(HasSubstr(secret.substr(at, 12)))) << where << " shows part of a secret at offset " << at;
  }
}

// The exporter with `config` on a free port, `env` set for it alone.
struct Running {
  Running(TempDir& dir, const std::string& config, const std::map<std::string, std::string>& env = {})
      : port(testing::ClosedPort()), log(dir.path() + "/exporter.log") {
    config_file = dir.Write("config.yaml", config);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    process = std::make_unique<Process>(
        std::vector<std::string>{"--config.file", config_file, "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
        log);
    for (const auto& [name, value] : env) unsetenv(name.c_str());
    EXPECT_TRUE(WaitFor([&] { return !Metrics().empty(); })) << ReadFile(log);
  }
  std::string Metrics() const { return Get(port, "/metrics"); }

  int port;
  std::string log;
  std::string config_file;
  std::unique_ptr<Process> process;
};

// Item 2: a body in 1-byte chunks made one arrival stamp (16 bytes) per byte.
std::string OneByteChunkedStream() {
  const std::string event =
      R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]})"
      "\n\n";
  std::string body = R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"
                     "\n\n";
  while (body.size() < 3 * 1024 * 1024) body += event;
  body += R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
          "\n\ndata: [DONE]\n\n";
  std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  reply.reserve(reply.size() + body.size() * 6 + 5);
  for (char c : body) {
    reply += "1\r\n";
    reply += c;
    reply += "\r\n";
  }
  return reply + "0\r\n\r\n";
}

TEST(HostileUpstreamTest, OneByteChunksDoNotCostMemoryPerByte) {
  const std::string stream = OneByteChunkedStream();
  std::atomic<bool> release{false};
  RawUpstream upstream([&](const std::string&) {
    WaitFor([&] { return release.load(); }, std::chrono::seconds(60));
    return stream;
  });
  TempDir dir;
  Running exporter(dir, "global: {interval: 10s, timeout: 9s, jitter: 0%}\ntargets:\n  - name: chunks\n    base_url: " +
                            upstream.Url() + "/v1\n    probes: [{name: stream, type: stream, model: gpt-4o}]\n");
  // The reply is held until the exporter's peak so far is read: the growth is this one probe's.
  ASSERT_TRUE(WaitFor([&] { return !upstream.requests().empty(); }, std::chrono::seconds(30)));
  const long before = faults::ProcStatusKib("VmHWM", std::to_string(exporter.process->pid()));
  release = true;
  ASSERT_TRUE(WaitFor([&] { return ProbeTotal(exporter.Metrics(), "chunks") >= 1; }, std::chrono::seconds(60)));
  const long after = faults::ProcStatusKib("VmHWM", std::to_string(exporter.process->pid()));
  EXPECT_EQ(faults::StatusOf(exporter.Metrics(), "chunks"), "UP") << ReadFile(exporter.log);
  // 3 MiB of body: the body itself (a std::string may reserve twice its size) and 8,192 stamps at
  // most. Before the fix, 3.1 million stamps of 16 bytes: 48 MiB and more while the vector grew
  // (+66 MiB measured).
  std::printf("MEMORY 1-byte chunks, 3 MiB stream: exporter peak %ld KiB -> %ld KiB (+%ld KiB)\n", before, after,
              after - before);
  // Under a sanitizer the peak counts what was ever freed, not what is held: ASan's quarantine
  // keeps every freed block of the 3.1 million 1-byte writes (+85 MiB measured in the asan stage),
  // so the bound is checked in the uninstrumented build only.
  if (!faults::kSanitized) {
    EXPECT_LT(after - before, 24 * 1024);
  }
}

// Item 9: x-api-key and a custom secret header followed a 307 to another port of the same host.
TEST(HostileUpstreamTest, ARedirectToAnotherPortGetsNoSecret) {
  RawUpstream other([](const std::string&) { return Reply("200 OK", "application/json", "{}"); });
  RawUpstream origin([&](const std::string&) {
    return Reply("307 Temporary Redirect", "text/plain", "",
                 "Location: http://127.0.0.1:" + std::to_string(other.port()) + "/v1/messages\r\n");
  });
  TempDir dir;
  const std::string key = "redirect-test-key-6c0e4b1d9a";
  const std::string token = "redirect-test-token-95f3e2";
  Running exporter(dir,
                   "global: {interval: 2s, timeout: 1s, jitter: 0%}\ntargets:\n  - name: redirected\n"
                   "    provider: anthropic\n    base_url: " + origin.Url() + "/v1\n    api_key_env: LLM_PROBE_REDIRECT_KEY\n"
                   "    headers: {X-Gateway-Secret: \"${LLM_PROBE_REDIRECT_TOKEN}\"}\n"
                   "    probes: [{name: chat, type: chat, model: claude-x, follow_redirects: true}]\n",
                   {{"LLM_PROBE_REDIRECT_KEY", key}, {"LLM_PROBE_REDIRECT_TOKEN", token}});
  ASSERT_TRUE(WaitFor([&] { return ProbeTotal(exporter.Metrics(), "redirected") >= 2; })) << ReadFile(exporter.log);
  ASSERT_FALSE(origin.requests().empty());
  EXPECT_THAT(origin.requests().front(), HasSubstr(key)) << "the origin itself gets the key";
  for (const std::string& request : other.requests()) {
    EXPECT_THAT(request, Not(HasSubstr(key)));
    EXPECT_THAT(request, Not(HasSubstr(token)));
  }
  EXPECT_TRUE(other.requests().empty()) << "the redirect to another origin is not followed";
}

// Item 10: libcurl read the proxy from the environment behind the config's back.
TEST(HostileUpstreamTest, ProxyEnvironmentVariablesAreIgnored) {
  RawUpstream proxy([](const std::string&) { return Reply("502 Bad Gateway", "text/plain", ""); });
  RawUpstream target([](const std::string&) { return Reply("200 OK", "application/json", kModelList); });
  TempDir dir;
  const std::string key = "proxy-test-key-3f9a0c27d1";
  const std::string config = "global: {interval: 2s, timeout: 1s, jitter: 0%}\ntargets:\n  - name: direct\n    base_url: " +
                             target.Url() + "/v1\n    api_key_env: LLM_PROBE_PROXY_KEY\n    proxy_url: \"\"\n"
                             "    probes: [{name: models, type: models}]\n";
  {
    // proxy_url: "" means no proxy, whatever http_proxy says.
    Running exporter(dir, config,
                     {{"LLM_PROBE_PROXY_KEY", key}, {"http_proxy", proxy.Url()}, {"HTTP_PROXY", proxy.Url()},
                      {"ALL_PROXY", proxy.Url()}, {"all_proxy", proxy.Url()}});
    ASSERT_TRUE(WaitFor([&] { return ProbeTotal(exporter.Metrics(), "direct") >= 2; })) << ReadFile(exporter.log);
    EXPECT_EQ(faults::StatusOf(exporter.Metrics(), "direct"), "UP");
    EXPECT_TRUE(proxy.requests().empty()) << "the key went to the proxy named by the environment";
    EXPECT_FALSE(target.requests().empty());
  }
  {
    // A configured egress proxy is used for every host, NO_PROXY or not.
    std::string proxied = config;
    proxied.replace(proxied.find("proxy_url: \"\""), 13, "proxy_url: " + proxy.Url());
    Running exporter(dir, proxied, {{"LLM_PROBE_PROXY_KEY", key}, {"NO_PROXY", "*"}, {"no_proxy", "*"}});
    ASSERT_TRUE(WaitFor([&] { return ProbeTotal(exporter.Metrics(), "direct") >= 2; })) << ReadFile(exporter.log);
    EXPECT_FALSE(proxy.requests().empty()) << "NO_PROXY=* bypassed the configured proxy";
  }
}

// Item 11: /probe ran a probe that a Retry-After back-off holds back.
TEST(HostileUpstreamTest, OnDemandRunsHonourRetryAfter) {
  RawUpstream upstream([](const std::string&) {
    return Reply("429 Too Many Requests", "application/json",
                 R"({"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
                 "Retry-After: 3600\r\n");
  });
  TempDir dir;
  Running exporter(dir, "global: {interval: 2s, timeout: 1s, jitter: 0%}\ntargets:\n  - name: limited\n    base_url: " +
                            upstream.Url() + "/v1\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n");
  ASSERT_TRUE(WaitFor([&] { return faults::StatusOf(exporter.Metrics(), "limited") == "RATE_LIMITED"; })) << ReadFile(exporter.log);
  const std::size_t calls = upstream.requests().size();
  int status = 0;
  const std::string body = OnDemand(exporter.port, "target=limited&probe=chat", &status);
  EXPECT_EQ(status, 429) << body;
  EXPECT_THAT(body, HasSubstr("\"reason\": \"backoff\""));
  EXPECT_EQ(upstream.requests().size(), calls) << "the upstream asked for an hour's pause and was called again";
}

// Item 13: a header value from the environment, under a name that does not look secret.
TEST(HostileUpstreamTest, DebugOutputHidesHeaderValuesFromTheEnvironment) {
  RawUpstream upstream([](const std::string&) { return Reply("200 OK", "application/json", kModelList); });
  TempDir dir;
  const std::string bypass = "vercel-bypass-7d2f0a9c41e8";
  Running exporter(dir,
                   "global: {interval: 1h}\ntargets:\n  - name: protected\n    base_url: " + upstream.Url() +
                       "/v1\n    headers: {X-Vercel-Protection-Bypass: \"${LLM_PROBE_BYPASS}\"}\n"
                       "    probes: [{name: models, type: models}]\n",
                   {{"LLM_PROBE_BYPASS", bypass}});
  int status = 0;
  const std::string body = OnDemand(exporter.port, "target=protected&probe=models&debug=true", &status);
  ASSERT_EQ(status, 200) << body;
  EXPECT_THAT(body, HasSubstr("X-Vercel-Protection-Bypass"));
  EXPECT_THAT(body, Not(HasSubstr(bypass)));
  ASSERT_FALSE(upstream.requests().empty());
  EXPECT_EQ(HeaderValue(upstream.requests().front(), "X-Vercel-Protection-Bypass"), bypass) << "it is sent all the same";
}

// An upstream that echoes the key it got, as relays do in their 401 messages, after `padding`.
std::string EchoKeyReply(const std::string& request, const std::string& padding) {
  std::string key = HeaderValue(request, "Authorization");
  if (key.rfind("Bearer ", 0) == 0) key = key.substr(7);
  return Reply("401 Unauthorized", "application/json",
               R"({"error":{"message":")" + padding + "Incorrect API key provided: " + key +
                   R"(","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})");
}

// Item 7: the detail was cut to 200 bytes before redaction, so a key across the cut showed in part.
TEST(HostileUpstreamTest, AKeyAcrossTheDetailCutShowsNowhere) {
  // 150 bytes of padding and the 28 of "Incorrect API key provided: ": the cut at 200 falls
  // 22 bytes into the key.
  RawUpstream upstream([](const std::string& request) { return EchoKeyReply(request, std::string(150, 'x') + " "); });
  TempDir dir;
  const std::string key = "0f4c9a7e1b3d5f2a8c6e0b9d7f1a3c5e7b9d2f4a";  // Azure-style hex: no sk- shape
  Running exporter(dir,
                   "global: {interval: 2s, timeout: 1s, jitter: 0%, failure_threshold: 1}\ntargets:\n  - name: echo\n"
                   "    base_url: " + upstream.Url() + "/v1\n    api_key_env: LLM_PROBE_ECHO_KEY\n"
                   "    probes: [{name: chat, type: chat, model: gpt-4o}]\n",
                   {{"LLM_PROBE_ECHO_KEY", key}});
  ASSERT_TRUE(WaitFor([&] { return faults::StatusOf(exporter.Metrics(), "echo") == "AUTH_ERROR"; })) << ReadFile(exporter.log);
  const std::string api = Get(exporter.port, "/api/v1/targets");
  EXPECT_THAT(api, HasSubstr("Incorrect API key provided"));
  ExpectNoPartOf(api, key, "the API");
  ExpectNoPartOf(Get(exporter.port, "/"), key, "the status page");
  ExpectNoPartOf(ReadFile(exporter.log), key, "the log");
}

// Item 8: after rotations the retired list (64) lost the old key, and the kept detail showed it.
TEST(HostileUpstreamTest, AnOldKeyStaysHiddenAfterManyRotations) {
  RawUpstream upstream([](const std::string& request) { return EchoKeyReply(request, ""); });
  TempDir dir;
  const std::string old_key = "zz-old-key-4b8d2f6a0c9e7b5d3f1a";  // sorts after the new ones
  const std::string key_file = dir.Write("relay.key", old_key + "\n");
  auto config = [&](const std::string& model) {
    return "global: {interval: 24h, timeout: 5s}\ntargets:\n  - name: rotated\n    base_url: " + upstream.Url() +
           "/v1\n    api_key_file: " + key_file + "\n    probes: [{name: chat, type: chat, model: " + model + "}]\n";
  };
  Running exporter(dir, config("before"));
  // A probe added by a reload runs at once: with the old key.
  dir.Write("config.yaml", config("gpt-4o"));
  httplib::Client client("127.0.0.1", exporter.port);
  ASSERT_TRUE(client.Post("/-/reload"));
  ASSERT_TRUE(WaitFor([&] { return faults::StatusOf(exporter.Metrics(), "rotated") == "AUTH_ERROR"; })) << ReadFile(exporter.log);
  for (int rotation = 0; rotation < 70; ++rotation) {
    char key[64];
    std::snprintf(key, sizeof key, "key-%04d-5e1c9b3f7a2d4e6c", rotation);
    dir.Write("relay.key", std::string(key) + "\n");
    const auto reply = client.Post("/-/reload");
    ASSERT_TRUE(reply);
  }
  ExpectNoPartOf(Get(exporter.port, "/api/v1/targets"), old_key, "the API");
  ExpectNoPartOf(Get(exporter.port, "/"), old_key, "the status page");
}

// Item 5: each of these reloads killed the exporter or wedged its signal thread.
TEST(HostileUpstreamTest, BrokenFilesOnReloadKeepTheRunningConfig) {
  TempDir dir;
  const std::string key_file = dir.Write("relay.key", "sk-relay-key-for-reloads\n");
  const std::string good = "global: {interval: 1h}\ntargets:\n  - name: kept\n    base_url: http://127.0.0.1:1/v1\n"
                           "    api_key_file: " + key_file + "\n    probes: [{name: chat, type: chat, model: gpt-4o}]\n";
  Running exporter(dir, good);
  auto reload_successful = [&] {
    return testing::SeriesValue(exporter.Metrics(), "llm_probe_exporter_config_last_reload_successful");
  };
  const std::string fifo = dir.path() + "/fifo.key";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string nested = std::string(20000, '(') + "ok" + std::string(20000, ')');
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"20,000 nested groups in expect_content", good.substr(0, good.size() - 2) + ", expect_content: \"" + nested + "\"}]\n"},
      {"api_key_file: /dev/zero", std::string(good).replace(good.find(key_file), key_file.size(), "/dev/zero")},
      {"a FIFO as api_key_file", std::string(good).replace(good.find(key_file), key_file.size(), fifo)},
  };
  for (const auto& [what, yaml] : broken) {
    SCOPED_TRACE(what);
    dir.Write("config.yaml", yaml);
    exporter.process->Signal(SIGHUP);
    ASSERT_TRUE(WaitFor([&] { return reload_successful() == 0.0; })) << ReadFile(exporter.log);
    EXPECT_THAT(exporter.Metrics(), HasSubstr("target=\"kept\""));
    dir.Write("config.yaml", good);
    exporter.process->Signal(SIGHUP);
    ASSERT_TRUE(WaitFor([&] { return reload_successful() == 1.0; })) << ReadFile(exporter.log);
  }
  // The key-file watcher reloads on its own when the running key file becomes a FIFO.
  ASSERT_EQ(std::rename(fifo.c_str(), key_file.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] { return reload_successful() == 0.0; })) << ReadFile(exporter.log);
  exporter.process->Signal(SIGHUP);
  exporter.process->Signal(SIGTERM);
  EXPECT_EQ(exporter.process->Wait(), 0) << "SIGTERM is answered\n" << ReadFile(exporter.log);
}

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
