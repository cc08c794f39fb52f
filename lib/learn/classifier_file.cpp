#include "learn/classifier_file.hpp"

#include "util/error.hpp"

namespace symlearn::learn {

namespace {
void write_param(io::Writer& w, const std::string& path, const models::ImageParam& like, const ad::Mat& value) {
  models::ImageParam p = like;
  p.value = value;
  const std::vector<double> d = models::to_stored(p);
  w.write(path, p.stored, d.data());
}

ad::Mat read_param(const io::Reader& f, const std::string& path, const models::ImageParam& like) {
  io::ShapePattern expect(like.stored.begin(), like.stored.end());
  const io::Array a = f.read(path, expect);
  return models::from_stored(like, a.data);
}
}  // namespace

void save_classifier(const std::string& target, const std::string& created_by, const SupervisedState& st,
                     const DatasetRecord& dataset) {
  nlohmann::json config = {{"model", st.model.arch.to_json()},
                           {"training", st.options.to_json()},
                           {"seed", st.options.seed},
                           {"epochs_done", st.epoch},
                           {"batches_done_in_epoch", st.batch},
                           {"running", {{"loss", st.run_loss}, {"correct", st.run_correct}, {"seen", st.run_seen}}},
                           {"parameters", st.model.count()},
                           {"trainable_parameters", st.model.trainable_count()},
                           {"dataset", {{"path", dataset.path}, {"sha256", dataset.sha256}, {"kind", dataset.kind}}}};
  io::Writer w(target, "model", created_by, config);
  w.attr("/", "model", st.model.arch.kind);
  w.attr("/", "parameters", static_cast<std::int64_t>(st.model.count()));
  w.group("/params");
  for (const auto& p : st.model.params) {
    write_param(w, "/params/" + p.name, p, p.value);
    w.attr("/params/" + p.name, "role", p.role);
    w.attr("/params/" + p.name, "trainable", static_cast<std::int64_t>(p.trainable));
  }
  w.group("/log");
  w.write("/log/step_loss", {st.log.step_loss.size()}, st.log.step_loss.data());
  w.write("/log/epoch_loss", {st.log.epoch_loss.size()}, st.log.epoch_loss.data());
  w.write("/log/epoch_accuracy", {st.log.epoch_accuracy.size()}, st.log.epoch_accuracy.data());
  w.attr("/log", "description",
         std::string("step_loss: cross-entropy of each mini-batch; epoch_loss, epoch_accuracy: means over each "
                     "epoch's mini-batches (training data, while training)"));
  if (st.opt.step > 0) {
    w.attr("/", "optimizer_step", static_cast<std::int64_t>(st.opt.step));
    std::size_t k = 0;
    for (const auto& p : st.model.params) {
      if (!p.trainable) continue;
      if (k < st.opt.m.size()) write_param(w, "/optimizer/m/" + p.name, p, st.opt.m[k]);
      write_param(w, "/optimizer/v/" + p.name, p, st.opt.v[k]);
      ++k;
    }
  }
  w.commit();
}

LoadedClassifier load_classifier(const io::Reader& f) {
  LoadedClassifier out;
  out.config = f.config();
  const auto& c = out.config;
  if (!c.contains("model") || !c.contains("training") || !c["model"].is_object())
    throw InputError(f.name() + ": the config lacks the model architecture or training record");
  SupervisedState& st = out.state;
  try {
    const models::ImageArch arch = models::ImageArch::from_json(c["model"]);
    st.options = SupervisedOptions::from_json(c["training"]);
    Rng unused(0);
    st.model = models::ImageModel::init(arch, unused);
    st.model.arch = arch;
  } catch (const InputError& e) {
    throw InputError(f.name() + ": " + e.what());
  }
  if (f.has_attr("/", "model") && f.attr_string("/", "model") != st.model.arch.kind)
    throw InputError(f.name() + ": its `model` attribute says " + f.attr_string("/", "model") + " but its config " +
                     st.model.arch.kind);
  st.epoch = c.value("epochs_done", 0L);
  st.batch = c.value("batches_done_in_epoch", 0L);
  if (c.contains("running")) {
    st.run_loss = c["running"].value("loss", 0.0);
    st.run_correct = c["running"].value("correct", 0.0);
    st.run_seen = c["running"].value("seen", 0.0);
  }
  if (c.contains("dataset")) {
    out.dataset.path = c["dataset"].value("path", "");
    out.dataset.sha256 = c["dataset"].value("sha256", "");
    out.dataset.kind = c["dataset"].value("kind", "");
  }
  for (auto& p : st.model.params) {
    const std::string path = "/params/" + p.name;
    if (!f.has(path)) throw InputError(f.name() + ": missing " + path + " (needed by a " + st.model.arch.kind + " model)");
    p.value = read_param(f, path, p);
    if (f.has_attr(path, "role") && f.attr_string(path, "role") != p.role)
      throw InputError(f.name() + ": " + path + " has role " + f.attr_string(path, "role") + ", expected " + p.role);
  }
  if (f.has("/log/step_loss")) {
    st.log.step_loss = f.read("/log/step_loss").data;
    st.log.epoch_loss = f.read("/log/epoch_loss").data;
    st.log.epoch_accuracy = f.read("/log/epoch_accuracy").data;
  }
  if (f.has_attr("/", "optimizer_step")) {
    st.opt.step = f.attr_int("/", "optimizer_step");
    for (const auto& p : st.model.params) {
      if (!p.trainable) continue;
      if (st.options.optimizer == "adam") st.opt.m.push_back(read_param(f, "/optimizer/m/" + p.name, p));
      st.opt.v.push_back(read_param(f, "/optimizer/v/" + p.name, p));
    }
  }
  return out;
}

}  // namespace symlearn::learn
