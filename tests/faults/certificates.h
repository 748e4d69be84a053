// Test certificates made with OpenSSL's API, so validity dates can lie in the past without
// faketime: a CA, leaves it signs (valid or expired), and a self-signed leaf. All for
// 127.0.0.1/localhost, EC P-256 keys, written as PEM files.
#pragma once

#include <string>

namespace llm_probe::faults {

struct CertificateFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key
};

// validity: seconds from now; not_before < not_after. Throws std::runtime_error on failure.
class TestCertificates {
 public:
  explicit TestCertificates(std::string directory);
  const std::string& ca_file() const { return ca_.cert; }
  // Signed by the CA.
  CertificateFiles Leaf(const std::string& name, long not_before_seconds, long not_after_seconds) const;
  // Signed by its own key, valid now.
  CertificateFiles SelfSigned(const std::string& name) const;

 private:
  std::string directory_;
  CertificateFiles ca_;
};

}  // namespace llm_probe::faults
