// MAML's inner and outer pieces for one task (Finn et al. 2017), as MSR uses
// them: the inner loop adapts the model's `init` parameters by SGD on the
// support set; the query loss after adaptation is differentiated with respect
// to every meta-parameter, through the inner steps (second order) unless
// first_order is set, in which case the inner gradients are treated as
// constants (first-order MAML: the term through the inner gradient is dropped).
#pragma once

#include "methods/msr/models.hpp"
#include "tasks/dataset.hpp"

#include <vector>

namespace symlearn::msr {

struct InnerLoop {
  int steps = 1;
  bool first_order = false;
};

struct EpisodeResult {
  double query_loss = 0.0;
  std::vector<ad::Mat> grads;  // one per model param (empty unless asked for)
};

// Adapts on e's support set and evaluates on its query set; with want_grads,
// also the meta-gradient of the query loss.
EpisodeResult run_episode(const msr::MetaModel& model, const InnerLoop& inner, const tasks::Episode& e,
                          bool want_grads);

// The query loss as a differentiable function of the meta-parameters p (one
// Var per model param): what run_episode differentiates. Exposed for tests.
ad::Var episode_loss(const msr::MetaModel& model, const InnerLoop& inner, const tasks::Episode& e,
                     const std::vector<ad::Var>& p, bool create_graph);

}  // namespace symlearn::msr
