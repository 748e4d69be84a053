// The HTTP surface (DESIGN.md §5) on cpp-httplib: /metrics, the status page, the JSON API,
// on-demand probes, reload, liveness and readiness.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "llm_probe/collector.h"
#include "llm_probe/runner.h"
#include "llm_probe/snapshot.h"

namespace llm_probe {

struct ListenAddress {
  std::string host;  // "0.0.0.0" for ":port"
  int port = 0;
};
// "host:port", ":port" or "[v6]:port"; nullopt when malformed.
std::optional<ListenAddress> ParseListenAddress(const std::string& text);

struct ServerOptions {
  ListenAddress listen{"0.0.0.0", 9835};
  std::string telemetry_path = "/metrics";
  // Re-reads the config; returns an empty string on success, else the error.
  std::function<std::string()> reload;
  // At most one on-demand run per probe in this many seconds.
  double on_demand_min_interval_seconds = 10;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const SnapshotStore& store, const Collector& collector,
             ProbeRunner& runner);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listen address; throws std::runtime_error saying which address could not be bound.
  // Returns the bound port (useful with port 0).
  int Bind();
  // Serves on a background thread until Stop().
  void Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llm_probe
