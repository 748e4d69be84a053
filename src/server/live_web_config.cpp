#include "live_web_config.h"

#include <sys/stat.h>

#include "llm_probe/log.h"
#include "tls.h"

namespace llm_probe::internal {
namespace {

constexpr std::chrono::seconds kLookInterval{1};

std::shared_ptr<BasicAuth> MakeBasicAuth(const WebConfig& web) {
  return web.basic_auth_users.empty() ? nullptr : std::make_shared<BasicAuth>(web.basic_auth_users);
}

// Size, time and inode: a rewrite and a replacement (cert-manager, a Kubernetes Secret) both show.
std::string FileSignature(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return "-;";
  return std::to_string(info.st_ino) + ':' + std::to_string(info.st_size) + ':' + std::to_string(info.st_mtim.tv_sec) +
         '.' + std::to_string(info.st_mtim.tv_nsec) + ';';
}

}  // namespace

LiveWebConfig::LiveWebConfig(std::string path, const WebConfig& loaded)
    : path_(std::move(path)), config_(loaded), basic_auth_(MakeBasicAuth(loaded)) {
  signature_ = FilesSignature();
  next_look_ = std::chrono::steady_clock::now() + kLookInterval;
}

std::string LiveWebConfig::FilesSignature() const {
  std::string signature = FileSignature(path_);
  if (config_.tls) {
    signature += FileSignature(config_.tls->cert_file) + FileSignature(config_.tls->key_file) +
                 FileSignature(config_.tls->client_ca_file);
  }
  return signature;
}

void LiveWebConfig::Refresh() {
  if (path_.empty()) return;
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now < next_look_) return;
  next_look_ = now + kLookInterval;
  std::string signature = FilesSignature();
  if (signature == signature_) return;
  signature_ = std::move(signature);
  WebConfig loaded;
  try {
    loaded = LoadWebConfigFile(path_);
  } catch (const ConfigError& error) {
    Log(LogLevel::kError, "web", "web config changed but does not load; the running one stays",
        {{"error", error.what()}});
    return;
  }
  if (loaded.tls.has_value() != config_.tls.has_value()) {
    Log(LogLevel::kError, "web", "web config changed but turning TLS on or off needs a restart; the running one stays",
        {{"file", path_}});
    return;
  }
  std::shared_ptr<SSL_CTX> context;
  if (loaded.tls) {
    context.reset(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!context) {
      Log(LogLevel::kError, "web", "web config changed but no TLS context could be made; the running one stays");
      return;
    }
    if (const auto failure = ConfigureTls(*context, *loaded.tls)) {
      Log(LogLevel::kError, "web", "web config changed but does not load; the running one stays",
          {{"error", failure->message}});
      return;
    }
  }
  config_ = std::move(loaded);
  signature_ = FilesSignature();  // the files the new config names
  basic_auth_ = MakeBasicAuth(config_);
  if (context) tls_context_ = std::move(context);
  Log(LogLevel::kInfo, "web", "web config reloaded for new connections", {{"file", path_}});
}

std::shared_ptr<BasicAuth> LiveWebConfig::basic_auth() {
  std::lock_guard lock(mutex_);
  return basic_auth_;
}

void LiveWebConfig::UseCurrentTls(SSL& connection) {
  std::shared_ptr<SSL_CTX> context;
  TlsServerConfig tls;
  {
    std::lock_guard lock(mutex_);
    context = tls_context_;
    if (config_.tls) tls = *config_.tls;
  }
  if (!context) return;
  UseCipherChoices(connection, tls);
  // SSL_set_SSL_CTX takes the certificate, key and client CA store; verification and versions
  // were copied into the connection when it was made, so they are set again.
  SSL_set_SSL_CTX(&connection, context.get());
  SSL_set_verify(&connection, SSL_CTX_get_verify_mode(context.get()), SSL_CTX_get_verify_callback(context.get()));
  SSL_set_min_proto_version(&connection, SSL_CTX_get_min_proto_version(context.get()));
  SSL_set_max_proto_version(&connection, SSL_CTX_get_max_proto_version(context.get()));
  SSL_set_client_CA_list(&connection, SSL_dup_CA_list(SSL_CTX_get_client_CA_list(context.get())));
}

}  // namespace llm_probe::internal
