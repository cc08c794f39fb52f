// Model files of the learned-sharing family (design.md §3):
//   root attribute model = sharing | sharing-oracle | sharing-none | sharing-all | sharing-brute
//   /params/sharing  [L,L]  role symmetry: A (row-stochastic; its row argmax is the learned sharing)
//   /params/logits   [L,L]  role hyper:    A = row-softmax(logits) (learned `sharing` only)
//   /params/<weight> role weights: the fit with the hard sharing (sum-of-numbers:
//                    embed [V,D], psi [L·H,D], beta [L,H], out_w [H,1], out_b [1,1];
//                    gaussian-sharing: psi [K,1])
//   /log/{outer_val_loss, outer_entropy, final_hyper_loss, restart_loss}
//   config: model (architecture), training (every option), seed, dataset
//           (path, SHA-256, kind), target (label mean and std), chosen start.
#pragma once

#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "methods/sharing/train.hpp"

#include <string>

namespace symlearn::sharing {

void save_sharing_model(const std::string& target, const std::string& created_by, const SharingModel& model,
                        const learn::DatasetRecord& dataset);

// Checks format, kind, and every shape; A must be row-stochastic.
SharingModel load_sharing_model(const io::Reader& file, learn::DatasetRecord* dataset = nullptr);

}  // namespace symlearn::sharing
