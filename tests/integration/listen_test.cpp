// The listen socket as users and kernels see it: ":port" takes IPv4 and IPv6 clients,
// "0.0.0.0:port" and "[::1]:port" only their own family, and a burst of connections is queued
// by the kernel rather than dropped while the accept loop catches up.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <memory>
#include <vector>

#include "llm_probe/exporter.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using testing::TempDir;

class ListenTest : public ::testing::Test {
 protected:
  std::unique_ptr<Exporter> Bound(const std::string& listen_address) {
    const auto listen = ParseListenAddress(listen_address);
    EXPECT_TRUE(listen) << listen_address;
    ExporterOptions options;
    options.config_file = dir_.Write("config.yaml",
                                     "global: {interval: 1h}\ntargets:\n  - name: relay\n"
                                     "    base_url: http://127.0.0.1:1/v1\n    probes: [{name: models, type: models}]\n");
    options.listen = *listen;
    options.build = {"test", "test"};
    return std::make_unique<Exporter>(options);
  }

  TempDir dir_;
};

// A non-blocking connect; the kernel completes the handshake only while the listen queue has room.
int StartConnect(int family, int port) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (family == AF_INET) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(static_cast<uint16_t>(port));
    address.sin6_addr = in6addr_loopback;
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  return fd;
}

// Whether the connection was established within the limit (the server need not accept it).
bool Connected(int fd, int limit_ms) {
  pollfd entry{fd, POLLOUT, 0};
  if (::poll(&entry, 1, limit_ms) != 1) return false;
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  return error == 0;
}

bool Reachable(int family, int port) {
  const int fd = StartConnect(family, port);
  const bool connected = Connected(fd, 2000);
  ::close(fd);
  return connected;
}

bool HasIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

TEST_F(ListenTest, PortAloneIsDualStackAndAnAddressIsTakenAsGiven) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "this machine has no IPv6 loopback";
  const auto dual = Bound(":0");
  EXPECT_TRUE(Reachable(AF_INET, dual->port())) << ":port answers IPv4";
  EXPECT_TRUE(Reachable(AF_INET6, dual->port())) << ":port answers IPv6";

  const auto ipv4 = Bound("0.0.0.0:0");
  EXPECT_TRUE(Reachable(AF_INET, ipv4->port()));
  EXPECT_FALSE(Reachable(AF_INET6, ipv4->port())) << "0.0.0.0:port is IPv4 only";

  const auto ipv6_loopback = Bound("[::1]:0");
  EXPECT_TRUE(Reachable(AF_INET6, ipv6_loopback->port()));
  EXPECT_FALSE(Reachable(AF_INET, ipv6_loopback->port())) << "[::1]:port is IPv6 only";
}

// The exporter is bound but not yet accepting (Start not called): every connection of a burst
// must still complete its handshake in the kernel's queue. With a queue of 5 the rest have their
// SYNs dropped and would not complete until the accept loop drains the queue.
TEST_F(ListenTest, ABurstOfConnectionsIsQueuedNotDropped) {
  const auto exporter = Bound("127.0.0.1:0");
  constexpr int kBurst = 100;
  std::vector<int> sockets;
  for (int i = 0; i < kBurst; ++i) sockets.push_back(StartConnect(AF_INET, exporter->port()));
  int connected = 0;
  for (int fd : sockets) connected += Connected(fd, 2000) ? 1 : 0;
  for (int fd : sockets) ::close(fd);
  EXPECT_EQ(connected, kBurst);
}

}  // namespace
}  // namespace llm_probe
