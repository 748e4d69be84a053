// --web.config.file over loopback: HTTPS with the exporter-toolkit's tls_server_config (client
// certificates, minimum version), bcrypt basic auth on every endpoint with its cost honoured and
// its verdicts cached, and a bad web config stopping the start with file:line:col.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>

#include "llm_probe/exporter.h"
#include "mock_upstream.h"
#include "test_support.h"
#include "web_config_support.h"

namespace llm_probe {
namespace {

using ::testing::HasSubstr;
using testing::BcryptHash;
using testing::RunCommand;
using testing::TempDir;
using testing::TestCertificates;

const std::string kBinary = std::string(LLM_PROBE_BINARY_DIR) + "/src/llm_probe_exporter";

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { mock_.Start(); }
  void TearDown() override {
    if (exporter_) exporter_->Stop();
    mock_.Stop();
  }

  std::string ConfigYaml() const {
    return "global: {interval: 1h}\ntargets:\n  - name: relay\n    base_url: " + mock_.BaseUrl("ok") +
           "\n    probes: [{name: models, type: models}]\n";
  }

  void StartExporter(const std::string& web_yaml) {
    ExporterOptions options;
    options.config_file = dir_.Write("config.yaml", ConfigYaml());
    options.web_config_file = dir_.Write("web.yml", web_yaml);
    options.listen = {"127.0.0.1", 0};
    options.build = {"test", "test"};
    exporter_ = std::make_unique<Exporter>(options);
    exporter_->Start();
  }

  std::string TlsYaml(const std::string& extra = "") const {
    return "tls_server_config:\n  cert_file: " + certs_.server_cert + "\n  key_file: " + certs_.server_key + "\n" + extra;
  }

  // An HTTPS client that trusts the test CA and checks the server's name.
  std::unique_ptr<httplib::SSLClient> Https(const std::string& client_cert = "", const std::string& client_key = "") {
    auto client = client_cert.empty()
                      ? std::make_unique<httplib::SSLClient>("127.0.0.1", exporter_->port())
                      : std::make_unique<httplib::SSLClient>("127.0.0.1", exporter_->port(), client_cert, client_key);
    client->set_ca_cert_path(certs_.ca_cert.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(5, 0);
    return client;
  }

  int HttpStatus(const std::string& path, const std::string& user = "", const std::string& password = "") {
    httplib::Client client("127.0.0.1", exporter_->port());
    client.set_read_timeout(30, 0);
    if (!user.empty()) client.set_basic_auth(user.c_str(), password.c_str());
    const auto response = client.Get(path.c_str());
    return response ? response->status : 0;
  }

  // Seconds for one authenticated request.
  double TimedRequest(const std::string& user, const std::string& password, int* status) {
    const auto start = std::chrono::steady_clock::now();
    *status = HttpStatus("/-/healthy", user, password);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  mock_upstream::MockUpstream mock_;
  TempDir dir_;
  TestCertificates certs_{dir_};
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(WebConfigTest, HttpsServesEveryEndpointAndPlainHttpIsRefused) {
  StartExporter(TlsYaml());
  auto client = Https();
  for (const char* path : {"/metrics", "/", "/api/v1/targets", "/-/healthy", "/-/ready"}) {
    const auto response = client->Get(path);
    ASSERT_TRUE(response) << path << ": " << httplib::to_string(response.error());
    EXPECT_EQ(response->status, 200) << path;
  }
  EXPECT_THAT(client->Get("/metrics")->body, HasSubstr("llm_probe_exporter_build_info"));
  EXPECT_EQ(HttpStatus("/metrics"), 0) << "a plain HTTP request to the TLS port gets no HTTP answer";
}

TEST_F(WebConfigTest, BasicAuthGuardsEveryEndpointWithoutTellingWhichUserExists) {
  StartExporter("basic_auth_users:\n  prometheus: " + BcryptHash("scrape-pass-1", 4) + "\n");
  httplib::Client client("127.0.0.1", exporter_->port());
  const httplib::Headers no_headers;
  for (const char* path : {"/metrics", "/", "/api/v1/targets", "/-/healthy", "/-/ready", "/probe?target=relay&probe=models",
                           "/no/such/path"}) {
    SCOPED_TRACE(path);
    const auto anonymous = client.Get(path);
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);
    EXPECT_THAT(anonymous->get_header_value("WWW-Authenticate"), ::testing::StartsWith("Basic "));
    EXPECT_EQ(HttpStatus(path, "prometheus", "wrong-pass"), 401);
    EXPECT_EQ(HttpStatus(path, "nobody", "scrape-pass-1"), 401);
  }
  EXPECT_EQ(client.Post("/-/reload", "", "text/plain")->status, 401) << "reload needs credentials too";

  // A wrong password and an unknown user get the very same answer.
  httplib::Client wrong_password("127.0.0.1", exporter_->port());
  wrong_password.set_basic_auth("prometheus", "wrong-pass");
  httplib::Client unknown_user("127.0.0.1", exporter_->port());
  unknown_user.set_basic_auth("nobody", "wrong-pass");
  const auto a = wrong_password.Get("/metrics");
  const auto b = unknown_user.Get("/metrics");
  EXPECT_EQ(a->body, b->body);
  EXPECT_EQ(a->get_header_value("WWW-Authenticate"), b->get_header_value("WWW-Authenticate"));

  for (const char* path : {"/metrics", "/", "/api/v1/targets", "/-/healthy", "/-/ready"}) {
    EXPECT_EQ(HttpStatus(path, "prometheus", "scrape-pass-1"), 200) << path;
  }
  EXPECT_EQ(HttpStatus("/no/such/path", "prometheus", "scrape-pass-1"), 404);
}

TEST_F(WebConfigTest, OnlyAWellFormedBasicCredentialGetsIn) {
  StartExporter("basic_auth_users:\n  prometheus: " + BcryptHash("pass:with:colons", 4) + "\n");
  auto status_with = [&](const std::string& authorization) {
    httplib::Client client("127.0.0.1", exporter_->port());
    const auto response = client.Get("/-/healthy", {{"Authorization", authorization}});
    return response ? response->status : 0;
  };
  const std::string credentials = Base64("prometheus:pass:with:colons");
  EXPECT_EQ(status_with("Basic " + credentials), 200) << "a password may hold ':'";
  EXPECT_EQ(status_with("basic " + credentials), 200) << "the scheme is case-insensitive";
  EXPECT_EQ(status_with("Bearer " + credentials), 401);
  EXPECT_EQ(status_with("Basic"), 401);
  EXPECT_EQ(status_with("Basic !!!!"), 401);
  EXPECT_EQ(status_with("Basic " + credentials.substr(0, credentials.size() - 1)), 401);
  EXPECT_EQ(status_with("Basic " + Base64("prometheus")), 401) << "no ':'";
  EXPECT_EQ(status_with("Basic " + Base64(std::string("prometheus:pass:with:colons\0x", 29))),
            401)
      << "bytes after a NUL are not ignored";
}

TEST_F(WebConfigTest, BcryptCostIsHonouredAndVerdictsAreCached) {
  const std::string cheap_hash = BcryptHash("cheap-pass", 4);
  StartExporter("basic_auth_users:\n  cheap0: " + cheap_hash + "\n  cheap1: " + cheap_hash + "\n  cheap2: " +
                cheap_hash + "\n  costly: " + BcryptHash("costly-pass", 12) + "\n");
  // The fastest of three requests, each with a password not seen before (so not cached): a busy
  // machine only ever adds time.
  auto fastest_uncached = [&](const std::string& user, int expected_status) {
    double fastest = 1e9;
    for (int i = 0; i < 3; ++i) {
      int status = 0;
      const std::string password = (expected_status == 200 && i == 0 ? user + "-pass" : "guess-" + std::to_string(i));
      fastest = std::min(fastest, TimedRequest(user, password, &status));
      EXPECT_EQ(status, i == 0 ? expected_status : 401) << user;
    }
    return fastest;
  };
  // A failed check takes as long as the costliest one (issue 17): the cheap cost shows in
  // successes only, so three users with the same cost-4 hash log in once each.
  double cheap = 1e9;
  for (const char* user : {"cheap0", "cheap1", "cheap2"}) {
    int status = 0;
    cheap = std::min(cheap, TimedRequest(user, "cheap-pass", &status));
    EXPECT_EQ(status, 200) << user;
  }
  const double costly = fastest_uncached("costly", 200);
  const double unknown_user = fastest_uncached("nobody", 401);
  double cached = 1e9;
  for (int i = 0; i < 3; ++i) {
    int status = 0;
    cached = std::min(cached, TimedRequest("costly", "costly-pass", &status));
    EXPECT_EQ(status, 200);
  }
  std::printf("bcrypt, fastest of 3 uncached requests: cost 4 %.1f ms, cost 12 %.1f ms, unknown user %.1f ms; "
              "cost 12 cached %.2f ms\n",
              cheap * 1e3, costly * 1e3, unknown_user * 1e3, cached * 1e3);

  // Cost 12 is 256 times the work of cost 4; the bounds are loose for slow machines.
  EXPECT_GT(costly, 10 * cheap);
  EXPECT_GT(costly, 0.02);
  EXPECT_LT(cached * 10, costly) << "a repeated scrape must not pay bcrypt again";
  EXPECT_GT(unknown_user * 3, costly) << "an unknown user takes as long as the costliest user";
}

TEST_F(WebConfigTest, RequireAndVerifyClientCertAcceptsOnlyCertificatesOfTheClientCa) {
  StartExporter(TlsYaml("  client_ca_file: " + certs_.ca_cert + "\n  client_auth_type: RequireAndVerifyClientCert\n"));
  const auto with_client_cert = Https(certs_.client_cert, certs_.client_key)->Get("/metrics");
  ASSERT_TRUE(with_client_cert) << httplib::to_string(with_client_cert.error());
  EXPECT_EQ(with_client_cert->status, 200);
  EXPECT_FALSE(Https()->Get("/metrics")) << "no client certificate";
  EXPECT_FALSE(Https(certs_.stranger_cert, certs_.stranger_key)->Get("/metrics")) << "a certificate of another CA";
}

TEST_F(WebConfigTest, VerifyClientCertIfGivenLetsClientsWithoutOneIn) {
  StartExporter(TlsYaml("  client_ca_file: " + certs_.ca_cert + "\n  client_auth_type: VerifyClientCertIfGiven\n"));
  EXPECT_EQ(Https()->Get("/metrics")->status, 200);
  EXPECT_EQ(Https(certs_.client_cert, certs_.client_key)->Get("/metrics")->status, 200);
  EXPECT_FALSE(Https(certs_.stranger_cert, certs_.stranger_key)->Get("/metrics")) << "a certificate of another CA";
}

TEST_F(WebConfigTest, MinVersionTls13RefusesTls12Clients) {
  StartExporter(TlsYaml("  min_version: TLS13\n"));
  const std::string url = " --cacert " + certs_.ca_cert + " https://127.0.0.1:" + std::to_string(exporter_->port()) +
                          "/-/healthy";
  std::string output;
  EXPECT_EQ(RunCommand("curl -sS --fail --tlsv1.3" + url, &output), 0) << output;
  EXPECT_NE(RunCommand("curl -sS --fail --tlsv1.2 --tls-max 1.2" + url, &output), 0) << output;
}

// Issue 17, item 15: TLS 1.2 offered static-RSA and CBC-SHA1 suites (no forward secrecy), and
// cipher_suites was refused. The default now is exporter-toolkit's without them: ECDHE with
// AES-GCM or ChaCha20-Poly1305; cipher_suites and curve_preferences take Go's names.
TEST_F(WebConfigTest, Tls12OffersForwardSecretAeadSuitesUnlessConfiguredOtherwise) {
  auto handshakes = [&](const std::string& curl_options) {
    const std::string url = " --cacert " + certs_.ca_cert + " https://127.0.0.1:" +
                            std::to_string(exporter_->port()) + "/-/healthy";
    std::string output;
    return RunCommand("curl -sS --fail --tlsv1.2 --tls-max 1.2 " + curl_options + url, &output) == 0;
  };
  StartExporter(TlsYaml());
  EXPECT_TRUE(handshakes("--ciphers ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_TRUE(handshakes("--ciphers ECDHE-RSA-CHACHA20-POLY1305"));
  EXPECT_FALSE(handshakes("--ciphers AES128-GCM-SHA256")) << "static RSA: no forward secrecy";
  EXPECT_FALSE(handshakes("--ciphers AES256-SHA")) << "static RSA with CBC-SHA1";
  EXPECT_FALSE(handshakes("--ciphers ECDHE-RSA-AES128-SHA")) << "CBC-SHA1";
  exporter_->Stop();
  exporter_.reset();

  StartExporter(TlsYaml("  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n  curve_preferences: [CurveP384]\n"));
  EXPECT_TRUE(handshakes("--ciphers ECDHE-RSA-AES256-GCM-SHA384 --curves P-384"));
  EXPECT_FALSE(handshakes("--ciphers ECDHE-RSA-AES128-GCM-SHA256")) << "not listed";
  EXPECT_FALSE(handshakes("--ciphers ECDHE-RSA-AES256-GCM-SHA384 --curves X25519")) << "not a preferred curve";
}

// The binary as an operator runs it: a web config that cannot work stops the start with exit
// code 1 and one line naming the file and the place in it; --config.check checks it too.
// The README's reload command behind TLS and basic auth, typed with curl's own flags.
TEST_F(WebConfigTest, CurlReloadsBehindTlsAndBasicAuth) {
  StartExporter(TlsYaml("basic_auth_users:\n  prometheus: " + BcryptHash("scrape-pass-1", 4) + "\n"));
  const std::string url = "https://127.0.0.1:" + std::to_string(exporter_->port()) + "/-/reload";
  const std::string curl = "curl -sS --cacert " + certs_.ca_cert + " -o /dev/null -w '%{http_code}' ";
  std::string output;
  ASSERT_EQ(RunCommand(curl + "-u prometheus:scrape-pass-1 -X POST " + url, &output), 0) << output;
  EXPECT_EQ(output, "200");
  ASSERT_EQ(RunCommand(curl + "-X POST " + url, &output), 0) << output;
  EXPECT_EQ(output, "401");
  ASSERT_EQ(RunCommand(curl + "-u prometheus:scrape-pass-1 " + url, &output), 0) << output;
  EXPECT_EQ(output, "405");
}

// What cert-manager and a Secret update do to a running exporter: the files change under it, and
// new connections get the new certificate and users, without a restart or a signal; a broken
// file keeps the last good config.
TEST_F(WebConfigTest, ChangedFilesServeNewConnectionsWithoutARestart) {
  const std::string users = "basic_auth_users:\n  prometheus: " + BcryptHash("scrape-pass-1", 4) + "\n";
  StartExporter(TlsYaml(users));
  const std::string port = std::to_string(exporter_->port());
  auto fingerprint = [](const std::string& pem) {
    return testing::MustRun("openssl x509 -noout -fingerprint -sha256 -in " + pem);
  };
  auto served_fingerprint = [&] {
    std::string output;
    RunCommand("openssl s_client -connect 127.0.0.1:" + port + " </dev/null 2>/dev/null | "
               "openssl x509 -noout -fingerprint -sha256", &output);
    return output;
  };
  auto status = [&](const std::string& user, const std::string& password) {
    auto client = Https();
    client->set_basic_auth(user.c_str(), password.c_str());
    const auto response = client->Get("/metrics");
    return response ? response->status : 0;
  };
  ASSERT_EQ(served_fingerprint(), fingerprint(certs_.server_cert));

  // A renewed certificate from the same CA, moved into place as a new file.
  const std::string dir = dir_.path();
  testing::MustRun("openssl req -new -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + dir +
                   "/renewed-key.pem -out " + dir + "/renewed.csr 2>&1 && openssl x509 -req -days 2 -in " + dir +
                   "/renewed.csr -CA " + certs_.ca_cert + " -CAkey " + dir + "/ca-key.pem -CAcreateserial -extfile " +
                   dir + "/server.ext -out " + dir + "/renewed.pem 2>&1");
  const std::string renewed = fingerprint(dir + "/renewed.pem");
  ASSERT_NE(renewed, fingerprint(certs_.server_cert));
  testing::MustRun("mv " + dir + "/renewed-key.pem " + certs_.server_key + " && mv " + dir + "/renewed.pem " +
                   certs_.server_cert);
  ASSERT_TRUE(testing::WaitFor([&] { return served_fingerprint() == renewed; })) << served_fingerprint();
  EXPECT_EQ(status("prometheus", "scrape-pass-1"), 200) << "the renewed certificate verifies against the CA";

  // A new user, added by rewriting the web config.
  dir_.Write("web.yml", TlsYaml(users + "  grafana: " + BcryptHash("dash-pass-2", 4) + "\n"));
  ASSERT_TRUE(testing::WaitFor([&] { return status("grafana", "dash-pass-2") == 200; }));

  // A broken file: the last good config goes on serving, over the next looks at the files.
  dir_.Write("web.yml", "tls_server_config: [\n");
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(status("grafana", "dash-pass-2"), 200);
    ASSERT_EQ(served_fingerprint(), renewed);
  }
}

// The container health check of a TLS listener with basic auth: it speaks TLS when given the
// web config, and a password request is an answer. The Dockerfile's HEALTHCHECK line cannot know
// the web config: without it, the check finds out that the port speaks TLS (issue 17; it
// failed on every TLS deployment before).
TEST_F(WebConfigTest, HealthCheckFlagWorksAgainstATlsListener) {
  StartExporter(TlsYaml("basic_auth_users:\n  prometheus: " + BcryptHash("scrape-pass-1", 4) + "\n"));
  const std::string listen = " --web.listen-address 127.0.0.1:" + std::to_string(exporter_->port());
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --web.health-check" + listen + " --web.config.file " + dir_.path() + "/web.yml", &output), 0)
      << output;
  EXPECT_EQ(RunCommand(kBinary + " --web.health-check" + listen, &output), 0) << output;
  exporter_->Stop();
  EXPECT_EQ(RunCommand(kBinary + " --web.health-check" + listen + " --web.config.file " + dir_.path() + "/web.yml", &output), 1);
  EXPECT_THAT(output, HasSubstr("no answer"));
  exporter_.reset();
}

TEST_F(WebConfigTest, ABadWebConfigStopsTheStartWithFileLineAndColumn) {
  const std::string config = dir_.Write("config.yaml", ConfigYaml());
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const Case cases[] = {
      {"tls_server_config:\n  cert_file: " + certs_.server_cert + "\n  key_file: " + certs_.server_key +
           "\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
       ":4:19: \"TLS_AES_128_GCM_SHA256\" is a TLS 1.3 suite"},
      {"tls_server_config:\n  cert_file: " + certs_.server_cert + "\n  key_file: " + certs_.server_key +
           "\n  curve_preferences: [X25519, P256]\n",
       ":4:31: unknown curve \"P256\"; known: CurveP256, CurveP384, CurveP521, X25519"},
      {"tls_server_config:\n  cert_file: missing.pem\n  key_file: " + certs_.server_key + "\n",
       ":2:14: cannot read cert_file"},
      {"tls_server_config:\n  cert_file: " + certs_.server_cert + "\n  key_file: " + certs_.client_key + "\n",
       ":3:13: cannot load the private key"},
      {"tls_server_config:\n  cert_file: " + certs_.server_cert + "\n  key_file: " + certs_.server_key +
           "\n  client_auth_type: RequireAndVerifyClientCert\n",
       ":4:21: client_auth_type RequireAndVerifyClientCert needs client_ca_file"},
      {"tls_server_config:\n  cert_file: " + certs_.server_cert + "\n  key_file: " + certs_.server_key +
           "\n  min_version: TLS10\n",
       ":4:16: \"min_version\" must be one of TLS12, TLS13"},
      {"basic_auth_users:\n  prometheus: plain-text-password\n", ":2:15: the password of \"prometheus\" must be a bcrypt hash"},
      {"basic_auth_users: [prometheus]\n", ":1:19: \"basic_auth_users\" must be a mapping"},
      // An htpasswd line pasted under the key is one scalar: named, not quoted (issue 17, item 12).
      {"basic_auth_users:\n  prometheus:plain-text-password\n", ":2:3: \"basic_auth_users\" must be a mapping, got a scalar"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    const std::string web = dir_.Write("bad-web.yml", c.yaml);
    std::string output;
    EXPECT_EQ(RunCommand(kBinary + " --config.file " + config + " --web.config.file " + web +
                             " --web.listen-address 127.0.0.1:0",
                         &output),
              1);
    EXPECT_THAT(output, HasSubstr(web + c.expected));
    EXPECT_THAT(output, ::testing::Not(HasSubstr("plain-text-password"))) << "a pasted password is not echoed";
    EXPECT_EQ(RunCommand(kBinary + " --config.check --config.file " + config + " --web.config.file " + web, &output), 1);
    EXPECT_THAT(output, HasSubstr(web + c.expected));
  }
  std::string output;
  EXPECT_EQ(RunCommand(kBinary + " --config.check --config.file " + config + " --web.config.file " +
                           dir_.Write("good-web.yml", TlsYaml()),
                       &output),
            0)
      << output;
}

}  // namespace
}  // namespace llm_probe
