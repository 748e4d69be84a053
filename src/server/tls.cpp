#include "tls.h"

#include <openssl/err.h>

namespace llm_probe::internal {
namespace {

int ProtocolVersion(TlsVersion version) {
  return version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// OpenSSL queues its reasons; the first one says what went wrong ("No such file or directory",
// "no start line", "key values mismatch").
std::string OpenSslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// What Go (and so exporter-toolkit) offers in TLS 1.2 once the suites without forward secrecy
// (static RSA) and with CBC are left out.
constexpr const char* kDefaultTls12Suites =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ":") + name;
  return out;
}

std::string CipherList(const TlsServerConfig& tls) {
  return tls.cipher_suites.empty() ? kDefaultTls12Suites : Joined(tls.cipher_suites);
}

// Accepts any certificate, for the modes that ask for one without verifying it.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

void SetClientAuth(SSL_CTX& context, ClientAuthType client_auth) {
  switch (client_auth) {
    case ClientAuthType::kNoClientCert:
      SSL_CTX_set_verify(&context, SSL_VERIFY_NONE, nullptr);
      return;
    case ClientAuthType::kRequestClientCert:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER, AcceptAnyCertificate);
      return;
    case ClientAuthType::kRequireAnyClientCert:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAnyCertificate);
      return;
    case ClientAuthType::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER, nullptr);
      return;
    case ClientAuthType::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      return;
  }
}

}  // namespace

std::optional<TlsSetupError> ConfigureTls(SSL_CTX& context, const TlsServerConfig& tls) {
  ERR_clear_error();
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(&context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(&context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  if (SSL_CTX_set_cipher_list(&context, CipherList(tls).c_str()) != 1) {
    return TlsSetupError{"cipher_suites", "OpenSSL offers none of the cipher_suites: " + OpenSslReason()};
  }
  if (!tls.curve_preferences.empty() && SSL_CTX_set1_groups_list(&context, Joined(tls.curve_preferences).c_str()) != 1) {
    return TlsSetupError{"curve_preferences", "OpenSSL supports none of the curve_preferences: " + OpenSslReason()};
  }
  SSL_CTX_set_min_proto_version(&context, ProtocolVersion(tls.min_version));
  SSL_CTX_set_max_proto_version(&context, ProtocolVersion(tls.max_version));
  if (SSL_CTX_use_certificate_chain_file(&context, tls.cert_file.c_str()) != 1) {
    return TlsSetupError{"cert_file", "cannot load the certificate from " + tls.cert_file + ": " + OpenSslReason()};
  }
  if (SSL_CTX_use_PrivateKey_file(&context, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return TlsSetupError{"key_file", "cannot load the private key from " + tls.key_file + ": " + OpenSslReason()};
  }
  if (SSL_CTX_check_private_key(&context) != 1) {
    return TlsSetupError{"key_file", "the private key in " + tls.key_file + " does not match the certificate in " +
                                         tls.cert_file + ": " + OpenSslReason()};
  }
  if (!tls.client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(&context, tls.client_ca_file.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return TlsSetupError{"client_ca_file",
                           "cannot load client CA certificates from " + tls.client_ca_file + ": " + OpenSslReason()};
    }
    // Named in the certificate request, so a client holding several certificates picks the right one.
    SSL_CTX_set_client_CA_list(&context, names);
  }
  SetClientAuth(context, tls.client_auth);
  return std::nullopt;
}

void UseCipherChoices(SSL& connection, const TlsServerConfig& tls) {
  if (tls.prefer_server_cipher_suites) {
    SSL_set_options(&connection, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_clear_options(&connection, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  SSL_set_cipher_list(&connection, CipherList(tls).c_str());
  if (!tls.curve_preferences.empty()) SSL_set1_groups_list(&connection, Joined(tls.curve_preferences).c_str());
}

}  // namespace llm_probe::internal
