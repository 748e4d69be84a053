// The HTTP server's connection workers: cpp-httplib serves each connection on one thread until it
// closes, and its default pool is fixed at 8 (or the core count), so eight clients that trickle a
// header byte every few seconds would hold every worker and starve Prometheus. This pool starts
// with a few threads and grows on demand up to `max_threads`; beyond that, connections wait in
// the queue (the kernel keeps accepting), as node_exporter's --web.max-requests bounds its work.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llm_probe::internal {

class GrowingWorkerPool : public httplib::TaskQueue {
 public:
  explicit GrowingWorkerPool(std::size_t max_threads);
  ~GrowingWorkerPool() override;

  void enqueue(std::function<void()> task) override;
  void shutdown() override;

 private:
  void Work();

  const std::size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace llm_probe::internal
