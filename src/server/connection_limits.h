// Internal to the server module: how much of the process the HTTP server may hold.
// The transport (http_transport.h) serves each connection on one worker thread until it closes;
// connections beyond the workers wait in a bounded queue, and beyond that in the kernel's listen
// backlog, which costs the process no file descriptor. So the server never holds more than
// kFdsPerWorker * workers + queued + 1 descriptors, and the rest of the fd limit stays with the
// probes: a flood of idle scrapers can slow the scrapes, never make a probe fail for want of a
// socket.
#pragma once

namespace llm_probe::internal {

// Connections the kernel completes before the accept loop takes them: a burst of scrapes
// (several Prometheus replicas, a reloading fleet) beyond a short backlog would have its SYNs
// dropped and wait a second or more for the retransmission.
inline constexpr int kListenBacklog = 1024;
// A request's line and headers must arrive within this (a deadline, not an idle timeout: a
// client trickling a byte a second is cut off all the same), and its reply be taken.
inline constexpr int kRequestTimeoutMs = 10000;
// An idle keep-alive connection is closed after this.
inline constexpr int kKeepAliveTimeoutMs = 5000;
// Request line and headers together; a larger request gets 413 and the connection is closed.
inline constexpr int kMaxRequestHeaderBytes = 16 * 1024;

// A worker's connection, and its own event loop: an epoll, an eventfd and a timerfd.
inline constexpr long kFdsPerWorker = 4;

struct ConnectionLimits {
  int workers;  // connections served at once, one thread each
  int queued;   // accepted connections waiting for a worker
};

// The server's share of `fd_limit` descriptors: a quarter, half for the workers and half for the
// queue, each between 4 and 64 (64 workers from a limit of 2048 up; the soft limit is raised to
// the hard one first). Prometheus needs one or two connections; the rest is headroom.
ConnectionLimits LimitsForFdLimit(long fd_limit);

// Raises the soft RLIMIT_NOFILE to the hard limit, as Go's runtime does for every Prometheus
// exporter, and returns the soft limit in force afterwards.
long RaiseFdLimit();

}  // namespace llm_probe::internal
