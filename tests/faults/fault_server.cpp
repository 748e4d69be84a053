#include "fault_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace llm_probe::faults {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPiece = 64 * 1024;
constexpr std::size_t kHundredMegabytes = 100 * 1000 * 1000;

const std::string kChatReply =
    R"({"id":"chatcmpl-fault","object":"chat.completion","created":1700000000,"model":"gpt-4o",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"OK"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}})";

std::string ContentChunk(std::string_view content) {
  return R"(data: {"id":"chatcmpl-fault","object":"chat.completion.chunk","model":"gpt-4o",)"
         R"("choices":[{"index":0,"delta":{"content":")" +
         std::string(content) + "\"},\"finish_reason\":null}]}\n\n";
}

const std::string kRoleChunk =
    R"(data: {"id":"chatcmpl-fault","object":"chat.completion.chunk","model":"gpt-4o",)"
    R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"
    "\n\n";

std::string Response(int status, std::string_view reason, std::string_view content_type,
                     std::string_view body, std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\nContent-Type: " +
         std::string(content_type) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "Connection: close\r\n\r\n" + std::string(body);
}

const std::string kStreamHeaders =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Connection: close\r\n\r\n";

}  // namespace

// 256 MiB of zeros, gzip-compressed once (about 260 KiB: deflate's best ratio is ~1000:1).
const std::string& GzipBomb() {
  static std::once_flag once;
  static std::string compressed;
  std::call_once(once, [] {
    z_stream stream{};
    deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    const std::string zeros(1 << 20, '\0');
    char out[kPiece];
    for (int mebibyte = 0; mebibyte < 256; ++mebibyte) {
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
      stream.avail_in = static_cast<uInt>(zeros.size());
      const int flush = mebibyte == 255 ? Z_FINISH : Z_NO_FLUSH;
      do {
        stream.next_out = reinterpret_cast<Bytef*>(out);
        stream.avail_out = sizeof out;
        deflate(&stream, flush);
        compressed.append(out, sizeof out - stream.avail_out);
      } while (stream.avail_out == 0);
    }
    deflateEnd(&stream);
  });
  return compressed;
}

FaultServer::FaultServer() = default;

FaultServer::~FaultServer() { Stop(); }

int FaultServer::Start() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 1024) != 0 || pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("fault server cannot listen: ") + std::strerror(errno));
  }
  socklen_t length = sizeof address;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return port_;
}

void FaultServer::Stop() {
  if (stopping_.exchange(true) || listen_fd_ < 0) return;
  (void)!write(wake_pipe_[1], "x", 1);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection->thread.join();
  close(listen_fd_);
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
}

std::string FaultServer::BaseUrl(const std::string& fault) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/f/" + fault + "/v1";
}

std::size_t FaultServer::open_connections() const {
  std::lock_guard lock(mutex_);
  std::size_t open = 0;
  for (const auto& connection : connections_) open += connection->done ? 0 : 1;
  return open;
}

void FaultServer::ReapFinished() {
  std::lock_guard lock(mutex_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultServer::AcceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, 1000) <= 0) continue;
    if (fds[1].revents) break;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted_;
    ReapFinished();
    auto connection = std::make_unique<Connection>();
    Connection* raw = connection.get();
    std::lock_guard lock(mutex_);
    connection->thread = std::thread([this, fd, raw] {
      Serve(fd);
      close(fd);
      raw->done = true;
    });
    connections_.push_back(std::move(connection));
  }
}

namespace {

class Peer {
 public:
  Peer(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

  // The request line's path; empty when the client went away first. Bodies are read and dropped.
  std::string ReadRequest() {
    std::string head;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    while ((header_end = head.find("\r\n\r\n")) == std::string::npos) {
      if (head.size() > (1 << 20) || !WaitReadable()) return {};
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) return {};
      head.append(buffer, static_cast<std::size_t>(got));
    }
    std::size_t body_length = 0;
    const auto length_at = head.find("Content-Length: ");
    if (length_at != std::string::npos && length_at < header_end) {
      body_length = std::stoul(head.substr(length_at + 16));
    }
    std::size_t have = head.size() - header_end - 4;
    while (have < body_length) {
      if (!WaitReadable()) return {};
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) return {};
      have += static_cast<std::size_t>(got);
    }
    const auto space = head.find(' ');
    return head.substr(space + 1, head.find(' ', space + 1) - space - 1);
  }

  // False once the client is gone or the server stops.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      pollfd fd{fd_, POLLOUT, 0};
      if (stopping_) return false;
      if (poll(&fd, 1, 100) <= 0) continue;
      const ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Waits until the client closes or the server stops; false if it stopped.
  void WaitForClose() {
    char buffer[4096];
    while (WaitReadable()) {
      if (recv(fd_, buffer, sizeof buffer, 0) <= 0) return;
    }
  }

  // Sleeps, waking for Stop() or the client's close; false when either happened.
  bool Pause(std::chrono::milliseconds duration) {
    const auto deadline = Clock::now() + duration;
    while (Clock::now() < deadline) {
      if (stopping_) return false;
      pollfd fd{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (poll(&fd, 1, static_cast<int>(std::min<long long>(left.count(), 50))) > 0) {
        char byte;
        if (recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return false;
      }
    }
    return !stopping_;
  }

  void Reset() {
    const linger hard{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  }

  void NoDelay() {
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

 private:
  bool WaitReadable() {
    while (!stopping_) {
      pollfd fd{fd_, POLLIN, 0};
      if (poll(&fd, 1, 100) > 0) return true;
    }
    return false;
  }

  int fd_;
  const std::atomic<bool>& stopping_;
};

void SendRepeated(Peer& peer, char byte, std::size_t total) {
  const std::string piece(kPiece, byte);
  for (std::size_t sent = 0; sent < total; sent += kPiece) {
    if (!peer.Send(std::string_view(piece).substr(0, std::min(kPiece, total - sent)))) return;
  }
}

}  // namespace

void FaultServer::Serve(int fd) {
  Peer peer(fd, stopping_);
  const std::string path = peer.ReadRequest();
  if (path.rfind("/f/", 0) != 0) return;
  const std::string fault = path.substr(3, path.find('/', 3) - 3);

  if (fault == "ok") {
    peer.Send(Response(200, "OK", "application/json", kChatReply));
  } else if (fault == "close-before-headers") {
    return;
  } else if (fault == "never-answer") {
    peer.WaitForClose();
  } else if (fault == "headers-then-stall") {
    peer.Send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
    peer.WaitForClose();
  } else if (fault == "drip") {
    peer.NoDelay();
    const std::string reply = Response(200, "OK", "application/json", kChatReply);
    for (const char byte : reply) {
      if (!peer.Send(std::string_view(&byte, 1)) || !peer.Pause(std::chrono::seconds(1))) return;
    }
  } else if (fault == "reset-mid-body") {
    const std::string body = kChatReply + std::string(2000, ' ');
    const std::string reply = Response(200, "OK", "application/json", body);
    peer.Send(std::string_view(reply).substr(0, reply.size() - body.size() / 2));
    peer.Reset();
  } else if (fault == "huge-body" || fault == "huge-body-unframed") {
    peer.Send(fault == "huge-body"
                  ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(kHundredMegabytes) + "\r\n\r\n"
                  : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
    SendRepeated(peer, ' ', kHundredMegabytes);
  } else if (fault == "gzip-bomb") {
    const std::string& bomb = GzipBomb();
    peer.Send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
              "Content-Length: " + std::to_string(bomb.size()) + "\r\n\r\n");
    peer.Send(bomb);
  } else if (fault == "invalid-utf8") {
    std::string body = kChatReply;
    body.replace(body.find("\"OK\""), 4, "\"O\xff\xfe\xc0\xafK\"");
    peer.Send(Response(200, "OK", "application/json", body));
  } else if (fault == "invalid-utf8-error") {
    peer.Send(Response(401, "Unauthorized", "application/json",
                       "{\"error\":{\"message\":\"Incorrect API key \xff\xfe\xed\xa0\x80\","
                       "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}"));
  } else if (fault == "invalid-json") {
    peer.Send(Response(200, "OK", "application/json", kChatReply.substr(0, kChatReply.size() / 2)));
  } else if (fault == "json-array") {
    peer.Send(Response(200, "OK", "application/json", "[" + kChatReply + "]"));
  } else if (fault == "deep-json") {
    peer.Send(Response(200, "OK", "application/json", std::string(100000, '[') + std::string(100000, ']')));
  } else if (fault == "deep-json-error") {
    std::string body;
    for (int i = 0; i < 100000; ++i) body += "{\"error\":";
    body += "1" + std::string(100000, '}');
    peer.Send(Response(400, "Bad Request", "application/json", body));
  } else if (fault == "html-502") {
    peer.Send(Response(502, "Bad Gateway", "text/html",
                       "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
                       "Gateway</h1></center><hr><center>nginx</center></body></html>\n"));
  } else if (fault == "redirect-loop") {
    peer.Send(Response(302, "Found", "text/plain", "", "Location: " + path + "\r\n"));
  } else if (fault == "error-envelope-200") {
    peer.Send(Response(200, "OK", "application/json",
                       R"({"error":{"message":"upstream failed","type":"server_error","code":"internal_error"}})"));
  } else if (fault == "huge-content") {
    std::string body = kChatReply;
    body.replace(body.find("\"OK\""), 4, "\"" + std::string(3 << 20, 'a') + "\"");
    peer.Send(Response(200, "OK", "application/json", body));
  } else if (fault == "sse-endless") {
    if (!peer.Send(kStreamHeaders + kRoleChunk)) return;
    while (peer.Pause(std::chrono::milliseconds(50)) && peer.Send(ContentChunk("x"))) {
    }
  } else if (fault == "sse-10mb-line" || fault == "sse-2mb-line") {
    if (!peer.Send(kStreamHeaders + kRoleChunk + "data: ")) return;
    SendRepeated(peer, 'a', fault == "sse-10mb-line" ? 10 * 1000 * 1000 : 2 << 20);
    peer.Send("\n\ndata: [DONE]\n\n");
  } else if (fault == "sse-10000-events") {
    if (!peer.Send(kStreamHeaders + kRoleChunk)) return;
    std::string batch;
    for (int event = 1; event <= 10000; ++event) {
      batch += ContentChunk("t");
      if (event % 100 == 0) {
        if (!peer.Send(batch)) return;
        batch.clear();
      }
    }
    peer.Send(R"(data: {"id":"chatcmpl-fault","object":"chat.completion.chunk","model":"gpt-4o",)"
              R"("choices":[],"usage":{"prompt_tokens":8,"completion_tokens":10000,"total_tokens":10008}})"
              "\n\ndata: [DONE]\n\n");
  } else if (fault == "sse-no-done") {
    peer.Send(kStreamHeaders + kRoleChunk + ContentChunk("O") + ContentChunk("K"));
  }
}

}  // namespace llm_probe::faults
