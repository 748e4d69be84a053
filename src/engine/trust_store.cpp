#include "trust_store.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <cstdlib>
#include <utility>

namespace llm_probe {
namespace {

// What identifies one version of a file without reading it.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = -1;
  timespec modified{};

  bool operator==(const FileStamp& other) const {
    return device == other.device && inode == other.inode && size == other.size &&
           modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
  }
};

bool StampOf(const std::string& path, FileStamp& stamp) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return false;
  stamp = {info.st_dev, info.st_ino, info.st_size, info.st_mtim};
  return true;
}

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// libcurl's compiled-in defaults (Debian: /etc/ssl/certs/ca-certificates.crt and /etc/ssl/certs).
std::string CurlDefault(CURLINFO info) {
  std::string value;
  if (CURL* handle = curl_easy_init()) {
    char* text = nullptr;
    if (curl_easy_getinfo(handle, info, &text) == CURLE_OK && text) value = text;
    curl_easy_cleanup(handle);
  }
  return value;
}

}  // namespace

void X509StoreFree::operator()(X509_STORE* store) const { X509_STORE_free(store); }

SystemTrustPaths DefaultSystemTrustPaths() {
  SystemTrustPaths paths{Environment("SSL_CERT_FILE"), Environment("SSL_CERT_DIR")};
  if (paths.file.empty()) paths.file = CurlDefault(CURLINFO_CAINFO);
  if (paths.file.empty()) paths.file = X509_get_default_cert_file();
  if (paths.directory.empty()) paths.directory = CurlDefault(CURLINFO_CAPATH);
  return paths;
}

struct TrustStores::Entry {
  FileStamp stamp;
  X509StorePtr store;
};

TrustStores::TrustStores(SystemTrustPaths system) : system_(std::move(system)) {}
TrustStores::~TrustStores() = default;

const std::string& TrustStores::FileFor(const std::string& ca_file) const {
  return ca_file.empty() ? system_.file : ca_file;
}

X509StorePtr TrustStores::Acquire(const std::string& ca_file) {
  const std::string& path = FileFor(ca_file);
  FileStamp stamp;
  if (!StampOf(path, stamp)) {
    entries_.erase(ca_file);
    return nullptr;
  }
  Entry& entry = entries_[ca_file];
  if (!entry.store || !(entry.stamp == stamp)) {
    ++loads_;
    X509StorePtr store(X509_STORE_new());
    if (!store || X509_STORE_load_file(store.get(), path.c_str()) != 1) {
      ERR_clear_error();  // libcurl reads this thread's error queue for its own messages
      entries_.erase(ca_file);
      return nullptr;
    }
    if (ca_file.empty() && !system_.directory.empty()) {
      X509_STORE_load_path(store.get(), system_.directory.c_str());
    }
    // The flags libcurl sets on the store it builds itself (lib/vtls/openssl.c).
    X509_STORE_set_flags(store.get(), X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    entry = {stamp, std::move(store)};
  }
  X509_STORE_up_ref(entry.store.get());
  return X509StorePtr(entry.store.get());
}

}  // namespace llm_probe
