#include "llm_probe/exporter.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "llm_probe/clock.h"
#include "llm_probe/log.h"
#include "llm_probe/runner.h"

namespace llm_probe {
namespace {

// Where the key files are now: a rewrite changes the size or time, a replacement (Kubernetes
// swaps a symlink to a new directory) the inode.
std::string KeyFilesSignature(const Config& config) {
  std::string signature;
  const auto add = [&signature](const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      signature += "-;";
      return;
    }
    signature += std::to_string(info.st_ino) + ':' + std::to_string(info.st_size) + ':' +
                 std::to_string(info.st_mtim.tv_sec) + '.' + std::to_string(info.st_mtim.tv_nsec) + ';';
  };
  for (const TargetConfig& target : config.targets) {
    if (!target.api_key_file.empty()) add(target.api_key_file);
    for (const std::string& path : target.aws.key_files) add(path);
  }
  return signature;
}

// How often key files are looked at; a rotated key is in use within this time, no signal needed.
constexpr std::chrono::seconds kKeyFileCheckInterval{1};
// Rotated-out keys stay redacted; a bound, as a process may see many rotations.
constexpr std::size_t kMaxRetiredSecrets = 64;

}  // namespace

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
  std::thread key_watcher;
  std::mutex watcher_mutex;
  std::condition_variable watcher_wakeup;
  bool watcher_stopping = false;
  std::string key_files_seen;  // KeyFilesSignature of the running config's key files

  explicit Impl(ExporterOptions exporter_options)
      : options(std::move(exporter_options)), collector(store, options.build), runner(store) {
    if (!options.env) options.env = ProcessEnvironment();
  }

  // The checksum stays the whole file's, so an edit that changes only other shards' targets is
  // still a reload here (a cheap one: this shard's probes keep their state).
  std::shared_ptr<Config> LoadShard() const {
    return std::make_shared<Config>(
        ShardConfig(LoadConfigFile(options.config_file, options.env), options.shard_index, options.shard_count));
  }
};

Exporter::Exporter(ExporterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto config = impl_->LoadShard();
  SetLogSecrets(config->Secrets());
  impl_->running_checksum = config->checksum;
  impl_->key_files_seen = KeyFilesSignature(*config);
  ServerOptions server_options;
  server_options.listen = impl_->options.listen;
  server_options.telemetry_path = impl_->options.telemetry_path;
  server_options.reload = [this] { return Reload(); };
  if (!impl_->options.web_config_file.empty()) server_options.web = LoadWebConfigFile(impl_->options.web_config_file);
  server_options.web_config_file = impl_->options.web_config_file;
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
  // A changed key file reloads the config, as SIGHUP would; a broken one (empty, unreadable)
  // keeps the running config and its key, and says so once per change of the file.
  impl_->key_watcher = std::thread([this] {
    std::unique_lock lock(impl_->watcher_mutex);
    while (!impl_->watcher_wakeup.wait_for(lock, kKeyFileCheckInterval, [this] { return impl_->watcher_stopping; })) {
      const auto running = impl_->store.Read().config;
      if (!running) continue;
      std::string now = KeyFilesSignature(*running);
      if (now == impl_->key_files_seen) continue;
      impl_->key_files_seen = std::move(now);
      lock.unlock();
      Log(LogLevel::kInfo, "config", "a key file changed; reloading");
      Reload();
      lock.lock();
    }
  });
  Log(LogLevel::kInfo, "exporter", "listening",
      {{"address", (impl_->options.listen.host.find(':') != std::string::npos ? "[" + impl_->options.listen.host + "]"
                                                                            : impl_->options.listen.host) +
                       ":" + std::to_string(impl_->port)},
       {"scheme", impl_->serves_tls ? "https" : "http"},
       {"config", impl_->options.config_file}});
}

ReloadOutcome Exporter::Reload() {
  std::lock_guard lock(impl_->reload_mutex);
  std::shared_ptr<Config> config;
  try {
    config = impl_->LoadShard();
  } catch (const std::exception& error) {
    // Not only ConfigError: whatever a broken file causes (std::bad_alloc included), the running
    // config stays.
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
  if (const auto running = impl_->store.Read().config) {
    const std::vector<std::string> current = config->Secrets();
    for (std::string& secret : running->Secrets()) {
      if (std::find(current.begin(), current.end(), secret) != current.end()) continue;
      if (config->retired_secrets.size() < kMaxRetiredSecrets) config->retired_secrets.push_back(std::move(secret));
    }
  }
  SetLogSecrets(config->Secrets());
  impl_->running_checksum = config->checksum;
  impl_->runner.Apply(config).wait();  // serving on /metrics, the page and the API from here
  Log(LogLevel::kInfo, "config", "configuration reloaded", {{"file", impl_->options.config_file}});
  return {ReloadOutcome::kReloaded, {}};
}

void Exporter::Stop() {
  {
    std::lock_guard lock(impl_->watcher_mutex);
    impl_->watcher_stopping = true;
  }
  impl_->watcher_wakeup.notify_all();
  if (impl_->key_watcher.joinable()) impl_->key_watcher.join();
  impl_->runner.Stop();
  impl_->server->Stop();
}

}  // namespace llm_probe
