#include <curl/curl.h>
#include <openssl/asn1.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm_probe/http_client.h"
#include "llm_probe/text.h"
#include "trust_store.h"

namespace llm_probe {
namespace {

using Clock = std::chrono::steady_clock;

std::once_flag global_init_once;

struct Transfer {
  HttpRequest request;
  HttpClient::Callback on_done;
  HttpExchange exchange;
  Clock::time_point started;
  CURL* handle = nullptr;
  X509StorePtr trust;  // installed into the connection's SSL_CTX by InstallTrust
  bool full_handshake = false;  // a TLS handshake that did not resume a session
  curl_slist* header_list = nullptr;
  bool body_limit_hit = false;
  bool cross_origin_redirect = false;
  std::string origin;  // ExactOriginOf the request URL, when redirects are followed
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// A header line without its CRLF.
std::string_view WithoutLineEnd(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// "scheme://host:port" of an absolute URL, or of `relative` resolved against `base`, with the
// scheme's default port filled in; empty when unparsable.
std::string ExactOriginOf(const std::string& base, const std::string& relative = {}) {
  CURLU* url = curl_url();
  std::string origin;
  if (curl_url_set(url, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      (relative.empty() || curl_url_set(url, CURLUPART_URL, relative.c_str(), 0) == CURLUE_OK)) {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      origin = AsciiLower(scheme) + "://" + AsciiLower(host) + ":" + port;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(url);
  return origin;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

SSL* TlsOf(CURL* handle) {
  curl_tlssessioninfo* session = nullptr;
  if (curl_easy_getinfo(handle, CURLINFO_TLS_SSL_PTR, &session) != CURLE_OK || !session ||
      session->backend != CURLSSLBACKEND_OPENSSL) {
    return nullptr;
  }
  return static_cast<SSL*>(session->internals);
}

std::optional<double> UnixTime(const ASN1_TIME* time) {
  std::tm parts{};
  if (!time || ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return static_cast<double>(timegm(&parts));
}

// Earliest notAfter of the chain the server presented (a resumed session keeps it), read from
// the connection: libcurl's CERTINFO would print every field of every certificate as text.
std::optional<double> EarliestCertificateExpiry(SSL* tls) {
  const STACK_OF(X509)* chain = SSL_get_peer_cert_chain(tls);
  std::optional<double> earliest;
  for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
    const auto expiry = UnixTime(X509_get0_notAfter(sk_X509_value(chain, i)));
    if (expiry && (!earliest || *expiry < *earliest)) earliest = expiry;
  }
  return earliest;
}

// Stream timing needs the time each SSE line ended, not each read: an upstream that sent its
// body in 1-byte chunks made one stamp per byte (64-96 MB for a 4 MiB body). A chunk without a
// line end completes no line, so it gets no stamp of its own (the next stamp covers its bytes);
// past kMaxArrivals the last stamp moves on instead, so only a stream of more lines than that
// loses the grain of its last ones (the end time stays exact).
constexpr std::size_t kMaxArrivals = 8192;

void StampArrival(std::vector<BodyArrival>& arrivals, std::size_t end, double seconds) {
  if (arrivals.size() < kMaxArrivals) {
    arrivals.push_back({end, seconds});
  } else {
    arrivals.back() = {end, seconds};
  }
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string& body = transfer->exchange.body;
  if (body.size() + bytes > transfer->request.body_limit) {
    transfer->body_limit_hit = true;
    return 0;  // aborts the transfer: a huge reply must not cost its size in memory
  }
  body.append(data, bytes);
  if (std::string_view(data, bytes).find_first_of("\r\n") != std::string_view::npos) {
    StampArrival(transfer->exchange.arrivals, body.size(), SecondsSince(transfer->started));
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->exchange.headers.clear();  // keep only the final response's headers
    // The connection is still open here (it closes before the transfer ends): read the chain
    // the server presented, for the final response's connection.
    if (SSL* tls = TlsOf(transfer->handle)) {
      transfer->exchange.tls_cert_expiry_unix = EarliestCertificateExpiry(tls);
      transfer->exchange.tls_session_resumed = SSL_session_reused(tls) == 1;
      transfer->full_handshake = !transfer->exchange.tls_session_resumed;
    }
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name = AsciiLower(line.substr(0, colon));
  std::string value(TrimOws(WithoutLineEnd(line.substr(colon + 1))));
  // The API key travels in headers; a redirect to another origin would hand it over: another
  // host, but also another port (another service) or http:// (in clear text). libcurl keeps
  // custom headers such as x-api-key on every redirect.
  if (name == "location" && transfer->request.follow_redirects &&
      ExactOriginOf(transfer->request.url, value) != transfer->origin) {
    transfer->cross_origin_redirect = true;
    return 0;
  }
  if (transfer->exchange.headers.size() < 256) {
    transfer->exchange.headers.emplace_back(std::move(name), std::move(value));
  }
  return bytes;
}

TransportError TransportErrorOf(CURLcode code, const Transfer& transfer) {
  switch (code) {
    case CURLE_OK:
      return TransportError::kNone;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportError::kDns;
    case CURLE_COULDNT_CONNECT:
      return TransportError::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return TransportError::kTls;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
      return TransportError::kRecv;
    case CURLE_TOO_MANY_REDIRECTS:
      return TransportError::kTooManyRedirects;
    case CURLE_WRITE_ERROR:
      if (transfer.body_limit_hit) return TransportError::kBodyTooLarge;
      if (transfer.cross_origin_redirect) return TransportError::kTooManyRedirects;
      return TransportError::kOther;
    default:
      return TransportError::kOther;
  }
}

PhaseTimings PhasesOf(CURL* handle) {
  auto seconds = [handle](CURLINFO info) {
    curl_off_t micros = 0;
    curl_easy_getinfo(handle, info, &micros);
    return static_cast<double>(micros) / 1e6;
  };
  const double resolved = seconds(CURLINFO_NAMELOOKUP_TIME_T);
  const double connected = std::max(seconds(CURLINFO_CONNECT_TIME_T), resolved);
  const double handshaken = std::max(seconds(CURLINFO_APPCONNECT_TIME_T), connected);
  const double sent = std::max(seconds(CURLINFO_PRETRANSFER_TIME_T), handshaken);
  const double first_byte = std::max(seconds(CURLINFO_STARTTRANSFER_TIME_T), sent);
  const double total = std::max(seconds(CURLINFO_TOTAL_TIME_T), first_byte);
  return {resolved, connected - resolved, handshaken - connected, first_byte - sent,
          total - first_byte};
}

// CURLOPT_SSL_CTX_FUNCTION: libcurl makes a new SSL_CTX per connection; it gets the shared
// store instead of parsing CA files into a store of its own.
CURLcode InstallTrust(CURL*, void* ssl_ctx, void* user) {
  X509_STORE* store = static_cast<Transfer*>(user)->trust.get();
  if (store && X509_STORE_up_ref(store) == 1) SSL_CTX_set_cert_store(static_cast<SSL_CTX*>(ssl_ctx), store);
  return CURLE_OK;
}

}  // namespace

// Easy handles are kept for reuse: creating and freeing one per probe (with its 16 KiB receive
// buffer) was a tenth of the probe loop's CPU. Reuse never carries a connection or a TLS session
// over: every transfer sets FRESH_CONNECT, FORBID_REUSE and no session-ID cache of its own.
constexpr std::size_t kMaxIdleHandles = 64;
// With tls.session_resumption, how old the last full handshake with an origin may be: the
// certificate expiry is refreshed from a full handshake at least this often.
constexpr auto kFullHandshakeEvery = std::chrono::hours(1);

// "https://host:port" of a URL: the key libcurl's session cache uses, near enough.
std::string_view OriginOf(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return url;
  return url.substr(0, url.find('/', scheme_end + 3));
}

struct HttpClient::Impl {
  CURLM* multi = nullptr;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::vector<CURL*> idle;  // reset handles, ready for the next transfer
  std::vector<CURL*> idle_sharing;  // the same, attached to `sessions`
  TrustStores trust_stores;
  CURLSH* sessions = nullptr;  // TLS sessions, for targets with tls.session_resumption only
  std::map<std::string, Clock::time_point, std::less<>> full_handshakes;  // last one, by origin

  // Handles that use the shared session cache are kept apart from the others: libcurl 7.88
  // loses (leaks) a handle's own session cache when a used handle is attached to a share, and
  // curl_easy_reset keeps a handle attached.
  std::vector<CURL*>& IdleFor(bool sharing) { return sharing ? idle_sharing : idle; }

  CURL* TakeHandle(bool sharing) {
    std::vector<CURL*>& pool = IdleFor(sharing);
    if (pool.empty()) return curl_easy_init();
    CURL* handle = pool.back();
    pool.pop_back();
    return handle;
  }

  void ReturnHandle(CURL* handle, bool sharing) {
    std::vector<CURL*>& pool = IdleFor(sharing);
    if (pool.size() >= kMaxIdleHandles) return curl_easy_cleanup(handle);
    curl_easy_reset(handle);
    pool.push_back(handle);
  }

  // The shared store through InstallTrust, with no file left for libcurl to parse; libcurl's
  // own CA files when the store cannot be loaded or this libcurl is not built on OpenSSL, for an
  // http URL (it may redirect to https) and behind an HTTPS proxy (whose handshake would get
  // the target's store too).
  void SetTrust(Transfer& transfer, CURL* handle) {
    const HttpRequest& req = transfer.request;
    if (req.insecure_skip_verify) {
      curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
      // libcurl would parse its default CA files all the same.
      curl_easy_setopt(handle, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(handle, CURLOPT_CAPATH, nullptr);
      return;
    }
    if (req.url.rfind("https:", 0) == 0 && req.proxy_url.rfind("https:", 0) != 0) {
      transfer.trust = trust_stores.Acquire(req.ca_file);
      if (transfer.trust && curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, InstallTrust) == CURLE_OK) {
        curl_easy_setopt(handle, CURLOPT_SSL_CTX_DATA, &transfer);
        curl_easy_setopt(handle, CURLOPT_CAINFO, nullptr);
        curl_easy_setopt(handle, CURLOPT_CAPATH, nullptr);
        // libcurl's own cache (7.87+) would keep the first connection's store for 24 hours and
        // put it back over the one InstallTrust gives later connections, changed file or not.
        curl_easy_setopt(handle, CURLOPT_CA_CACHE_TIMEOUT, 0L);
        return;
      }
      transfer.trust.reset();
    }
    if (!req.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, req.ca_file.c_str());
  }

  // A resumed session only after a full handshake with the origin in the last hour. The first
  // handshake stores its session for the next probes; an hourly one stores none, and those probes
  // go on with the session (or the tickets it was refreshed with) they already had.
  void SetSessionResumption(const HttpRequest& req, CURL* handle) {
    if (!req.tls_session_resumption) {
      curl_easy_setopt(handle, CURLOPT_SHARE, nullptr);
      curl_easy_setopt(handle, CURLOPT_SSL_SESSIONID_CACHE, 0L);
      return;
    }
    const auto last = full_handshakes.find(OriginOf(req.url));
    const bool resume = last == full_handshakes.end() || Clock::now() - last->second < kFullHandshakeEvery;
    curl_easy_setopt(handle, CURLOPT_SHARE, sessions);
    curl_easy_setopt(handle, CURLOPT_SSL_SESSIONID_CACHE, resume ? 1L : 0L);
  }

  void Finish(CURL* handle, CURLcode code) {
    auto node = transfers.extract(handle);
    Transfer& transfer = *node.mapped();
    if (transfer.full_handshake && transfer.request.tls_session_resumption) {
      full_handshakes.insert_or_assign(std::string(OriginOf(transfer.request.url)), Clock::now());
    }
    HttpExchange& exchange = transfer.exchange;
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    exchange.status = static_cast<int>(status);
    exchange.phases = PhasesOf(handle);
    exchange.total_seconds = SecondsSince(transfer.started);
    // The bytes after the last line end, so that the SSE parser sees a stream cut mid-line.
    if (exchange.body.size() > (exchange.arrivals.empty() ? 0 : exchange.arrivals.back().end)) {
      StampArrival(exchange.arrivals, exchange.body.size(), exchange.total_seconds);
    }
    exchange.error = TransportErrorOf(code, transfer);
    if (exchange.error != TransportError::kNone) {
      exchange.error_detail = transfer.body_limit_hit ? "reply body over the size limit"
                              : transfer.cross_origin_redirect
                                  ? "redirect to another origin (scheme, host or port) refused"
                                  : (transfer.error_buffer[0] ? transfer.error_buffer
                                                              : curl_easy_strerror(code));
    }
    curl_multi_remove_handle(multi, handle);
    ReturnHandle(handle, transfer.request.tls_session_resumption);
    curl_slist_free_all(transfer.header_list);
    transfer.on_done(std::move(exchange));
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  std::call_once(global_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->multi = curl_multi_init();
  impl_->sessions = curl_share_init();
  curl_share_setopt(impl_->sessions, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

HttpClient::~HttpClient() {
  for (auto& [handle, transfer] : impl_->transfers) {
    curl_multi_remove_handle(impl_->multi, handle);
    curl_easy_cleanup(handle);
    curl_slist_free_all(transfer->header_list);
  }
  for (CURL* handle : impl_->idle) curl_easy_cleanup(handle);
  for (CURL* handle : impl_->idle_sharing) curl_easy_cleanup(handle);
  curl_multi_cleanup(impl_->multi);
  curl_share_cleanup(impl_->sessions);
}

void HttpClient::Start(HttpRequest request, Callback on_done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->on_done = std::move(on_done);
  // Only a transfer that may follow a redirect needs its origin (OnHeader checks the Location).
  if (transfer->request.follow_redirects) transfer->origin = ExactOriginOf(transfer->request.url);
  const HttpRequest& req = transfer->request;

  CURL* handle = impl_->TakeHandle(req.tls_session_resumption);
  transfer->handle = handle;
  curl_easy_setopt(handle, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, transfer->error_buffer);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.timeout.count()));
  // Every probe measures a whole exchange, connection set-up included, as a new client sees it.
  curl_easy_setopt(handle, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(handle, CURLOPT_FORBID_REUSE, 1L);
  // Nor a resumed TLS session from an earlier transfer: a full handshake, unless the target asks.
  impl_->SetSessionResumption(req, handle);
  // What the OpenAI and Anthropic SDKs ask for. Not br or zstd: on replies of a few hundred
  // bytes they save nothing and cost the upstream time that would count as probe latency
  // (brotli at its default quality: about 1.5 ms per reply on the mock; docs/benchmarks.md).
  // curl still decodes any encoding it supports if a server sends one unasked.
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "llm_probe_exporter");
  impl_->SetTrust(*transfer, handle);
  // The config is the only source of a proxy. libcurl would read http_proxy, HTTPS_PROXY,
  // ALL_PROXY and NO_PROXY from the environment: with proxy_url "" the key went to whatever
  // proxy http_proxy named, and NO_PROXY=* bypassed a configured egress proxy. "" disables the
  // proxy and an empty NO_PROXY list applies it to every host, environment or not.
  curl_easy_setopt(handle, CURLOPT_PROXY, req.proxy_url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "");
  if (req.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  for (const auto& [name, value] : req.headers) {
    const std::string line = name + ": " + value;
    transfer->header_list = curl_slist_append(transfer->header_list, line.c_str());
  }
  // curl would otherwise send "Expect: 100-continue" and wait on large bodies.
  transfer->header_list = curl_slist_append(transfer->header_list, "Expect:");
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, transfer->header_list);

  transfer->started = Clock::now();
  curl_multi_add_handle(impl_->multi, handle);
  impl_->transfers.emplace(handle, std::move(transfer));
}

void HttpClient::Poll(std::chrono::milliseconds max_wait) {
  int running = 0;
  curl_multi_perform(impl_->multi, &running);
  curl_multi_poll(impl_->multi, nullptr, 0, static_cast<int>(max_wait.count()), nullptr);
  curl_multi_perform(impl_->multi, &running);
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(impl_->multi, &queued)) {
    if (message->msg == CURLMSG_DONE) impl_->Finish(message->easy_handle, message->data.result);
  }
}

void HttpClient::Wakeup() { curl_multi_wakeup(impl_->multi); }

std::size_t HttpClient::InFlight() const { return impl_->transfers.size(); }

}  // namespace llm_probe
