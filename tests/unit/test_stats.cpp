// Statistics and hashing helpers.
#include "analysis/stats.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace symlearn;

TEST_CASE("stats: Student t quantiles match tables") {
  CHECK(analysis::t_quantile(0.975, 1) == doctest::Approx(12.706204736).epsilon(1e-8));
  CHECK(analysis::t_quantile(0.975, 10) == doctest::Approx(2.228138852).epsilon(1e-8));
  CHECK(analysis::t_quantile(0.975, 299) == doctest::Approx(1.967929669).epsilon(1e-8));
  CHECK(analysis::t_quantile(0.025, 10) == doctest::Approx(-2.228138852).epsilon(1e-8));
  CHECK(analysis::t_quantile(0.5, 7) == doctest::Approx(0.0));
}

TEST_CASE("stats: mean and 95% interval") {
  const auto r = analysis::mean_ci95({1, 2, 3, 4, 5});
  CHECK(r.mean == 3);
  CHECK(r.std == doctest::Approx(1.5811388301));
  CHECK(r.half_width == doctest::Approx(2.776445105 * 1.5811388301 / 2.2360679775).epsilon(1e-8));
  CHECK(r.n == 5);
}

TEST_CASE("sha256: FIPS 180-4 test vectors") {
  auto hex = [](const std::string& s) {
    Sha256 h;
    h.update(s.data(), s.size());
    return h.hex();
  };
  CHECK(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
