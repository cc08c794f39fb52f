#include "tasks/generator_pairs.hpp"

#include "util/error.hpp"
#include "util/rng.hpp"

#include <cmath>
#include <vector>

namespace symlearn::tasks {

namespace {

constexpr double kPi = 3.14159265358979323846;

// The periodic sinc kernel of period n and its derivative.
double sinc_kernel(int n, double s) {
  const double d = std::sin(kPi * s / n);
  if (std::abs(d) < 1e-14) return 1.0;  // s a multiple of n: the limit is 1 for either parity
  return n % 2 ? std::sin(kPi * s) / (n * d) : std::sin(kPi * s) / (n * std::tan(kPi * s / n));
}

void check_size(int n, int most) {
  if (n < 2 || n > most) throw InputError("the grid size must be in [2, " + std::to_string(most) + "]");
}

}  // namespace

Eigen::MatrixXd spectral_derivative(int n) {
  check_size(n, 4096);
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const int k = i - j;
      if (k == 0) continue;
      const double sign = (k % 2 == 0) ? 1.0 : -1.0;
      d(i, j) = n % 2 ? kPi * sign / (n * std::sin(kPi * k / n)) : kPi * sign / (n * std::tan(kPi * k / n));
    }
  return d;
}

Eigen::MatrixXd shift_operator(int n, double pixels) {
  check_size(n, 4096);
  Eigen::MatrixXd g(n, n);
  for (int p = 0; p < n; ++p)
    for (int q = 0; q < n; ++q) g(p, q) = sinc_kernel(n, p - pixels - q);
  return g;
}

Eigen::MatrixXd shift_generator(int n) { return -spectral_derivative(n); }

Eigen::MatrixXd rotation_operator(int n, double degrees) {
  check_size(n, 64);
  const double t = degrees * kPi / 180, ct = std::cos(t), st = std::sin(t), c = (n - 1) / 2.0;
  Eigen::MatrixXd g(n * n, n * n);
  std::vector<double> ky(n), kx(n);
  for (int r = 0; r < n; ++r)
    for (int col = 0; col < n; ++col) {
      // The point that turns onto pixel (r, col) (tasks::rotate_image's convention).
      const double dx = col - c, dy = r - c;
      const double sx = c + ct * dx - st * dy, sy = c + st * dx + ct * dy;
      for (int i = 0; i < n; ++i) {
        ky[std::size_t(i)] = sinc_kernel(n, sy - i);
        kx[std::size_t(i)] = sinc_kernel(n, sx - i);
      }
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) g(r * n + col, i * n + j) = ky[std::size_t(i)] * kx[std::size_t(j)];
    }
  return g;
}

Eigen::MatrixXd rotation_generator(int n) {
  check_size(n, 64);
  const Eigen::MatrixXd d = spectral_derivative(n);
  const double c = (n - 1) / 2.0;
  // d sx / dt = -dy, d sy / dt = dx at t = 0.
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(n * n, n * n);
  for (int r = 0; r < n; ++r)
    for (int col = 0; col < n; ++col) {
      const int p = r * n + col;
      const double dx = col - c, dy = r - c;
      for (int i = 0; i < n; ++i) l(p, i * n + col) += dx * d(r, i);
      for (int j = 0; j < n; ++j) l(p, r * n + j) -= dy * d(col, j);
    }
  return l;
}

void GeneratorPairsSpec::validate() const {
  if (transform != "rotation" && transform != "shift")
    throw InputError("--transform must be rotation or shift, not '" + transform + "'");
  if (signal != "noise" && signal != "smooth") throw InputError("--signal must be noise or smooth, not '" + signal + "'");
  const int most = transform == "rotation" ? 64 : 4096;
  if (size < 3 || size > most) throw InputError("--size must be in [3, " + std::to_string(most) + "] for " + transform);
  if (!std::isfinite(amount) || !std::isfinite(range_lo) || !std::isfinite(range_hi))
    throw InputError("--amount and --range must be finite");
  if (range_hi < range_lo) throw InputError("--range LO,HI needs LO <= HI");
  if (pairs < 1 || pairs > 10'000'000) throw InputError("--pairs must be in [1, 10000000]");
  if (test_pairs < 1 || test_pairs > 10'000'000) throw InputError("--test-pairs must be in [1, 10000000]");
  if (double(pairs + test_pairs) * dim() > 4e8) throw InputError("--pairs x dimension is too large (over 4e8 numbers)");
  if (!(noise >= 0) || !std::isfinite(noise)) throw InputError("--noise must be >= 0");
}

nlohmann::json GeneratorPairsSpec::config() const {
  return {{"kind", "generator-pairs"}, {"transform", transform},   {"size", size},
          {"signal", signal},          {"amount", amount},         {"range", {range_lo, range_hi}},
          {"pairs", pairs},            {"test_pairs", test_pairs}, {"noise", noise},
          {"seed", seed}};
}

namespace {

// One random signal (n or n^2 values): white noise, or a band-limited one
// (frequencies |k| <= n/4 on every axis, at least 1), scaled to unit RMS.
Eigen::VectorXd draw_signal(const GeneratorPairsSpec& s, Rng& rng) {
  const int n = s.size, d = s.dim();
  Eigen::VectorXd x(d);
  if (s.signal == "noise") {
    for (int k = 0; k < d; ++k) x(k) = rng.normal();
    return x;
  }
  const int kmax = std::max(1, n / 4);
  x.setZero();
  const bool two = s.transform == "rotation";
  for (int ky = two ? -kmax : 0; ky <= (two ? kmax : 0); ++ky)
    for (int kx = -kmax; kx <= kmax; ++kx) {
      const double a = rng.normal(), b = rng.normal();
      for (int p = 0; p < d; ++p) {
        const int i = two ? p / n : 0, j = two ? p % n : p;
        const double ph = 2 * kPi * (double(ky) * i + double(kx) * j) / n;
        x(p) += a * std::cos(ph) + b * std::sin(ph);
      }
    }
  return x / std::sqrt(x.squaredNorm() / d);
}

void write_split(const GeneratorPairsSpec& s, io::Writer& out, const std::string& g, long n, std::uint64_t stream,
                 std::vector<double>& amounts) {
  const int d = s.dim();
  std::vector<double> xs(std::size_t(n) * d), ys(std::size_t(n) * d);
  amounts.assign(std::size_t(n), s.amount);
  Eigen::MatrixXd fixed;
  if (!s.ranged()) fixed = s.transform == "rotation" ? rotation_operator(s.size, s.amount) : shift_operator(s.size, s.amount);
  for (long i = 0; i < n; ++i) {
    Rng rng(s.seed, stream + std::uint64_t(i));  // pair i depends only on (seed, split, i)
    const Eigen::VectorXd x = draw_signal(s, rng);
    Eigen::VectorXd y;
    if (s.ranged()) {
      const double t = rng.uniform(s.range_lo, s.range_hi);
      amounts[std::size_t(i)] = t;
      y = (s.transform == "rotation" ? rotation_operator(s.size, t) : shift_operator(s.size, t)) * x;
    } else {
      y = fixed * x;
    }
    for (int k = 0; k < d; ++k) {
      xs[std::size_t(i) * d + k] = x(k);
      ys[std::size_t(i) * d + k] = y(k) + (s.noise > 0 ? s.noise * rng.normal() : 0.0);
    }
  }
  out.group(g);
  out.write(g + "/x", {1, std::uint64_t(n), std::uint64_t(d)}, xs.data());
  out.write(g + "/y", {1, std::uint64_t(n), std::uint64_t(d)}, ys.data());
}

}  // namespace

void write_generator_pairs(const GeneratorPairsSpec& s, io::Writer& out) {
  s.validate();
  const int d = s.dim();
  out.attr("/", "kind", std::string("generator-pairs"));
  out.attr("/", "transform", s.transform);
  out.attr("/", "size", std::int64_t(s.size));
  out.attr("/", "dim", std::int64_t(d));
  std::vector<double> tr, te;
  write_split(s, out, "/train", s.pairs, 0x1000000, tr);
  write_split(s, out, "/test", s.test_pairs, 0x9000000, te);
  const Eigen::MatrixXd l = s.transform == "rotation" ? rotation_generator(s.size) : shift_generator(s.size);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> lr = l;
  out.group("/truth");
  out.write("/truth/generator", {std::uint64_t(d), std::uint64_t(d)}, lr.data());
  out.attr("/truth/generator", "description",
           std::string(s.transform == "rotation"
                           ? "d/dt at t = 0 of periodic-sinc (Shannon-Whittaker) rotation, per radian, row-major pixels"
                           : "d/dt at t = 0 of periodic-sinc (Shannon-Whittaker) shift, per pixel"));
  out.write("/truth/train_amount", {tr.size()}, tr.data());
  out.write("/truth/test_amount", {te.size()}, te.data());
  out.attr("/truth/train_amount", "description",
           std::string(s.transform == "rotation" ? "angle of each pair, degrees" : "shift of each pair, pixels"));
}

GeneratorPairs load_generator_pairs(const io::Reader& f, const std::string& split) {
  const std::string kind = f.has_attr("/", "kind") ? f.attr_string("/", "kind") : "";
  if (kind != "generator-pairs")
    throw InputError(f.name() + ": holds " + (kind.empty() ? std::string("unknown") : kind) +
                     " tasks, not transformation pairs (gen-tasks generator-pairs)");
  GeneratorPairs p;
  p.dim = static_cast<int>(f.attr_int("/", "dim"));
  p.size = static_cast<int>(f.attr_int("/", "size"));
  p.transform = f.attr_string("/", "transform");
  if (p.transform != "rotation" && p.transform != "shift") throw InputError(f.name() + ": unknown transform " + p.transform);
  const long want = p.transform == "rotation" ? long(p.size) * p.size : p.size;
  if (p.size < 2 || p.size > 4096 || p.dim != want || p.dim > 4096)
    throw InputError(f.name() + ": its size and dim attributes do not fit a " + p.transform);
  if (!f.has(split + "/x") || !f.has(split + "/y")) throw InputError(f.name() + ": has no " + split + "/x and " + split + "/y");
  const io::Array x = f.read(split + "/x", {1, -1, p.dim});
  const io::Array y = f.read(split + "/y", {1, -1, p.dim});
  const long n = static_cast<long>(x.shape[1]);
  if (long(y.shape[1]) != n) throw InputError(f.name() + ": " + split + "/x and " + split + "/y hold different numbers of pairs");
  if (n < 1) throw InputError(f.name() + ": " + split + " holds no pairs");
  p.x = Eigen::Map<const Eigen::MatrixXd>(x.data.data(), p.dim, n);  // row-major [n, d] is column-major [d, n]
  p.y = Eigen::Map<const Eigen::MatrixXd>(y.data.data(), p.dim, n);
  if (!p.x.allFinite() || !p.y.allFinite()) throw InputError(f.name() + ": " + split + " holds NaN or infinite values");
  return p;
}

Eigen::MatrixXd load_true_generator(const io::Reader& f) {
  const long d = f.has_attr("/", "dim") ? f.attr_int("/", "dim") : 0;
  if (!f.has("/truth/generator") || d < 1 || d > 4096)
    throw InputError(f.name() + ": has no /truth/generator (gen-tasks generator-pairs writes one)");
  const io::Array g = f.read("/truth/generator", {d, d});
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(g.data.data(), d, d);
  if (!m.allFinite()) throw InputError(f.name() + ": /truth/generator holds NaN or infinite values");
  return m;
}

}  // namespace symlearn::tasks
