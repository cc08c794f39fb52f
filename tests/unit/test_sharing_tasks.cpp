// The sum-of-numbers and gaussian-sharing generators (Yeh et al. 2022): the
// data against their definitions, the true sharing, determinism, validation.
#include "io/h5.hpp"
#include "tasks/sharing_tasks.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

using namespace symlearn;

namespace {

template <class Spec, class WriteFn>
std::string generate(const testutil::TempDir& dir, const std::string& name, const Spec& spec, WriteFn write) {
  const std::string path = dir.file(name);
  io::Writer w(path, "tasks", "unit", spec.config());
  write(spec, w);
  w.commit();
  return path;
}

std::string sums(const testutil::TempDir& dir, const std::string& name, const tasks::SumOfNumbersSpec& spec) {
  return generate(dir, name, spec, tasks::write_sum_of_numbers);
}

std::string gauss(const testutil::TempDir& dir, const std::string& name, const tasks::GaussianSharingSpec& spec) {
  return generate(dir, name, spec, tasks::write_gaussian_sharing);
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class Spec>
std::string error_of(const Spec& s) {
  try {
    s.validate();
  } catch (const InputError& e) {
    return e.what();
  }
  return "valid";
}

// Every row of a [n, n] matrix is one-hot; returns the column of each row's 1.
std::vector<int> one_hot_columns(const io::Array& a) {
  const auto n = static_cast<int>(a.shape[0]);
  std::vector<int> col(n, -1);
  for (int r = 0; r < n; ++r) {
    int ones = 0;
    for (int c = 0; c < static_cast<int>(a.shape[1]); ++c) {
      const double v = a.data[r * a.shape[1] + c];
      CHECK((v == 0.0 || v == 1.0));
      if (v == 1.0) {
        ++ones;
        col[r] = c;
      }
    }
    CHECK(ones == 1);
  }
  return col;
}

}  // namespace

TEST_CASE("sum-of-numbers: labels are the weighted sum, tokens are digits spelled out") {
  testutil::TempDir dir;
  for (int rank : {1, 2}) {
    CAPTURE(rank);
    tasks::SumOfNumbersSpec spec;
    spec.rank = rank;
    spec.length = 7;
    spec.train = 300;
    spec.val = 20;
    spec.hyper = 30;
    spec.test = 2000;
    spec.noise = 0.25;
    spec.seed = 5;
    io::Reader r(sums(dir, "s" + std::to_string(rank) + ".h5", spec), "tasks");
    CHECK(r.attr_string("/", "kind") == "sum-of-numbers");
    CHECK(r.config() == spec.config());
    const int L = spec.length;

    const auto w = r.read("/truth/weights", {L});
    for (int p = 0; p < L; ++p) CHECK(w.data[p] == (rank == 1 || p % 2 == 1 ? 1.0 : -1.0));
    const auto cols = one_hot_columns(r.read("/truth/sharing", {L, L}));
    for (int p = 0; p < L; ++p) CHECK(cols[p] == (rank == 1 ? 0 : p % 2));

    const struct {
      const char* name;
      long n;
      double noise;
    } splits[] = {{"/train", spec.train, spec.noise},
                  {"/val", spec.val, spec.noise},
                  {"/hyper", spec.hyper, spec.noise},
                  {"/test", spec.test, 0.0}};
    for (const auto& s : splits) {
      CAPTURE(s.name);
      const std::string g = s.name;
      io::Shape shape;
      const auto x = r.read_ints(g + "/x", &shape);
      CHECK(shape == io::Shape{1, std::uint64_t(s.n), std::uint64_t(L)});
      const auto y = r.read(g + "/y", {1, s.n, 1});
      CHECK(r.shape(g + "/words") == io::Shape{1, std::uint64_t(s.n), std::uint64_t(L)});
      const auto words = r.read_strings(g + "/words");
      REQUIRE(words.size() == x.size());
      std::set<std::int64_t> seen;
      bool digits = true, spelled = true;
      double worst = 0.0, widest = 0.0;
      for (long i = 0; i < s.n; ++i) {
        double acc = 0.0;
        for (int p = 0; p < L; ++p) {
          const std::int64_t t = x[i * L + p];
          digits = digits && t >= 1 && t <= 9;
          if (t >= 1 && t <= 9) spelled = spelled && words[i * L + p] == tasks::digit_word(t);
          seen.insert(t);
          acc += w.data[p] * static_cast<double>(t);
        }
        const double e = std::abs(y.data[i] - acc);
        worst = std::max(worst, e);
        widest = std::max(widest, e);
      }
      CHECK(digits);
      CHECK(spelled);
      if (s.n * L >= 2000) CHECK(seen.size() == 9);  // every digit appears
      if (s.noise == 0.0) {
        CHECK(worst == 0.0);  // /test: exact
      } else {
        CHECK(worst <= s.noise);
        if (s.n >= 300) CHECK(widest > 0.5 * s.noise);  // the noise is really there
      }
    }
  }
  CHECK(tasks::digit_word(1) == "one");
  CHECK(tasks::digit_word(9) == "nine");
}

TEST_CASE("sum-of-numbers: rank 2 with a custom w-scale, and no noise") {
  tasks::SumOfNumbersSpec spec;
  spec.rank = 2;
  spec.length = 5;
  spec.w_scale = 2.5;
  spec.noise = 0.0;
  const Eigen::VectorXd w = tasks::sum_of_numbers_weights(spec);
  CHECK(w.size() == 5);
  CHECK(w(0) == 2.5);
  CHECK(w(1) == 1.0);
  CHECK(w(4) == 2.5);
  const Eigen::MatrixXd a = tasks::sum_of_numbers_sharing(spec);
  CHECK(a.rows() == 5);
  CHECK(a.cols() == 5);
  CHECK(a.rightCols(3).isZero());
  CHECK(a.col(0).sum() == 3);
  CHECK(a.col(1).sum() == 2);
  spec.train = spec.val = spec.hyper = 50;
  spec.test = 50;
  testutil::TempDir dir;
  io::Reader r(sums(dir, "s.h5", spec), "tasks");
  const auto x = r.read_ints("/train/x");
  const auto y = r.read("/train/y");
  for (int i = 0; i < 50; ++i) {
    double acc = 0.0;
    for (int p = 0; p < 5; ++p) acc += w(p) * static_cast<double>(x[i * 5 + p]);
    CHECK(y.data[i] == acc);  // noise 0: exact on every split
  }
}

TEST_CASE("sum-of-numbers: same seed, same bytes; splits are independent streams") {
  testutil::TempDir dir;
  tasks::SumOfNumbersSpec spec;
  spec.rank = 2;
  spec.test = 500;
  spec.seed = 3;
  const auto a = sums(dir, "a.h5", spec), b = sums(dir, "b.h5", spec);
  CHECK(bytes_of(a) == bytes_of(b));
  // Another /test size leaves /train, /val and /hyper unchanged.
  auto bigger = spec;
  bigger.test = 700;
  bigger.val = 200;
  io::Reader ra(a, "tasks"), rb(sums(dir, "c.h5", bigger), "tasks");
  CHECK(ra.read_ints("/train/x") == rb.read_ints("/train/x"));
  CHECK(ra.read("/train/y").data == rb.read("/train/y").data);
  CHECK(ra.read("/hyper/y").data == rb.read("/hyper/y").data);
  const auto xa = ra.read_ints("/test/x"), xb = rb.read_ints("/test/x");
  CHECK(std::equal(xa.begin(), xa.end(), xb.begin()));  // a prefix of the larger /test
  const auto va = ra.read_ints("/val/x"), vb = rb.read_ints("/val/x");
  CHECK(std::equal(va.begin(), va.end(), vb.begin()));
  // Another seed: other data.
  auto other = spec;
  other.seed = 4;
  io::Reader ro(sums(dir, "d.h5", other), "tasks");
  CHECK(ra.read_ints("/train/x") != ro.read_ints("/train/x"));
  // The splits differ from each other.
  const auto tr = ra.read_ints("/train/x"), te = ra.read_ints("/test/x");
  CHECK_FALSE(std::equal(tr.begin(), tr.end(), te.begin()));
}

TEST_CASE("gaussian-sharing: every group is used and the sample means estimate the true means") {
  testutil::TempDir dir;
  for (int rank : {1, 3, 7}) {
    CAPTURE(rank);
    tasks::GaussianSharingSpec spec;
    spec.dim = 7;
    spec.rank = rank;
    spec.sigma = 2.0;
    spec.test = 20000;
    spec.seed = 11;
    io::Reader r(gauss(dir, "g" + std::to_string(rank) + ".h5", spec), "tasks");
    CHECK(r.attr_string("/", "kind") == "gaussian-sharing");
    CHECK(r.config() == spec.config());
    const int K = spec.dim;
    const auto groups = one_hot_columns(r.read("/truth/sharing", {K, K}));
    CHECK(groups == tasks::gaussian_groups(spec));
    std::set<int> used(groups.begin(), groups.end());
    CHECK(used.size() == std::size_t(rank));
    CHECK(*used.rbegin() == rank - 1);
    const auto psi = r.read("/truth/psi", {K});
    for (int j = 0; j < K; ++j) CHECK(psi.data[j] == (j < rank ? 3.0 * (j + 1) : 0.0));
    const auto means = r.read("/truth/means", {K});
    for (int k = 0; k < K; ++k) CHECK(means.data[k] == psi.data[groups[k]]);
    CHECK(r.read("/train/x", {1, 20, K}).size() == std::uint64_t(20 * K));
    CHECK(r.read("/val/x", {1, 20, K}).size() == std::uint64_t(20 * K));
    CHECK_FALSE(r.has("/train/y"));
    const auto x = r.read("/test/x", {1, spec.test, K});
    for (int k = 0; k < K; ++k) {
      double sum = 0.0, sq = 0.0;
      for (long i = 0; i < spec.test; ++i) {
        const double v = x.data[i * K + k];
        sum += v;
        sq += v * v;
      }
      const double mean = sum / spec.test, var = sq / spec.test - mean * mean;
      // 5 standard errors: sigma / sqrt(N) = 0.014.
      CHECK(std::abs(mean - means.data[k]) < 5 * spec.sigma / std::sqrt(double(spec.test)));
      CHECK(std::sqrt(var) == doctest::Approx(spec.sigma).epsilon(0.03));
    }
  }
}

TEST_CASE("gaussian-sharing: groups are random but deterministic, and every seed uses every group") {
  tasks::GaussianSharingSpec spec;
  spec.dim = 12;
  spec.rank = 4;
  std::set<std::vector<int>> distinct;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    spec.seed = seed;
    const auto g = tasks::gaussian_groups(spec);
    CHECK(g == tasks::gaussian_groups(spec));
    CHECK(std::set<int>(g.begin(), g.end()).size() == 4);
    distinct.insert(g);
  }
  CHECK(distinct.size() > 40);
  spec.rank = spec.dim;  // full rank: a permutation of the groups
  spec.seed = 1;
  const auto g = tasks::gaussian_groups(spec);
  CHECK(std::set<int>(g.begin(), g.end()).size() == 12);
}

TEST_CASE("gaussian-sharing: same seed, same bytes; another seed, other data") {
  testutil::TempDir dir;
  tasks::GaussianSharingSpec spec;
  spec.seed = 8;
  const auto a = gauss(dir, "a.h5", spec), b = gauss(dir, "b.h5", spec);
  CHECK(bytes_of(a) == bytes_of(b));
  auto other = spec;
  other.seed = 9;
  io::Reader ra(a, "tasks"), ro(gauss(dir, "c.h5", other), "tasks");
  CHECK(ra.read("/train/x").data != ro.read("/train/x").data);
  // A larger /test leaves /train and /val unchanged.
  auto bigger = spec;
  bigger.test = 3000;
  io::Reader rb(gauss(dir, "d.h5", bigger), "tasks");
  CHECK(ra.read("/train/x").data == rb.read("/train/x").data);
  CHECK(ra.read("/val/x").data == rb.read("/val/x").data);
  CHECK(ra.read("/truth/sharing").data == rb.read("/truth/sharing").data);
}

TEST_CASE("sum-of-numbers and gaussian-sharing: options are validated with the option's name and range") {
  tasks::SumOfNumbersSpec s;
  CHECK(error_of(s) == "valid");
  s.length = 0;
  CHECK(error_of(s) == "--length must be in [1, 4096] (got 0)");
  s = {};
  s.rank = 3;
  CHECK(error_of(s) == "--rank must be 1 or 2 (got 3)");
  s = {};
  s.rank = 2;
  s.length = 1;
  CHECK(error_of(s).find("--rank 2 needs --length at least 2") == 0);
  s = {};
  s.noise = -0.5;
  CHECK(error_of(s) == "--noise must be a finite number >= 0 (got -0.5)");
  s = {};
  s.noise = std::nan("");
  CHECK(error_of(s).find("--noise must be a finite number >= 0") == 0);
  s = {};
  s.w_scale = INFINITY;
  CHECK(error_of(s).find("--w-scale must be a finite number") == 0);
  s = {};
  s.hyper = 0;
  CHECK(error_of(s) == "--hyper must be at least 1 (got 0)");
  s = {};
  s.test = 2000000000;
  CHECK(error_of(s).find("--test 2000000000 x 10 values is too large") == 0);
  s = {};
  s.noise = 0.0;
  s.length = 1;
  CHECK(error_of(s) == "valid");

  tasks::GaussianSharingSpec g;
  CHECK(error_of(g) == "valid");
  g.rank = 11;
  CHECK(error_of(g) == "--rank must be in [1, --dim 10] (got 11)");
  g.rank = 0;
  CHECK(error_of(g) == "--rank must be in [1, --dim 10] (got 0)");
  g = {};
  g.dim = 0;
  CHECK(error_of(g).find("--dim must be in [1, 4096]") == 0);
  g = {};
  g.sigma = -1;
  CHECK(error_of(g) == "--sigma must be a finite number >= 0 (got -1)");
  g.sigma = INFINITY;
  CHECK(error_of(g).find("--sigma must be a finite number >= 0") == 0);
  g = {};
  g.train = 0;
  CHECK(error_of(g) == "--train must be at least 1 (got 0)");
  g = {};
  g.val = -3;
  CHECK(error_of(g) == "--val must be at least 1 (got -3)");
  g = {};
  g.sigma = 0.0;
  g.dim = 1;
  g.rank = 1;
  CHECK(error_of(g) == "valid");

  // The writers validate too: nothing half-written from a bad spec.
  testutil::TempDir dir;
  s = {};
  s.length = -1;
  io::Writer w(dir.file("bad.h5"), "tasks", "unit", nlohmann::json::object());
  CHECK_THROWS_AS(tasks::write_sum_of_numbers(s, w), InputError);
}
