#include "certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace llm_probe::faults {
namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

Key NewKey() {
  Key key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  Check(key != nullptr, "EVP_EC_gen");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  Check(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// issuer == nullptr: self-signed.
Cert NewCert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key, bool ca,
             long not_before, long not_after, long serial) {
  Cert cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name),
                             -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  }
  Check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

CertificateFiles Write(const std::string& directory, const std::string& name, X509* cert, EVP_PKEY* key) {
  CertificateFiles files{directory + "/" + name + ".crt", directory + "/" + name + ".key"};
  std::unique_ptr<FILE, decltype(&fclose)> cert_file(fopen(files.cert.c_str(), "w"), &fclose);
  std::unique_ptr<FILE, decltype(&fclose)> key_file(fopen(files.key.c_str(), "w"), &fclose);
  Check(cert_file && key_file, "cannot write PEM files");
  Check(PEM_write_X509(cert_file.get(), cert) == 1, "PEM_write_X509");
  Check(PEM_write_PrivateKey(key_file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_PrivateKey");
  return files;
}

// The CA's key and certificate, kept to sign leaves.
struct Authority {
  Key key = NewKey();
  Cert cert = NewCert(key.get(), "llm_probe test CA", nullptr, nullptr, true, -86400L * 30, 86400L * 30, 1);
};

Authority& TheAuthority() {
  static Authority authority;
  return authority;
}

}  // namespace

TestCertificates::TestCertificates(std::string directory) : directory_(std::move(directory)) {
  Authority& authority = TheAuthority();
  ca_ = Write(directory_, "ca", authority.cert.get(), authority.key.get());
}

CertificateFiles TestCertificates::Leaf(const std::string& name, long not_before_seconds,
                                        long not_after_seconds) const {
  static long serial = 100;
  Authority& authority = TheAuthority();
  Key key = NewKey();
  Cert cert = NewCert(key.get(), "127.0.0.1", authority.cert.get(), authority.key.get(), false,
                      not_before_seconds, not_after_seconds, ++serial);
  return Write(directory_, name, cert.get(), key.get());
}

CertificateFiles TestCertificates::SelfSigned(const std::string& name) const {
  Key key = NewKey();
  Cert cert = NewCert(key.get(), "127.0.0.1", nullptr, nullptr, false, -3600, 86400L * 30, 7);
  return Write(directory_, name, cert.get(), key.get());
}

}  // namespace llm_probe::faults
