#include "llm_probe/server.h"

#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "basic_auth.h"
#include "llm_probe/clock.h"
#include "live_web_config.h"
#include "llm_probe/compression.h"
#include "llm_probe/log.h"
#include "tls.h"
#include "views.h"
#include "worker_pool.h"

namespace llm_probe {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

void SendJson(httplib::Response& response, const json& document, int status = 200) {
  response.status = status;
  response.set_content(document.dump(2, ' ', false, json::error_handler_t::replace) + "\n", kJson);
}

void SendError(httplib::Response& response, int status, const std::string& message) {
  SendJson(response, {{"error", message}}, status);
}

std::vector<std::string> SecretsOf(const StoreView& view) {
  return view.config ? view.config->Secrets() : std::vector<std::string>{};
}

Redactor RedactorFor(const StoreView& view) { return Redactor(SecretsOf(view)); }

const ProbeSnapshot* FindProbe(const StoreView& view, const std::string& target, const std::string& probe) {
  for (const auto& snapshot : view.probes) {
    if (snapshot->target->name == target && snapshot->probe->name == probe) return snapshot.get();
  }
  return nullptr;
}

// Every TLS connection starts with the files as they are now (LiveWebConfig).
int UseCurrentTls(SSL* connection, int*, void* live) {
  auto& web = *static_cast<internal::LiveWebConfig*>(live);
  web.Refresh();
  web.UseCurrentTls(*connection);
  return SSL_CLIENT_HELLO_SUCCESS;
}

std::unique_ptr<httplib::Server> MakeServer(const WebConfig& web, internal::LiveWebConfig& live) {
  if (!web.tls) return std::make_unique<httplib::Server>();
  std::string error;
  auto server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& context) {
    const auto failure = internal::ConfigureTls(context, *web.tls);
    if (failure) error = failure->message;
    SSL_CTX_set_client_hello_cb(&context, UseCurrentTls, &live);
    return !failure;
  });
  // The web config loader has set up the same files once already; this fails only when they
  // changed in between.
  if (!server->is_valid()) throw std::runtime_error("cannot set up TLS: " + error);
  return server;
}

// An on-demand run ends within its probe's timeout; the margin covers a probe loop busy with
// other work. The wait is bounded all the same, so a stopping runner never holds a worker.
constexpr std::chrono::seconds kOnDemandMargin{5};

// Connections served at once (each holds a worker thread until it closes); more wait in the queue.
// Prometheus needs one or two; the rest is headroom against slow or hostile clients.
constexpr std::size_t kMaxConnectionWorkers = 64;

// Connections the kernel completes before the accept loop takes them. cpp-httplib's default is
// 5: a burst of scrapes (several Prometheus replicas, a reloading fleet) beyond that has its
// SYNs dropped and waits a second or more for the retransmission.
constexpr int kListenBacklog = 1024;

// ":port" is the dual-stack wildcard; on a kernel without IPv6 it falls back to IPv4.
constexpr const char* kDualStackHost = "::";

bool HasIpv6() {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (probe < 0) return false;
  ::close(probe);
  return true;
}

}  // namespace

std::optional<ListenAddress> ParseListenAddress(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = kDualStackHost;
  int port = 0;
  for (std::size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    port = port * 10 + (text[i] - '0');
    if (port > 65535) return std::nullopt;
  }
  return ListenAddress{host, port};
}

std::string CheckHealth(const ListenAddress& listen, const WebConfig& web) {
  std::string host = listen.host;
  // Loopback IPv4 answers for both wildcards: "::" listens dual-stack.
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  std::unique_ptr<httplib::ClientImpl> client;
  if (web.tls) {
    auto https = std::make_unique<httplib::SSLClient>(host, listen.port);
    https->enable_server_certificate_verification(false);
    client = std::move(https);
  } else {
    client = std::make_unique<httplib::ClientImpl>(host, listen.port);
  }
  client->set_connection_timeout(3, 0);
  client->set_read_timeout(3, 0);
  const auto response = client->Get("/-/healthy");
  if (!response) return "no answer from " + host + ":" + std::to_string(listen.port) + ": " + httplib::to_string(response.error());
  const bool asks_for_password = response->status == 401 && !web.basic_auth_users.empty();
  if (response->status != 200 && !asks_for_password) return "/-/healthy answered " + std::to_string(response->status);
  return {};
}

// Buffers for /metrics bodies, handed back when the response is destroyed. Writing ~6 MB into
// fresh pages on every scrape (1,000 probes) cost more in page faults than the rendering; a few
// kept buffers cost their size in RSS instead (two per pool: two concurrent scrapes).
class ScrapeBuffers {
 public:
  std::shared_ptr<std::string> Acquire() {
    std::unique_ptr<std::string> buffer;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        buffer = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!buffer) buffer = std::make_unique<std::string>();
    return std::shared_ptr<std::string>(buffer.release(), [this](std::string* released) { Release(released); });
  }

 private:
  static constexpr std::size_t kKept = 2;

  void Release(std::string* released) {
    std::unique_ptr<std::string> buffer(released);
    std::lock_guard lock(mutex_);
    if (idle_.size() < kKept) idle_.push_back(std::move(buffer));
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<std::string>> idle_;
};

struct HttpServer::Impl {
  ServerOptions options;
  const SnapshotStore& store;
  const Collector& collector;
  ProbeRunner& runner;
  // Before `server`: responses hold their buffers until sent. Two pools, so a text buffer's
  // capacity is never spent on a gzip body ten times smaller.
  ScrapeBuffers text_buffers;
  ScrapeBuffers gzip_buffers;
  internal::LiveWebConfig web;  // before `server`, whose TLS connections use it
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;
  int listen_socket = -1;  // the last socket cpp-httplib tried to bind: the bound one on success

  std::mutex on_demand_mutex;
  std::map<std::pair<std::string, std::string>, Clock::time_point> last_on_demand;

  Impl(ServerOptions server_options, const SnapshotStore& snapshot_store, const Collector& metrics,
       ProbeRunner& probe_runner)
      : options(std::move(server_options)),
        store(snapshot_store),
        collector(metrics),
        runner(probe_runner),
        web(options.web_config_file, options.web),
        server(MakeServer(options.web, web)) {
    // Slow or stuck clients must not hold worker threads for long (this bounds the TLS
    // handshake too).
    server->set_read_timeout(10, 0);
    server->set_write_timeout(10, 0);
    server->set_keep_alive_timeout(5);
    server->set_payload_max_length(64 * 1024);
    server->new_task_queue = [] { return new internal::GrowingWorkerPool(kMaxConnectionWorkers); };
    // Instead of cpp-httplib's defaults, which add SO_REUSEPORT: with it a second exporter on
    // the same port would start and share the connections (and the first one's TLS and basic
    // auth would not protect the second's). SO_REUSEADDR alone lets a restart bind while old
    // connections linger in TIME_WAIT, never while another socket listens.
    server->set_socket_options([this](int socket) {
      const int yes = 1;
      const int no = 0;
      ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      // An IPv6 wildcard takes IPv4 too, whatever net.ipv6.bindv6only says ("[::1]" is IPv6 only
      // by nature). Fails harmlessly on an IPv4 socket.
      ::setsockopt(socket, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof(no));
      listen_socket = socket;
    });
    // Every response: browsers must not guess HTML or script out of metrics, JSON or errors.
    server->set_default_headers({{"X-Content-Type-Options", "nosniff"}});
    // Before routing, so every path (unknown ones too) asks for credentials, and before a
    // request body is read.
    server->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
      web.Refresh();
      const std::shared_ptr<internal::BasicAuth> basic_auth = web.basic_auth();
      if (basic_auth && !basic_auth->Allows(request.get_header_value("Authorization"))) {
        response.status = 401;
        response.set_header("WWW-Authenticate", "Basic realm=\"llm_probe_exporter\", charset=\"UTF-8\"");
        response.set_content("Unauthorized\n", kText);
        return httplib::Server::HandlerResponse::Handled;
      }
      // `curl -X POST .../-/reload` sends neither a body nor a Content-Length, which cpp-httplib
      // rejects with 400 once routing reads the body; such a request has no body (RFC 9112 6.3).
      if (request.method == "POST" && request.path == "/-/reload" && !request.has_header("Content-Length") &&
          !request.has_header("Transfer-Encoding")) {
        Reload(response);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server->set_logger([](const httplib::Request& request, const httplib::Response& response) {
      if (!LogEnabled(LogLevel::kDebug)) return;
      Log(LogLevel::kDebug, "http", "request",
          {{"method", request.method}, {"path", request.path}, {"status", std::to_string(response.status)}});
    });
    Routes();
  }

  void Routes() {
    server->Get(options.telemetry_path, [this](const httplib::Request& request, httplib::Response& response) {
      std::shared_ptr<std::string> body = text_buffers.Acquire();
      collector.CollectText(*body);
      response.set_header("Vary", "Accept-Encoding");
      if (AcceptsGzip(request.get_header_value("Accept-Encoding"))) {
        // Compressed here, at the fastest level: cpp-httplib would use zlib's default level,
        // the larger part of a scrape's time. A content provider of known length is sent as is.
        std::shared_ptr<std::string> gzipped = gzip_buffers.Acquire();
        if (GzipFast(*body, *gzipped)) {
          response.set_header("Content-Encoding", "gzip");
          body = std::move(gzipped);
        }
      }
      response.set_content_provider(body->size(), kMetricsContentType,
                                    [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                      return sink.write(body->data() + offset, length);
                                    });
    });
    server->Get("/-/healthy", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("Healthy\n", kText);
    });
    server->Get("/-/ready", [this](const httplib::Request&, httplib::Response& response) {
      const bool ready = store.Read().config != nullptr;
      response.status = ready ? 200 : 503;
      response.set_content(ready ? "Ready\n" : "Not ready: no configuration loaded\n", kText);
    });
    server->Post("/-/reload", [this](const httplib::Request&, httplib::Response& response) { Reload(response); });
    server->Get("/-/reload", [](const httplib::Request&, httplib::Response& response) {
      response.status = 405;
      response.set_header("Allow", "POST");
      response.set_content("Use POST to reload the configuration.\n", kText);
    });
    server->Get("/api/v1/targets", [this](const httplib::Request& request, httplib::Response& response) {
      const StoreView view = store.Read();
      if (request.has_param("group")) {
        const auto document = internal::GroupDocument(view, request.get_param_value("group"));
        if (!document) return SendError(response, 404, "no such group");
        return SendJson(response, *document);
      }
      SendJson(response, internal::TargetsDocument(view, RedactorFor(view), NowUnix()));
    });
    server->Get("/probe", [this](const httplib::Request& request, httplib::Response& response) {
      OnDemand(request, response);
    });
    server->Get("/", [this](const httplib::Request&, httplib::Response& response) {
      const StoreView view = store.Read();
      // The page has no script, no frame and no form, and styles only inline: nothing else may load.
      response.set_header("Content-Security-Policy",
                          "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'");
      response.set_content(internal::StatusPage(internal::TargetsDocument(view, RedactorFor(view), NowUnix()),
                                                options.telemetry_path),
                           "text/html; charset=utf-8");
    });
  }

  void Reload(httplib::Response& response) {
    const ReloadOutcome outcome =
        options.reload ? options.reload() : ReloadOutcome{ReloadOutcome::kFailed, "reload is not available"};
    if (outcome.kind == ReloadOutcome::kFailed) {
      response.status = 500;
      response.set_content("Reload failed; the running configuration stays: " +
                               RedactorFor(store.Read()).Redact(outcome.error) + "\n",
                           kText);
      return;
    }
    response.set_content(outcome.kind == ReloadOutcome::kUnchanged ? "Configuration unchanged\n"
                                                                   : "Configuration reloaded\n",
                         kText);
  }


  void OnDemand(const httplib::Request& request, httplib::Response& response) {
    const std::string target = request.get_param_value("target");
    const std::string probe = request.get_param_value("probe");
    if (target.empty() || probe.empty()) return SendError(response, 400, "target and probe are required");
    const StoreView before = store.Read();
    const ProbeSnapshot* configured = FindProbe(before, target, probe);
    if (configured == nullptr) return SendError(response, 404, "no such target and probe");
    const auto wait_limit = configured->probe->timeout + kOnDemandMargin;
    {
      std::lock_guard lock(on_demand_mutex);
      const auto now = Clock::now();
      auto [last, inserted] = last_on_demand.try_emplace({target, probe}, now);
      const double since = std::chrono::duration<double>(now - last->second).count();
      if (!inserted && since < options.on_demand_min_interval_seconds) {
        const int wait = static_cast<int>(options.on_demand_min_interval_seconds - since) + 1;
        response.set_header("Retry-After", std::to_string(wait));
        return SendError(response, 429, "this probe ran on demand moments ago; retry later");
      }
      last->second = now;
    }
    auto pending = runner.RunNow(target, probe);
    if (pending.wait_for(wait_limit) != std::future_status::ready) {
      return SendError(response, 504, "the probe did not finish in time");
    }
    const auto run = pending.get();
    if (!run) {
      if (!FindProbe(store.Read(), target, probe)) return SendError(response, 404, "no such target and probe");
      return SendError(response, 503, "the exporter is stopping");
    }
    if (run->refusal) {
      const bool backoff = run->refusal->reason == SkipReason::kBackoff;
      response.set_header("Retry-After", std::to_string(static_cast<long>(std::ceil(run->refusal->retry_after_seconds))));
      return SendJson(response,
                      {{"error", backoff ? "the upstream asked for a pause (Retry-After); the probe waits it out"
                                         : "the target's daily budget (max_usd_per_day) is spent"},
                       {"reason", backoff ? "backoff" : "budget"}},
                      429);
    }
    // A reload may have come in while the probe ran: its keys are redacted too.
    std::vector<std::string> secrets = SecretsOf(before);
    for (auto& secret : SecretsOf(store.Read())) secrets.push_back(std::move(secret));
    SendJson(response, internal::OnDemandDocument(*run, request.get_param_value("debug") == "true",
                                                  Redactor(std::move(secrets))));
  }
};

HttpServer::HttpServer(ServerOptions options, const SnapshotStore& store, const Collector& collector,
                       ProbeRunner& runner)
    : impl_(std::make_unique<Impl>(std::move(options), store, collector, runner)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::Bind() {
  const ListenAddress& listen = impl_->options.listen;
  const std::string host = listen.host == kDualStackHost && !HasIpv6() ? "0.0.0.0" : listen.host;
  errno = 0;
  if (listen.port == 0) {
    impl_->port = impl_->server->bind_to_any_port(host);
  } else if (impl_->server->bind_to_port(host, listen.port)) {
    impl_->port = listen.port;
  } else {
    impl_->port = -1;
  }
  if (impl_->port <= 0) {
    const std::string reason = errno == EADDRINUSE ? "address already in use, by another exporter or program"
                               : errno != 0        ? std::strerror(errno)
                                                   : "address not available";
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    throw std::runtime_error("cannot listen on " + shown + ":" + std::to_string(listen.port) + ": " + reason);
  }
  // Listening again only raises the queue length (Linux keeps the socket and its connections).
  ::listen(impl_->listen_socket, kListenBacklog);
  return impl_->port;
}

void HttpServer::Start() {
  impl_->thread = std::thread([impl = impl_.get()] { impl->server->listen_after_bind(); });
}

void HttpServer::Stop() {
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace llm_probe
