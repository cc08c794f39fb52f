#include "methods/generators/family.hpp"

#include "cli/cli.hpp"
#include "learn/model_file.hpp"
#include "methods/generators/discover.hpp"
#include "plot/figure.hpp"
#include "tasks/generator_pairs.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace symlearn::generators {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string fmt_short(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct LoadedGenerator {
  Eigen::MatrixXd generator;
  std::string transform;
  int size = 0;
};

LoadedGenerator load_generator(const io::Reader& f) {
  const learn::ModelReader r(f);
  LoadedGenerator g;
  const nlohmann::json& data = r.section("data");
  g.transform = data.value("transform", std::string());
  g.size = data.value("size", 0);
  const long d = g.transform == "rotation" ? long(g.size) * g.size : g.size;
  if ((g.transform != "rotation" && g.transform != "shift") || g.size < 2 || d > 4096)
    r.fail("its config's data section does not describe a rotation or shift grid");
  const std::vector<double> v = r.param("generator", learn::Role::symmetry, {1, d, d});
  g.generator = Eigen::Map<const RowMat>(v.data(), d, d);
  if (!g.generator.allFinite()) r.fail("/params/generator holds NaN or infinite values");
  return g;
}

class GeneratorTrainer : public methods::Trainer {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("--method", o_.method,
                   "spectral: L x_i parallel to y_i - x_i, an eigenvector (fixed t or a range) | lstsq: "
                   "closed-form map M, then --estimate | als: per-pair t_i and L alternately | gd: y = x + t_i L x "
                   "by Adam from a small start (L-conv style)")
        ->capture_default_str();
    app.add_option("--estimate", o_.estimate, "lstsq: difference (M - I)/t | central (M - M^-1)/2t | log log(M)/t")
        ->capture_default_str();
    app.add_option("--amount", amount_, "lstsq: the pairs' t (degrees / pixels); only scales L")->capture_default_str();
    app.add_option("--ridge", o_.ridge, "Ridge on X X^T, relative to its mean eigenvalue")->capture_default_str();
    app.add_option("--iterations", o_.iterations, "spectral: power iterations (at most); als: alternations per start")
        ->capture_default_str();
    app.add_option("--restarts", o_.restarts, "als: starts (the first from lstsq's M - I, then random)")
        ->capture_default_str();
    app.add_option("--keep-smallest", o_.keep_smallest,
                   "spectral: fit on this share of the pairs, those moved least (smallest |t|)")
        ->capture_default_str();
    app.add_option("--steps", o_.steps, "gd: full-batch Adam steps")->capture_default_str();
    app.add_option("--lr", o_.lr, "gd: Adam learning rate")->capture_default_str();
    app.add_flag("--shared-amount", shared_amount_, "gd: fit y = x + L x (one t for all pairs) instead of a t_i per pair");
  }

  nlohmann::json train(const methods::TrainContext& c) override {
    const auto start = std::chrono::steady_clock::now();
    io::refuse_terminal(c.output);
    io::Reader file(c.tasks_path, "tasks");
    const tasks::GeneratorPairs pairs = tasks::load_generator_pairs(file, "/train");
    refuse_input_as_output(c.output);
    o_.seed = c.seed;
    o_.per_pair = !shared_amount_;
    // L per radian for rotations (the truth's unit), per pixel for shifts.
    o_.amount = pairs.transform == "rotation" ? amount_ * kPi / 180 : amount_;
    if (!c.quiet && pairs.x.cols() < pairs.dim)
      std::cerr << "meta-train: warning: " << pairs.x.cols() << " pairs for " << pairs.dim
                << " dimensions: the map is underdetermined (the ridge picks one)" << std::endl;
    const Discovery r = discover_generator(pairs.x, pairs.y, o_);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const nlohmann::json config = {
        {"data", {{"transform", pairs.transform}, {"size", pairs.size}, {"dim", pairs.dim}, {"pairs", pairs.x.cols()}}},
        {"training",
         {{"method", o_.method}, {"estimate", o_.estimate}, {"amount", amount_}, {"ridge", o_.ridge},
          {"iterations", o_.iterations}, {"restarts", o_.restarts}, {"steps", o_.steps}, {"lr", o_.lr},
          {"per_pair", o_.per_pair}, {"keep_smallest", o_.keep_smallest}, {"chosen_start", r.chosen_start}}},
        {"seed", c.seed}};
    learn::ModelWriter w(c.output, cli::created_by("meta-train"), "lie-generator", config,
                         learn::DatasetRecord::of(file, c.tasks_path));
    const RowMat g = r.generator;
    w.param("generator", learn::Role::symmetry, {1, std::uint64_t(pairs.dim), std::uint64_t(pairs.dim)},
            std::vector<double>(g.data(), g.data() + g.size()));
    w.attr("generator", "description",
           std::string("the learned generator L (row-major pixels); y ~ x + t L x"));
    w.log("residual", r.residual);
    w.log_description("residual: |Y - X - L X T|^2 / |Y - X|^2 on /train with each t_i fitted, per iteration (als), "
                      "every 10 steps (gd), once (lstsq)");
    w.commit();
    if (!c.quiet)
      std::fprintf(stderr, "meta-train: lie-generator (%s) on %ld pairs of dimension %d: residual %.4g, %.2f s\n",
                   o_.method.c_str(), long(pairs.x.cols()), pairs.dim, r.final_residual, secs);
    return {{"model", "lie-generator"}, {"method", o_.method}, {"pairs", pairs.x.cols()}, {"dim", pairs.dim},
            {"train_residual", r.final_residual}, {"seconds", secs}, {"peak_rss_mib", cli::peak_rss_mib()},
            {"output", c.output}};
  }

 private:
  DiscoverOptions o_;
  double amount_ = 1;
  bool shared_amount_ = false;
};

methods::EvalResult eval(const io::Reader& model_file, const methods::EvalRequest& q) {
  if (!q.output.empty()) throw InputError("-o is for meta-learned models; use --json for a lie-generator's results");
  if (q.support || q.query) throw InputError("--support and --query are for meta-learned models");
  const LoadedGenerator g = load_generator(model_file);
  io::Reader tf(q.tasks_path, "tasks");
  const std::string split = q.split.empty() ? "/test" : q.split.front() == '/' ? q.split : "/" + q.split;
  tasks::GeneratorPairs p = tasks::load_generator_pairs(tf, split);
  if (p.dim != g.generator.rows() || p.transform != g.transform)
    throw InputError(tf.name() + ": holds " + p.transform + " pairs of dimension " + std::to_string(p.dim) +
                     ", the model a " + g.transform + " generator of dimension " + std::to_string(g.generator.rows()));
  if (q.limit > 0 && q.limit < p.x.cols()) {
    p.x = p.x.leftCols(q.limit).eval();
    p.y = p.y.leftCols(q.limit).eval();
  }
  const double res = first_order_residual(g.generator, p.x, p.y);
  nlohmann::json j = {{"model", "lie-generator"}, {"tasks", tf.name()}, {"split", split}, {"pairs", p.x.cols()},
                      {"first_order_residual", res}};
  char line[256];
  std::snprintf(line, sizeof line, "lie-generator on %s %s: first-order residual %.4g (%ld pairs; 1 = no better than y = x)\n",
                tf.name().c_str(), split.c_str(), res, long(p.x.cols()));
  return {j, line};
}

methods::Inspection inspect(const io::Reader& model_file, const methods::InspectRequest& q) {
  const LoadedGenerator g = load_generator(model_file);
  const Eigen::MatrixXd& l = g.generator;
  const double n2 = l.squaredNorm();
  const double skew = n2 > 0 ? (0.5 * (l - l.transpose())).squaredNorm() / n2 : 0.0;
  methods::Inspection out;
  out.json = {{"model", "lie-generator"}, {"transform", g.transform}, {"size", g.size}, {"dim", l.rows()},
              {"frobenius", std::sqrt(n2)}, {"skew_share", skew}};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "model       %s (lie-generator, %s on %d%s)\n|L|_F       %.4g\nskew share  %.4f  (share of |L|^2 in "
                "(L - L^T)/2; rotations and shifts are skew)\n",
                model_file.name().c_str(), g.transform.c_str(), g.size, g.transform == "rotation" ? " x size pixels" : " samples",
                std::sqrt(n2), skew);
  out.text = buf;
  if (!q.truth_path.empty()) {
    io::Reader tf(q.truth_path, "tasks");
    const Eigen::MatrixXd truth = tasks::load_true_generator(tf);
    if (truth.rows() != l.rows())
      throw InputError(tf.name() + ": its /truth/generator is " + std::to_string(truth.rows()) + " x " +
                       std::to_string(truth.rows()) + ", the model's " + std::to_string(l.rows()) + " x " +
                       std::to_string(l.rows()));
    const double cos = abs_cosine(l, truth);
    const double scale = (l.array() * truth.array()).sum() / truth.squaredNorm();  // best c in |L - c L_true|
    out.json["truth"] = tf.name();
    out.json["abs_cosine"] = cos;
    out.json["span_cosine"] = span_cosine({l}, truth);
    out.json["scale_to_truth"] = scale;
    std::snprintf(buf, sizeof buf,
                  "truth       %s\n|cos|       %.4f  (|tr(L^T L_true)| / (|L| |L_true|))\nscale       %.4g  (L ~ "
                  "scale * L_true)\n",
                  tf.name().c_str(), cos, scale);
    out.text += buf;
    if (q.figure) {
      // The learned L beside the truth at its best scale, and what is left.
      plot::Panel a, b, c;
      a.title = "learned L";
      a.values = l;
      b.title = "truth x " + fmt_short(scale);
      b.values = scale * truth;
      c.title = "learned - truth x scale";
      c.values = l - scale * truth;
      a.vmax = b.vmax = c.vmax = std::max(l.cwiseAbs().maxCoeff(), (scale * truth).cwiseAbs().maxCoeff());
      a.subtitle = b.subtitle = c.subtitle = std::to_string(l.rows()) + " x " + std::to_string(l.cols()) + ", one colour scale";
      out.figure = plot::compose_figure("lie-generator: " + model_file.name(),
                                        {"|cos| with the truth " + fmt_short(cos) + "; " + g.transform + " on " +
                                         std::to_string(g.size) + (g.transform == "rotation" ? " x " + std::to_string(g.size) + " pixels" : " samples")},
                                        {a, b, c});
    }
  } else if (q.figure) {
    plot::Panel a;
    a.title = "learned L";
    a.subtitle = std::to_string(l.rows()) + " x " + std::to_string(l.cols());
    a.values = l;
    out.figure = plot::compose_figure("lie-generator: " + model_file.name(), {g.transform + ", no truth given"}, {a});
  }
  return out;
}

}  // namespace

methods::Family family() {
  methods::Family f;
  f.name = "generators";
  f.title = "Lie-generator discovery from transformation pairs (gen-tasks generator-pairs)";
  f.models = {{"lie-generator", "one generator L with y ~ exp(t L) x: spectral fit, least squares, alternation or Adam",
               "Dehmamy et al. 2021, appendix C",
               "gen-tasks generator-pairs --size 7 --amount 5 -o pairs.h5 && meta-train lie-generator pairs.h5 -o g.h5"}};
  f.trainer = [](const std::string&) { return std::make_unique<GeneratorTrainer>(); };
  f.eval = eval;
  f.inspect = inspect;
  return f;
}

}  // namespace symlearn::generators
