#include "util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace symlearn {
namespace {

thread_local bool t_in_parallel = false;

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  // Runs part(p) for p in [0, parts) on the caller and parts - 1 workers.
  void run(int parts, const std::function<void(int)>& part) {
    std::lock_guard<std::mutex> serial(run_mu_);  // one loop at a time
    while (static_cast<int>(workers_.size()) < parts - 1) workers_.emplace_back([this] { work(); });
    {
      std::lock_guard<std::mutex> lock(mu_);
      part_ = &part;
      parts_ = parts;
      next_ = 1;  // the caller takes part 0
      pending_ = parts - 1;
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    wake_.notify_all();
    part(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    part_ = nullptr;
  }

 private:
  void work() {
    t_in_parallel = true;
    std::uint64_t seen = 0;
    for (;;) {
      // Loops come back to back (several per outer step): spin briefly before
      // sleeping, since a futex wake-up costs tens of microseconds here.
      const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (published_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < spin_until)
        std::this_thread::yield();
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      // Claim parts under the lock, and only of the loop this worker woke
      // for: a late worker must never run a part of the next loop.
      for (;;) {
        const std::function<void(int)>* part;
        int p;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (generation_ != seen || next_ >= parts_) break;
          p = next_++;
          part = part_;
        }
        (*part)(p);
        std::lock_guard<std::mutex> lock(mu_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  std::mutex run_mu_, mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* part_ = nullptr;
  int parts_ = 0;
  int pending_ = 0;
  int next_ = 0;
  std::uint64_t generation_ = 0;
  std::atomic<std::uint64_t> published_{0};  // generation_, readable without the lock
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void parallel_for(long n, int threads, const std::function<void(long)>& fn) {
  const int parts = static_cast<int>(std::max<long>(1, std::min<long>(threads, n)));
  if (parts == 1 || t_in_parallel) {
    for (long i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::exception_ptr> errors(parts);
  pool().run(parts, [&](int p) {
    const bool outer = t_in_parallel;
    t_in_parallel = true;  // a nested parallel_for runs serially
    try {
      for (long i = n * p / parts; i < n * (p + 1) / parts; ++i) fn(i);
    } catch (...) {
      errors[p] = std::current_exception();
    }
    t_in_parallel = outer;
  });
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace symlearn
