#include "methods/msr/evaluate.hpp"

#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <numeric>

namespace symlearn::msr {

EvalResult evaluate(const TrainState& st, const tasks::RegressionSplit& split, const EvalOptions& opt) {
  EvalResult r;
  r.support = opt.support > 0 ? opt.support : st.options.support;
  r.query = opt.query > 0 ? opt.query : std::min(st.options.query, split.samples - r.support);
  if (r.support + r.query > split.samples || r.query < 1)
    throw InputError("--support " + std::to_string(r.support) + " + --query " + std::to_string(r.query) +
                     " exceeds the " + std::to_string(split.samples) + " examples per task of " + split.name);
  if (opt.limit < 0) throw InputError("--limit must be >= 0");
  std::vector<long> all(split.tasks);
  std::iota(all.begin(), all.end(), 0L);
  if (opt.limit > 0 && opt.limit < split.tasks) {
    // A seeded sample without replacement (partial Fisher-Yates), kept in task order.
    Rng rng(opt.seed, 0x6576616cULL);
    for (long i = 0; i < opt.limit; ++i)
      std::swap(all[i], all[i + static_cast<long>(rng.below(static_cast<std::uint64_t>(split.tasks - i)))]);
    all.resize(opt.limit);
    std::sort(all.begin(), all.end());
  }
  r.tasks = all;
  r.losses.resize(all.size());
  std::vector<int> rows(r.support + r.query);
  std::iota(rows.begin(), rows.end(), 0);
  parallel_for(static_cast<long>(all.size()), opt.threads, [&](long i) {
    const tasks::Episode e = tasks::make_episode(split, all[i], rows, r.support, r.query);
    r.losses[i] = run_episode(st.model, st.options.inner, e, false).query_loss;
  });
  r.summary = analysis::mean_ci95(r.losses);
  return r;
}

}  // namespace symlearn::msr
