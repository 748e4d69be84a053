// The HTTP client layer: a libcurl multi handle driven from one thread. Requests never throw;
// every outcome is an HttpExchange with a TransportError.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm_probe/result.h"

namespace llm_probe {

enum class TransportError : std::uint8_t {
  kNone,
  kTimeout,
  kDns,
  kConnect,       // refused, unreachable
  kTls,           // handshake or certificate
  kRecv,          // reset or closed before the reply was complete
  kBodyTooLarge,  // the reply outgrew HttpRequest::body_limit and was cut off
  kTooManyRedirects,
  kOther,
};

std::string_view TransportErrorName(TransportError error);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
  std::size_t body_limit = 4 * 1024 * 1024;
  bool follow_redirects = false;
  std::string ca_file;
  bool insecure_skip_verify = false;
  // Resume the TLS session of an earlier probe of this URL, with a full handshake at least hourly.
  bool tls_session_resumption = false;
  std::string proxy_url;
};

// A part of the body as it arrived, for stream probes: the body up to `end` had arrived
// `seconds` after the request started.
struct BodyArrival {
  std::size_t end = 0;
  double seconds = 0;
};

struct HttpExchange {
  TransportError error = TransportError::kNone;
  std::string error_detail;  // curl's message; never a label
  int status = 0;
  HeaderList headers;  // names lower-cased, in arrival order; the final response only
  std::string body;
  std::vector<BodyArrival> arrivals;
  PhaseTimings phases;
  double total_seconds = 0;
  std::optional<double> tls_cert_expiry_unix;
  bool tls_session_resumed = false;  // the handshake resumed an earlier session

  // First value of a header, by lower-case name.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

// Owns a curl multi handle. Start() and Poll() belong to one thread; Wakeup() may be called
// from any thread to end a Poll() early.
class HttpClient {
 public:
  using Callback = std::function<void(HttpExchange)>;

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void Start(HttpRequest request, Callback on_done);
  // Waits up to max_wait for socket activity or Wakeup(), drives the transfers and runs the
  // callbacks of those that finished.
  void Poll(std::chrono::milliseconds max_wait);
  void Wakeup();
  std::size_t InFlight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llm_probe
