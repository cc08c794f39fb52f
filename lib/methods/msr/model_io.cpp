#include "methods/msr/model_io.hpp"

#include "util/error.hpp"

#include <cmath>
#include <utility>

namespace symlearn::msr {

void save_model(const std::string& target, const std::string& created_by, const TrainState& st,
                const learn::DatasetRecord& dataset, const nlohmann::json& provenance) {
  const nlohmann::json config = {{"model", st.model.arch.to_json()},
                                 {"training", st.options.to_json()},
                                 {"seed", st.options.seed},
                                 {"steps_done", st.step},
                                 {"provenance", provenance}};
  learn::ModelWriter w(target, created_by, st.model.arch.kind, config, dataset);
  for (const auto& p : st.model.params) w.param(p.name, p.role, p.value);
  const auto& log = st.log;
  w.log("train_loss", log.train_loss);
  w.log("val_step", log.val_step);
  w.log("val_loss", log.val_loss);
  w.log_description("train_loss: mean query MSE of each outer step's meta-batch; val_loss at val_step: mean query "
                    "MSE on held-out training tasks");
  // Moments are stored as float64 whatever the run's precision.
  const learn::Adam adam = st.options.precision == learn::Precision::float32 ? st.adam32.cast<double>() : st.adam;
  if (adam.step > 0) {
    w.optimizer_step(adam.step);
    for (std::size_t i = 0; i < st.model.params.size(); ++i) {
      w.moment("m", st.model.params[i].name, adam.m[i]);
      w.moment("v", st.model.params[i].name, adam.v[i]);
    }
  }
  w.commit();
}

LoadedModel load_model(const io::Reader& f) {
  const learn::ModelReader r(f);
  LoadedModel out;
  out.config = r.config();
  const nlohmann::json &model = r.section("model"), &training = r.section("training");
  try {
    out.state.model.arch = Arch::from_json(model);
    out.state.model.arch.validate();
    out.state.options = MetaTrainOptions::from_json(training);
  } catch (const InputError& e) {
    r.fail(e.what());
  }
  out.state.step = r.value("steps_done", 0);
  out.dataset = r.dataset();
  if (out.state.step < 0) r.fail("steps_done is negative");
  // The architecture says which parameters must be there, with which shapes:
  // read each at its checked shape (nothing is allocated for a shape the file
  // only claims in its config).
  for (const MetaModel::Shape& p : MetaModel::layout(out.state.model.arch))
    out.state.model.params.push_back({p.name, p.role, r.param(p.name, p.role, p.rows, p.cols)});
  if (const int li = out.state.model.find("log_lambda"); li >= 0 && std::abs(out.state.model.params[li].value(0, 0)) > 50)
    r.fail("/params/log_lambda is outside [-50, 50] (the ridge strength would over- or underflow)");
  out.state.log.train_loss = r.log("train_loss");
  out.state.log.val_loss = r.log("val_loss");
  out.state.log.val_step = r.log_ints("val_step");
  // One train loss per step done; one validation loss per validation step, at steps 1..steps_done.
  if (static_cast<long>(out.state.log.train_loss.size()) != out.state.step)
    r.fail("/log/train_loss holds " + std::to_string(out.state.log.train_loss.size()) + " values for " +
           std::to_string(out.state.step) + " steps done");
  if (out.state.log.val_loss.size() != out.state.log.val_step.size())
    r.fail("/log/val_loss and /log/val_step differ in length");
  for (std::size_t i = 0; i < out.state.log.val_step.size(); ++i)
    if (out.state.log.val_step[i] < 1 || out.state.log.val_step[i] > out.state.step ||
        (i > 0 && out.state.log.val_step[i] <= out.state.log.val_step[i - 1]))
      r.fail("/log/val_step is not an increasing list of steps in [1, steps_done]");
  if (const std::int64_t step = r.optimizer_step(); step > 0) {
    out.state.adam.step = step;
    for (const auto& p : out.state.model.params) {
      out.state.adam.m.push_back(r.moment("m", p.name, p.value.rows(), p.value.cols()));
      out.state.adam.v.push_back(r.moment("v", p.name, p.value.rows(), p.value.cols()));
    }
  }
  if (out.state.options.precision == learn::Precision::float32)
    out.state.adam32 = std::exchange(out.state.adam, {}).cast<float>();
  return out;
}

}  // namespace symlearn::msr
