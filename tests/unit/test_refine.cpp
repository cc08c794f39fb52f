// The discrete merge/split stage after learned sharing (methods/sharing/refine.hpp):
// labels, the one-hot sharing of a partition, the tolerance rules on scripted
// scores, and recovery of a constructed two-group truth from a refinement,
// from a full merge and from no sharing, scored by a real held-out loss.
#include "methods/sharing/refine.hpp"
#include "methods/sharing/train.hpp"
#include "util/rng.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace symlearn;
using sharing::Partition;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int groups_of(const Partition& p) {
  int n = 0;
  for (int g : p) n = std::max(n, g + 1);
  return n;
}
}  // namespace

TEST_CASE("refine: canonical labels and the one-hot sharing of a partition") {
  CHECK(sharing::canonical_partition({4, 4, 1, 7, 1}) == Partition{0, 0, 1, 2, 1});
  CHECK(sharing::canonical_partition({}).empty());
  const ad::Mat a = sharing::partition_sharing({0, 1, 0});
  REQUIRE(a.rows() == 3);
  REQUIRE(a.cols() == 3);
  CHECK(a(0, 0) == 1.0);
  CHECK(a(1, 1) == 1.0);
  CHECK(a(2, 0) == 1.0);
  CHECK(a.sum() == 3.0);
  CHECK(sharing::sharing_groups(a) == std::vector<int>{0, 1, 0});
}

TEST_CASE("refine: merges cost at most the tolerance, splits must gain more than it") {
  // 1% per extra group: every merge is kept, down to one group.
  int calls = 0;
  auto fewer = [&](const Partition& p, const Partition&) {
    ++calls;
    return 1.0 + 0.01 * groups_of(p);
  };
  sharing::RefineResult r = sharing::refine_partition({0, 1, 2, 3}, fewer, 0.02, 0.02, kNaN);
  CHECK(r.groups == Partition{0, 0, 0, 0});
  CHECK(r.score == doctest::Approx(1.01));
  CHECK(r.steps.size() == 3);
  CHECK(r.evaluations + 1 == calls);  // the start's own score is not counted

  // Positions 0 and 1 apart cost 3% held-out: above a 2% tolerance the merge is refused...
  auto apart = [](const Partition& p, const Partition&) { return p[0] == p[1] ? 1.0 : 1.03; };
  r = sharing::refine_partition({0, 1}, apart, 0.02, 0.02, kNaN);
  CHECK(r.groups == Partition{0, 0});  // the merge gains: kept
  r = sharing::refine_partition({0, 0}, apart, 0.02, 0.02, kNaN);
  CHECK(r.groups == Partition{0, 0});  // the split loses: refused
  auto together = [](const Partition& p, const Partition&) { return p[0] == p[1] ? 1.03 : 1.0; };
  r = sharing::refine_partition({0, 1}, together, 0.02, 0.02, kNaN);
  CHECK(r.groups == Partition{0, 1});  // a 3% cost is over the tolerance
  r = sharing::refine_partition({0, 1}, together, 0.05, 0.05, kNaN);
  CHECK(r.groups == Partition{0, 0});  // ... and within a 5% one
  // A split gaining 1% is refused at 2%, one gaining 3% is kept.
  auto gain = [](double g) {
    return [g](const Partition& p, const Partition&) { return p[0] == p[1] ? 1.0 : 1.0 - g; };
  };
  CHECK(sharing::refine_partition({0, 0}, gain(0.01), 0.02, 0.02, kNaN).groups == Partition{0, 0});
  CHECK(sharing::refine_partition({0, 0}, gain(0.03), 0.02, 0.02, kNaN).groups == Partition{0, 1});
  // A separate split threshold: a 3% gain (refit noise) is refused at 5%, a 10% gain kept,
  // while merges still cost at most the 2% tolerance.
  CHECK(sharing::refine_partition({0, 0}, gain(0.03), 0.02, 0.05, kNaN).groups == Partition{0, 0});
  CHECK(sharing::refine_partition({0, 0}, gain(0.10), 0.02, 0.05, kNaN).groups == Partition{0, 1});
  CHECK(sharing::refine_partition({0, 1}, together, 0.02, 0.05, kNaN).groups == Partition{0, 1});
  // A merge the first score refuses is scored again by `retry` (a fresh fit), and the lower counts.
  int retries = 0;
  auto fresh = [&](const Partition& p, const Partition&) {
    ++retries;
    return p[0] == p[1] ? 1.0 : 1.0;
  };
  r = sharing::refine_partition({0, 1}, together, 0.02, 0.05, kNaN, {}, fresh);
  CHECK(r.groups == Partition{0, 0});
  CHECK(retries == 1);
  retries = 0;
  r = sharing::refine_partition({0, 1}, fewer, 0.02, 0.05, kNaN, {}, fresh);
  CHECK(r.groups == Partition{0, 0});
  CHECK(retries == 0);  // accepted at once: no retry
  // The caller's start score is used as given.
  r = sharing::refine_partition({0, 0}, gain(0.03), 0.02, 0.02, 0.5);
  CHECK(r.groups == Partition{0, 0});
  CHECK(r.score == 0.5);
}

TEST_CASE("refine: a constructed two-group truth is recovered by its held-out loss") {
  // Six coordinates, true groups {0, 1, 2} (mean 0) and {3, 4, 5} (mean 4),
  // unit noise; a partition's score is the val MSE of its train group means.
  const Partition truth = {0, 0, 0, 1, 1, 1};
  Rng rng(11);
  auto draw = [&](long n) {
    Eigen::MatrixXd x(n, 6);
    for (long i = 0; i < n; ++i)
      for (int k = 0; k < 6; ++k) x(i, k) = (k < 3 ? 0.0 : 4.0) + rng.normal();
    return x;
  };
  const Eigen::MatrixXd train = draw(200), val = draw(200);
  auto score = [&](const Partition& p, const Partition&) {
    const ad::Mat a = sharing::partition_sharing(p);
    const Eigen::RowVectorXd theta = (a * sharing::gaussian_group_means(a, train)).transpose();
    return (val.rowwise() - theta).squaredNorm() / static_cast<double>(val.size());
  };
  for (const Partition& start : {Partition{0, 0, 1, 2, 2, 2},  // a refinement: the usual failure
                                 Partition{0, 1, 2, 3, 4, 5},  // no sharing
                                 Partition{0, 0, 0, 0, 0, 0},  // everything merged
                                 Partition{0, 1, 0, 1, 1, 0}}) {  // a wrong split
    CAPTURE(start);
    const sharing::RefineResult r = sharing::refine_partition(start, score, 0.02, 0.02, kNaN);
    CHECK(r.groups == truth);
    CHECK(r.score <= score(truth, {}) * (1 + 1e-12));
    CHECK(r.evaluations < 200);
  }
}

TEST_CASE("refine: merge candidates closest first, and the first acceptable one is kept") {
  CHECK(sharing::all_pairs({0, 1, 2}) == std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}});
  Eigen::MatrixXd features(3, 1);
  features << 0.0, 5.0, 4.5;
  CHECK(sharing::pairs_by_distance({0, 1, 2}, features) == std::vector<std::pair<int, int>>{{1, 2}, {0, 2}, {0, 1}});
  // Every merge is acceptable: the order decides which is kept, at one score per merge.
  int calls = 0;
  auto flat = [&](const Partition&, const Partition&) {
    ++calls;
    return 1.0;
  };
  auto order = [&](const Partition& p) {
    return p.size() == 3 && groups_of(p) == 3 ? sharing::pairs_by_distance(p, features) : sharing::all_pairs(p);
  };
  const sharing::RefineResult r = sharing::refine_partition({0, 1, 2}, flat, 0.0, 0.0, kNaN, order);
  CHECK(r.steps.front().rfind("merge 1+2", 0) == 0);
  CHECK(r.groups == Partition{0, 0, 0});
  // Two merges, then the single group's splits: {0}{1 2} was scored already, {1}{0 2} and {2}{0 1} are new.
  CHECK(r.evaluations == 2 + 2);
}
