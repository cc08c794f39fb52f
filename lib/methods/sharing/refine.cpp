#include "methods/sharing/refine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace symlearn::sharing {

Partition canonical_partition(const Partition& groups) {
  std::map<int, int> relabel;
  Partition out;
  out.reserve(groups.size());
  for (int g : groups) {
    auto it = relabel.find(g);
    if (it == relabel.end()) it = relabel.emplace(g, static_cast<int>(relabel.size())).first;
    out.push_back(it->second);
  }
  return out;
}

ad::Mat partition_sharing(const Partition& groups) {
  const auto n = static_cast<Eigen::Index>(groups.size());
  ad::Mat a = ad::Mat::Zero(n, n);
  for (Eigen::Index p = 0; p < n; ++p) a(p, groups[static_cast<std::size_t>(p)]) = 1.0;
  return a;
}

namespace {

int group_count(const Partition& p) {
  int n = 0;
  for (int g : p) n = std::max(n, g + 1);
  return n;
}

std::string describe(const char* what, int a, int b, double score) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%s %d%s%d %.6g", what, a, what[0] == 'm' ? "+" : " from ", b, score);
  return buf;
}

}  // namespace

std::vector<std::pair<int, int>> all_pairs(const Partition& groups) {
  std::vector<std::pair<int, int>> out;
  const int n = group_count(groups);
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) out.emplace_back(a, b);
  return out;
}

std::vector<std::pair<int, int>> pairs_by_distance(const Partition& groups, const Eigen::MatrixXd& features) {
  std::vector<std::pair<int, int>> out = all_pairs(groups);
  auto d = [&](const std::pair<int, int>& p) { return (features.row(p.first) - features.row(p.second)).squaredNorm(); };
  std::stable_sort(out.begin(), out.end(), [&](const auto& x, const auto& y) { return d(x) < d(y); });
  return out;
}

RefineResult refine_partition(const Partition& start, const PartitionScore& score, double tolerance,
                              double split_gain, double start_score, const MergeOrder& order,
                              const PartitionScore& retry) {
  RefineResult out;
  out.groups = canonical_partition(start);
  out.score = std::isnan(start_score) ? score(out.groups, {}) : start_score;
  std::map<Partition, double> seen = {{out.groups, out.score}};
  double best = out.score;  // the lowest score kept so far
  // Scores a candidate once; NaN for one already scored (kept or rejected).
  auto try_one = [&](const Partition& candidate) {
    const Partition c = canonical_partition(candidate);
    if (seen.count(c)) return std::numeric_limits<double>::quiet_NaN();
    const double s = score(c, out.groups);
    ++out.evaluations;
    seen.emplace(c, s);
    return s;
  };
  for (;;) {
    const int groups = group_count(out.groups);
    // Merges: the first pair in order within the tolerance of the best score kept.
    bool merged = false;
    for (const auto& [a, b] : order ? order(out.groups) : all_pairs(out.groups)) {
      Partition c = out.groups;
      for (int& g : c)
        if (g == b) g = a;
      double s = try_one(c);
      if (retry && s > best * (1 + tolerance)) {  // refused (not NaN: scored just now)
        const Partition key = canonical_partition(c);
        ++out.evaluations;
        s = std::min(s, retry(key, out.groups));
        seen[key] = s;
      }
      if (s <= best * (1 + tolerance)) {  // false for NaN
        out.groups = canonical_partition(c);
        out.score = s;
        best = std::min(best, s);
        out.steps.push_back(describe("merge", a, b, s));
        merged = true;
        break;
      }
    }
    if (merged) continue;
    // Splits: one position into a group of its own, kept when it gains more than split_gain.
    std::vector<int> sizes(static_cast<std::size_t>(groups), 0);
    for (int g : out.groups) ++sizes[static_cast<std::size_t>(g)];
    double split_score = std::numeric_limits<double>::infinity();
    Partition split;
    int sp = 0, sg = 0;
    for (std::size_t p = 0; p < out.groups.size(); ++p) {
      if (sizes[static_cast<std::size_t>(out.groups[p])] < 2) continue;
      Partition c = out.groups;
      c[p] = groups;
      const double s = try_one(c);
      if (s < split_score) {
        split_score = s;
        split = c;
        sp = static_cast<int>(p);
        sg = out.groups[p];
      }
    }
    if (split_score < best * (1 - split_gain)) {
      out.groups = canonical_partition(split);
      out.score = split_score;
      best = split_score;
      out.steps.push_back(describe("split", sp, sg, split_score));
      continue;
    }
    return out;
  }
}

}  // namespace symlearn::sharing
