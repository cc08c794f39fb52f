#include "analysis/symmetry_report.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace symlearn::analysis {

namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Limits beyond which an analysis is skipped (and the report says so).
constexpr long kSvdLimit = 2048;         // min(rows, cols) for singular values
constexpr long kPowerLimit = 512;        // size of a square matrix for A^p
constexpr long kGroupColsLimit = 512;    // columns of U for grouping rows
constexpr long kGeneratorLimit = 256;    // size of generators for commutators
constexpr double kKronEntriesLimit = 5e7;  // entries of a composite U1 ⊗ U2

MatrixXd to_matrix(const io::Array& a, long rows, long cols, std::size_t offset = 0) {
  return Eigen::Map<const RowMat>(a.data.data() + offset, rows, cols);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string g4(double v) { return fmt("%.4g", v); }

int json_int(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : 0;
}

SquareReport analyse_square(const MatrixXd& a, const MatrixStats& stats, const InspectOptions& opt,
                            std::vector<std::string>& notes) {
  SquareReport s;
  s.scores = square_scores(a, stats.has_svd ? stats.singular_values : VectorXd());
  if (!stats.has_svd) notes.push_back("invertibility not computed: larger than " + std::to_string(kSvdLimit));
  if (a.rows() > kPowerLimit) {
    notes.push_back("cyclic order not searched: larger than " + std::to_string(kPowerLimit));
    return s;
  }
  s.searched = true;
  s.order = opt.order;
  if (opt.order > 0) s.order_residual = cyclic_residual(a, opt.order);
  // A^p for p = 1..max_order, stopping at the first exact order or when the
  // powers blow up.
  constexpr double kExact = 1e-9;
  s.best_residual = std::numeric_limits<double>::infinity();
  const MatrixXd eye = MatrixXd::Identity(a.rows(), a.cols());
  const double scale = std::sqrt(static_cast<double>(a.rows()));
  MatrixXd power = eye;
  for (int p = 1; p <= opt.max_order; ++p) {
    power = power * a;
    const double r = (power - eye).norm() / scale;
    if (!std::isfinite(r)) break;
    if (r < s.best_residual) {
      s.best_residual = r;
      s.best_order = p;
    }
    if (r <= kExact) break;
  }
  return s;
}

// The per-row analysis of a weight-sharing matrix and its comparison with the truth.
SharingReport analyse_sharing(const MatrixXd& u, int m, int n, const Truth* truth, const InspectOptions& opt,
                              std::vector<std::string>& notes) {
  SharingReport s;
  s.m = m;
  s.n = n;
  s.map = sharing_map(u, m, n);
  if (u.cols() <= kGroupColsLimit) {
    s.grouped = true;
    s.groups = group_rows(u, opt.cos_threshold, opt.zero_row);
    std::vector<long> sizes(s.groups.groups, 0);
    for (int l : s.groups.label)
      if (l >= 0) ++sizes[l];
    std::sort(sizes.rbegin(), sizes.rend());
    s.group_sizes = sizes;
  } else {
    notes.push_back("rows not grouped: more than " + std::to_string(kGroupColsLimit) + " columns");
  }
  if (!truth) return s;
  s.compared = true;
  s.kernel = truth->kernel;
  s.rank = truth->rank;
  s.band_mass = band_mass(u, m, n, truth->kernel);
  if (truth->has_symmetry && truth->symmetry.rows() == u.rows()) {
    s.has_span = true;
    s.span_captured = span_captured(u, truth->symmetry);
  }
  if (truth->rank != 1 || !s.grouped) return s;
  // Rank 1: W[i, j] = f[j - i] on the band, so the true tying groups the band
  // rows of U by their diagonal offset j - i.
  s.tying_checked = true;
  std::vector<int> found, wanted;
  std::set<int> used_groups;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      const int label = s.groups.label[i + static_cast<std::size_t>(j) * m];
      if (!on_band(i, j, truth->kernel)) {
        s.off_band_active += label >= 0;
        continue;
      }
      ++s.band_rows;
      if (label < 0) {
        ++s.band_rows_near_zero;
        continue;
      }
      found.push_back(label);
      wanted.push_back(j - i);
      used_groups.insert(label);
    }
  s.band_rows_used = static_cast<long>(found.size());
  s.band_groups = static_cast<int>(used_groups.size());
  s.partition_distance = partition_distance(found, wanted);
  s.recovered = s.band_mass > opt.band_threshold && s.partition_distance == 0 && s.band_rows_near_zero == 0 &&
                s.band_rows_used > 0;
  return s;
}

MatrixReport analyse_matrix(std::string name, std::string source, io::Shape shape, MatrixXd value) {
  MatrixReport r;
  r.name = std::move(name);
  r.source = std::move(source);
  r.shape = std::move(shape);
  r.value = std::move(value);
  r.stats = matrix_stats(r.value, kSvdLimit);
  if (!r.stats.has_svd) r.notes.push_back("singular values not computed: min(rows, cols) > " + std::to_string(kSvdLimit));
  return r;
}

bool is_generator_name(const std::string& s) {
  return s.size() >= 2 && s.size() <= 10 && s[0] == 'L' && std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Argmax column of each row (ties: the first column, as sharing::sharing_groups).
std::vector<int> row_argmax(const MatrixXd& a) {
  std::vector<int> col(static_cast<std::size_t>(a.rows()), 0);
  for (Eigen::Index p = 0; p < a.rows(); ++p) {
    Eigen::Index best = 0;
    for (Eigen::Index q = 1; q < a.cols(); ++q)
      if (a(p, q) > a(p, best)) best = q;
    col[static_cast<std::size_t>(p)] = static_cast<int>(best);
  }
  return col;
}

// Positions grouped by their column, groups in order of their first position.
std::vector<std::vector<int>> groups_of(const std::vector<int>& column, std::vector<int>* group_column = nullptr) {
  std::vector<std::vector<int>> groups;
  std::map<int, std::size_t> index;
  for (std::size_t p = 0; p < column.size(); ++p) {
    auto [it, fresh] = index.emplace(column[p], groups.size());
    if (fresh) {
      groups.emplace_back();
      if (group_column) group_column->push_back(column[p]);
    }
    groups[it->second].push_back(static_cast<int>(p));
  }
  return groups;
}

std::string square_shape(long n) { return "[" + std::to_string(n) + " x " + std::to_string(n) + "]"; }

}  // namespace

SharingGroupsReport sharing_groups_report(const MatrixXd& a) {
  SharingGroupsReport s;
  s.length = static_cast<int>(a.rows());
  s.column = row_argmax(a);
  s.groups = groups_of(s.column, &s.group_column);
  if (a.rows() > 0 && a.cols() > 0) {
    const VectorXd row_max = a.rowwise().maxCoeff();
    s.row_max_min = row_max.minCoeff();
    s.row_max_mean = row_max.mean();
  }
  return s;
}

std::string groups_str(const std::vector<std::vector<int>>& groups) {
  std::string out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    out += g ? " {" : "{";
    for (std::size_t k = 0; k < groups[g].size(); ++k) out += (k ? " " : "") + std::to_string(groups[g][k]);
    out += "}";
  }
  return out;
}

std::string sharing_verdict_line(const SharingGroupsReport& s) {
  if (!s.compared) return "";
  if (s.recovered)
    return "sharing recovered: partition distance 0 (" + std::to_string(s.groups.size()) + " groups, as in the truth)";
  return "sharing not recovered: partition distance " + std::to_string(s.partition_distance) + " (" +
         std::to_string(s.groups.size()) + (s.groups.size() == 1 ? " learned group, " : " learned groups, ") +
         std::to_string(s.true_groups.size()) + " true)";
}

Truth load_truth(const io::Reader& f) {
  Truth t;
  t.name = f.name();
  t.kind = f.has_attr("/", "kind") ? f.attr_string("/", "kind") : "";
  const nlohmann::json c = f.has_attr("/", "config") ? f.config() : nlohmann::json::object();
  t.rank = json_int(c, "rank");
  t.kernel = json_int(c, "kernel");
  t.input_dim = json_int(c, "input_dim");
  t.output_dim = json_int(c, "output_dim");
  t.permuted_inputs = c.value("permute_inputs", false);
  if (!f.has("/truth/symmetry") && f.has("/truth/sharing")) {
    const io::Shape shape = f.shape("/truth/sharing");
    if (shape.size() != 2 || shape[0] != shape[1] || shape[0] < 1)
      throw InputError(f.name() + ": /truth/sharing has shape " + io::shape_str(shape) + ", expected [L,L]");
    const long n = static_cast<long>(shape[0]);
    const io::Array a = f.read("/truth/sharing", {n, n});
    t.sharing = to_matrix(a, n, n);
    if (!t.sharing.allFinite()) throw InputError(f.name() + ": /truth/sharing holds NaN or Inf");
    for (long i = 0; i < n; ++i) {
      const auto row = t.sharing.row(i);
      if ((row.array() != 0.0 && row.array() != 1.0).any() || row.sum() != 1.0)
        throw InputError(f.name() + ": /truth/sharing row " + std::to_string(i) +
                         " is not one-hot (each position belongs to exactly one group)");
    }
    t.length = static_cast<int>(n);
    t.sharing_groups = row_argmax(t.sharing);
    t.has_sharing = true;
    return t;
  }
  if (!f.has("/truth/symmetry"))
    throw InputError(f.name() + ": holds no /truth/symmetry or /truth/sharing: nothing to compare with (drop --truth)");
  if (t.rank < 1 || t.kernel < 1 || t.input_dim < 1 || t.output_dim < 1)
    throw InputError(f.name() + ": the config lacks rank, kernel, input_dim or output_dim for /truth/symmetry");
  const long rows = static_cast<long>(t.output_dim) * t.input_dim, cols = static_cast<long>(t.rank) * t.kernel;
  const io::Array a = f.read("/truth/symmetry", {rows, cols});
  t.symmetry = to_matrix(a, rows, cols);
  t.has_symmetry = true;
  return t;
}

SymmetryReport inspect_symmetry(const io::Reader& f, const Truth* truth, const InspectOptions& opt,
                                const ReportHints& hints) {
  SymmetryReport rep;
  rep.options = opt;
  rep.model_name = f.name();
  if (!f.has_attr("/", "model")) throw InputError(f.name() + ": has no `model` attribute (the architecture's name)");
  rep.kind = f.attr_string("/", "model");
  if (f.has_attr("/", "config")) {
    const nlohmann::json c = f.config();
    if (c.contains("model") && c["model"].is_object()) {
      rep.input_dim = json_int(c["model"], "input_dim");
      rep.output_dim = json_int(c["model"], "output_dim");
    }
    if (c.contains("steps_done") && c["steps_done"].is_number_integer()) rep.steps = c["steps_done"].get<long>();
    if (c.contains("dataset") && c["dataset"].is_object()) rep.dataset = c["dataset"].value("path", "");
  }
  const int m = rep.output_dim, n = rep.input_dim;
  if (truth) {
    rep.truth = *truth;
    if (!truth->note.empty()) rep.notes.push_back("truth: " + truth->name + ": " + truth->note);
    if (m > 0 && n > 0 && truth->has_symmetry && (truth->input_dim != n || truth->output_dim != m))
      throw InputError(truth->name + ": holds " + std::to_string(truth->input_dim) + " -> " +
                       std::to_string(truth->output_dim) + " tasks but the " + rep.kind + " model " + f.name() +
                       " maps " + std::to_string(n) + " -> " + std::to_string(m));
    // --truth asks for a comparison: one that cannot be made is an error, not a note.
    if (truth->has_symmetry && (m == 0 || n == 0))
      throw InputError(f.name() + ": its config gives no input/output dimensions to compare with " + truth->name);
    if (truth->has_sharing && !hints.sharing_matrix)
      throw InputError(truth->name + ": holds a sharing (/truth/sharing) and a " + rep.kind +
                       " model has none to compare with it");
    if (!truth->has_sharing && hints.sharing_matrix)
      throw InputError(truth->name + ": has no /truth/sharing to compare a " + rep.kind + " model with");
  }
  if (!f.has("/params")) throw InputError(f.name() + ": has no /params group: nothing to inspect");

  std::map<std::string, MatrixReport> by_name;  // for msr-kron's U1, U2
  struct Stack {
    std::string name;
    std::vector<std::size_t> index;  // into rep.matrices
  };
  std::vector<Stack> stacks;
  for (const std::string& name : f.list("/params")) {
    const std::string path = "/params/" + name;
    // A parameter that cannot be read (NaN, damaged) is the file's error: the report would be meaningless.
    if (!f.has_attr(path, "role")) {
      rep.skipped.push_back(path + ": no `role` attribute");
      continue;
    }
    const std::string role = f.attr_string(path, "role");
    if (role != "symmetry") {
      rep.other_params.push_back(name + " (" + role + ")");
      continue;
    }
    const io::Array a = f.read(path);
    const io::Shape& s = a.shape;
    if (s.size() == 2) {
      rep.matrices.push_back(analyse_matrix(name, path, s, to_matrix(a, s[0], s[1])));
    } else if (s.size() == 1) {
      rep.matrices.push_back(analyse_matrix(name, path, s, to_matrix(a, s[0], 1)));
      rep.matrices.back().notes.push_back("a vector: treated as one column");
    } else if (s.size() == 3 && s[1] == s[2] && s[0] >= 1) {
      Stack st{name, {}};
      for (std::uint64_t k = 0; k < s[0]; ++k) {
        st.index.push_back(rep.matrices.size());
        rep.matrices.push_back(analyse_matrix(name + "[" + std::to_string(k) + "]", path, {s[1], s[2]},
                                              to_matrix(a, s[1], s[2], k * s[1] * s[2])));
      }
      stacks.push_back(st);
    } else {
      rep.skipped.push_back(path + ": a " + std::to_string(s.size()) + "-D array " + io::shape_str(s) +
                            " (only matrices, vectors and stacks of square matrices are analysed)");
    }
  }

  // msr-kron: U = U1 ⊗ U2 is the weight-sharing matrix (vec(W) = U v).
  if (hints.kronecker && m > 0 && n > 0) {
    const MatrixReport* u1 = nullptr;
    const MatrixReport* u2 = nullptr;
    for (const auto& r : rep.matrices) {
      if (r.name == "U1" && r.value.rows() == n) u1 = &r;
      if (r.name == "U2" && r.value.rows() == m) u2 = &r;
    }
    if (u1 && u2) {
      const double entries = static_cast<double>(m) * n * u1->value.cols() * u2->value.cols();
      if (entries <= kKronEntriesLimit) {
        const MatrixXd &a = u1->value, &b = u2->value;
        MatrixXd k(a.rows() * b.rows(), a.cols() * b.cols());
        for (Eigen::Index p = 0; p < a.rows(); ++p)
          for (Eigen::Index q = 0; q < a.cols(); ++q) k.block(p * b.rows(), q * b.cols(), b.rows(), b.cols()) = a(p, q) * b;
        rep.matrices.push_back(analyse_matrix("kron(U1,U2)", "U1 ⊗ U2", {std::uint64_t(k.rows()), std::uint64_t(k.cols())}, k));
      } else {
        rep.notes.push_back("U1 ⊗ U2 not formed: " + g4(entries) + " entries");
      }
    } else {
      rep.notes.push_back("msr-kron without U1 (n x k1) and U2 (m x k2): no weight-sharing map");
    }
  }

  // Shape-based analyses of each matrix.
  const bool kron = hints.kronecker;
  for (auto& r : rep.matrices) {
    const long rows = r.value.rows(), cols = r.value.cols();
    const bool composite = r.name == "kron(U1,U2)";
    if (m > 0 && n > 0 && rows == static_cast<long>(m) * n && rows > 1 && (composite || !kron))
      r.sharing = analyse_sharing(r.value, m, n, truth && truth->has_symmetry ? truth : nullptr, opt, r.notes);
    if (rows == cols && rows >= 2) r.square = analyse_square(r.value, r.stats, opt, r.notes);
    if (hints.sharing_matrix && r.name == "sharing" && r.shape.size() == 2 && rows == cols && rows >= 1) {
      SharingGroupsReport g = sharing_groups_report(r.value);
      if (truth && truth->has_sharing) {
        if (truth->length != rows)
          throw InputError(truth->name + ": /truth/sharing is " + square_shape(truth->length) + " but the " + rep.kind +
                           " model " + f.name() + " has /params/sharing " + square_shape(rows));
        g.compared = true;
        g.true_column = truth->sharing_groups;
        g.true_groups = groups_of(truth->sharing_groups);
        g.partition_distance = partition_distance(g.column, truth->sharing_groups);
        g.recovered = g.partition_distance == 0;
      }
      r.sharing_groups = std::move(g);
    }
  }

  // Generator sets: params L0, L1, ... of one square shape, and 3-D stacks.
  std::map<long, std::vector<std::size_t>> named;  // by size
  for (std::size_t k = 0; k < rep.matrices.size(); ++k) {
    const auto& r = rep.matrices[k];
    if (r.shape.size() == 2 && is_generator_name(r.name) && r.value.rows() == r.value.cols())
      named[r.value.rows()].push_back(k);
  }
  for (auto& [dim, idx] : named) {
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return std::stol(rep.matrices[a].name.substr(1)) < std::stol(rep.matrices[b].name.substr(1));
    });
    if (idx.size() >= 2) stacks.push_back({"L*", idx});
  }
  for (const auto& st : stacks) {
    GeneratorSetReport g;
    g.name = st.name;
    std::vector<MatrixXd> gens;
    for (std::size_t k : st.index) {
      g.members.push_back(rep.matrices[k].name);
      gens.push_back(rep.matrices[k].value);
    }
    g.dim = gens.front().rows();
    if (g.dim > kGeneratorLimit) {
      rep.notes.push_back("generators " + st.name + ": commutators not computed (larger than " +
                          std::to_string(kGeneratorLimit) + ")");
      continue;
    }
    g.closure = commutator_closure(gens);
    rep.generator_sets.push_back(std::move(g));
  }

  if (rep.matrices.empty()) {
    rep.notes.push_back(rep.skipped.empty()
                            ? "a " + rep.kind + " model has no symmetry parameters (no /params/* with role symmetry): nothing to inspect"
                            : "no symmetry parameter could be analysed");
  }
  return rep;
}

// ---- JSON -------------------------------------------------------------------------

namespace {
nlohmann::json matrix_json(const MatrixXd& a) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index j = 0; j < a.cols(); ++j) row.push_back(a(i, j));
    rows.push_back(row);
  }
  return rows;
}

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json report_json(const SymmetryReport& rep) {
  nlohmann::json j;
  j["model"] = {{"file", rep.model_name}, {"kind", rep.kind}, {"dataset", rep.dataset}};
  j["model"]["input_dim"] = rep.input_dim ? nlohmann::json(rep.input_dim) : nlohmann::json(nullptr);
  j["model"]["output_dim"] = rep.output_dim ? nlohmann::json(rep.output_dim) : nlohmann::json(nullptr);
  j["model"]["steps"] = rep.steps >= 0 ? nlohmann::json(rep.steps) : nlohmann::json(nullptr);
  if (rep.truth) {
    const Truth& t = *rep.truth;
    j["truth"] = {{"file", t.name},         {"kind", t.kind},          {"rank", t.rank},
                  {"kernel", t.kernel},     {"input_dim", t.input_dim}, {"output_dim", t.output_dim},
                  {"permuted_inputs", t.permuted_inputs}, {"has_symmetry", t.has_symmetry},
                  {"has_sharing", t.has_sharing}};
    if (t.has_sharing) {
      j["truth"]["length"] = t.length;
      j["truth"]["sharing_columns"] = t.sharing_groups;
      j["truth"]["sharing_groups"] = groups_of(t.sharing_groups);
    }
  } else {
    j["truth"] = nullptr;
  }
  const auto& o = rep.options;
  j["options"] = {{"cos_threshold", o.cos_threshold}, {"zero_row", o.zero_row}, {"order", o.order},
                  {"max_order", o.max_order}, {"band_threshold", o.band_threshold}};
  j["matrices"] = nlohmann::json::array();
  for (const auto& r : rep.matrices) {
    const MatrixStats& s = r.stats;
    nlohmann::json m = {{"name", r.name}, {"source", r.source}, {"shape", r.shape}, {"parameters", r.value.size()}};
    m["norms"] = {{"frobenius", s.frobenius}, {"max_abs", s.max_abs}, {"mean_abs", s.mean_abs}};
    m["sparsity"] = nlohmann::json::array();
    for (std::size_t l = 0; l < kSparsityLevels.size(); ++l)
      m["sparsity"].push_back({{"below_fraction_of_max", kSparsityLevels[l]}, {"share", s.sparsity[l]}});
    m["histogram"] = {{"edges", s.histogram.edges}, {"counts", s.histogram.counts}, {"below", s.histogram.below},
                      {"description", "counts of |u| in [edges[i], edges[i+1]); below: |u| < edges[0], zeros included"}};
    if (s.has_svd) {
      m["singular_values"] = std::vector<double>(s.singular_values.data(), s.singular_values.data() + s.singular_values.size());
      m["effective_rank"] = s.effective_rank;
      m["numerical_rank"] = s.numerical_rank;
    }
    if (r.sharing) {
      const SharingReport& h = *r.sharing;
      nlohmann::json sh = {{"m", h.m}, {"n", h.n}, {"map", matrix_json(h.map)},
                           {"map_description", "m x n: max_k |U[i + j m, k]| (W[i, j] = row i + j m of U times v)"}};
      if (h.grouped)
        sh["groups"] = {{"count", h.groups.groups}, {"sizes", h.group_sizes}, {"near_zero_rows", h.groups.near_zero},
                        {"active_rows", static_cast<long>(h.groups.label.size()) - h.groups.near_zero}};
      if (h.compared) {
        sh["truth"] = {{"kernel", h.kernel}, {"rank", h.rank}, {"band_mass", h.band_mass}};
        sh["truth"]["span_captured"] = h.has_span ? nlohmann::json(h.span_captured) : nlohmann::json(nullptr);
        if (h.tying_checked)
          sh["truth"]["tying"] = {{"partition_distance", h.partition_distance}, {"band_rows", h.band_rows},
                                  {"band_rows_used", h.band_rows_used}, {"band_rows_near_zero", h.band_rows_near_zero},
                                  {"band_groups", h.band_groups}, {"off_band_active_rows", h.off_band_active},
                                  {"recovered", h.recovered}};
      }
      m["sharing"] = sh;
    }
    if (r.square) {
      const SquareReport& q = *r.square;
      nlohmann::json sq = {{"symmetric_share", q.scores.symmetric_share}, {"skew_share", q.scores.skew_share},
                           {"toeplitz", q.scores.toeplitz},           {"circulant", q.scores.circulant}};
      if (q.scores.has_svd) {
        sq["sigma_min"] = q.scores.sigma_min;
        sq["condition"] = finite_or_null(q.scores.condition);
      }
      if (q.searched) {
        sq["best_order"] = q.best_order;
        sq["best_order_residual"] = finite_or_null(q.best_residual);
      }
      if (q.order > 0) {
        sq["order"] = q.order;
        sq["order_residual"] = finite_or_null(q.order_residual);
      }
      m["square"] = sq;
    }
    if (r.sharing_groups) {
      const SharingGroupsReport& g = *r.sharing_groups;
      nlohmann::json sg = {{"length", g.length},
                           {"count", g.groups.size()},
                           {"groups", g.groups},
                           {"group_columns", g.group_column},
                           {"columns", g.column},
                           {"row_max_min", g.row_max_min},
                           {"row_max_mean", g.row_max_mean},
                           {"description", "position p uses psi_q, q = columns[p] = argmax_q A[p, q]; groups: the "
                                           "positions of each q, ordered by first position; row_max: max_q A[p, q]"}};
      if (g.compared)
        sg["truth"] = {{"groups", g.true_groups},
                       {"columns", g.true_column},
                       {"count", g.true_groups.size()},
                       {"partition_distance", g.partition_distance},
                       {"recovered", g.recovered}};
      else
        sg["truth"] = nullptr;
      m["sharing_groups"] = sg;
    }
    m["notes"] = r.notes;
    j["matrices"].push_back(m);
  }
  j["generator_sets"] = nlohmann::json::array();
  for (const auto& g : rep.generator_sets) {
    nlohmann::json pairs = nlohmann::json::array();
    for (std::size_t k = 0; k < g.closure.pairs.size(); ++k)
      pairs.push_back({{"i", g.members[g.closure.pairs[k].first]}, {"j", g.members[g.closure.pairs[k].second]},
                       {"commutator_norm", g.closure.commutator_norm[k]}, {"residual", g.closure.residual[k]}});
    j["generator_sets"].push_back({{"name", g.name}, {"members", g.members}, {"dim", g.dim},
                                   {"span_rank", g.closure.span_rank}, {"max_residual", g.closure.max_residual},
                                   {"mean_residual", g.closure.mean_residual}, {"pairs", pairs}});
  }
  j["other_params"] = rep.other_params;
  j["skipped"] = rep.skipped;
  j["notes"] = rep.notes;
  return j;
}

// ---- text ---------------------------------------------------------------------------

namespace {
constexpr int kLabel = 17;

std::string line(const std::string& label, const std::string& text) {
  std::string s = "  " + label;
  s.resize(2 + kLabel, ' ');
  return s + text + "\n";
}

std::string percent(double share) { return fmt("%.1f%%", 100 * share); }

// Counts as a row of block characters, tallest = the largest count.
std::string sparkline(const std::vector<long>& counts) {
  static const char* bars[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
  long top = 0;
  for (long c : counts) top = std::max(top, c);
  std::string s;
  for (long c : counts) {
    if (c == 0) {
      s += "\u00b7";  // middle dot: empty bin
    } else {
      const int k = std::clamp(static_cast<int>(std::ceil(8.0 * c / top)) - 1, 0, 7);
      s += bars[k];
    }
  }
  return s;
}

std::string exp_label(double edge) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "1e%+d", static_cast<int>(std::lround(std::log10(edge))));
  return buf;
}
}  // namespace

std::string verdict_line(const SharingReport& s, const InspectOptions& opt) {
  if (!s.tying_checked) return "";
  if (s.recovered)
    return "convolution recovered: band mass " + fmt("%.3f", s.band_mass) + " > " + g4(opt.band_threshold) +
           " and each diagonal of W tied to one direction of U (partition distance 0)";
  std::string why;
  if (!(s.band_mass > opt.band_threshold)) why += "band mass " + fmt("%.3f", s.band_mass) + " <= " + g4(opt.band_threshold);
  if (s.partition_distance != 0)
    why += (why.empty() ? "" : ", ") + std::string("partition distance ") + std::to_string(s.partition_distance);
  if (s.band_rows_near_zero > 0)
    why += (why.empty() ? "" : ", ") + std::to_string(s.band_rows_near_zero) + " band rows near zero";
  if (why.empty()) why = "no band rows to compare";
  return "convolution not recovered: " + why;
}

std::string report_text(const SymmetryReport& rep) {
  std::string out;
  std::string head = rep.kind + " model";
  if (rep.input_dim && rep.output_dim) head += ", " + std::to_string(rep.input_dim) + " -> " + std::to_string(rep.output_dim);
  if (rep.steps >= 0) head += ", " + std::to_string(rep.steps) + " outer steps";
  if (!rep.dataset.empty()) head += " (trained on " + rep.dataset + ")";
  out += "model   " + rep.model_name + ": " + head + "\n";
  if (rep.truth) {
    const Truth& t = *rep.truth;
    std::string s = t.kind.empty() ? "tasks" : t.kind;
    if (t.rank > 0) s += ", rank " + std::to_string(t.rank) + (t.rank == 1 ? " (a convolution)" : "");
    if (t.kernel > 0) s += ", kernel " + std::to_string(t.kernel);
    if (t.permuted_inputs) s += ", inputs permuted per task (no weight sharing is common to all tasks)";
    if (t.has_sharing)
      s += ", length " + std::to_string(t.length) + ", " + std::to_string(groups_of(t.sharing_groups).size()) +
           " true groups";
    out += "truth   " + t.name + ": " + s + "\n";
  }
  for (const auto& r : rep.matrices) {
    const MatrixStats& s = r.stats;
    std::string shape;
    for (std::size_t k = 0; k < r.shape.size(); ++k) shape += (k ? " x " : "") + std::to_string(r.shape[k]);
    out += "\n" + r.name + "  [" + shape + "], " + std::to_string(r.value.size()) + " parameters";
    out += r.source.empty() ? "\n" : ", " + r.source + "\n";
    out += line("norms", "Frobenius " + g4(s.frobenius) + ", max |u| " + g4(s.max_abs) + ", mean |u| " + g4(s.mean_abs));
    out += line("sparsity", "|u| below 1e-6, 1e-3, 1e-2 of the max: " + percent(s.sparsity[0]) + ", " +
                                percent(s.sparsity[1]) + ", " + percent(s.sparsity[2]));
    if (!s.histogram.edges.empty())
      out += line("|u| histogram", exp_label(s.histogram.edges.front()) + " " + sparkline(s.histogram.counts) + " " +
                                       exp_label(s.histogram.edges.back()) + "  (2 bins a decade; " +
                                       std::to_string(s.histogram.below) + " below)");
    if (s.has_svd) {
      std::string sv;
      const Eigen::Index shown = std::min<Eigen::Index>(s.singular_values.size(), 6);
      for (Eigen::Index k = 0; k < shown; ++k) sv += (k ? " " : "") + g4(s.singular_values[k]);
      if (shown < s.singular_values.size())
        sv += " ... " + g4(s.singular_values[s.singular_values.size() - 1]) + " (" +
              std::to_string(s.singular_values.size()) + ")";
      out += line("singular values", sv);
      out += line("rank", "effective " + fmt("%.3f", s.effective_rank) + " (entropy), numerical " +
                              std::to_string(s.numerical_rank) + " (sigma > 1e-3 sigma_max)");
    }
    if (r.sharing) {
      const SharingReport& h = *r.sharing;
      std::string w = "W " + std::to_string(h.m) + " x " + std::to_string(h.n) + ", max_k |U[(i,j),k]| up to " +
                      g4(h.map.size() ? h.map.maxCoeff() : 0.0);
      out += line("vec(W) = U v", w);
      if (h.grouped) {
        const long active = static_cast<long>(h.groups.label.size()) - h.groups.near_zero;
        std::string g = std::to_string(active) + " active rows in " + std::to_string(h.groups.groups) +
                        " direction groups (|cos| > " + g4(rep.options.cos_threshold) + "), " +
                        std::to_string(h.groups.near_zero) + " near zero (< " + g4(rep.options.zero_row) +
                        " of the largest row)";
        out += line("row groups", g);
      }
      if (h.compared) {
        std::string b = fmt("%.3f", h.band_mass) + " of sum U^2 on the band j - i in [0, " + std::to_string(h.kernel) + ")";
        if (h.has_span) b += "; span of U_true captured " + fmt("%.3f", h.span_captured);
        out += line("band mass", b);
        if (h.tying_checked) {
          out += line("tying", "partition distance " + std::to_string(h.partition_distance) + " over " +
                                   std::to_string(h.band_rows_used) + " band rows in " + std::to_string(h.band_groups) +
                                   " groups (truth: " + std::to_string(h.kernel) + " diagonals; " +
                                   std::to_string(h.band_rows_near_zero) + " band rows near zero, " +
                                   std::to_string(h.off_band_active) + " active rows off the band)");
          out += line("verdict", verdict_line(h, rep.options));
        } else if (h.rank > 1) {
          out += line("tying", "not checked: rank " + std::to_string(h.rank) + " data has no tying across positions");
        }
      }
    }
    if (r.square) {
      const SquareReport& q = *r.square;
      out += line("structure", "symmetric " + fmt("%.3f", q.scores.symmetric_share) + ", skew " +
                                   fmt("%.3f", q.scores.skew_share) + " of the energy; Toeplitz " +
                                   fmt("%.3f", q.scores.toeplitz) + ", circulant " + fmt("%.3f", q.scores.circulant));
      if (q.scores.has_svd)
        out += line("invertibility", "smallest singular value " + g4(q.scores.sigma_min) + ", condition number " +
                                         (std::isfinite(q.scores.condition) ? g4(q.scores.condition) : "inf"));
      if (q.searched) {
        std::string c;
        if (q.best_order > 0 && q.best_residual <= 1e-9)
          c = "A^" + std::to_string(q.best_order) + " = I: generates a cyclic group of order " + std::to_string(q.best_order);
        else if (q.best_order > 0)
          c = "no p <= " + std::to_string(rep.options.max_order) + " with A^p = I; closest p = " +
              std::to_string(q.best_order) + ", ||A^p - I||/||I|| = " + g4(q.best_residual);
        else
          c = "powers of A diverge";
        if (q.order > 0) c += "; at p = " + std::to_string(q.order) + ": residual " + g4(q.order_residual);
        out += line("cyclic", c);
      } else if (q.order > 0) {
        out += line("cyclic", "not computed (matrix too large)");
      }
    }
    if (r.sharing_groups) {
      const SharingGroupsReport& g = *r.sharing_groups;
      out += line("groups", std::to_string(g.groups.size()) + " (row argmax of A: position p uses psi_q)");
      for (std::size_t k = 0; k < g.groups.size(); ++k) {
        std::string pos;
        for (int p : g.groups[k]) pos += " " + std::to_string(p);
        out += line("", "group " + std::to_string(k) + ": positions" + pos + "  (psi_" +
                            std::to_string(g.group_column[k]) + ")");
      }
      out += line("decided", "row max of A: min " + fmt("%.3f", g.row_max_min) + ", mean " +
                                 fmt("%.3f", g.row_max_mean) + " (1: every row one-hot)");
      if (g.compared) {
        out += line("true groups", std::to_string(g.true_groups.size()) + ": " + groups_str(g.true_groups));
        out += line("verdict", sharing_verdict_line(g));
      }
    }
    for (const auto& note : r.notes) out += line("note", note);
  }
  for (const auto& g : rep.generator_sets) {
    std::string members;
    for (std::size_t k = 0; k < g.members.size(); ++k) members += (k ? ", " : "") + g.members[k];
    out += "\ngenerators  " + members + " (" + std::to_string(g.dim) + " x " + std::to_string(g.dim) + ")\n";
    out += line("commutators", std::string(g.closure.max_residual < 1e-6 ? "closed" : "not closed") +
                                   " within their span: relative residual max " + g4(g.closure.max_residual) +
                                   ", mean " + g4(g.closure.mean_residual) + " (span rank " +
                                   std::to_string(g.closure.span_rank) + ")");
  }
  if (!rep.other_params.empty()) {
    std::string o;
    for (std::size_t k = 0; k < rep.other_params.size(); ++k) o += (k ? ", " : "") + rep.other_params[k];
    out += "\nother parameters: " + o + "\n";
  }
  if (!rep.skipped.empty()) {
    out += "\nnot analysed\n";
    for (const auto& s : rep.skipped) out += "  " + s + "\n";
  }
  if (!rep.notes.empty()) {
    out += "\n";
    for (const auto& s : rep.notes) out += "note: " + s + "\n";
  }
  return out;
}

}  // namespace symlearn::analysis
