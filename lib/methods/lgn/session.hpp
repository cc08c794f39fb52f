// What meta-train and eval run for the LGN models: the unfolded networks on
// image files (gen-tasks rotated-scrambled), and the sterile action fit on
// patch pairs (gen-tasks lgn-patches).
#pragma once

#include "io/h5.hpp"
#include "methods/lgn/action_fit.hpp"
#include "methods/lgn/train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::lgn {

struct SessionOptions {
  std::string tasks_path, output = "-", resume, checkpoint;
  LgnArch arch;
  TrainOptions train;
  bool epochs_given = false;  // --epochs on --resume: the new total
  bool quiet = false;
};
nlohmann::json run_network_training(const SessionOptions& o);
// eval: accuracy and loss (classification) or MSE (reconstruction) on a split, plus the actions' invertibility.
nlohmann::json evaluate_network_file(const io::Reader& model_file, const std::string& tasks_path,
                                     const std::string& split, long limit);

struct ActionSessionOptions {
  std::string tasks_path, output = "-";
  ActionFitOptions fit;
  bool quiet = false;
};
nlohmann::json run_action_fit(const ActionSessionOptions& o);
Eigen::MatrixXd load_action(const io::Reader& model_file, int* patch);  // lgn-action's A (InputError)
nlohmann::json evaluate_action_file(const io::Reader& model_file, const std::string& tasks_path,
                                    const std::string& split, long limit);

// ||A A~ - I||_F / sqrt(d) of every action with an A~ (the invertibility loss's), and of A with its true
// inverse's condition, for eval and inspect.
std::vector<double> invertibility_residuals(const LgnModel& m);

}  // namespace symlearn::lgn
