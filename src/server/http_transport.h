// Internal to the server module: HTTP/1.1 over TCP or TLS, on Boost.Beast's parser and serializer
// (docs/reliability.md, "The HTTP server", says why not cpp-httplib or CivetWeb). It owns the
// sockets and their bounds and knows nothing of the routes: each request goes to one handler.
//
// Bounds (connection_limits.h): `workers` threads serve one connection each; accepted
// connections beyond them wait in a queue of `queued`; beyond that the accept loop stops and
// the kernel's listen backlog holds them, which costs no descriptor. Every read of a request
// (line, headers and body) and every write of a reply has a deadline, so a connection holds a
// worker for at most that long per request. No reply is ever cut into ranges.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection_limits.h"
#include "llm_probe/server.h"

namespace llm_probe::internal {

// A request as received: request line and headers (names as sent; looked up case-insensitively).
struct IncomingRequest {
  std::string method;
  std::string path;   // percent-decoded, without the query
  std::string query;  // as sent, after '?'
  std::string remote_address;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that name, or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The first query parameter of that name, decoded ('+' is a space), or "".
  std::string param(std::string_view name) const;
  bool has_param(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::shared_ptr<const std::string> body = std::make_shared<const std::string>();
  std::vector<std::pair<std::string, std::string>> headers;

  void Text(int code, std::string text, std::string type = "text/plain; charset=utf-8") {
    status = code;
    content_type = std::move(type);
    body = std::make_shared<const std::string>(std::move(text));
  }
};

// "%41+b" -> "A b" when `plus_is_space`; a malformed escape is kept as it is.
std::string PercentDecode(std::string_view text, bool plus_is_space);

class HttpTransport {
 public:
  using Handler = std::function<void(const IncomingRequest&, Reply&)>;

  // `tls`: null for plain HTTP; else a server context the transport shares (TLS connections are
  // made from it). `handler` runs on a worker thread and may block (an on-demand probe does).
  HttpTransport(ListenAddress listen, std::shared_ptr<SSL_CTX> tls, ConnectionLimits limits, Handler handler);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Binds and listens; throws std::runtime_error saying which address could not be bound and why.
  // Returns the bound port.
  int Bind();
  // Starts accepting and serving on background threads.
  void Start();
  // Stops accepting, ends idle connections, waits for requests being handled.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llm_probe::internal
