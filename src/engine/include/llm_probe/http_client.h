// The HTTP client layer: a libcurl multi handle driven from one thread. Requests never throw;
// every outcome is an HttpExchange with a TransportError.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "llm_probe/exchange.h"

namespace llm_probe {

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
