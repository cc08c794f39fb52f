// inspect-symmetry's report: reads a model file's symmetry parameters (role
// `symmetry`), dispatches on their shape and the model kind, and compares
// weight-sharing matrices with a tasks file's ground truth. The report
// renders as aligned text, as JSON (every number), as a figure and as
// terminal heatmaps.
//
// What is analysed:
// - every symmetry parameter: norms, sparsity, |u| histogram, singular values;
// - a weight-sharing matrix U with m*n rows (msr-fc's U, msr-kron's U1 ⊗ U2):
//   the m x n map of max_k |U[(i,j),k]|, its rows grouped by direction, and
//   with a truth file the band mass, the span of U_true captured and, for
//   rank-1 (convolution) data, the partition distance to the true tying;
// - a square matrix: symmetric/skew shares, Toeplitz and circulant scores,
//   invertibility and the cyclic order p with A^p = I;
// - generators (params L0, L1, ... of one square shape, or a 3-D stack):
//   closure of their commutators within their span;
// - the sharing matrix A of a learned-sharing model (/params/sharing, L x L,
//   row-stochastic; the family says so in ReportHints): the groups of positions (row argmax), how decided the
//   rows are and, with a sum-of-numbers or gaussian-sharing truth
//   (/truth/sharing), the partition distance to the true groups.
#pragma once

#include "analysis/symmetry_scores.hpp"
#include "io/h5.hpp"
#include "plot/figure.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace symlearn::analysis {

struct InspectOptions {
  double cos_threshold = 0.99;  // rows of U tie when |cos| exceeds this
  double zero_row = 0.1;        // rows below this fraction of the largest row norm are near zero
  int order = 0;                // also test A^order = I for square matrices (0: only search)
  int max_order = 64;           // search p = 1..max_order for A^p = I
  double band_threshold = 0.9;  // band mass above which locality counts as recovered
};

// Ground truth of a tasks file (gen-tasks locally-connected, sum-of-numbers,
// gaussian-sharing).
struct Truth {
  std::string name;
  std::string kind;
  int rank = 0, kernel = 0, input_dim = 0, output_dim = 0;
  bool permuted_inputs = false;
  bool has_symmetry = false;
  MatrixXd symmetry;  // U_true, (m n) x (r s)
  // Learned-sharing data: /truth/sharing, L x L, one-hot rows.
  bool has_sharing = false;
  int length = 0;                   // L (positions or coordinates)
  MatrixXd sharing;                 // A_gt
  std::vector<int> sharing_groups;  // argmax column of each row of A_gt
  std::string note;  // what the file lacks, when it lacks something
};
// Reads /truth/symmetry or /truth/sharing and the config; throws InputError
// for a file that is not a tasks file or whose truth has the wrong shape.
Truth load_truth(const io::Reader& tasks);

struct SharingReport {
  int m = 0, n = 0;
  MatrixXd map;  // m x n: max_k |U[i + j m, k]|
  bool grouped = false;
  RowGroups groups;
  std::vector<long> group_sizes;  // largest first
  // Against the truth (compared = true):
  bool compared = false;
  int kernel = 0, rank = 0;
  double band_mass = 0;
  bool has_span = false;
  double span_captured = 0;
  // The tying, for rank-1 truth:
  bool tying_checked = false;
  long band_rows = 0, band_rows_used = 0, band_rows_near_zero = 0, off_band_active = 0;
  int band_groups = 0;
  long partition_distance = 0;
  bool recovered = false;
};

struct SquareReport {
  SquareScores scores;
  bool searched = false;     // false when the matrix was too large for powers
  int best_order = 0;        // smallest p with A^p = I, else the p of the smallest residual
  double best_residual = 0;
  int order = 0;             // the requested p (0: none)
  double order_residual = 0;
};

// The groups of a learned-sharing matrix A (L x L, row-stochastic): position
// p uses the weights psi_q of q = argmax_q A[p, q] (ties: the first column).
struct SharingGroupsReport {
  int length = 0;
  std::vector<int> column;                    // argmax column of each row
  std::vector<int> group_column;              // per group: its column q
  std::vector<std::vector<int>> groups;       // per group: its positions, groups ordered by first position
  double row_max_min = 0, row_max_mean = 0;   // over rows of max_q A[p, q]: 1 when every row is decided
  // Against /truth/sharing (compared = true):
  bool compared = false;
  std::vector<std::vector<int>> true_groups;  // same order convention
  std::vector<int> true_column;
  long partition_distance = 0;
  bool recovered = false;
};
// The groups of A, without truth.
SharingGroupsReport sharing_groups_report(const MatrixXd& a);
// One line: "sharing recovered: partition distance 0 ..." / "sharing not recovered: ..." ("" without truth).
std::string sharing_verdict_line(const SharingGroupsReport& s);
// "{0 2} {1 3}"
std::string groups_str(const std::vector<std::vector<int>>& groups);

struct MatrixReport {
  std::string name;    // "U", "L[2]", "kron(U1,U2)"
  std::string source;  // where it came from, e.g. "/params/U"
  io::Shape shape;     // as stored
  MatrixXd value;
  MatrixStats stats;
  std::optional<SharingReport> sharing;
  std::optional<SquareReport> square;
  std::optional<SharingGroupsReport> sharing_groups;  // /params/sharing of a learned-sharing model
  std::vector<std::string> notes;  // what could not be analysed, and why
};

struct GeneratorSetReport {
  std::string name;
  std::vector<std::string> members;
  long dim = 0;
  Closure closure;
};

struct SymmetryReport {
  std::string model_name, kind, dataset;
  int input_dim = 0, output_dim = 0;  // 0: unknown
  long steps = -1;                    // -1: unknown
  std::optional<Truth> truth;
  std::vector<MatrixReport> matrices;
  std::vector<GeneratorSetReport> generator_sets;
  std::vector<std::string> other_params;  // "v0 (init)", ...
  std::vector<std::string> skipped;       // "/params/X: why"
  std::vector<std::string> notes;
  InspectOptions options;
};

// What the model's family knows about its symmetry parameters.
struct ReportHints {
  bool sharing_matrix = false;  // /params/sharing is a learned sharing A (L x L, row-stochastic)
  bool kronecker = false;       // the weight-sharing matrix is U1 ⊗ U2 (msr-kron)
};

// `truth` may be null. Throws InputError when the truth does not fit the model.
SymmetryReport inspect_symmetry(const io::Reader& model, const Truth* truth, const InspectOptions& options,
                                const ReportHints& hints = {});

nlohmann::json report_json(const SymmetryReport& report);
std::string report_text(const SymmetryReport& report);
// One line per weight-sharing matrix compared with rank-1 truth ("" if none).
std::string verdict_line(const SharingReport& s, const InspectOptions& options);

// The figure: per symmetry matrix a heatmap (for U: the m x n map and the
// first columns of U seen as W) and its |u| histogram; a caption on top.
plot::Figure report_figure(const SymmetryReport& report);
// Small colour heatmaps for a terminal (24-bit ANSI, Unicode half blocks).
std::string report_heatmaps(const SymmetryReport& report);

}  // namespace symlearn::analysis
