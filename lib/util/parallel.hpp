// A minimal parallel loop. Work is split into fixed contiguous ranges, and
// every index does its own independent work, so results never depend on the
// number of threads.
#pragma once

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace symlearn {

template <class Fn>
void parallel_for(long n, int threads, Fn&& fn) {
  threads = static_cast<int>(std::max<long>(1, std::min<long>(threads, n)));
  if (threads == 1) {
    for (long i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        for (long i = n * t / threads; i < n * (t + 1) / threads; ++i) fn(i);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace symlearn
