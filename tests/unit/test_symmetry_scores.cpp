// inspect-symmetry's numbers on constructed matrices, the figure's PNG round
// trip, and the report on a constructed model file.
#include "analysis/symmetry_report.hpp"
#include "analysis/symmetry_scores.hpp"
#include "io/h5.hpp"
#include "plot/figure.hpp"
#include "plot/heatmap.hpp"
#include "plot/image.hpp"
#include "tasks/locally_connected.hpp"
#include "util/rng.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <unistd.h>

#include <algorithm>
#include <complex>
#include <cstdlib>
#include <numeric>
#include <string>

using namespace symlearn;
using namespace symlearn::analysis;

namespace {
MatrixXd randn(Rng& rng, int r, int c) {
  MatrixXd m(r, c);
  for (int j = 0; j < c; ++j)
    for (int i = 0; i < r; ++i) m(i, j) = rng.normal();
  return m;
}

MatrixXd circulant(const Eigen::VectorXd& first_col) {
  const Eigen::Index n = first_col.size();
  MatrixXd a(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) a(i, j) = first_col[((i - j) % n + n) % n];
  return a;
}

// The permutation matrix sending e_k to e_perm[k].
MatrixXd permutation_matrix(const std::vector<int>& perm) {
  const int n = static_cast<int>(perm.size());
  MatrixXd p = MatrixXd::Zero(n, n);
  for (int k = 0; k < n; ++k) p(perm[k], k) = 1;
  return p;
}

using testutil::TempDir;

void write_param(io::Writer& w, const std::string& name, const MatrixXd& m, const std::string& role) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = m;
  w.write("/params/" + name, {std::uint64_t(m.rows()), std::uint64_t(m.cols())}, r.data());
  w.attr("/params/" + name, "role", role);
}
}  // namespace

TEST_CASE("symmetry: a circulant matrix scores circulant, a Gaussian one does not") {
  Rng rng(3);
  const int n = 16;
  const MatrixXd c = circulant(randn(rng, n, 1).col(0));
  CHECK(circulant_score(c) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(toeplitz_score(c) == doctest::Approx(1.0).epsilon(1e-12));
  const MatrixXd g = randn(rng, n, n);
  CHECK(circulant_score(g) < 0.2);  // about 1/n
  CHECK(toeplitz_score(g) < 0.3);   // about 2/n
  // Toeplitz but not circulant: a band with different wrap-around.
  MatrixXd t = MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (j - i >= 0 && j - i < 3) t(i, j) = 1.0 + (j - i);
  CHECK(toeplitz_score(t) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(circulant_score(t) < 0.95);
  CHECK(circulant_score(t) > 0.5);
}

TEST_CASE("symmetry: the circulant score is the diagonal energy of F A F^-1") {
  Rng rng(5);
  const int n = 7;
  const MatrixXd a = randn(rng, n, n) + circulant(randn(rng, n, 1).col(0));
  using C = std::complex<double>;
  Eigen::MatrixXcd f(n, n);
  const double pi = 3.14159265358979323846;
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j) f(k, j) = std::polar(1.0 / std::sqrt(double(n)), -2 * pi * k * j / n);
  const Eigen::MatrixXcd d = f * a.cast<C>() * f.adjoint();  // F unitary: F^-1 = F^*
  const double diag = d.diagonal().squaredNorm();
  CHECK(d.squaredNorm() == doctest::Approx(a.squaredNorm()));
  CHECK(circulant_score(a) == doctest::Approx(diag / d.squaredNorm()).epsilon(1e-12));
}

TEST_CASE("symmetry: a permutation of order 4 has A^4 = I and not A^3 = I") {
  const MatrixXd p = permutation_matrix({1, 2, 3, 0, 5, 4});  // a 4-cycle and a 2-cycle: order 4
  CHECK(cyclic_residual(p, 4) == 0.0);
  CHECK(cyclic_residual(p, 8) == 0.0);
  CHECK(cyclic_residual(p, 3) > 0.5);
  CHECK(cyclic_residual(p, 2) > 0.5);
  const SquareScores s = square_scores(p, Eigen::BDCSVD<MatrixXd>(p).singularValues());
  CHECK(s.sigma_min == doctest::Approx(1.0));
  CHECK(s.condition == doctest::Approx(1.0));
  CHECK(s.symmetric_share + s.skew_share == doctest::Approx(1.0));
  // A symmetric and a skew matrix.
  Rng rng(1);
  const MatrixXd g = randn(rng, 5, 5);
  const MatrixXd sym = g + g.transpose(), skew = g - g.transpose();
  CHECK(square_scores(sym, {}).symmetric_share == doctest::Approx(1.0));
  CHECK(square_scores(skew, {}).skew_share == doctest::Approx(1.0));
}

TEST_CASE("symmetry: shift generators of a 1-D convolution are closed under commutators") {
  const int n = 8;
  std::vector<int> shift(n);
  for (int k = 0; k < n; ++k) shift[k] = (k + 1) % n;
  const MatrixXd s = permutation_matrix(shift);
  // The shifts S, S^2, S^3 and the generator of continuous translation
  // (the central difference, a circulant) all commute.
  MatrixXd d = (s - s.transpose()) / 2;
  const Closure c = commutator_closure({s, s * s, s * s * s, d});
  CHECK(c.pairs.size() == 6);
  CHECK(c.max_residual == 0.0);
  CHECK(c.span_rank == 4);
  // so(3): [Lx, Ly] = Lz and cyclically - closed but not commuting.
  MatrixXd lx = MatrixXd::Zero(3, 3), ly = lx, lz = lx;
  lx(1, 2) = -1, lx(2, 1) = 1;
  ly(0, 2) = 1, ly(2, 0) = -1;
  lz(0, 1) = -1, lz(1, 0) = 1;
  const Closure so3 = commutator_closure({lx, ly, lz});
  CHECK(so3.max_residual < 1e-12);
  CHECK(so3.commutator_norm[0] > 1.0);
  // Not closed: [E12, E21] = E11 - E22 lies outside span{E12, E21}.
  MatrixXd e12 = MatrixXd::Zero(2, 2), e21 = e12;
  e12(0, 1) = 1;
  e21(1, 0) = 1;
  CHECK(commutator_closure({e12, e21}).max_residual == doctest::Approx(1.0));
  Rng rng(2);
  CHECK(commutator_closure({randn(rng, 4, 4), randn(rng, 4, 4)}).max_residual > 0.5);
}

TEST_CASE("symmetry: partition distance on small cases and the matching against brute force") {
  CHECK(partition_distance({0, 0, 1, 1}, {5, 5, 7, 7}) == 0);  // labels do not matter
  CHECK(partition_distance({0, 0, 1, 1}, {0, 1, 0, 1}) == 2);
  CHECK(partition_distance({0, 0, 0, 1}, {0, 0, 1, 1}) == 1);
  CHECK(partition_distance({0, 1, 2, 3, 4}, {0, 0, 0, 0, 0}) == 4);
  CHECK(partition_distance({}, {}) == 0);
  // max_weight_matching = the best of all assignments, on random integer tables.
  Rng rng(9);
  for (int trial = 0; trial < 20; ++trial) {
    const int r = 1 + static_cast<int>(rng.below(5)), c = 1 + static_cast<int>(rng.below(5));
    MatrixXd w(r, c);
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < c; ++j) w(i, j) = static_cast<double>(rng.below(10));
    const MatrixXd t = r <= c ? w : MatrixXd(w.transpose());
    std::vector<int> cols(t.cols());
    std::iota(cols.begin(), cols.end(), 0);
    double best = 0;
    do {
      double sum = 0;
      for (int i = 0; i < t.rows(); ++i) sum += t(i, cols[i]);
      best = std::max(best, sum);
    } while (std::next_permutation(cols.begin(), cols.end()));
    CHECK(max_weight_matching(w) == best);
  }
}

TEST_CASE("symmetry: rows group by direction, sign-blind, ignoring near-zero rows") {
  MatrixXd u(5, 2);
  u << 1, 0,     //
      -2, 0,     // the same direction, negated and scaled
      0, 1,      //
      0.01, 0,   // near zero (< 0.1 of the largest row)
      0.7, 0.7;  // its own direction
  const RowGroups g = group_rows(u, 0.99, 0.1);
  CHECK(g.groups == 3);
  CHECK(g.near_zero == 1);
  CHECK(g.label[0] == g.label[1]);
  CHECK(g.label[3] == -1);
  CHECK(g.label[2] != g.label[0]);
  CHECK(g.label[4] != g.label[0]);
  CHECK(g.label[4] != g.label[2]);
  CHECK(g.label[1] == 0);  // the largest row leads the first group
}

TEST_CASE("symmetry: a mixed true convolution U is banded and tied, a random U is not") {
  const int n = 9, s = 3, m = n - s + 1;
  Rng rng(4);
  const MatrixXd truth = tasks::lc_symmetry(MatrixXd::Ones(m, 1), n, s);
  const MatrixXd u = truth * randn(rng, s, s);  // any basis of the same span
  CHECK(band_mass(u, m, n, s) == doctest::Approx(1.0));
  CHECK(span_captured(u, truth) == doctest::Approx(1.0));
  const MatrixXd map = sharing_map(u, m, n);
  CHECK(map(0, 3) == 0.0);
  CHECK(map(2, 2) > 0.0);
  const RowGroups g = group_rows(u);
  CHECK(g.groups == s);
  CHECK(g.near_zero == m * n - m * s);
  std::vector<int> found, wanted;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i)
      if (on_band(i, j, s)) {
        found.push_back(g.label[i + j * m]);
        wanted.push_back(j - i);
      }
  CHECK(partition_distance(found, wanted) == 0);
  const MatrixXd r = randn(rng, m * n, s);
  CHECK(band_mass(r, m, n, s) < 0.6);
  CHECK(span_captured(r, truth) < 0.5);
}

TEST_CASE("symmetry: matrix statistics") {
  MatrixXd a(2, 3);
  a << 1, 0, -0.5, 1e-4, 0.02, 1e-9;
  const MatrixStats s = matrix_stats(a);
  CHECK(s.max_abs == 1);
  CHECK(s.sparsity[0] == doctest::Approx(2.0 / 6));  // 0 and 1e-9
  CHECK(s.sparsity[1] == doctest::Approx(3.0 / 6));  // and 1e-4
  CHECK(s.sparsity[2] == doctest::Approx(3.0 / 6));
  long total = s.histogram.below;
  for (long c : s.histogram.counts) total += c;
  CHECK(total == 6);
  CHECK(s.histogram.edges.back() == doctest::Approx(10.0));  // the decade above max |a| = 1
  CHECK(s.histogram.below == 2);                             // 0 and 1e-9 < 1e-6
  CHECK(effective_rank(Eigen::Vector3d(2, 2, 2)) == doctest::Approx(3.0));
  CHECK(effective_rank(Eigen::Vector3d(1, 0, 0)) == doctest::Approx(1.0));
  CHECK(s.numerical_rank == 2);
}

TEST_CASE("plot: PNG round trip keeps size and pixels, and the figure draws entries where its layout says") {
  plot::Image img(7, 5, plot::kWhite);
  img.set(0, 0, {255, 0, 0});
  img.set(6, 4, {1, 2, 3});
  img.fill(2, 1, 2, 2, {10, 200, 30});
  const plot::Image back = plot::decode_png(plot::encode_png(img));
  CHECK(back.width() == 7);
  CHECK(back.height() == 5);
  CHECK(back.bytes() == img.bytes());

  MatrixXd m = MatrixXd::Zero(3, 4);
  m(0, 0) = 2;
  m(1, 1) = -2;
  m(2, 0) = 1;
  plot::Panel p;
  p.title = "M";
  p.values = m;
  const plot::Figure fig = plot::compose_figure("a test figure", {"caption"}, {p});
  TempDir dir;
  const std::string path = dir.path + "/fig.png";
  plot::write_png(path, fig.image);
  const plot::Image got = plot::read_png(path);
  CHECK(got.width() == fig.image.width());
  CHECK(got.height() == fig.image.height());
  REQUIRE(fig.boxes.size() == 1);
  const plot::PanelBox& b = fig.boxes[0];
  CHECK(b.rows == 3);
  CHECK(b.cols == 4);
  CHECK(b.vmax == 2);
  auto centre = [&](int i, int j) { return got.at(b.x + j * b.cell + b.cell / 2, b.y + i * b.cell + b.cell / 2); };
  CHECK(centre(0, 0) == plot::diverging(1.0));   // +vmax: dark red
  CHECK(centre(1, 1) == plot::diverging(-1.0));  // -vmax: dark blue
  CHECK(centre(2, 3) == plot::diverging(0.0));   // zero: near-white
  CHECK(centre(2, 0) == plot::diverging(0.5));
  CHECK(plot::diverging(1.0) == plot::Rgb{103, 0, 31});
  CHECK(plot::diverging(-1.0) == plot::Rgb{5, 48, 97});
  // Written atomically: nothing else left in the directory.
  CHECK(std::system(("test \"$(ls -A '" + dir.path + "')\" = fig.png").c_str()) == 0);
}

TEST_CASE("symmetry: the report dispatches on shapes and says what it cannot analyse") {
  TempDir dir;
  const std::string path = dir.path + "/model.h5";
  const int n = 6, s = 2, m = n - s + 1;
  Rng rng(8);
  {
    nlohmann::json cfg = {{"model", {{"kind", "msr-fc"}, {"input_dim", n}, {"output_dim", m}}}, {"steps_done", 5}};
    io::Writer w(path, "model", "unit", cfg);
    w.attr("/", "model", std::string("msr-fc"));
    write_param(w, "U", tasks::lc_symmetry(MatrixXd::Ones(m, 1), n, s) * randn(rng, s, s), "symmetry");
    write_param(w, "v0", randn(rng, s, 1), "init");
    write_param(w, "A", permutation_matrix({1, 2, 3, 0}), "symmetry");
    MatrixXd lx = MatrixXd::Zero(3, 3), ly = lx, lz = lx;
    lx(1, 2) = -1, lx(2, 1) = 1;
    ly(0, 2) = 1, ly(2, 0) = -1;
    lz(0, 1) = -1, lz(1, 0) = 1;
    write_param(w, "L0", lx, "symmetry");
    write_param(w, "L1", ly, "symmetry");
    write_param(w, "L2", lz, "symmetry");
    const std::vector<double> cube(2 * 3 * 4, 1.0);
    w.write("/params/odd", {2, 3, 4}, cube.data());
    w.attr("/params/odd", "role", std::string("symmetry"));
    w.commit();
  }
  io::Reader f(path, "model");
  Truth truth;
  truth.name = "truth";
  truth.rank = 1;
  truth.kernel = s;
  truth.input_dim = n;
  truth.output_dim = m;
  truth.has_symmetry = true;
  truth.symmetry = tasks::lc_symmetry(MatrixXd::Ones(m, 1), n, s);
  InspectOptions opt;
  opt.order = 3;
  const SymmetryReport rep = inspect_symmetry(f, &truth, opt);
  CHECK(rep.kind == "msr-fc");
  CHECK(rep.steps == 5);
  REQUIRE(rep.matrices.size() == 5);  // A, L0, L1, L2, U (sorted by name)
  const auto find = [&](const std::string& name) {
    return *std::find_if(rep.matrices.begin(), rep.matrices.end(), [&](const MatrixReport& r) { return r.name == name; });
  };
  const MatrixReport& u = find("U");
  REQUIRE(u.sharing);
  CHECK(u.sharing->recovered);
  CHECK(u.sharing->partition_distance == 0);
  CHECK(u.sharing->band_mass == doctest::Approx(1.0));
  const MatrixReport& a = find("A");
  REQUIRE(a.square);
  CHECK(a.square->best_order == 4);
  CHECK(a.square->best_residual == 0.0);
  CHECK(a.square->order_residual > 0.5);
  CHECK(a.square->scores.circulant == doctest::Approx(1.0));
  REQUIRE(rep.generator_sets.size() == 1);
  CHECK(rep.generator_sets[0].members == std::vector<std::string>{"L0", "L1", "L2"});
  CHECK(rep.generator_sets[0].closure.max_residual < 1e-12);
  REQUIRE(rep.skipped.size() == 1);
  CHECK(rep.skipped[0].find("/params/odd: a 3-D array [2,3,4]") == 0);
  CHECK(rep.other_params == std::vector<std::string>{"v0 (init)"});
  const nlohmann::json j = report_json(rep);
  CHECK(j["matrices"].size() == 5);
  const std::string text = report_text(rep);
  CHECK(text.find("convolution recovered") != std::string::npos);
  CHECK(text.find("A^4 = I") != std::string::npos);
  CHECK(text.find("closed within their span") != std::string::npos);
  const plot::Figure fig = report_figure(rep);
  CHECK(fig.boxes.size() >= 10);
}
