// The value types of one HTTP exchange: what a probe asks for and what came back, with a
// TransportError instead of exceptions. Plain data, shared by the protocol adapters (which
// build and read them) and the curl client (llm_probe/http_client.h, which carries them out).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Seconds spent in each phase of the HTTP exchange, from curl's cumulative timers.
struct PhaseTimings {
  double resolve = 0;
  double connect = 0;
  double tls = 0;
  double processing = 0;  // request sent until the first response byte
  double transfer = 0;    // first byte until the end
};

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

}  // namespace llm_probe
