#include "http_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "llm_probe/log.h"
#include "llm_probe/text.h"

namespace llm_probe::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

// A request body (POST /-/reload, POST /probe) is read and ignored; nothing needs more.
constexpr std::uint64_t kMaxRequestBodyBytes = 64 * 1024;
// How often a worker waiting on a connection looks whether the server is stopping.
constexpr auto kStopCheckInterval = std::chrono::milliseconds(100);

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> FindParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto ampersand = query.find('&');
    const std::string_view pair = query.substr(0, ampersand);
    query = ampersand == std::string_view::npos ? std::string_view() : query.substr(ampersand + 1);
    const auto equals = pair.find('=');
    if (PercentDecode(pair.substr(0, equals), true) != name) continue;
    return equals == std::string_view::npos ? std::string() : PercentDecode(pair.substr(equals + 1), true);
  }
  return std::nullopt;
}

bool HasIpv6() {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (probe < 0) return false;
  ::close(probe);
  return true;
}

std::string PeerAddress(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return "";
  char text[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, text, sizeof text);
    return text;
  }
  inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, text, sizeof text);
  const std::string_view address = text;
  // A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d; they are one client either way.
  constexpr std::string_view kMapped = "::ffff:";
  return std::string(address.rfind(kMapped, 0) == 0 && address.find('.') != std::string_view::npos
                         ? address.substr(kMapped.size())
                         : address);
}

}  // namespace

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return out;
}

std::string IncomingRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoringCase(key, name)) return value;
  }
  return {};
}

bool IncomingRequest::has_header(std::string_view name) const {
  for (const auto& entry : headers) {
    if (EqualsIgnoringCase(entry.first, name)) return true;
  }
  return false;
}

std::string IncomingRequest::param(std::string_view name) const { return FindParam(query, name).value_or(""); }

bool IncomingRequest::has_param(std::string_view name) const { return FindParam(query, name).has_value(); }

struct HttpTransport::Impl {
  ListenAddress listen;
  std::shared_ptr<SSL_CTX> tls_context;
  std::optional<asio::ssl::context> tls;
  ConnectionLimits limits;
  Handler handler;

  int listen_fd = -1;
  std::thread acceptor;
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per worker

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<int> accepted;  // connections waiting for a worker
  std::atomic<bool> stopping{false};

  // Runs the I/O started on `io` to its end. False when the server stops meanwhile: then the
  // connection is dropped and `io` is never run again (its pending handlers refer to the
  // connection's locals).
  bool Run(asio::io_context& io) {
    io.restart();
    while (!io.stopped()) {
      io.run_for(kStopCheckInterval);
      if (stopping) return false;
    }
    return true;
  }

  void Accept() {
    for (;;) {
      {
        std::unique_lock lock(mutex);
        // A full queue stops the accepting: the kernel's backlog holds the rest, at no fd of ours.
        changed.wait(lock, [this] { return stopping || accepted.size() < static_cast<std::size_t>(limits.queued); });
        if (stopping) return;
      }
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping) return;
        // Out of descriptors (EMFILE) or another passing failure: the connection stays in the
        // backlog; try again shortly rather than spin.
        if (errno != EINTR && errno != ECONNABORTED) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      {
        std::lock_guard lock(mutex);
        accepted.push_back(fd);
      }
      changed.notify_all();
    }
  }

  void Work(asio::io_context& io) {
    for (;;) {
      int fd = -1;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [this] { return stopping || !accepted.empty(); });
        if (stopping) return;
        fd = accepted.front();
        accepted.pop_front();
      }
      changed.notify_all();
      try {
        if (!Serve(fd, io)) return;
      } catch (const std::exception& error) {
        Log(LogLevel::kError, "http", "connection failed", {{"error", error.what()}});
      }
    }
  }

  // False when the server stopped during the connection.
  bool Serve(int fd, asio::io_context& io) {
    const std::string remote = PeerAddress(fd);
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    beast::tcp_stream stream(io);
    ErrorCode error;
    stream.socket().assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, error);
    if (error) {
      ::close(fd);
      return true;
    }
    if (!tls) return Session(stream, io, remote);
    beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
    beast::get_lowest_layer(secure).expires_after(std::chrono::milliseconds(kRequestTimeoutMs));
    secure.async_handshake(asio::ssl::stream_base::server, [&error](const ErrorCode& result) { error = result; });
    if (!Run(io)) return false;
    if (error) return true;
    return Session(secure, io, remote);
  }

  template <typename Stream>
  bool Session(Stream& stream, asio::io_context& io, const std::string& remote) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kMaxRequestHeaderBytes);
      parser.body_limit(kMaxRequestBodyBytes);
      // The whole request, from the end of the previous reply: a deadline, not an idle timeout.
      beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(kRequestTimeoutMs));
      ErrorCode error;
      http::async_read(stream, buffer, parser, [&error](const ErrorCode& result, std::size_t) { error = result; });
      if (!Run(io)) return false;
      if (error) {
        if (error.category() != http::make_error_code(http::error::header_limit).category() ||
            error == http::error::end_of_stream || error == http::error::partial_message) {
          return true;  // closed, reset or timed out: nobody to answer
        }
        Reply refusal;
        refusal.Text(error == http::error::header_limit  ? 431
                     : error == http::error::body_limit ? 413
                                                        : 400,
                     "Bad request: " + error.message() + "\n");
        Write(stream, io, refusal, false, false, 11);
        return !stopping;
      }
      const auto& message = parser.get();
      IncomingRequest request;
      request.method = std::string(message.method_string());
      const std::string_view target(message.target().data(), message.target().size());
      const auto question = target.find('?');
      request.path = PercentDecode(target.substr(0, question), false);
      if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
      request.remote_address = remote;
      for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      Reply reply;
      handler(request, reply);
      const bool keep_alive = message.keep_alive();
      if (!Write(stream, io, reply, request.method == "HEAD", keep_alive, message.version())) return !stopping;
      if (!keep_alive) return true;
    }
  }

  template <typename Stream>
  bool Write(Stream& stream, asio::io_context& io, const Reply& reply, bool head, bool keep_alive, unsigned version) {
    http::response<http::span_body<const char>> response{static_cast<http::status>(reply.status), version};
    response.set(http::field::content_type, reply.content_type);
    // Every response: browsers must not guess HTML or script out of metrics, JSON or errors.
    response.set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : reply.headers) response.insert(name, value);
    response.body() = boost::beast::span<const char>(reply.body->data(), reply.body->size());
    response.content_length(reply.body->size());
    response.keep_alive(keep_alive);
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(kRequestTimeoutMs));
    ErrorCode error;
    http::response_serializer<http::span_body<const char>> serializer(response);
    auto done = [&error](const ErrorCode& result, std::size_t) { error = result; };
    if (head) {
      http::async_write_header(stream, serializer, done);
    } else {
      http::async_write(stream, serializer, done);
    }
    return Run(io) && !error;
  }
};

HttpTransport::HttpTransport(ListenAddress listen, std::shared_ptr<SSL_CTX> tls, ConnectionLimits limits,
                             Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->limits = limits;
  impl_->handler = std::move(handler);
  if (tls) {
    SSL_CTX_up_ref(tls.get());  // asio's context frees its own reference
    impl_->tls.emplace(tls.get());
    impl_->tls_context = std::move(tls);
  }
}

HttpTransport::~HttpTransport() {
  Stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

int HttpTransport::Bind() {
  Impl& impl = *impl_;
  // ":port" listens dual-stack; on a kernel without IPv6, on IPv4.
  const std::string host = impl.listen.host == "::" && !HasIpv6() ? "0.0.0.0" : impl.listen.host;
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  auto fail = [&](const std::string& reason) {
    throw std::runtime_error("cannot listen on " + shown + ":" + std::to_string(impl.listen.port) + ": " + reason);
  };
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(impl.listen.port).c_str(), &hints, &addresses) != 0 ||
      addresses == nullptr) {
    fail("address not available");
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(addresses, freeaddrinfo);
  const int fd = ::socket(addresses->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(std::strerror(errno));
  // SO_REUSEADDR lets a restart bind while old connections linger in TIME_WAIT, never while
  // another socket listens (no SO_REUSEPORT: a second exporter on the port must fail to start).
  const int yes = 1;
  const int no = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  // An IPv6 wildcard takes IPv4 too, whatever net.ipv6.bindv6only says.
  if (addresses->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
  if (::bind(fd, addresses->ai_addr, addresses->ai_addrlen) != 0 || ::listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    ::close(fd);
    fail(error == EADDRINUSE ? "address already in use, by another exporter or program" : std::strerror(error));
  }
  impl.listen_fd = fd;
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void HttpTransport::Start() {
  Impl& impl = *impl_;
  for (int i = 0; i < impl.limits.workers; ++i) {
    impl.contexts.push_back(std::make_unique<asio::io_context>(1));
    impl.workers.emplace_back([&impl, &io = *impl.contexts.back()] { impl.Work(io); });
  }
  impl.acceptor = std::thread([&impl] { impl.Accept(); });
}

void HttpTransport::Stop() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    if (impl.stopping) return;
    impl.stopping = true;
  }
  impl.changed.notify_all();
  // Wakes the accept loop: accept() on a shut-down listening socket returns at once.
  if (impl.listen_fd >= 0) ::shutdown(impl.listen_fd, SHUT_RDWR);
  if (impl.acceptor.joinable()) impl.acceptor.join();
  for (std::thread& worker : impl.workers) worker.join();
  impl.workers.clear();
  for (int fd : impl.accepted) ::close(fd);
  impl.accepted.clear();
}

}  // namespace llm_probe::internal
