// The exporter-toolkit web config (https://github.com/prometheus/exporter-toolkit), read with the
// main config's strict YAML reader: unknown keys, wrong types and unusable files are errors with
// file:line:col, and the exporter does not start.
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <memory>
#include <variant>

#include "llm_probe/config_files.h"
#include "llm_probe/yaml_reader.h"
#include "basic_auth.h"
#include "llm_probe/server.h"
#include "tls.h"

namespace llm_probe {
namespace {

using config_detail::Located;
using config_detail::MappingEntry;
using config_detail::Quote;
using config_detail::Source;
using config_detail::StrictMapping;

template <typename Value, std::size_t N>
struct Choices {
  std::array<std::string_view, N> names;
  std::array<Value, N> values;
};

constexpr Choices<ClientAuthType, 5> kClientAuthTypes = {
    {"NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
     "RequireAndVerifyClientCert"},
    {ClientAuthType::kNoClientCert, ClientAuthType::kRequestClientCert, ClientAuthType::kRequireAnyClientCert,
     ClientAuthType::kVerifyClientCertIfGiven, ClientAuthType::kRequireAndVerifyClientCert}};

// TLS 1.0 and 1.1 are refused by OpenSSL 3's default security level anyway.
constexpr Choices<TlsVersion, 2> kTlsVersions = {{"TLS12", "TLS13"}, {TlsVersion::kTls12, TlsVersion::kTls13}};

// exporter-toolkit takes Go's names (crypto/tls CipherSuites and InsecureCipherSuites); these are
// the TLS 1.2 ones OpenSSL 3 still has, with OpenSSL's names.
constexpr Choices<std::string_view, 17> kCipherSuites = {
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
     "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
     "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA",
     "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
     "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
     "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
     "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
     "AES128-SHA", "AES256-SHA", "AES128-SHA256"}};

// Go's curve names (crypto/tls CurveID), as exporter-toolkit's curve_preferences takes them.
constexpr Choices<std::string_view, 4> kCurves = {{"CurveP256", "CurveP384", "CurveP521", "X25519"},
                                                  {"P-256", "P-384", "P-521", "X25519"}};

template <typename Value, std::size_t N>
Value Choose(const StrictMapping& section, const MappingEntry& entry, const Choices<Value, N>& choices) {
  const auto name = section.ConvertEntry<std::string>(entry);
  for (std::size_t i = 0; i < N; ++i) {
    if (choices.names[i] == name) return choices.values[i];
  }
  std::string known;
  for (std::string_view choice : choices.names) known += (known.empty() ? "" : ", ") + std::string(choice);
  section.source().Fail(entry.value.mark, Quote(entry.key) + " must be one of " + known + ", got " + Quote(name));
}

// A list of Go names, each checked where it stands in the file.
template <std::size_t N>
std::vector<std::string> ChooseEach(const StrictMapping& section, const MappingEntry& entry,
                                    const Choices<std::string_view, N>& choices, std::string_view what) {
  std::vector<std::string> chosen;
  for (const Located& item : section.ConvertEntry<std::vector<Located>>(entry)) {
    const auto name = config_detail::Convert<std::string>(section.source(), item, Quote(entry.key));
    const auto* found = std::find(choices.names.begin(), choices.names.end(), name);
    if (found == choices.names.end()) {
      std::string known;
      for (std::string_view choice : choices.names) known += (known.empty() ? "" : ", ") + std::string(choice);
      const bool tls13 = name.rfind("TLS_AES_", 0) == 0 || name.rfind("TLS_CHACHA20_", 0) == 0;
      section.source().Fail(item.mark, tls13 ? Quote(name) + " is a TLS 1.3 suite, which cannot be chosen (as in Go): "
                                                   "list TLS 1.2 suites only"
                                             : "unknown " + std::string(what) + " " + Quote(name) + "; known: " + known);
    }
    chosen.emplace_back(choices.values[static_cast<std::size_t>(found - choices.names.begin())]);
  }
  return chosen;
}

bool Verifies(ClientAuthType client_auth) {
  return client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
         client_auth == ClientAuthType::kRequireAndVerifyClientCert;
}

TlsServerConfig ParseTls(const Source& source, const Located& node) {
  const StrictMapping section(source, node, "\"tls_server_config\"",
                              {"cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version",
                               "max_version", "cipher_suites", "curve_preferences", "prefer_server_cipher_suites"});
  // Read here for a plain reason ("No such file or directory"); OpenSSL's would be vaguer.
  auto path = [&](const MappingEntry& entry) {
    const std::string resolved = config_detail::ResolveRelativeTo(source.file(), section.NonEmptyString(entry)).string();
    const auto content = config_detail::ReadFile(resolved);
    if (const auto* error = std::get_if<config_detail::FileError>(&content)) {
      source.Fail(entry.value.mark, "cannot read " + entry.key + " " + Quote(resolved) + ": " + error->reason);
    }
    return resolved;
  };
  TlsServerConfig tls;
  tls.cert_file = path(section.Require("cert_file"));
  tls.key_file = path(section.Require("key_file"));
  const MappingEntry* client_ca = section.Find("client_ca_file");
  if (client_ca != nullptr) tls.client_ca_file = path(*client_ca);
  if (const MappingEntry* client_auth = section.Find("client_auth_type")) {
    tls.client_auth = Choose(section, *client_auth, kClientAuthTypes);
    if (Verifies(tls.client_auth) && client_ca == nullptr) {
      source.Fail(client_auth->value.mark, "client_auth_type " + client_auth->value.node.Scalar() +
                                               " needs client_ca_file to verify client certificates against");
    }
  } else if (client_ca != nullptr) {
    // As exporter-toolkit: a client CA alone would silently check nothing.
    source.Fail(client_ca->key_mark, "client_ca_file is set but client_auth_type is not; set it to "
                                     "RequireAndVerifyClientCert or VerifyClientCertIfGiven");
  }
  if (const MappingEntry* version = section.Find("min_version")) tls.min_version = Choose(section, *version, kTlsVersions);
  if (const MappingEntry* version = section.Find("max_version")) {
    tls.max_version = Choose(section, *version, kTlsVersions);
    if (tls.max_version < tls.min_version) source.Fail(version->value.mark, "max_version is below min_version");
  }

  if (const MappingEntry* suites = section.Find("cipher_suites")) {
    tls.cipher_suites = ChooseEach(section, *suites, kCipherSuites, "cipher suite");
  }
  if (const MappingEntry* curves = section.Find("curve_preferences")) {
    tls.curve_preferences = ChooseEach(section, *curves, kCurves, "curve");
  }
  tls.prefer_server_cipher_suites = section.OrDefault("prefer_server_cipher_suites", true);

  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> scratch(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!scratch) source.Fail(section.mark(), "cannot create a TLS context");
  if (const auto error = internal::ConfigureTls(*scratch, tls)) source.Fail(section.Find(error->key)->value.mark, error->message);
  return tls;
}

std::map<std::string, std::string> ParseUsers(const Source& source, const Located& node) {
  std::map<std::string, std::string> users;
  for (const MappingEntry& entry : config_detail::ReadEntries(source, node, "\"basic_auth_users\"")) {
    if (entry.key.empty() || entry.key.find(':') != std::string::npos) {
      source.Fail(entry.key_mark, "a basic auth user name must be non-empty and hold no ':'");
    }
    const auto hash = config_detail::Convert<std::string>(source, entry.value, Quote(entry.key));
    if (!internal::IsBcryptHash(hash)) {
      // The value is not echoed: it may be a password pasted where its hash belongs.
      source.Fail(entry.value.mark, "the password of " + Quote(entry.key) +
                                        " must be a bcrypt hash ($2y$, $2b$ or $2a$, cost 04 to 31), such as "
                                        "the part after ':' of what `htpasswd -nB USER` prints");
    }
    users[entry.key] = hash;
  }
  return users;
}

}  // namespace

WebConfig ParseWebConfig(const std::string& yaml_text, const std::string& file_name) {
  const Source source(file_name);
  const YAML::Node root = config_detail::LoadSingleDocument(source, yaml_text);
  const StrictMapping top(source, {root, root.Mark()}, "the web config", {"tls_server_config", "basic_auth_users"});
  WebConfig web;
  if (const MappingEntry* tls = top.Find("tls_server_config")) web.tls = ParseTls(source, tls->value);
  if (const MappingEntry* users = top.Find("basic_auth_users")) web.basic_auth_users = ParseUsers(source, users->value);
  return web;
}

WebConfig LoadWebConfigFile(const std::string& path) {
  auto content = config_detail::ReadFile(path);
  if (const auto* error = std::get_if<config_detail::FileError>(&content)) {
    throw ConfigError(path, 0, 0, "cannot read web config file: " + error->reason);
  }
  return ParseWebConfig(std::get<config_detail::FileContent>(content).bytes, path);
}

}  // namespace llm_probe
