// Trust stores parsed once and shared by every TLS connection of one HttpClient (issue 15).
// libcurl 7.88 with Debian's default CA path parses the whole system bundle for each new
// connection: about 25 ms of CPU per probe with OpenSSL 3 (docs/benchmarks.md). Engine-private.
#pragma once

#include <openssl/types.h>

#include <map>
#include <memory>
#include <string>

namespace llm_probe {

struct X509StoreFree {
  void operator()(X509_STORE* store) const;
};
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreFree>;

// Where the system trust store lives: $SSL_CERT_FILE / $SSL_CERT_DIR when set (as OpenSSL and
// Go, hence blackbox_exporter, read them), else libcurl's built-in bundle and CA directory.
struct SystemTrustPaths {
  std::string file;
  std::string directory;  // hashed certificates, looked up only for issuers not in `file`
};
SystemTrustPaths DefaultSystemTrustPaths();

class TrustStores {
 public:
  explicit TrustStores(SystemTrustPaths system = DefaultSystemTrustPaths());
  ~TrustStores();
  TrustStores(const TrustStores&) = delete;
  TrustStores& operator=(const TrustStores&) = delete;

  // A new reference to the store for `ca_file` (empty: the system trust store), parsed at first
  // use and again whenever the file's identity, size or modification time changed — a CA file
  // replaced beside a config reload, or update-ca-certificates. nullptr when the file cannot be
  // parsed: the caller then leaves it to libcurl, which reports the error as it always did.
  X509StorePtr Acquire(const std::string& ca_file);

  // The file Acquire reads for `ca_file`.
  const std::string& FileFor(const std::string& ca_file) const;
  // How many times a file was parsed (for tests: once per change, not once per connection).
  int loads() const { return loads_; }

 private:
  struct Entry;
  SystemTrustPaths system_;
  std::map<std::string, Entry> entries_;
  int loads_ = 0;
};

}  // namespace llm_probe
