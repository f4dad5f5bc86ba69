// ThreadPool: a fixed set of worker threads and a FIFO task queue.
//
// Contracts:
//  - Submit(fn) runs fn on a worker and returns a future; an exception thrown by fn is rethrown
//    by future::get().
//  - ParallelFor(n, fn) calls fn(i) for every i in [0, n) and returns when all calls finished.
//    The calling thread takes part, and it waits only for the items, never for a queued helper
//    task to start, so ParallelFor may be nested inside pool tasks without deadlock.
//  - The destructor finishes queued tasks, then joins the workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace pulse {

class ThreadPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency() (at least 1).
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  template <typename Fn>
  auto Submit(Fn fn) -> std::future<decltype(fn())> {
    using R = decltype(fn());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> result = task->get_future();
    Enqueue([task] { (*task)(); });
    return result;
  }

  // Runs fn(i) for i in [0, n) on up to `max_threads` threads (0 = pool size + caller).
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn, size_t max_threads = 0);

 private:
  void Enqueue(std::function<void()> task);
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// The process-wide pool used by library code (sized to the machine).
ThreadPool& DefaultThreadPool();

}  // namespace pulse
