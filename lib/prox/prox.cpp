#include "prox/prox.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace symlearn::prox {

Op op_from_name(const std::string& name) {
  if (name == "l1") return Op::l1;
  if (name == "group") return Op::group;
  if (name == "exclusive") return Op::exclusive;
  if (name == "combined") return Op::combined;
  throw InputError("the proximal operator must be l1, group, exclusive or combined (got '" + name + "')");
}

const char* op_name(Op op) {
  switch (op) {
    case Op::l1: return "l1";
    case Op::group: return "group";
    case Op::exclusive: return "exclusive";
    case Op::combined: return "combined";
  }
  return "?";
}

namespace {

Eigen::VectorXd sign_of(const Eigen::VectorXd& z) {
  return z.unaryExpr([](double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); });
}

// Exclusive lasso: w_i = sign(z_i) (|z_i| − θ)₊ with θ = t‖w‖₁. With a the
// sorted |z| (descending) and k active entries, θ = t S_k / (1 + t k); the
// active set is the largest k whose smallest member exceeds its θ.
Eigen::VectorXd exclusive(const Eigen::VectorXd& z, double t) {
  Eigen::VectorXd a = z.cwiseAbs();
  std::vector<double> sorted(a.data(), a.data() + a.size());
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  double sum = 0, theta = 0;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    const double next_sum = sum + sorted[k];
    const double next_theta = t * next_sum / (1.0 + t * static_cast<double>(k + 1));
    if (sorted[k] <= next_theta) break;
    sum = next_sum;
    theta = next_theta;
  }
  return sign_of(z).cwiseProduct((a.array() - theta).max(0.0).matrix());
}

// Group + exclusive, ½‖w − z‖² + a‖w‖₂ + (b/2)‖w‖₁². Writing w = sign(z) u,
// u ≥ 0, the optimality conditions give u = (|z| − β)₊ / γ with β = b‖u‖₁ and
// γ = 1 + a/‖u‖₂. Eliminating γ with R(β) = ‖(|z| − β)₊‖₂ and
// S(β) = ‖(|z| − β)₊‖₁: γ = 1 / (1 − a/R(β)) and β solves
//   φ(β) = β − b S(β) (1 − a/R(β)) = 0,
// φ increasing on [0, β*), R(β*) = a, φ(0) ≤ 0 < φ(β*): bisection. If
// R(0) ≤ a the whole group is zero.
Eigen::VectorXd combined(const Eigen::VectorXd& z, double ta, double tb) {
  const Eigen::VectorXd a = z.cwiseAbs();
  auto shrunk = [&](double beta) { return Eigen::VectorXd((a.array() - beta).max(0.0).matrix()); };
  if (a.norm() <= ta) return Eigen::VectorXd::Zero(z.size());
  if (tb == 0) {
    const double r = a.norm();
    return z * (1.0 - ta / r);
  }
  // β* where R(β*) = a (R decreases from R(0) > a to 0 at max|z|).
  double lo = 0, hi = a.maxCoeff();
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (shrunk(mid).norm() > ta ? lo : hi) = mid;
  }
  const double beta_star = lo;
  auto phi = [&](double beta) {
    const Eigen::VectorXd u = shrunk(beta);
    return beta - tb * u.sum() * (1.0 - ta / u.norm());
  };
  lo = 0;
  hi = beta_star;
  for (int i = 0; i < 200 && hi - lo > 1e-16 * (1 + hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    (phi(mid) < 0 ? lo : hi) = mid;
  }
  const double beta = 0.5 * (lo + hi);
  const Eigen::VectorXd u = shrunk(beta);
  const double r = u.norm();
  if (r <= ta) return Eigen::VectorXd::Zero(z.size());
  return sign_of(z).cwiseProduct(u * (1.0 - ta / r));
}

}  // namespace

Eigen::VectorXd prox_group(const Eigen::VectorXd& z, const Spec& spec) {
  const double t = spec.lambda * spec.step;
  if (!(t >= 0) || !std::isfinite(t)) throw InputError("--lambda and --step must be finite and >= 0");
  if (t == 0) return z;
  switch (spec.op) {
    case Op::l1: return sign_of(z).cwiseProduct((z.cwiseAbs().array() - t).max(0.0).matrix());
    case Op::group: {
      const double r = z.norm();
      return r <= t ? Eigen::VectorXd::Zero(z.size()) : Eigen::VectorXd(z * (1.0 - t / r));
    }
    case Op::exclusive: return exclusive(z, t);
    case Op::combined: return combined(z, t * spec.group_weight, t * spec.exclusive_weight);
  }
  return z;
}

namespace {
// Entry indices (column-major) of each group, in increasing id order.
std::map<long, std::vector<Eigen::Index>> members(const Groups& groups) {
  std::map<long, std::vector<Eigen::Index>> out;
  for (std::size_t i = 0; i < groups.size(); ++i)
    if (groups[i] >= 0) out[groups[i]].push_back(static_cast<Eigen::Index>(i));
  return out;
}
}  // namespace

void apply(Eigen::MatrixXd& w, const Groups& groups, const Spec& spec) {
  if (static_cast<Eigen::Index>(groups.size()) != w.size())
    throw InputError("the grouping has " + std::to_string(groups.size()) + " ids but the matrix has " +
                     std::to_string(w.size()) + " entries");
  double* data = w.data();
  for (const auto& [id, idx] : members(groups)) {
    Eigen::VectorXd z(static_cast<Eigen::Index>(idx.size()));
    for (std::size_t i = 0; i < idx.size(); ++i) z(static_cast<Eigen::Index>(i)) = data[idx[i]];
    const Eigen::VectorXd p = prox_group(z, spec);
    for (std::size_t i = 0; i < idx.size(); ++i) data[idx[i]] = p(static_cast<Eigen::Index>(i));
  }
}

double penalty(const Eigen::MatrixXd& w, const Groups& groups, const Spec& spec) {
  double total = 0;
  const double* data = w.data();
  for (const auto& [id, idx] : members(groups)) {
    double l1 = 0, l2 = 0;
    for (Eigen::Index i : idx) {
      l1 += std::abs(data[i]);
      l2 += data[i] * data[i];
    }
    switch (spec.op) {
      case Op::l1: total += l1; break;
      case Op::group: total += std::sqrt(l2); break;
      case Op::exclusive: total += 0.5 * l1 * l1; break;
      case Op::combined: total += spec.group_weight * std::sqrt(l2) + spec.exclusive_weight * 0.5 * l1 * l1; break;
    }
  }
  return total;
}

double sparsity(const Eigen::MatrixXd& w, double relative) {
  if (w.size() == 0) return 0;
  const double cut = relative * w.cwiseAbs().maxCoeff();
  return static_cast<double>((w.array().abs() <= cut).count()) / static_cast<double>(w.size());
}

Groups make_groups(const std::string& kind, Eigen::Index rows, Eigen::Index cols, int m) {
  Groups g(static_cast<std::size_t>(rows * cols));
  const bool msr = m > 0 && rows % m == 0;
  for (Eigen::Index c = 0; c < cols; ++c)
    for (Eigen::Index r = 0; r < rows; ++r) {
      long id;
      if (kind == "latent") id = static_cast<long>(c);
      else if (kind == "row") id = static_cast<long>(r);
      else if (kind == "input") id = static_cast<long>(msr ? r / m : r);  // W[:, j]: rows j m ... j m + m - 1
      else if (kind == "output") id = static_cast<long>(msr ? r % m : r);  // W[i, :]: rows i, i + m, ...
      else throw InputError("--groups must be input, output, latent, row or a file (got '" + kind + "')");
      g[static_cast<std::size_t>(c * rows + r)] = id;
    }
  return g;
}

}  // namespace symlearn::prox

#include "io/h5.hpp"

#include <fstream>
#include <sstream>

namespace symlearn::prox {

Groups load_groups(const std::string& path, Eigen::Index rows, Eigen::Index cols) {
  std::vector<long> ids;
  bool hdf5 = false;
  {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw InputError(path + ": cannot read the grouping file");
    char sig[4] = {};
    f.read(sig, 4);
    hdf5 = sig[1] == 'H' && sig[2] == 'D' && sig[3] == 'F';
  }
  if (hdf5) {
    io::Reader r(path);
    for (auto v : r.read_ints("/groups")) ids.push_back(static_cast<long>(v));
  } else {
    std::ifstream f(path);
    std::string tok;
    while (f >> tok) {
      std::size_t used = 0;
      long v = 0;
      try {
        v = std::stol(tok, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != tok.size()) throw InputError(path + ": '" + tok + "' is not an integer group id");
      ids.push_back(v);
    }
  }
  Groups g(static_cast<std::size_t>(rows * cols));
  if (static_cast<Eigen::Index>(ids.size()) == rows * cols) {
    // Row by row as written (HDF5 row-major, text line by line) -> column-major.
    for (Eigen::Index r = 0; r < rows; ++r)
      for (Eigen::Index c = 0; c < cols; ++c) g[static_cast<std::size_t>(c * rows + r)] = ids[r * cols + c];
  } else if (static_cast<Eigen::Index>(ids.size()) == rows) {
    for (Eigen::Index c = 0; c < cols; ++c)
      for (Eigen::Index r = 0; r < rows; ++r) g[static_cast<std::size_t>(c * rows + r)] = ids[r];
  } else {
    throw InputError(path + ": has " + std::to_string(ids.size()) + " group ids; the matrix needs " +
                     std::to_string(rows * cols) + " (one per entry) or " + std::to_string(rows) + " (one per row)");
  }
  return g;
}

}  // namespace symlearn::prox
