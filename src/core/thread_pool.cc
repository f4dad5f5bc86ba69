#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace pulse {

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::Enqueue(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn, size_t max_threads) {
  if (n == 0) return;
  size_t threads = max_threads == 0 ? workers_.size() + 1 : max_threads;
  threads = std::min(threads, n);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // Shared with helper tasks that may start after this call returned (they then find no work).
  struct State {
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    std::exception_ptr error;
    const std::function<void(size_t)>* fn = nullptr;
    size_t n = 0;
  };
  auto state = std::make_shared<State>();
  state->fn = &fn;
  state->n = n;
  auto work = [](const std::shared_ptr<State>& s) {
    for (size_t i = s->next++; i < s->n; i = s->next++) {
      try {
        (*s->fn)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(s->mu);
        if (!s->error) s->error = std::current_exception();
      }
      if (++s->done == s->n) {
        std::lock_guard<std::mutex> lock(s->mu);
        s->cv.notify_all();
      }
    }
  };
  for (size_t t = 1; t < threads; ++t) Enqueue([state, work] { work(state); });
  work(state);
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->done.load() == n; });
  if (state->error) std::rethrow_exception(state->error);
}

ThreadPool& DefaultThreadPool() {
  static ThreadPool pool;
  return pool;
}

}  // namespace pulse
