// An HTTPS upstream on loopback that answers every GET and POST with a chat completion; its
// certificate comes from TestCertificates. cpp-httplib does TLS well here (DESIGN.md §6).
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

#include "certificates.h"

namespace llm_probe::faults {

inline const std::string kChatReply =
    R"({"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"OK"},"finish_reason":"stop"}]})";

class TlsUpstream {
 public:
  explicit TlsUpstream(const CertificateFiles& files) : server_(files.cert.c_str(), files.key.c_str()) {
    const auto answer = [](const httplib::Request&, httplib::Response& response) {
      response.set_content(kChatReply, "application/json");
    };
    server_.Post(".*", answer);
    server_.Get(".*", answer);
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening: connections queue until the loop below accepts them.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TlsUpstream() {
    server_.stop();
    thread_.join();
  }
  TlsUpstream(const TlsUpstream&) = delete;
  TlsUpstream& operator=(const TlsUpstream&) = delete;
  std::string BaseUrl() const { return "https://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace llm_probe::faults
