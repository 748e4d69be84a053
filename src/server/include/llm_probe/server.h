// The HTTP surface (DESIGN.md §5) on Boost.Beast: /metrics, the status page, the JSON API,
// on-demand probes, reload, liveness and readiness; HTTPS and basic auth from the web config.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llm_probe/collector.h"
#include "llm_probe/runner.h"
#include "llm_probe/snapshot.h"

namespace llm_probe {

struct ListenAddress {
  std::string host;  // "::" for ":port": dual-stack (IPv4 only on a kernel without IPv6)
  int port = 0;
};
// "host:port", ":port" or "[v6]:port"; nullopt when malformed.
std::optional<ListenAddress> ParseListenAddress(const std::string& text);

// The web config file (--web.config.file), in the Prometheus exporter-toolkit format; the subset
// supported is documented in docs/operations.md.
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,           // asked for, neither required nor verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // verified against client_ca_file when given
  kRequireAndVerifyClientCert,  // required and verified against client_ca_file
};
enum class TlsVersion { kTls12, kTls13 };

struct TlsServerConfig {
  std::string cert_file;  // paths resolved against the web config file's directory
  std::string key_file;
  std::string client_ca_file;
  ClientAuthType client_auth = ClientAuthType::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // TLS 1.2 suites by OpenSSL name, from exporter-toolkit's Go names; empty: the ECDHE suites with
  // AES-GCM or ChaCha20-Poly1305 (forward secrecy, no CBC). TLS 1.3's suites are not chosen, as in Go.
  std::vector<std::string> cipher_suites;
  // Key exchange groups by OpenSSL name (X25519, P-256, ...); empty: OpenSSL's defaults.
  std::vector<std::string> curve_preferences;
  bool prefer_server_cipher_suites = true;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;                   // none: plain HTTP
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash; none: no auth
};

// Strict, like the main config: every problem is a ConfigError with file:line:col. The
// certificate, key and client CA files are loaded once to prove they work together.
WebConfig ParseWebConfig(const std::string& yaml_text, const std::string& file_name);
WebConfig LoadWebConfigFile(const std::string& path);

// What a reload did. The reload decides; the /-/reload handler and SIGHUP only report it.
struct ReloadOutcome {
  enum Kind { kReloaded, kUnchanged, kFailed };
  Kind kind = kFailed;
  std::string error;  // kFailed: the ConfigError, file:line:col first
};

// GETs /-/healthy on a local listen address (a wildcard host means loopback), as a container
// health check without curl in the image: over HTTPS when the web config has TLS or, without a
// web config, when plain HTTP gets no HTTP answer (a HEALTHCHECK line cannot know the config;
// the certificate is not verified: it is our own, on loopback). A 401 asking for basic auth
// counts as an answer, since the check has no password. Returns an empty string when healthy,
// else why not.
std::string CheckHealth(const ListenAddress& listen, const WebConfig& web = {});

struct ServerOptions {
  ListenAddress listen{"0.0.0.0", 9835};
  std::string telemetry_path = "/metrics";
  // Re-reads the config (the app's Exporter::Reload); the handler reports what it did.
  std::function<ReloadOutcome()> reload;
  // At most one on-demand run per probe in this many seconds.
  double on_demand_min_interval_seconds = 10;
  WebConfig web;
  // The file `web` came from: re-read for new connections when it or the files it names change.
  std::string web_config_file;
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
