// The trust store parsed once and shared by every HTTPS connection (issue 15): the store cache
// (src/engine/trust_store.h) and the curl client using it over loopback TLS.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "certificates.h"
#include "faults_support.h"
#include "llm_probe/http_client.h"
#include "tls_upstream.h"
#include "trust_store.h"

namespace llm_probe {
namespace {

using faults::TestCertificates;
using faults::TlsUpstream;
using testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaced as deployment tools and Kubernetes do: a new file renamed over the old one.
void Replace(const TempDir& dir, const std::string& path, const std::string& content) {
  const std::string staged = dir.Write("staged.pem", content);
  std::filesystem::rename(staged, path);
}

class TrustStoresTest : public ::testing::Test {
 protected:
  TempDir dir_;
  TestCertificates certificates_{dir_.path()};
  std::string ca_ = ReadAll(certificates_.ca_file());
  std::string other_ca_ = ReadAll(certificates_.SelfSigned("other").cert);
};

TEST_F(TrustStoresTest, ParsesAFileOnceAndAgainOnlyWhenItChanges) {
  const std::string path = dir_.Write("trust.pem", ca_);
  TrustStores stores(SystemTrustPaths{});
  const X509StorePtr first = stores.Acquire(path);
  ASSERT_NE(first, nullptr);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(stores.Acquire(path).get(), first.get());
  EXPECT_EQ(stores.loads(), 1);

  Replace(dir_, path, ca_ + other_ca_);
  const X509StorePtr second = stores.Acquire(path);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second.get(), first.get());
  EXPECT_EQ(stores.Acquire(path).get(), second.get());
  EXPECT_EQ(stores.loads(), 2);
}

TEST_F(TrustStoresTest, EachFileHasItsOwnStore) {
  const std::string one = dir_.Write("one.pem", ca_);
  const std::string two = dir_.Write("two.pem", other_ca_);
  TrustStores stores(SystemTrustPaths{one, ""});
  const X509StorePtr system = stores.Acquire("");
  const X509StorePtr first = stores.Acquire(one);
  const X509StorePtr second = stores.Acquire(two);
  ASSERT_NE(system, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first.get(), second.get());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(stores.Acquire(one).get(), first.get());
    EXPECT_EQ(stores.Acquire(two).get(), second.get());
    EXPECT_EQ(stores.Acquire("").get(), system.get());
  }
  EXPECT_EQ(stores.loads(), 3);
  EXPECT_EQ(stores.FileFor(""), one);
  EXPECT_EQ(stores.FileFor(two), two);
}

TEST_F(TrustStoresTest, MissingOrUnparsableFileGivesNoStore) {
  TrustStores stores(SystemTrustPaths{});
  EXPECT_EQ(stores.Acquire(dir_.path() + "/missing.pem"), nullptr);
  EXPECT_EQ(stores.Acquire(dir_.Write("garbage.pem", "not a certificate\n")), nullptr);
  const std::string path = dir_.Write("later.pem", "");
  EXPECT_EQ(stores.Acquire(path), nullptr);
  Replace(dir_, path, ca_);  // fixed: the next connection gets it
  EXPECT_NE(stores.Acquire(path), nullptr);
}

HttpRequest Request(const std::string& url, const std::string& ca_file = "", bool insecure = false) {
  HttpRequest request;
  request.url = url;
  request.ca_file = ca_file;
  request.insecure_skip_verify = insecure;
  request.timeout = std::chrono::seconds(20);
  return request;
}

HttpExchange Fetch(HttpClient& client, HttpRequest request) {
  std::optional<HttpExchange> done;
  client.Start(std::move(request), [&](HttpExchange exchange) { done = std::move(exchange); });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done && std::chrono::steady_clock::now() < give_up) client.Poll(std::chrono::milliseconds(100));
  if (done) return std::move(*done);
  HttpExchange none;
  none.error = TransportError::kOther;
  none.error_detail = "no answer within 30 s";
  return none;
}

class HttpsTrustTest : public TrustStoresTest {
 protected:
  std::string Models() const { return server_.BaseUrl() + "/models"; }
  faults::CertificateFiles leaf_ = certificates_.Leaf("leaf", -3600, 20 * 86400);
  TlsUpstream server_{leaf_};
};

// The system trust store is where OpenSSL and Go programs look for it: $SSL_CERT_FILE when set
// (old main: libcurl's built-in bundle only, so this probe failed with a TLS error).
TEST_F(HttpsTrustTest, SystemTrustStoreFollowsSslCertFile) {
  const std::string bundle = dir_.Write("bundle.pem", ReadAll(DefaultSystemTrustPaths().file) + ca_);
  ASSERT_EQ(setenv("SSL_CERT_FILE", bundle.c_str(), 1), 0);
  HttpClient client;
  unsetenv("SSL_CERT_FILE");
  for (int i = 0; i < 3; ++i) {
    const HttpExchange exchange = Fetch(client, Request(Models()));
    EXPECT_EQ(exchange.error, TransportError::kNone) << exchange.error_detail;
    EXPECT_EQ(exchange.status, 200);
    // Read from the peer's certificate: the leaf expires first.
    ASSERT_TRUE(exchange.tls_cert_expiry_unix.has_value());
    EXPECT_NEAR(*exchange.tls_cert_expiry_unix, static_cast<double>(std::time(nullptr)) + 20 * 86400, 120);
  }
}

TEST_F(HttpsTrustTest, WithoutTheCaTheSystemTrustStoreRefusesTheServer) {
  const std::string bundle = dir_.Write("bundle.pem", ReadAll(DefaultSystemTrustPaths().file));
  ASSERT_EQ(setenv("SSL_CERT_FILE", bundle.c_str(), 1), 0);
  HttpClient client;
  unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(Fetch(client, Request(Models())).error, TransportError::kTls);
}

// The shared store is reloaded when the CA file changes, between one connection and the next.
TEST_F(HttpsTrustTest, ReplacedCaFileTakesEffectOnTheNextConnection) {
  const std::string ca_file = dir_.Write("trust.pem", ca_);
  HttpClient client;
  const HttpRequest request = Request(Models(), ca_file);
  EXPECT_EQ(Fetch(client, request).error, TransportError::kNone);
  EXPECT_EQ(Fetch(client, request).error, TransportError::kNone);
  Replace(dir_, ca_file, other_ca_);
  const HttpExchange refused = Fetch(client, request);
  EXPECT_EQ(refused.error, TransportError::kTls) << refused.error_detail;
  Replace(dir_, ca_file, ca_);
  EXPECT_EQ(Fetch(client, request).error, TransportError::kNone);
  // A file that cannot be parsed is left to libcurl, which names the problem.
  Replace(dir_, ca_file, "not a certificate\n");
  const HttpExchange broken = Fetch(client, request);
  EXPECT_EQ(broken.error, TransportError::kTls) << broken.error_detail;
}

// tls.session_resumption is opt-in: without it every probe does a full handshake; with it the
// first does, the next ones resume its session and still report the certificate's expiry.
TEST_F(HttpsTrustTest, SessionsAreResumedOnlyWhenTheTargetAsks) {
  HttpClient client;
  HttpRequest request = Request(Models(), dir_.Write("trust.pem", ca_));
  for (int i = 0; i < 3; ++i) {
    const HttpExchange exchange = Fetch(client, request);
    EXPECT_EQ(exchange.error, TransportError::kNone) << exchange.error_detail;
    EXPECT_FALSE(exchange.tls_session_resumed) << "probe " << i;
  }
  request.tls_session_resumption = true;
  EXPECT_FALSE(Fetch(client, request).tls_session_resumed);
  for (int i = 0; i < 3; ++i) {
    const HttpExchange exchange = Fetch(client, request);
    EXPECT_EQ(exchange.error, TransportError::kNone) << exchange.error_detail;
    EXPECT_TRUE(exchange.tls_session_resumed) << "probe " << i;
    ASSERT_TRUE(exchange.tls_cert_expiry_unix.has_value());
    EXPECT_NEAR(*exchange.tls_cert_expiry_unix, static_cast<double>(std::time(nullptr)) + 20 * 86400, 120);
  }
  request.tls_session_resumption = false;
  EXPECT_FALSE(Fetch(client, request).tls_session_resumed);
}

TEST_F(HttpsTrustTest, SkippingVerificationNeedsNoTrustStore) {
  HttpClient client;
  const HttpExchange exchange = Fetch(client, Request(Models(), "", true));
  EXPECT_EQ(exchange.error, TransportError::kNone) << exchange.error_detail;
  EXPECT_TRUE(exchange.tls_cert_expiry_unix.has_value());
}

}  // namespace
}  // namespace llm_probe
