#include "methods/images/model_io.hpp"

#include "util/error.hpp"

#include <utility>

namespace symlearn::images {

namespace {
std::vector<double> stored(const ImageParam& like, const ad::Mat& value) {
  ImageParam p = like;
  p.value = value;
  return to_stored(p);
}

io::ShapePattern pattern(const ImageParam& p) { return {p.stored.begin(), p.stored.end()}; }

}  // namespace

void save_classifier(const std::string& target, const std::string& created_by, const SupervisedState& st,
                     const learn::DatasetRecord& dataset) {
  const nlohmann::json config = {
      {"model", st.model.arch.to_json()},
      {"training", st.options.to_json()},
      {"seed", st.options.seed},
      {"epochs_done", st.epoch},
      {"batches_done_in_epoch", st.batch},
      {"running", {{"loss", st.run_loss}, {"correct", st.run_correct}, {"seen", st.run_seen}}},
      {"parameters", st.model.count()},
      {"trainable_parameters", st.model.trainable_count()}};
  learn::ModelWriter w(target, created_by, st.model.arch.kind, config, dataset);
  w.root_attr("parameters", st.model.count());
  for (const auto& p : st.model.params) {
    w.param(p.name, learn::role_from_name(p.role), p.stored, to_stored(p));
    w.attr(p.name, "trainable", static_cast<std::int64_t>(p.trainable));
  }
  w.log("step_loss", st.log.step_loss);
  w.log("epoch_loss", st.log.epoch_loss);
  w.log("epoch_accuracy", st.log.epoch_accuracy);
  if (!st.log.epoch_val_accuracy.empty()) {
    w.log("epoch_val_accuracy", st.log.epoch_val_accuracy);
    w.log("epoch_test_accuracy", st.log.epoch_test_accuracy);
  }
  w.log_description("step_loss: cross-entropy of each mini-batch; epoch_loss, epoch_accuracy: means over each "
                    "epoch's mini-batches (training data, while training); epoch_val_accuracy, "
                    "epoch_test_accuracy (tasks with /val): /val and /test accuracy after each epoch");
  // Moments are stored as float64 whatever the run's precision.
  const learn::Adam opt = st.options.precision == learn::Precision::float32 ? st.opt32.cast<double>() : st.opt;
  if (opt.step > 0) {
    w.optimizer_step(opt.step);
    std::size_t k = 0;  // moments exist for the trainable parameters only; RMSprop keeps v alone
    for (const auto& p : st.model.params) {
      if (!p.trainable) continue;
      if (k < opt.m.size()) w.moment("m", p.name, p.stored, stored(p, opt.m[k]));
      w.moment("v", p.name, p.stored, stored(p, opt.v[k]));
      ++k;
    }
  }
  w.commit();
}

LoadedClassifier load_classifier(const io::Reader& f) {
  const learn::ModelReader r(f);
  LoadedClassifier out;
  out.config = r.config();
  SupervisedState& st = out.state;
  const nlohmann::json &model = r.section("model"), &training = r.section("training");
  try {
    const ImageArch arch = ImageArch::from_json(model);
    st.options = SupervisedOptions::from_json(training);
    Rng unused(0);
    st.model = ImageModel::init(arch, unused);
    st.model.arch = arch;
  } catch (const InputError& e) {
    r.fail(e.what());
  }
  if (!r.model().empty() && r.model() != st.model.arch.kind)
    r.fail("its `model` attribute says " + r.model() + " but its config " + st.model.arch.kind);
  st.epoch = r.value("epochs_done", 0);
  st.batch = r.value("batches_done_in_epoch", 0);
  if (st.epoch < 0 || st.batch < 0) r.fail("epochs_done and batches_done_in_epoch must be >= 0");
  const nlohmann::json& c = r.config();
  if (c.contains("running") && c["running"].is_object()) {
    st.run_loss = c["running"].value("loss", 0.0);
    st.run_correct = c["running"].value("correct", 0.0);
    st.run_seen = c["running"].value("seen", 0.0);
  }
  out.dataset = r.dataset();
  for (auto& p : st.model.params) p.value = from_stored(p, r.param(p.name, learn::role_from_name(p.role), pattern(p)));
  st.log.step_loss = r.log("step_loss");
  st.log.epoch_loss = r.log("epoch_loss");
  st.log.epoch_accuracy = r.log("epoch_accuracy");
  st.log.epoch_val_accuracy = r.log("epoch_val_accuracy");
  st.log.epoch_test_accuracy = r.log("epoch_test_accuracy");
  if (st.log.epoch_loss.size() != st.log.epoch_accuracy.size())
    r.fail("/log/epoch_loss and /log/epoch_accuracy differ in length");
  if (st.log.epoch_val_accuracy.size() > st.log.epoch_loss.size() ||
      st.log.epoch_test_accuracy.size() != st.log.epoch_val_accuracy.size())
    r.fail("/log/epoch_val_accuracy and /log/epoch_test_accuracy do not fit /log/epoch_loss");
  if (const std::int64_t step = r.optimizer_step(); step > 0) {
    st.opt.step = step;
    for (const auto& p : st.model.params) {
      if (!p.trainable) continue;
      if (st.options.optimizer == "adam") st.opt.m.push_back(from_stored(p, r.moment("m", p.name, pattern(p))));
      st.opt.v.push_back(from_stored(p, r.moment("v", p.name, pattern(p))));
    }
  }
  if (st.options.precision == learn::Precision::float32) st.opt32 = std::exchange(st.opt, {}).cast<float>();
  return out;
}

}  // namespace symlearn::images
