// The discrete stage after learning A (issue 15): greedy merges and splits of
// the hard partition, each candidate scored by a held-out loss (the caller's
// `score`: a refit on train, its early-stopped val loss).
//
// Why: a learned sharing that is wrong is nearly always a *refinement* of the
// truth (a true group split in two). Its validation loss cannot tell it from
// the truth by gradient, but a refit of the merged partition can: the merge
// costs nothing held-out, so it is kept. A merge is kept when its score is at
// most (1 + tolerance) times the best score kept so far (merges are preferred:
// fewer groups, fewer parameters; the first acceptable one in the caller's
// order is kept); a split — one position moved into a group
// of its own, after which a merge may move it into another group — only when
// it lowers the best score by more than `split_gain`, a larger fraction: a
// split adds parameters and its refit's noise favours it (at L = 10 a split of
// the true single group gained 2.5% by noise alone), while a split that undoes
// a wrong merge gains many times over. Every partition is scored at most
// once, and no partition is revisited, so the search ends.
#pragma once

#include "ad/ad.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace symlearn::sharing {

// Group labels, position p -> group; canonical: groups numbered 0, 1, ... in
// order of their first position.
using Partition = std::vector<int>;
Partition canonical_partition(const Partition& groups);

// The one-hot L x L sharing of a partition: row p has its 1 in column groups[p].
ad::Mat partition_sharing(const Partition& groups);

struct RefineResult {
  Partition groups;
  double score = 0;                 // the kept partition's score
  int evaluations = 0;              // calls of `score` (the start's excluded)
  std::vector<std::string> steps;   // what was kept, in order ("merge 0+2 0.0731")
};

// The pairs of groups to try merging in a partition, the most promising
// first (e.g. the groups whose fitted functions are closest). Merges are
// tried in this order and the first one within the tolerance is kept, so a
// good order costs one refit per merge instead of one per pair.
using MergeOrder = std::function<std::vector<std::pair<int, int>>(const Partition&)>;
// Every pair (a < b) of the partition's groups, in index order: the default order.
std::vector<std::pair<int, int>> all_pairs(const Partition& groups);
// Pairs ordered by the distance between rows of `features` (one row per group label).
std::vector<std::pair<int, int>> pairs_by_distance(const Partition& groups, const Eigen::MatrixXd& features);

// score(candidate, parent): the held-out loss of `candidate`, a merge or split
// of `parent` (the partition kept so far; empty for the start), so that the
// caller may start the candidate's fit from the parent's.
using PartitionScore = std::function<double(const Partition& candidate, const Partition& parent)>;

// `start_score` is score(start) when the caller has it already (NaN: compute it).
// `retry`, when given, scores a merge that `score` refused a second time (e.g.
// a fit from a fresh draw instead of the parent's weights: averaging two
// groups' fitted weights can start the merged fit in a poor place); the
// lower of the two counts.
RefineResult refine_partition(const Partition& start, const PartitionScore& score, double tolerance,
                              double split_gain, double start_score, const MergeOrder& order = {},
                              const PartitionScore& retry = {});

}  // namespace symlearn::sharing
