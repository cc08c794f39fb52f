// A minimal parallel loop over a persistent pool of worker threads (started
// on first use, reused by every call: meta-train runs several loops per outer
// step, and starting threads each time cost a measurable share of a step).
// Work is split into fixed contiguous ranges and every index does its own
// independent work, so results never depend on the number of threads.
#pragma once

#include <functional>

namespace symlearn {

// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller's
// included). The first exception thrown by fn is rethrown. Called from inside
// a parallel_for body, it runs serially.
void parallel_for(long n, int threads, const std::function<void(long)>& fn);

}  // namespace symlearn
