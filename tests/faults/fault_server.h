// A raw-socket HTTP/1.1 server for the faults cpp-httplib cannot make: it reads one request per
// connection and then misbehaves as the path says, byte by byte if need be. One thread per
// connection; every wait polls the stop flag, so Stop() ends hung and streaming connections at
// once. It never holds a big reply in memory (100 MB bodies and 10 MB lines are written in
// 64 KiB pieces), so the memory a test measures is the client's.
//
// URL: http://127.0.0.1:PORT/f/<fault>/v1/...   (BaseUrl(fault) ends in /v1)
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace llm_probe::faults {

// The faults, by the path segment that picks them. "ok" is a well-formed chat completion.
inline const std::vector<std::string>& FaultNames() {
  static const std::vector<std::string> names = {
      "ok",                    // 200, a normal chat.completion
      "close-before-headers",  // reads the request, closes without a byte
      "never-answer",          // reads the request, says nothing until the client gives up
      "headers-then-stall",    // 200 headers with Content-Length: 1000, then nothing
      "drip",                  // a normal reply, one byte per second
      "reset-mid-body",        // headers and half the body, then a TCP RST
      "huge-body",             // 200, Content-Length: 100 MB of JSON whitespace
      "huge-body-unframed",    // 200, no length, Connection: close, 100 MB
      "gzip-bomb",             // Content-Encoding: gzip, 256 MiB of zeros in ~260 KiB
      "invalid-utf8",          // 200, JSON with invalid UTF-8 inside the content string
      "invalid-utf8-error",    // 401, an error envelope with invalid UTF-8 in the message
      "invalid-json",          // 200, truncated JSON
      "json-array",            // 200, a JSON array where an object is expected
      "deep-json",             // 200, 100,000 nested arrays
      "deep-json-error",       // 400, 100,000 nested objects
      "html-502",              // 502, an HTML page from a proxy
      "redirect-loop",         // 302 to itself, forever
      "error-envelope-200",    // 200 with {"error": {...}}
      "huge-content",          // 200, a well-formed reply whose content is 3 MiB
      "sse-endless",           // an event stream that sends a token every 50 ms, forever
      "sse-10mb-line",         // an event stream with one data line of 10 MB
      "sse-2mb-line",          // an event stream with one data line of 2 MiB (under the body limit)
      "sse-10000-events",      // 10,000 content events, usage, [DONE]
      "sse-no-done",           // an event stream that ends cleanly without [DONE]
  };
  return names;
}

// The gzip bomb's bytes, made on first use (a second or two of deflate): call it before a
// test's clock matters.
const std::string& GzipBomb();

class FaultServer {
 public:
  FaultServer();
  ~FaultServer();
  FaultServer(const FaultServer&) = delete;
  FaultServer& operator=(const FaultServer&) = delete;

  // Binds 127.0.0.1 on a free port and accepts on a background thread; returns the port.
  int Start();
  // Closes the listener and every connection, and joins all threads.
  void Stop();
  int port() const { return port_; }
  std::string BaseUrl(const std::string& fault) const;
  // Connections accepted so far, and those still open.
  std::size_t accepted() const { return accepted_.load(); }
  std::size_t open_connections() const;

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void AcceptLoop();
  void Serve(int fd);
  void ReapFinished();

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> accepted_{0};
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace llm_probe::faults
