#include "worker_pool.h"

namespace llm_probe::internal {

GrowingWorkerPool::GrowingWorkerPool(std::size_t max_threads) : max_threads_(max_threads < 1 ? 1 : max_threads) {}

GrowingWorkerPool::~GrowingWorkerPool() { shutdown(); }

void GrowingWorkerPool::enqueue(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  tasks_.push_back(std::move(task));
  // Each queued task needs a worker of its own: a task is a connection, served until it closes.
  if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Work(); });
  } else {
    wake_.notify_one();
  }
}

void GrowingWorkerPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

void GrowingWorkerPool::Work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    // Queued connections are still served at shutdown, as cpp-httplib's own pool does; the
    // server has stopped accepting by then and each connection ends within its timeouts.
    if (tasks_.empty()) return;
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace llm_probe::internal
