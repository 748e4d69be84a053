// Shared by the tests of the web config: certificates made with the openssl CLI and bcrypt
// hashes made with htpasswd (apache2-utils), an implementation independent of the exporter's.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

namespace llm_probe::testing {

// Runs a shell command that must succeed; its output goes into the failure message.
inline std::string MustRun(const std::string& command) {
  std::string output;
  const int status = RunCommand(command, &output);
  EXPECT_EQ(status, 0) << command << "\n" << output;
  return output;
}

// "$2y$<cost>$..." for the password, as `htpasswd -nbB` prints it after "user:".
inline std::string BcryptHash(const std::string& password, int cost) {
  std::string line = MustRun("htpasswd -nbBC " + std::to_string(cost) + " user '" + password + "'");
  line = line.substr(line.find(':') + 1);
  return line.substr(0, line.find_first_of("\r\n"));
}

// In `dir`: a CA, a server certificate for 127.0.0.1 signed by it, a client certificate signed
// by it, and a self-signed client certificate no CA vouches for.
struct TestCertificates {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string stranger_cert;
  std::string stranger_key;

  explicit TestCertificates(const TempDir& dir) : dir_(dir) {
    ca_cert = dir_.path() + "/ca.pem";
    client_cert = dir_.path() + "/client.pem";
    client_key = dir_.path() + "/client-key.pem";
    server_cert = dir_.path() + "/server.pem";
    server_key = dir_.path() + "/server-key.pem";
    stranger_cert = dir_.path() + "/stranger.pem";
    stranger_key = dir_.path() + "/stranger-key.pem";
    SelfSigned("/CN=test-ca", dir_.path() + "/ca-key.pem", ca_cert);
    Issue("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1", server_key, server_cert);
    Issue("client", "/CN=prometheus", "extendedKeyUsage=clientAuth", client_key, client_cert);
    SelfSigned("/CN=stranger", stranger_key, stranger_cert);
  }

 private:
  static void SelfSigned(const std::string& subject, const std::string& key, const std::string& cert) {
    MustRun("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj " + subject + " -keyout " + key + " -out " +
            cert);
  }

  void Issue(const std::string& name, const std::string& subject, const std::string& extension,
             const std::string& key, const std::string& cert) {
    const std::string request = dir_.Write(name + ".csr", "");
    const std::string extension_file = dir_.Write(name + ".ext", extension + "\n");
    MustRun("openssl req -new -newkey rsa:2048 -nodes -subj " + subject + " -keyout " + key + " -out " + request);
    MustRun("openssl x509 -req -days 2 -in " + request + " -CA " + ca_cert + " -CAkey " + dir_.path() +
            "/ca-key.pem -CAcreateserial -extfile " + extension_file + " -out " + cert);
  }

  const TempDir& dir_;
};

}  // namespace llm_probe::testing
