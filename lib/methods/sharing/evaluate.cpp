#include "methods/sharing/evaluate.hpp"

#include "analysis/symmetry_scores.hpp"
#include "util/error.hpp"

#include <cmath>
#include <cstdio>
#include <set>

namespace symlearn::sharing {

namespace {
int count_groups(const std::vector<int>& g) { return static_cast<int>(std::set<int>(g.begin(), g.end()).size()); }
}  // namespace

nlohmann::json SharingEval::to_json() const {
  nlohmann::json j = {{"model", kind}, {"task", task}, {"split", split}, {"examples", examples}, {"groups", groups}};
  if (task == "gaussian-sharing") {
    j["mse"] = mse;
    j["oracle_mse"] = oracle_mse;
    j["mse_gap"] = mse_gap;
  } else {
    j["mae"] = mae;
    j["mse"] = mse;
    j["accuracy"] = accuracy;
  }
  if (compared) {
    j["partition_distance"] = partition_distance;
    j["true_groups"] = true_groups;
  }
  return j;
}

std::string SharingEval::line(const std::string& tasks_name) const {
  char buf[512];
  if (task == "gaussian-sharing")
    std::snprintf(buf, sizeof buf, "%s on %s: means MSE %.5f, oracle %.5f, gap %+.5f; %d groups", kind.c_str(),
                  tasks_name.c_str(), mse, oracle_mse, mse_gap, groups);
  else
    std::snprintf(buf, sizeof buf, "%s on %s %s: MAE %.4f, MSE %.4f, accuracy %.4f (%ld examples); %d groups",
                  kind.c_str(), tasks_name.c_str(), split.c_str(), mae, mse, accuracy, examples, groups);
  std::string s = buf;
  if (compared) s += ", partition distance " + std::to_string(partition_distance) + " to the truth (" +
                     std::to_string(true_groups) + " groups)";
  return s;
}

SharingEval evaluate_sharing(const SharingModel& model, const io::Reader& tasks, const std::string& split) {
  const std::string kind = tasks_kind(tasks);
  if (kind != model.arch.task)
    throw InputError(tasks.name() + ": holds " + (kind.empty() ? std::string("tasks of no recorded kind") : kind + " tasks") +
                     " but the " + model.arch.kind + " model was trained on " + model.arch.task + " tasks");
  SharingEval e;
  e.kind = model.arch.kind;
  e.task = kind;
  e.split = split;
  const std::vector<int> groups = sharing::sharing_groups(model.sharing);
  e.groups = count_groups(groups);
  const int L = model.arch.length;
  if (tasks.has("/truth/sharing")) {
    const Eigen::MatrixXd truth = load_true_sharing(tasks, L);
    const std::vector<int> true_groups = sharing::sharing_groups(truth);
    e.compared = true;
    e.partition_distance = analysis::partition_distance(groups, true_groups);
    e.true_groups = count_groups(true_groups);
  }
  if (model.arch.gaussian()) {
    const Eigen::MatrixXd train = load_gaussian_split(tasks, "/train", L);
    if (!tasks.has("/truth/means") || !tasks.has("/truth/sharing"))
      throw InputError(tasks.name() + ": needs /truth/means and /truth/sharing to measure the MSE gap");
    const io::Array means = tasks.read("/truth/means", {L});
    const Eigen::VectorXd theta = Eigen::Map<const Eigen::VectorXd>(means.data.data(), L);
    const Eigen::VectorXd estimate = model.hard() * model.weights.at(0);
    const Eigen::MatrixXd truth = load_true_sharing(tasks, L);
    // The oracle fits as the model did: the yeh2022 protocol's refit and
    // sharing-brute take each group's mean over train ∪ val, the default
    // the ridge fit on train.
    Eigen::VectorXd oracle;
    if (model.options.protocol == "yeh2022" || model.arch.kind == "sharing-brute") {
      const Eigen::MatrixXd val = load_gaussian_split(tasks, "/val", L);
      Eigen::MatrixXd all(train.rows() + val.rows(), L);
      all << train, val;
      const Eigen::VectorXd psi = gaussian_group_means(truth, all);
      oracle = truth * psi;
    } else {
      oracle = truth * gaussian_fit(truth, train, model.options.ridge);
    }
    e.examples = train.rows();
    e.split = "/train";
    e.mse = (estimate - theta).squaredNorm() / L;
    e.oracle_mse = (oracle - theta).squaredNorm() / L;
    e.mse_gap = e.mse - e.oracle_mse;
    return e;
  }
  const SumSplit data = load_sum_split(tasks, split, L, model.arch.vocab);
  const Eigen::VectorXd pred = predict_sum(model, data);
  const Eigen::ArrayXd err = pred.array() - data.y.array();
  e.examples = data.n;
  e.mae = err.abs().mean();
  e.mse = err.square().mean();
  e.accuracy = (pred.array().round() == data.y.array()).cast<double>().mean();
  return e;
}

}  // namespace symlearn::sharing
