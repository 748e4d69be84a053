// Internal to the server module: the web config as it is now. Its files (the web config itself,
// the certificate, key and client CA it names) are looked at again at most once a second, when
// a connection comes in; a change is loaded for new connections, as exporter-toolkit does, so a
// renewed certificate or a new user needs no restart. A file that does not load keeps the last
// good config and is logged once per change.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "basic_auth.h"
#include "llm_probe/server.h"

namespace llm_probe::internal {

class LiveWebConfig {
 public:
  // `path` empty: the config never changes (no --web.config.file).
  LiveWebConfig(std::string path, const WebConfig& loaded);

  // Loads the files again when they changed since the last look (at most once a second).
  void Refresh();
  // Null: no basic_auth_users.
  std::shared_ptr<BasicAuth> basic_auth();
  // Points a new TLS connection at the current certificate, key, client CA and versions; the
  // context the connection was created with stays when nothing changed since the start.
  void UseCurrentTls(SSL& connection);

 private:
  std::string FilesSignature() const;

  const std::string path_;
  std::mutex mutex_;
  WebConfig config_;
  std::string signature_;
  std::chrono::steady_clock::time_point next_look_{};
  std::shared_ptr<BasicAuth> basic_auth_;
  std::shared_ptr<SSL_CTX> tls_context_;  // null until the TLS files change
};

}  // namespace llm_probe::internal
