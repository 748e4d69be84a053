#include "llm_probe/server.h"

#include <httplib.h>  // the client of CheckHealth only

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "basic_auth.h"
#include "connection_limits.h"
#include "http_transport.h"
#include "live_web_config.h"
#include "llm_probe/clock.h"
#include "llm_probe/compression.h"
#include "llm_probe/log.h"
#include "llm_probe/text.h"
#include "tls.h"
#include "views.h"

namespace llm_probe {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Bodies smaller than this go out as they are: gzip would save little and cost a buffer.
constexpr std::size_t kCompressFrom = 1024;

using internal::IncomingRequest;
using internal::Reply;

void SendJson(Reply& reply, const json& document, int status = 200) {
  reply.Text(status, document.dump(2, ' ', false, json::error_handler_t::replace) + "\n", kJson);
}

void SendError(Reply& reply, int status, const std::string& message) { SendJson(reply, {{"error", message}}, status); }

// gzip at zlib's fastest level when the client takes it. Never brotli: a client asking for br
// could make the server spend 10-15x the CPU of gzip on every page (issue 17).
void CompressIfAccepted(const IncomingRequest& request, Reply& reply,
                        std::shared_ptr<std::string> into = std::make_shared<std::string>()) {
  reply.headers.emplace_back("Vary", "Accept-Encoding");
  if (reply.body->size() < kCompressFrom || !AcceptsGzip(request.header("Accept-Encoding"))) return;
  if (!GzipFast(*reply.body, *into)) return;
  reply.headers.emplace_back("Content-Encoding", "gzip");
  reply.body = std::move(into);
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

// Whether a browser sent this request on behalf of another site's page. Browsers send Origin with
// every cross-origin POST (a plain form included, which needs no preflight) and Sec-Fetch-Site
// where they support it; curl, Prometheus and scripts send neither. So a request that changes
// something (an on-demand run costs money, a reload) is refused when either names another site.
bool IsCrossSite(const IncomingRequest& request) {
  const std::string fetch_site = request.header("Sec-Fetch-Site");
  if (!fetch_site.empty() && fetch_site != "same-origin" && fetch_site != "none") return true;
  const std::string origin = request.header("Origin");
  if (origin.empty()) return false;
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string::npos) return true;  // "null" (sandboxed frames, file:) and the like
  return !EqualsIgnoringCase(std::string_view(origin).substr(scheme_end + 3), request.header("Host"));
}

// Every TLS connection starts with the files as they are now (LiveWebConfig).
int UseCurrentTls(SSL* connection, int*, void* live) {
  auto& web = *static_cast<internal::LiveWebConfig*>(live);
  web.Refresh();
  web.UseCurrentTls(*connection);
  return SSL_CLIENT_HELLO_SUCCESS;
}

// An on-demand run ends within its probe's timeout; the margin covers a probe loop busy with
// other work. The wait is bounded all the same, so a stopping runner never holds a worker.
constexpr std::chrono::seconds kOnDemandMargin{5};

// ":port" is the dual-stack wildcard.
constexpr const char* kDualStackHost = "::";

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
  auto ask = [&](bool tls) {
    std::unique_ptr<httplib::ClientImpl> client;
    if (tls) {
      auto https = std::make_unique<httplib::SSLClient>(host, listen.port);
      https->enable_server_certificate_verification(false);
      client = std::move(https);
    } else {
      client = std::make_unique<httplib::ClientImpl>(host, listen.port);
    }
    client->set_connection_timeout(3, 0);
    client->set_read_timeout(3, 0);
    return client->Get("/-/healthy");
  };
  // Without the web config (a container's HEALTHCHECK line cannot know it), HTTPS is tried when
  // plain HTTP gets no HTTP answer: the port speaks TLS.
  auto response = ask(web.tls.has_value());
  if (!response && !web.tls && response.error() != httplib::Error::Connection) response = ask(true);
  if (!response) return "no answer from " + host + ":" + std::to_string(listen.port) + ": " + httplib::to_string(response.error());
  // Liveness needs no password: a 401 asking for basic auth is the server answering.
  const bool asks_for_password =
      response->status == 401 && response->get_header_value("WWW-Authenticate").rfind("Basic", 0) == 0;
  if (response->status != 200 && !asks_for_password) return "/-/healthy answered " + std::to_string(response->status);
  return {};
}

// Buffers for /metrics bodies, handed back when the reply is destroyed. Writing ~6 MB into
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
  // Two pools, so a text buffer's capacity is never spent on a gzip body ten times smaller.
  ScrapeBuffers text_buffers;
  ScrapeBuffers gzip_buffers;
  internal::LiveWebConfig web;
  std::unique_ptr<internal::HttpTransport> transport;

  std::mutex on_demand_mutex;
  std::map<std::pair<std::string, std::string>, Clock::time_point> last_on_demand;

  Impl(ServerOptions server_options, const SnapshotStore& snapshot_store, const Collector& metrics,
       ProbeRunner& probe_runner)
      : options(std::move(server_options)),
        store(snapshot_store),
        collector(metrics),
        runner(probe_runner),
        web(options.web_config_file, options.web) {
    transport = std::make_unique<internal::HttpTransport>(
        options.listen, MakeTlsContext(), internal::LimitsForFdLimit(internal::RaiseFdLimit()),
        [this](const IncomingRequest& request, Reply& reply) { Serve(request, reply); });
  }

  // The HTTPS context, or null for plain HTTP.
  std::shared_ptr<SSL_CTX> MakeTlsContext() {
    if (!options.web.tls) return nullptr;
    std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!context) throw std::runtime_error("cannot set up TLS: no TLS context");
    // The web config loader has set up the same files once already; this fails only when they
    // changed in between.
    if (const auto failure = internal::ConfigureTls(*context, *options.web.tls)) {
      throw std::runtime_error("cannot set up TLS: " + failure->message);
    }
    SSL_CTX_set_client_hello_cb(context.get(), UseCurrentTls, &web);
    return context;
  }

  void Serve(const IncomingRequest& request, Reply& reply) {
    try {
      Handle(request, reply);
    } catch (const std::exception& error) {
      Log(LogLevel::kError, "http", "request failed", {{"path", request.path}, {"error", error.what()}});
      reply = Reply{};
      reply.Text(500, "Internal server error\n");
    }
    if (LogEnabled(LogLevel::kDebug)) {
      Log(LogLevel::kDebug, "http", "request",
          {{"method", request.method}, {"path", request.path}, {"status", std::to_string(reply.status)}});
    }
  }

  void Handle(const IncomingRequest& request, Reply& reply) {
    // Before routing, so every path (unknown ones too) asks for credentials.
    web.Refresh();
    const std::shared_ptr<internal::BasicAuth> basic_auth = web.basic_auth();
    if (basic_auth) {
      const auto verdict = basic_auth->Check(request.header("Authorization"), request.remote_address);
      if (verdict != internal::BasicAuth::kAllowed) {
        if (verdict == internal::BasicAuth::kBusy) {
          reply.headers.emplace_back("Retry-After", "1");
          return reply.Text(429, "Too many logins at once from this address; retry\n");
        }
        reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"llm_probe_exporter\", charset=\"UTF-8\"");
        return reply.Text(401, "Unauthorized\n");
      }
    }
    const std::string_view path = request.path;
    const std::string_view method = request.method;
    const bool get = method == "GET" || method == "HEAD";
    auto only = [&](const char* allowed) {
      reply.headers.emplace_back("Allow", allowed);
      reply.Text(405, std::string("Method not allowed; use ") + allowed + "\n");
    };
    if (path == options.telemetry_path) return get ? Metrics(request, reply) : only("GET, HEAD");
    if (path == "/-/healthy") return get ? reply.Text(200, "Healthy\n") : only("GET, HEAD");
    if (path == "/-/ready") {
      if (!get) return only("GET, HEAD");
      const bool ready = store.Read().config != nullptr;
      return reply.Text(ready ? 200 : 503, ready ? "Ready\n" : "Not ready: no configuration loaded\n");
    }
    if (path == "/-/reload") {
      if (method != "POST") return only("POST");
      if (IsCrossSite(request)) return reply.Text(403, "Cross-site requests may not reload the configuration\n");
      return Reload(reply);
    }
    if (path == "/api/v1/targets") return get ? Targets(request, reply) : only("GET, HEAD");
    if (path == "/probe") {
      // An on-demand run can be billed: a link or an image on any web page would start one with
      // a GET, so only a POST from no browser page or from our own origin does.
      if (method != "POST") return only("POST");
      if (IsCrossSite(request)) return SendError(reply, 403, "cross-site requests may not run probes");
      return OnDemand(request, reply);
    }
    if (path == "/") return get ? StatusPage(request, reply) : only("GET, HEAD");
    reply.Text(404, "Not Found\n");
  }

  void Metrics(const IncomingRequest& request, Reply& reply) {
    std::shared_ptr<std::string> body = text_buffers.Acquire();
    collector.CollectText(*body);
    reply.content_type = kMetricsContentType;
    reply.body = body;
    // Compressed here, at the fastest level: zlib's default level would be the larger part of a
    // scrape's time.
    CompressIfAccepted(request, reply, gzip_buffers.Acquire());
  }

  void Targets(const IncomingRequest& request, Reply& reply) {
    const StoreView view = store.Read();
    if (request.has_param("group")) {
      const auto document = internal::GroupDocument(view, request.param("group"));
      if (!document) return SendError(reply, 404, "no such group");
      SendJson(reply, *document);
    } else {
      SendJson(reply, internal::TargetsDocument(view, RedactorFor(view), NowUnix()));
    }
    CompressIfAccepted(request, reply);
  }

  void StatusPage(const IncomingRequest& request, Reply& reply) {
    const StoreView view = store.Read();
    // The page has no script, no frame and no form, and styles only inline: nothing else may load.
    reply.headers.emplace_back("Content-Security-Policy",
                               "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'");
    reply.Text(200,
               internal::StatusPage(internal::TargetsDocument(view, RedactorFor(view), NowUnix()),
                                    options.telemetry_path),
               kHtml);
    CompressIfAccepted(request, reply);
  }

  void Reload(Reply& reply) {
    const ReloadOutcome outcome =
        options.reload ? options.reload() : ReloadOutcome{ReloadOutcome::kFailed, "reload is not available"};
    if (outcome.kind == ReloadOutcome::kFailed) {
      return reply.Text(500, "Reload failed; the running configuration stays: " +
                                 RedactorFor(store.Read()).Redact(outcome.error) + "\n");
    }
    reply.Text(200, outcome.kind == ReloadOutcome::kUnchanged ? "Configuration unchanged\n" : "Configuration reloaded\n");
  }

  void OnDemand(const IncomingRequest& request, Reply& reply) {
    const std::string target = request.param("target");
    const std::string probe = request.param("probe");
    if (target.empty() || probe.empty()) return SendError(reply, 400, "target and probe are required");
    const StoreView before = store.Read();
    const ProbeSnapshot* configured = FindProbe(before, target, probe);
    if (configured == nullptr) return SendError(reply, 404, "no such target and probe");
    const auto wait_limit = configured->probe->timeout + kOnDemandMargin;
    {
      std::lock_guard lock(on_demand_mutex);
      const auto now = Clock::now();
      auto [last, inserted] = last_on_demand.try_emplace({target, probe}, now);
      const double since = std::chrono::duration<double>(now - last->second).count();
      if (!inserted && since < options.on_demand_min_interval_seconds) {
        const int wait = static_cast<int>(options.on_demand_min_interval_seconds - since) + 1;
        reply.headers.emplace_back("Retry-After", std::to_string(wait));
        return SendError(reply, 429, "this probe ran on demand moments ago; retry later");
      }
      last->second = now;
    }
    auto pending = runner.RunNow(target, probe);
    if (pending.wait_for(wait_limit) != std::future_status::ready) {
      return SendError(reply, 504, "the probe did not finish in time");
    }
    const auto run = pending.get();
    if (!run) {
      if (!FindProbe(store.Read(), target, probe)) return SendError(reply, 404, "no such target and probe");
      return SendError(reply, 503, "the exporter is stopping");
    }
    if (run->refusal) {
      const bool backoff = run->refusal->reason == SkipReason::kBackoff;
      reply.headers.emplace_back("Retry-After",
                                 std::to_string(static_cast<long>(std::ceil(run->refusal->retry_after_seconds))));
      return SendJson(reply,
                      {{"error", backoff ? "the upstream asked for a pause (Retry-After); the probe waits it out"
                                         : "the target's daily budget (max_usd_per_day) is spent"},
                       {"reason", backoff ? "backoff" : "budget"}},
                      429);
    }
    // A reload may have come in while the probe ran: its keys are redacted too.
    std::vector<std::string> secrets = SecretsOf(before);
    for (auto& secret : SecretsOf(store.Read())) secrets.push_back(std::move(secret));
    SendJson(reply, internal::OnDemandDocument(*run, request.param("debug") == "true", Redactor(std::move(secrets))));
  }
};

HttpServer::HttpServer(ServerOptions options, const SnapshotStore& store, const Collector& collector,
                       ProbeRunner& runner)
    : impl_(std::make_unique<Impl>(std::move(options), store, collector, runner)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::Bind() { return impl_->transport->Bind(); }

void HttpServer::Start() { impl_->transport->Start(); }

void HttpServer::Stop() { impl_->transport->Stop(); }

}  // namespace llm_probe
