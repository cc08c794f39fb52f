#include "learn/sharing_file.hpp"

#include "util/error.hpp"

#include <cmath>

namespace symlearn::learn {

namespace {
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void write_matrix(io::Writer& w, const std::string& name, const ad::Mat& m, const std::string& role,
                  const std::string& description) {
  const RowMat r = m;
  w.write(name, {std::uint64_t(m.rows()), std::uint64_t(m.cols())}, r.data());
  w.attr(name, "role", role);
  w.attr(name, "description", description);
}

ad::Mat read_matrix(const io::Reader& f, const std::string& name, long rows, long cols) {
  if (!f.has(name)) throw InputError(f.name() + ": missing " + name);
  const io::Array a = f.read(name, {rows, cols});
  return Eigen::Map<const RowMat>(a.data.data(), rows, cols);
}

void write_vector(io::Writer& w, const std::string& name, const std::vector<double>& v) {
  w.write(name, {v.size()}, v.data());
}

std::vector<double> read_vector(const io::Reader& f, const std::string& name) {
  return f.has(name) ? f.read(name).data : std::vector<double>{};
}

// Shapes of the fitted weights, in the order of the names.
std::vector<std::pair<long, long>> weight_shapes(const models::SharingArch& a) {
  if (a.gaussian()) return {{a.length, 1}};
  return {{a.vocab, a.embed}, {static_cast<long>(a.length) * a.hidden, a.embed}, {a.length, a.hidden}, {a.hidden, 1}, {1, 1}};
}

const std::vector<std::string>& weight_names(const models::SharingArch& a) {
  return a.gaussian() ? models::gaussian_weight_names() : models::sum_weight_names();
}
}  // namespace

std::string model_kind(const io::Reader& file) {
  return file.has_attr("/", "model") ? file.attr_string("/", "model") : "";
}

void save_sharing_model(const std::string& target, const std::string& created_by, const SharingModel& m,
                        const DatasetRecord& dataset) {
  const nlohmann::json config = {{"model", m.arch.to_json()},
                                 {"training", m.options.to_json()},
                                 {"seed", m.options.seed},
                                 {"dataset", {{"path", dataset.path}, {"sha256", dataset.sha256}, {"kind", dataset.kind}}},
                                 {"target", {{"mean", m.y_mean}, {"std", m.y_std}}},
                                 {"chosen_start", m.log.chosen}};  // no timings: same inputs and seed give a bit-identical file
  io::Writer w(target, "model", created_by, config);
  w.attr("/", "model", m.arch.kind);
  w.group("/params");
  write_matrix(w, "/params/sharing", m.sharing, "symmetry",
               "A: position p uses weights sum_q A[p,q] psi_q; the row argmax is the sharing used by the fit");
  if (m.logits.size() > 0)
    write_matrix(w, "/params/logits", m.logits, "hyper", "A = row-softmax(logits), learned by the outer problem");
  const auto& names = weight_names(m.arch);
  for (std::size_t i = 0; i < names.size(); ++i)
    write_matrix(w, "/params/" + names[i], m.weights.at(i), "weights", "fitted with the hard (row argmax) sharing");
  w.group("/log");
  write_vector(w, "/log/outer_val_loss", m.log.outer_val_loss);
  write_vector(w, "/log/outer_entropy", m.log.outer_entropy);
  write_vector(w, "/log/final_hyper_loss", m.log.final_hyper_loss);
  write_vector(w, "/log/restart_loss", m.log.restart_loss);
  w.attr("/log", "description",
         std::string("outer_val_loss / outer_entropy: the chosen start, per outer step (validation MSE in label units, "
                     "mean row entropy of A); final_hyper_loss: /hyper MSE during the final fit; restart_loss: each "
                     "start's selection loss (/hyper MSE, or /val for gaussian-sharing)"));
  w.commit();
}

SharingModel load_sharing_model(const io::Reader& f, DatasetRecord* dataset) {
  SharingModel m;
  const nlohmann::json c = f.config();
  if (!c.contains("model") || !c.contains("training"))
    throw InputError(f.name() + ": the config lacks the model architecture or training record");
  try {
    m.arch = models::SharingArch::from_json(c["model"]);
    m.options = SharingOptions::from_json(c["training"]);
  } catch (const InputError& e) {
    throw InputError(f.name() + ": " + e.what());
  }
  if (model_kind(f) != m.arch.kind)
    throw InputError(f.name() + ": the model attribute '" + model_kind(f) + "' disagrees with the config's " + m.arch.kind);
  const long L = m.arch.length;
  m.sharing = read_matrix(f, "/params/sharing", L, L);
  for (long i = 0; i < L; ++i) {
    if ((m.sharing.row(i).array() < 0).any() || std::abs(m.sharing.row(i).sum() - 1.0) > 1e-6)
      throw InputError(f.name() + ": /params/sharing row " + std::to_string(i) + " is not a probability distribution");
  }
  if (f.has("/params/logits")) m.logits = read_matrix(f, "/params/logits", L, L);
  const auto shapes = weight_shapes(m.arch);
  const auto& names = weight_names(m.arch);
  for (std::size_t i = 0; i < names.size(); ++i)
    m.weights.push_back(read_matrix(f, "/params/" + names[i], shapes[i].first, shapes[i].second));
  if (c.contains("target")) {
    m.y_mean = c["target"].value("mean", 0.0);
    m.y_std = c["target"].value("std", 1.0);
  }
  m.log.chosen = c.value("chosen_start", 0);
  m.log.outer_val_loss = read_vector(f, "/log/outer_val_loss");
  m.log.outer_entropy = read_vector(f, "/log/outer_entropy");
  m.log.final_hyper_loss = read_vector(f, "/log/final_hyper_loss");
  m.log.restart_loss = read_vector(f, "/log/restart_loss");
  if (dataset && c.contains("dataset")) {
    dataset->path = c["dataset"].value("path", "");
    dataset->sha256 = c["dataset"].value("sha256", "");
    dataset->kind = c["dataset"].value("kind", "");
  }
  return m;
}

}  // namespace symlearn::learn
