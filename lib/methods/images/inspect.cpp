#include "methods/images/inspect.hpp"

#include "methods/images/models.hpp"
#include "tasks/images.hpp"
#include "util/error.hpp"

#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstdio>

namespace symlearn::images {

using analysis::commutator_closure;
using analysis::MatrixXd;

namespace {
constexpr long kMaxPixels = 1024;      // dense HW x HW generators
constexpr long kCovExamples = 10000;   // training images used for H

std::string g4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}
}  // namespace

LconvReport inspect_lconv(const io::Reader& f, const io::Reader* tasks) {
  LconvReport r;
  r.model_name = f.name();
  const nlohmann::json cfg = f.config();
  if (!cfg.contains("model")) throw InputError(f.name() + ": the config lacks the model architecture");
  images::ImageArch arch;
  try {
    arch = images::ImageArch::from_json(cfg["model"]);
  } catch (const InputError& e) {
    throw InputError(f.name() + ": " + e.what());
  }
  r.kind = arch.kind;
  r.height = arch.height;
  r.width = arch.width;
  const long hw = arch.pixels();
  if (hw > kMaxPixels) {
    r.notes.push_back("images of " + std::to_string(hw) + " pixels: generators larger than " + std::to_string(kMaxPixels) +
                      " x " + std::to_string(kMaxPixels) + " are not analysed");
    return r;
  }
  // Pixel pairs at most one step apart, and the shift operators.
  const auto offsets = images::conv_offsets();
  std::vector<MatrixXd> shifts;
  MatrixXd near = MatrixXd::Zero(hw, hw);
  for (const auto& [dy, dx] : offsets) {
    shifts.push_back(images::shift_matrix(arch.height, arch.width, dy, dx));
    near += shifts.back();
  }
  r.locality_baseline = near.sum() / double(hw * hw);

  std::vector<std::int64_t> perm;
  MatrixXd h_inv_half, h_half;
  if (tasks) {
    const std::string kind = tasks->has_attr("/", "kind") ? tasks->attr_string("/", "kind") : "";
    if (kind != "rotated-scrambled") throw InputError(tasks->name() + ": is not a rotated-scrambled tasks file");
    const tasks::ImageSplit train = tasks::load_image_split(*tasks, "/train", kCovExamples);
    if (train.height != arch.height || train.width != arch.width || train.channels != arch.channels)
      throw InputError(tasks->name() + ": its images are " + std::to_string(train.height) + "x" + std::to_string(train.width) +
                       "x" + std::to_string(train.channels) + ", the model's " + std::to_string(arch.height) + "x" +
                       std::to_string(arch.width) + "x" + std::to_string(arch.channels));
    if (tasks->has("/truth/permutation")) {
      perm = tasks->read_ints("/truth/permutation");
      if (static_cast<long>(perm.size()) != hw) throw InputError(tasks->name() + ": /truth/permutation has the wrong length");
      std::vector<bool> seen(static_cast<std::size_t>(hw), false);
      for (long k = 0; k < hw; ++k) {
        const std::int64_t v = perm[static_cast<std::size_t>(k)];
        if (v < 0 || v >= hw || seen[static_cast<std::size_t>(v)])
          throw InputError(tasks->name() + ": /truth/permutation is not a permutation of 0.." + std::to_string(hw - 1) +
                           " (entry " + std::to_string(k) + " is " + std::to_string(v) + ")");
        seen[static_cast<std::size_t>(v)] = true;
      }
      bool identity = true;
      for (long k = 0; k < hw; ++k) identity = identity && perm[k] == k;
      r.scrambled_data = !identity;
      r.unscrambled = true;
    }
    if (train.channels == 1) {
      const MatrixXd centred = train.x.rowwise() - train.x.colwise().mean();
      MatrixXd h = centred.transpose() * centred / double(std::max<long>(1, train.size() - 1));
      h.diagonal().array() += 1e-3 * h.trace() / double(hw);
      Eigen::SelfAdjointEigenSolver<MatrixXd> es(h);
      const Eigen::VectorXd ev = es.eigenvalues().cwiseMax(1e-300);
      h_half = es.eigenvectors() * ev.cwiseSqrt().asDiagonal() * es.eigenvectors().transpose();
      h_inv_half = es.eigenvectors() * ev.cwiseSqrt().cwiseInverse().asDiagonal() * es.eigenvectors().transpose();
      r.covariance_examples = train.size();
    } else {
      r.notes.push_back("covariance-preserving share not computed for images with more than one channel");
    }
  } else {
    r.notes.push_back("no --truth tasks file: shift scores in the model's (possibly scrambled) pixel coordinates, "
                      "no covariance analysis");
  }

  for (int l = 1; l <= arch.layers; ++l) {
    const std::string p = "/params/layer" + std::to_string(l) + ".";
    const long n = arch.generators, dh = arch.rank;
    const io::Array u = f.read(p + "U", {n, hw, dh});
    const io::Array v = f.read(p + "V", {n, dh, hw});
    LconvLayer lay;
    lay.layer = l;
    lay.generators = static_cast<int>(n);
    lay.rank = static_cast<int>(dh);
    std::vector<MatrixXd> gens;
    for (long i = 0; i < n; ++i) {
      using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const MatrixXd ui = Eigen::Map<const RowMat>(u.data.data() + i * hw * dh, hw, dh);
      const MatrixXd vi = Eigen::Map<const RowMat>(v.data.data() + i * dh * hw, dh, hw);
      const MatrixXd li = ui * vi;
      gens.push_back(li);
      LconvGenerator g;
      g.index = static_cast<int>(i + 1);
      g.frobenius = li.norm();
      const double mx = li.cwiseAbs().maxCoeff();
      g.sparsity = mx > 0 ? double((li.array().abs() <= 1e-3 * mx).count()) / double(li.size()) : 1.0;
      MatrixXd img = li;  // in image coordinates: L'[perm[a], perm[b]] = L[a, b]
      if (!perm.empty())
        for (long a = 0; a < hw; ++a)
          for (long b = 0; b < hw; ++b) img(perm[a], perm[b]) = li(a, b);
      const long centre = long(arch.height / 2) * arch.width + arch.width / 2;
      MatrixXd row(arch.height, arch.width);
      for (int y = 0; y < arch.height; ++y)
        for (int x = 0; x < arch.width; ++x) row(y, x) = img(centre, long(y) * arch.width + x);
      lay.centre_rows.push_back(std::move(row));
      const double total = img.squaredNorm();
      if (total > 0) {
        g.locality = img.cwiseProduct(near).squaredNorm() / total;
        double captured = 0;
        for (const auto& s : shifts) {
          const double ss = s.squaredNorm();
          if (ss > 0) captured += std::pow(img.cwiseProduct(s).sum(), 2) / ss;
        }
        g.shift_span = captured / total;
      }
      if (h_half.size()) {
        const MatrixXd lt = h_inv_half * li * h_half;
        const double tn = lt.squaredNorm();
        g.cov_skew_share = tn > 0 ? (0.5 * (lt - lt.transpose())).squaredNorm() / tn : 0.0;
      }
      lay.gens.push_back(g);
    }
    if (n >= 2) {
      lay.closure = commutator_closure(gens);
      lay.closure_computed = true;
    }
    r.layers.push_back(std::move(lay));
  }
  return r;
}

nlohmann::json lconv_report_json(const LconvReport& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) {
    nlohmann::json gens = nlohmann::json::array();
    for (const auto& g : l.gens)
      gens.push_back({{"index", g.index},
                      {"frobenius", g.frobenius},
                      {"sparsity", g.sparsity},
                      {"locality", g.locality},
                      {"shift_span", g.shift_span},
                      {"covariance_skew_share", g.cov_skew_share < 0 ? nlohmann::json(nullptr) : nlohmann::json(g.cov_skew_share)}});
    nlohmann::json closure = nullptr;
    if (l.closure_computed)
      closure = {{"span_rank", l.closure.span_rank},
                 {"max_residual", l.closure.max_residual},
                 {"mean_residual", l.closure.mean_residual}};
    layers.push_back({{"layer", l.layer}, {"generators", l.generators}, {"rank", l.rank}, {"closure", closure}, {"per_generator", gens}});
  }
  return {{"model", r.model_name},
          {"kind", r.kind},
          {"height", r.height},
          {"width", r.width},
          {"image_coordinates", r.unscrambled},
          {"scrambled_data", r.scrambled_data},
          {"covariance_examples", r.covariance_examples},
          {"locality_random_baseline", r.locality_baseline},
          {"layers", layers},
          {"notes", r.notes}};
}

std::string lconv_report_text(const LconvReport& r) {
  std::string out = "model       " + r.model_name + " (" + r.kind + ", " + std::to_string(r.height) + "x" +
                    std::to_string(r.width) + " images)\n";
  out += std::string("coordinates ") +
         (r.unscrambled ? (r.scrambled_data ? "image (the truth permutation undone)" : "image (data not scrambled)")
                        : "the model's pixel order") +
         "; locality of a random matrix: " + g4(r.locality_baseline) + "\n";
  for (const auto& l : r.layers) {
    out += "\nlayer " + std::to_string(l.layer) + ": " + std::to_string(l.generators) + " generators L_i = U_i V_i of rank " +
           std::to_string(l.rank) + "\n";
    if (l.closure_computed)
      out += "  commutators " + std::string(l.closure.max_residual < 1e-6 ? "closed" : "not closed") +
             " within their span: relative residual max " + g4(l.closure.max_residual) + ", mean " +
             g4(l.closure.mean_residual) + " (span rank " + std::to_string(l.closure.span_rank) + ")\n";
    out += "  L_i   ||L||_F    sparsity  locality  shift-span  cov-skew\n";
    for (const auto& g : l.gens) {
      char line[160];
      std::snprintf(line, sizeof line, "  L%-4d %-10s %-9s %-9s %-11s %s\n", g.index, g4(g.frobenius).c_str(),
                    g4(g.sparsity).c_str(), g4(g.locality).c_str(), g4(g.shift_span).c_str(),
                    g.cov_skew_share < 0 ? "-" : g4(g.cov_skew_share).c_str());
      out += line;
    }
  }
  out += "\nlocality: share of ||L||^2 on pixel pairs <= 1 step apart; shift-span: share in the span of the 3x3 shifts;\n"
         "cov-skew: share of H^-1/2 L H^1/2 that is skew, i.e. in the covariance-preserving algebra (random: ~0.5)\n";
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace symlearn::images
