// inspect-symmetry for LGN models: per learned action (layer, group, channel)
// the structure scores (scores.hpp) beside random unit-norm matrices'
// (z-scores), the best match among the sterile transforms (rotations, box
// means and their compositions), invertibility, closure, the orbit norms
// ||A^e b|| / ||b||; a PNG of every action's heatmap and its filter bank.
// lgn-action: the same for its one action, and with --truth the cosine with
// T and the row-argmax permutation check.
#pragma once

#include "io/h5.hpp"
#include "methods/registry.hpp"

namespace symlearn::lgn {

methods::Inspection inspect_network(const io::Reader& model_file, const methods::InspectRequest& q);
methods::Inspection inspect_action(const io::Reader& model_file, const methods::InspectRequest& q);

// The structure scores counted when asking "is this action structured?":
// an action is structured when any has |z| > 5.
const std::vector<std::string>& structure_score_names();

}  // namespace symlearn::lgn
