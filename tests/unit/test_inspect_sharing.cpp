// inspect-symmetry on learned-sharing model files (model sharing, ...):
// the groups of A, how decided its rows are, and the comparison with a
// sum-of-numbers / gaussian-sharing truth (/truth/sharing).
#include "analysis/symmetry_report.hpp"
#include "io/h5.hpp"
#include "methods/registry.hpp"
#include "methods/sharing/model_io.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <string>
#include <vector>

using namespace symlearn;
using namespace symlearn::analysis;

namespace {
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void write_matrix(io::Writer& w, const std::string& path, const MatrixXd& m) {
  const RowMat r = m;
  w.write(path, {std::uint64_t(m.rows()), std::uint64_t(m.cols())}, r.data());
}

// A sharing model file: A as /params/sharing (role symmetry), logits (hyper), psi (weights).
std::string write_model(const std::string& dir, const std::string& name, const std::string& kind, const MatrixXd& a) {
  const std::string path = dir + "/" + name;
  io::Writer w(path, "model", "unit", nlohmann::json{{"model", {{"kind", kind}, {"length", a.rows()}}}});
  w.attr("/", "model", kind);
  write_matrix(w, "/params/sharing", a);
  w.attr("/params/sharing", "role", std::string("symmetry"));
  write_matrix(w, "/params/logits", a.array().log().matrix());
  w.attr("/params/logits", "role", std::string("hyper"));
  write_matrix(w, "/params/psi", MatrixXd::Ones(a.rows(), 1));
  w.attr("/params/psi", "role", std::string("weights"));
  w.commit();
  return path;
}

// A tasks file holding only /truth/sharing: position p in group column[p].
std::string write_tasks(const std::string& dir, const std::string& name, const std::vector<int>& column) {
  const std::string path = dir + "/" + name;
  const int n = static_cast<int>(column.size());
  io::Writer w(path, "tasks", "unit", nlohmann::json{{"kind", "gaussian-sharing"}, {"dim", n}});
  w.attr("/", "kind", std::string("gaussian-sharing"));
  MatrixXd a = MatrixXd::Zero(n, n);
  for (int p = 0; p < n; ++p) a(p, column[p]) = 1;
  write_matrix(w, "/truth/sharing", a);
  w.commit();
  return path;
}

// Soft A: row p puts `top` on column[p], the rest spread evenly.
MatrixXd soft(const std::vector<int>& column, double top) {
  const int n = static_cast<int>(column.size());
  MatrixXd a = MatrixXd::Constant(n, n, (1 - top) / (n - 1));
  for (int p = 0; p < n; ++p) a(p, column[p]) = top;
  return a;
}

// As the sharing family asks for it: /params/sharing is a learned sharing.
SymmetryReport inspect(const std::string& model, const std::string& tasks) {
  io::Reader m(model, "model");
  ReportHints hints;
  hints.sharing_matrix = true;
  if (tasks.empty()) return inspect_symmetry(m, nullptr, {}, hints);
  io::Reader t(tasks, "tasks");
  const Truth truth = load_truth(t);
  return inspect_symmetry(m, &truth, {}, hints);
}
}  // namespace

TEST_CASE("inspect sharing: a tasks file's /truth/sharing loads as the true groups") {
  testutil::TempDir dir;
  io::Reader t(write_tasks(dir.path, "t.h5", {0, 1, 0, 1, 0}), "tasks");
  const Truth truth = load_truth(t);
  CHECK(truth.has_sharing);
  CHECK_FALSE(truth.has_symmetry);
  CHECK(truth.kind == "gaussian-sharing");
  CHECK(truth.length == 5);
  CHECK(truth.sharing_groups == std::vector<int>{0, 1, 0, 1, 0});
  CHECK(truth.note.empty());
}

TEST_CASE("inspect sharing: groups, decidedness, recovered and relabelled") {
  testutil::TempDir dir;
  // Learned: positions 0 2 4 on column 3, 1 3 on column 0 — the truth's
  // groups {0 2 4} {1 3} under other labels.
  const std::vector<int> learned = {3, 0, 3, 0, 3};
  const std::string model = write_model(dir.path, "m.h5", "sharing", soft(learned, 0.8));
  const std::string tasks = write_tasks(dir.path, "t.h5", {0, 1, 0, 1, 0});

  const SymmetryReport plain = inspect(model, "");
  REQUIRE(plain.matrices.size() == 1);
  REQUIRE(plain.matrices[0].sharing_groups);
  const SharingGroupsReport& g0 = *plain.matrices[0].sharing_groups;
  CHECK_FALSE(g0.compared);
  CHECK(g0.column == learned);
  CHECK(g0.groups == std::vector<std::vector<int>>{{0, 2, 4}, {1, 3}});
  CHECK(g0.group_column == std::vector<int>{3, 0});
  CHECK(g0.row_max_min == doctest::Approx(0.8));
  CHECK(g0.row_max_mean == doctest::Approx(0.8));
  CHECK(sharing_verdict_line(g0).empty());
  CHECK(plain.other_params == std::vector<std::string>{"logits (hyper)", "psi (weights)"});

  const SymmetryReport rep = inspect(model, tasks);
  REQUIRE(rep.matrices.size() == 1);
  const SharingGroupsReport& g = *rep.matrices[0].sharing_groups;
  CHECK(g.compared);
  CHECK(g.partition_distance == 0);
  CHECK(g.recovered);
  CHECK(g.true_groups == std::vector<std::vector<int>>{{0, 2, 4}, {1, 3}});
  CHECK(sharing_verdict_line(g).find("sharing recovered: partition distance 0") == 0);
  const std::string text = report_text(rep);
  CHECK(text.find("group 0: positions 0 2 4") != std::string::npos);
  CHECK(text.find("group 1: positions 1 3") != std::string::npos);
  CHECK(text.find("sharing recovered: partition distance 0") != std::string::npos);
  CHECK(text.find("truth not compared") == std::string::npos);
  const nlohmann::json j = report_json(rep);
  const nlohmann::json& sg = j["matrices"][0]["sharing_groups"];
  CHECK(sg["count"] == 2);
  CHECK(sg["groups"] == nlohmann::json::parse("[[0,2,4],[1,3]]"));
  CHECK(sg["truth"]["partition_distance"] == 0);
  CHECK(sg["truth"]["recovered"] == true);
  CHECK(sg["row_max_min"].get<double>() == doctest::Approx(0.8));
  // The figure: A and the true A_gt, the groups in the caption.
  const plot::Figure fig = report_figure(rep);
  const nlohmann::json layout = fig.layout();
  CHECK(layout["panels"].size() >= 2);
  CHECK(layout.dump().find("truth: A_gt [5 x 5]") != std::string::npos);
}

TEST_CASE("inspect sharing: not recovered, undecided rows and a mismatched truth") {
  testutil::TempDir dir;
  const std::string tasks = write_tasks(dir.path, "t.h5", {0, 1, 0, 1});
  // All positions share one column (Deep Sets): one of the two groups must go.
  const std::string all = write_model(dir.path, "all.h5", "sharing-all", soft({0, 0, 0, 0}, 0.97));
  const SymmetryReport rep = inspect(all, tasks);
  const SharingGroupsReport& g = *rep.matrices[0].sharing_groups;
  CHECK(g.groups.size() == 1);
  CHECK(g.partition_distance == 2);
  CHECK_FALSE(g.recovered);
  CHECK(sharing_verdict_line(g).find("sharing not recovered: partition distance 2") == 0);
  // Every position its own group (no sharing): 2 positions too many.
  const std::string none = write_model(dir.path, "none.h5", "sharing-none", soft({0, 1, 2, 3}, 0.5));
  const SymmetryReport none_rep = inspect(none, tasks);  // the report must outlive the reference
  const SharingGroupsReport& h = *none_rep.matrices[0].sharing_groups;
  CHECK(h.groups.size() == 4);
  CHECK(h.partition_distance == 2);
  // Rows of different decidedness: min and mean of the row max.
  MatrixXd a = soft({0, 1, 0, 1}, 0.9);
  a.row(2) = Eigen::RowVector4d(0.4, 0.3, 0.2, 0.1);
  const SymmetryReport mixed = inspect(write_model(dir.path, "mixed.h5", "sharing", a), tasks);
  const SharingGroupsReport& d = *mixed.matrices[0].sharing_groups;
  CHECK(d.row_max_min == doctest::Approx(0.4));
  CHECK(d.row_max_mean == doctest::Approx((0.9 * 3 + 0.4) / 4));
  CHECK(d.recovered);
  // A truth of another length: one clear error naming both shapes.
  const std::string longer = write_tasks(dir.path, "t6.h5", {0, 1, 0, 1, 0, 1});
  try {
    inspect(all, longer);
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("t6.h5: /truth/sharing is [6 x 6]") != std::string::npos);
    CHECK(what.find("has /params/sharing [4 x 4]") != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }
}

TEST_CASE("inspect sharing: the registry gives groups to sharing models only") {
  testutil::TempDir dir;
  const std::string tasks = write_tasks(dir.path, "t.h5", {0, 1, 0});
  methods::InspectRequest q;
  q.truth_path = tasks;
  // The same 3 x 3 matrix named `sharing`, in an msr-fc and in a sharing model file.
  // An msr-fc file is loaded as one before any report: this one, a bare matrix, is refused whole.
  const std::string msr = write_model(dir.path, "m.h5", "msr-fc", soft({0, 1, 0}, 0.9));
  io::Reader m(msr, "model");
  CHECK_THROWS_AS(methods::family_of(m).inspect(m, q), InputError);

  // A real sharing model file (a gaussian-sharing fit) around the same matrix.
  sharing::SharingModel model;
  model.arch.kind = "sharing";
  model.arch.task = "gaussian-sharing";
  model.arch.length = 3;
  model.sharing = soft({0, 1, 0}, 0.9);
  model.logits = model.sharing.array().log().matrix();
  model.weights = {MatrixXd::Ones(3, 1)};
  const std::string learned = dir.path + "/s.h5";
  sharing::save_sharing_model(learned, "unit", model, {});
  io::Reader s(learned, "model");
  const methods::Inspection b = methods::family_of(s).inspect(s, q);
  REQUIRE(b.json["matrices"].size() == 1);
  CHECK(b.json["matrices"][0]["sharing_groups"]["truth"]["partition_distance"] == 0);
}
