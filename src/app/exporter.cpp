#include "llm_probe/exporter.h"

#include <mutex>

#include "llm_probe/clock.h"
#include "llm_probe/log.h"
#include "llm_probe/runner.h"

namespace llm_probe {

struct Exporter::Impl {
  ExporterOptions options;
  SnapshotStore store;
  Collector collector;
  ProbeRunner runner;
  std::unique_ptr<HttpServer> server;
  std::mutex reload_mutex;
  std::string running_checksum;
  int port = 0;
  bool serves_tls = false;

  explicit Impl(ExporterOptions exporter_options)
      : options(std::move(exporter_options)), collector(store, options.build), runner(store) {
    if (!options.env) options.env = ProcessEnvironment();
  }

  // The checksum stays the whole file's, so an edit that changes only other shards' targets is
  // still a reload here (a cheap one: this shard's probes keep their state).
  std::shared_ptr<const Config> LoadShard() const {
    return std::make_shared<const Config>(
        ShardConfig(LoadConfigFile(options.config_file, options.env), options.shard_index, options.shard_count));
  }
};

Exporter::Exporter(ExporterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto config = impl_->LoadShard();
  SetLogSecrets(config->Secrets());
  impl_->running_checksum = config->checksum;
  ServerOptions server_options;
  server_options.listen = impl_->options.listen;
  server_options.telemetry_path = impl_->options.telemetry_path;
  server_options.reload = [this] { return Reload(); };
  if (!impl_->options.web_config_file.empty()) server_options.web = LoadWebConfigFile(impl_->options.web_config_file);
  impl_->serves_tls = server_options.web.tls.has_value();
  impl_->server = std::make_unique<HttpServer>(server_options, impl_->store, impl_->collector, impl_->runner);
  impl_->port = impl_->server->Bind();
  impl_->store.UpdateStatus([](ExporterStatus& status) {
    status.config_reload_successful = true;
    status.config_reload_success_unix = NowUnix();
  });
  impl_->runner.Apply(std::move(config));
}

Exporter::~Exporter() { Stop(); }

int Exporter::port() const { return impl_->port; }

void Exporter::Start() {
  impl_->server->Start();
  Log(LogLevel::kInfo, "exporter", "listening",
      {{"address", impl_->options.listen.host + ":" + std::to_string(impl_->port)},
       {"scheme", impl_->serves_tls ? "https" : "http"},
       {"config", impl_->options.config_file}});
}

ReloadOutcome Exporter::Reload() {
  std::lock_guard lock(impl_->reload_mutex);
  std::shared_ptr<const Config> config;
  try {
    config = impl_->LoadShard();
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    impl_->store.UpdateStatus([&message](ExporterStatus& status) {
      status.config_reload_successful = false;
      status.config_error = message;
    });
    Log(LogLevel::kError, "config", "reload failed; the running configuration stays", {{"error", message}});
    return {ReloadOutcome::kFailed, message};
  }
  const bool unchanged = config->checksum == impl_->running_checksum;
  impl_->store.UpdateStatus([](ExporterStatus& status) {
    status.config_reload_successful = true;
    status.config_reload_success_unix = NowUnix();
    status.config_error.clear();
  });
  if (unchanged) {
    Log(LogLevel::kInfo, "config", "configuration unchanged; nothing to reload");
    return {ReloadOutcome::kUnchanged, {}};
  }
  SetLogSecrets(config->Secrets());
  impl_->running_checksum = config->checksum;
  impl_->runner.Apply(config).wait();  // serving on /metrics, the page and the API from here
  Log(LogLevel::kInfo, "config", "configuration reloaded", {{"file", impl_->options.config_file}});
  return {ReloadOutcome::kReloaded, {}};
}

void Exporter::Stop() {
  impl_->runner.Stop();
  impl_->server->Stop();
}

}  // namespace llm_probe
