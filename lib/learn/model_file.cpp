#include "learn/model_file.hpp"

#include "util/error.hpp"

namespace symlearn::learn {

namespace {
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void write_matrix(io::Writer& w, const std::string& name, const ad::Mat& m) {
  const RowMat r = m;  // HDF5 is row-major
  w.write(name, {std::uint64_t(m.rows()), std::uint64_t(m.cols())}, r.data());
}

ad::Mat read_matrix(const io::Reader& f, const std::string& name, ad::Index rows, ad::Index cols) {
  const io::Array a = f.read(name, {rows, cols});
  return Eigen::Map<const RowMat>(a.data.data(), rows, cols);
}
}  // namespace

void save_model(const std::string& target, const std::string& created_by, const TrainState& st,
                const DatasetRecord& dataset, const nlohmann::json& provenance) {
  nlohmann::json config = {{"model", st.model.arch.to_json()},
                           {"training", st.options.to_json()},
                           {"seed", st.options.seed},
                           {"steps_done", st.step},
                           {"dataset", {{"path", dataset.path}, {"sha256", dataset.sha256}, {"kind", dataset.kind}}},
                           {"provenance", provenance}};
  io::Writer w(target, "model", created_by, config);
  w.attr("/", "model", st.model.arch.kind);
  w.group("/params");
  for (const auto& p : st.model.params) {
    write_matrix(w, "/params/" + p.name, p.value);
    w.attr("/params/" + p.name, "role", std::string(models::role_name(p.role)));
  }
  w.group("/log");
  const auto& log = st.log;
  w.write("/log/train_loss", {log.train_loss.size()}, log.train_loss.data());
  w.write("/log/val_step", {log.val_step.size()}, log.val_step.data());
  w.write("/log/val_loss", {log.val_loss.size()}, log.val_loss.data());
  w.attr("/log", "description",
         std::string("train_loss: mean query MSE of each outer step's meta-batch; val_loss at val_step: mean query "
                     "MSE on held-out training tasks"));
  if (st.adam.step > 0) {
    w.attr("/", "optimizer_step", static_cast<std::int64_t>(st.adam.step));
    for (std::size_t i = 0; i < st.model.params.size(); ++i) {
      write_matrix(w, "/optimizer/m/" + st.model.params[i].name, st.adam.m[i]);
      write_matrix(w, "/optimizer/v/" + st.model.params[i].name, st.adam.v[i]);
    }
  }
  w.commit();
}

LoadedModel load_model(const io::Reader& f) {
  LoadedModel out;
  out.config = f.config();
  const auto& c = out.config;
  if (!c.contains("model") || !c.contains("training"))
    throw InputError(f.name() + ": the config lacks the model architecture or training record");
  try {
    out.state.model.arch = models::Arch::from_json(c["model"]);
    out.state.options = MetaTrainOptions::from_json(c["training"]);
  } catch (const InputError& e) {
    throw InputError(f.name() + ": " + e.what());
  }
  out.state.step = c.value("steps_done", 0L);
  if (c.contains("dataset")) {
    out.dataset.path = c["dataset"].value("path", "");
    out.dataset.sha256 = c["dataset"].value("sha256", "");
    out.dataset.kind = c["dataset"].value("kind", "");
  }
  // The architecture says which parameters must be there, with which shapes.
  Rng unused(0);
  models::MetaModel expected = models::MetaModel::init(out.state.model.arch, unused);
  for (auto& p : expected.params) {
    const std::string name = "/params/" + p.name;
    if (!f.has(name)) throw InputError(f.name() + ": missing " + name + " (needed by a " + expected.arch.kind + " model)");
    p.value = read_matrix(f, name, p.value.rows(), p.value.cols());
    if (f.has_attr(name, "role") && f.attr_string(name, "role") != models::role_name(p.role))
      throw InputError(f.name() + ": " + name + " has role " + f.attr_string(name, "role") + ", expected " +
                       models::role_name(p.role));
  }
  out.state.model = std::move(expected);
  if (f.has("/log/train_loss")) {
    out.state.log.train_loss = f.read("/log/train_loss").data;
    out.state.log.val_loss = f.read("/log/val_loss").data;
    for (auto s : f.read_ints("/log/val_step")) out.state.log.val_step.push_back(s);
  }
  if (f.has_attr("/", "optimizer_step")) {
    out.state.adam.step = f.attr_int("/", "optimizer_step");
    for (const auto& p : out.state.model.params) {
      out.state.adam.m.push_back(read_matrix(f, "/optimizer/m/" + p.name, p.value.rows(), p.value.cols()));
      out.state.adam.v.push_back(read_matrix(f, "/optimizer/v/" + p.name, p.value.rows(), p.value.cols()));
    }
  }
  return out;
}

}  // namespace symlearn::learn
