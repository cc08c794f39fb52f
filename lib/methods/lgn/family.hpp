// Linear Group Networks (Theodosis, Helwani, Ba 2023) as the tools see them:
// meta-train lgn | lgn-free | lgn-recon (the unfolded networks on image
// files) and lgn-action (the sterile fit y = A x on gen-tasks lgn-patches);
// eval (accuracy / MSE; cos with the truth for lgn-action); inspect-symmetry
// (structure scores of every learned action, heatmaps and filter banks).
#pragma once

#include "methods/registry.hpp"

namespace symlearn::lgn {

methods::Family family();

}  // namespace symlearn::lgn
