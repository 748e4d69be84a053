// Internal to the server module: an OpenSSL server context set up from tls_server_config. The
// web config loader runs it once on a scratch context to reject a bad file at start; the HTTPS
// server runs it on its own.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>

#include "llm_probe/server.h"

namespace llm_probe::internal {

struct TlsSetupError {
  std::string_view key;  // the tls_server_config key to blame: cert_file, key_file, client_ca_file, ...
  std::string message;
};

std::optional<TlsSetupError> ConfigureTls(SSL_CTX& context, const TlsServerConfig& tls);

// Puts the cipher suites, groups and preference of `tls` on one connection (what SSL_set_SSL_CTX
// does not carry over when a changed web config is used for a new connection).
void UseCipherChoices(SSL& connection, const TlsServerConfig& tls);

}  // namespace llm_probe::internal
