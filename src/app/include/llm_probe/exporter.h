// The exporter assembled: config, probe runner, snapshot store, collector and HTTP server,
// and the reload that swaps a new config in or keeps the running one.
#pragma once

#include <memory>
#include <string>

#include "llm_probe/collector.h"
#include "llm_probe/config.h"
#include "llm_probe/server.h"

namespace llm_probe {

struct ExporterOptions {
  std::string config_file;
  ListenAddress listen{"0.0.0.0", 9835};
  std::string telemetry_path = "/metrics";
  // --web.config.file: TLS and basic auth; re-read for new connections when its files change.
  std::string web_config_file;  // empty: plain HTTP, no auth
  BuildInfo build;
  EnvLookup env;  // default: the process environment
  // --shard.index / --shard.count: probe only this shard's part of the config (ShardConfig),
  // at start and on every reload.
  int shard_index = 0;
  int shard_count = 1;
};

class Exporter {
 public:
  // Loads the config and the web config (throws ConfigError) and binds the listen address
  // (throws std::runtime_error); nothing runs yet.
  explicit Exporter(ExporterOptions options);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  int port() const;
  void Start();
  // Re-reads the config file. An unchanged file is a no-op; an invalid one keeps the running
  // config. A new config is serving (on /metrics, the page and the API) when this returns.
  // Safe from any thread.
  ReloadOutcome Reload();
  // Stops scheduling, waits for in-flight probes (each within its timeout), stops serving.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llm_probe
