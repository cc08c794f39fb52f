#include "methods/sharing/yeh2022.hpp"

#include "methods/sharing/refine.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>

namespace symlearn::sharing {

using ad::Mat;
using ad::Var;

double column_group_norm(const Mat& a, Mat* gradient) {
  const double rows = static_cast<double>(a.rows());
  double total = 0;
  if (gradient) gradient->setZero(a.rows(), a.cols());
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    const double n = a.col(j).norm();
    total += n;
    if (gradient && n > 0) gradient->col(j) = a.col(j) / (rows * n);
  }
  return total / rows;
}

double Plateau::step(double loss, double lr) {
  if (++steps <= start) return lr;
  if (!seen || loss < best * (1.0 - 1e-4)) {
    best = loss;
    bad = 0;
    seen = true;
    return lr;
  }
  if (++bad > patience) {
    bad = 0;
    return lr * factor;
  }
  return lr;
}

std::pair<double, double> joint_label_stats(const SumSplit& train, const SumSplit& val) {
  const long n = train.n + val.n;
  if (n == 0) return {0.0, 1.0};
  const double mean = (train.y.sum() + val.y.sum()) / static_cast<double>(n);
  const double var =
      ((train.y.array() - mean).square().sum() + (val.y.array() - mean).square().sum()) / static_cast<double>(n);
  return {mean, var > 0 ? std::sqrt(var) : 1.0};
}

Mat xavier_psi(const SharingArch& arch, Rng& rng) {
  const double bound = std::sqrt(6.0 / (static_cast<double>(arch.hidden) * arch.embed +
                                        static_cast<double>(arch.length) * arch.embed));
  Mat psi(static_cast<Eigen::Index>(arch.length) * arch.hidden, arch.embed);
  for (Eigen::Index j = 0; j < psi.cols(); ++j)
    for (Eigen::Index i = 0; i < psi.rows(); ++i) psi(i, j) = rng.uniform(-bound, bound);
  return psi;
}

void apply_yeh2022_defaults(SharingOptions& o, bool gaussian, int length,
                            const std::function<bool(const std::string&)>& given) {
  auto set = [&](const char* flag, auto& field, auto value) {
    if (!given(flag)) field = value;
  };
  if (gaussian) {
    set("--outer-steps", o.outer_steps, 1000);
    set("--outer-lr", o.outer_lr, 2e-2);
    set("--weight-decay", o.weight_decay, 1e-4);  // RMSprop's L2 on the logits here
    set("--logit-init-std", o.logit_init_std, 0.1);
    set("--logit-init-bound", o.logit_init_bound, 0.0);
    set("--entropy", o.entropy, 1e-2);
    set("--nuclear", o.nuclear, 0.0);
    set("--group-norm", o.group_norm, 1e-2 * length);  // 1e-2 · Σ_j ‖A_j‖, written as weight · Σ / L
    set("--restarts", o.restarts, 3);
    return;
  }
  set("--outer-steps", o.outer_steps, 500);
  set("--outer-lr", o.outer_lr, 1e-2);
  set("--inner-warmup", o.inner_warmup, 0);
  set("--inner-steps", o.inner_steps, 250);
  set("--inner-lr", o.inner_lr, 1e-3);
  set("--weight-decay", o.weight_decay, 1e-3);  // AdamW's decoupled decay here
  set("--hypergrad", o.hypergrad.method, HypergradMethod::neumann);
  set("--hypergrad-iterations", o.hypergrad.iterations, 20);
  set("--entropy", o.entropy, 0.025);
  set("--nuclear", o.nuclear, 0.0);
  set("--group-norm", o.group_norm, 0.05);
  set("--logit-init-bound", o.logit_init_bound, 0.1);
  set("--restarts", o.restarts, 3);
  set("--final-steps", o.final_steps, 100000);
  set("--eval-every", o.eval_every, 1);
  set("--patience", o.patience, 1000);
}

void RmsProp::update(Mat& p, Mat g) {
  if (decay != 0) g += decay * p;
  if (v.size() == 0) v = Mat::Zero(p.rows(), p.cols());
  v = alpha * v + (1 - alpha) * g.cwiseProduct(g);
  p.array() -= lr * g.array() / (v.array().sqrt() + eps);
}

namespace {

// The original's fixed constants (not options).
constexpr double kClipNorm = 25;       // hypergradient norm
constexpr int kOuterPatience = 100;    // outer steps without improvement before stopping
constexpr int kOuterWarmup = 30;       // no checkpoint or schedule step before this outer step
constexpr double kImprovement = 1.0001;  // best > loss * this counts as an improvement

std::vector<Mat*> pointers(std::vector<Mat>& w) {
  std::vector<Mat*> p;
  for (Mat& m : w) p.push_back(&m);
  return p;
}

// The original model's initialisation: E ~ N(0, 1), ψ Xavier, β ~ U(±0.1),
// the output layer like PyTorch's Linear (weight and bias U(±1/√H)).
std::vector<Mat> init_weights(const SharingArch& arch, Rng& rng) {
  std::vector<Mat> w = init_sum_weights(arch, rng);
  w[1] = xavier_psi(arch, rng);
  for (Eigen::Index i = 0; i < w[2].size(); ++i) w[2](i) = rng.uniform(-0.1, 0.1);
  const double out = 1.0 / std::sqrt(static_cast<double>(arch.hidden));
  w[4](0, 0) = rng.uniform(-out, out);
  return w;
}

// Each sharing column q's contribution to ŷ as a function of the token,
// Σ_h w_out[h] relu(Ψ_q[h, :] · e(v) + β_q[h]) for v = 1..V: one row per column.
Mat group_responses(const SharingArch& arch, const std::vector<Mat>& w) {
  const int L = arch.length, H = arch.hidden;
  Mat out = Mat::Zero(L, arch.vocab);
  for (int q = 0; q < L; ++q)
    for (int h = 0; h < H; ++h) {
      const Eigen::VectorXd pre = w[0] * w[1].row(q + L * h).transpose();  // V
      out.row(q) += w[3](h, 0) * (pre.array() + w[2](q, h)).max(0.0).matrix().transpose();
    }
  return out;
}

// One optimiser step on the L1 loss of `split` with a fixed sharing; returns that loss.
double step_on(const SumSharingProblem& problem, std::vector<Mat>& w, const Mat& sharing, const SumSplit& split,
               Adam& opt) {
  std::vector<Mat> g;
  const double loss = problem.loss_and_grad(w, sharing, split, false, g);
  std::vector<Mat*> ptrs = pointers(w);
  opt.update(ptrs, g);
  return loss;
}

double loss_on(const SumSharingProblem& problem, const std::vector<Mat>& w, const Var& sharing, const SumSplit& split) {
  ad::NoGradGuard guard;
  std::vector<Var> cv;
  for (const Mat& m : w) cv.push_back(ad::constant(m));
  return problem.loss(cv, sharing, split).item();
}

struct Fit {
  std::vector<Mat> weights;
  double best = std::numeric_limits<double>::infinity();  // L1 on stop_on, standardised
  std::vector<double> curve;                               // every 100th evaluation
};

// The original's fit_standard_model: Adam (no decay) on fit_on, the rate
// cut by 4x after 1000 steps without a lower training loss, stopped after
// `patience` steps without a lower L1 on stop_on; the best weights are kept.
// `start` (if not empty): the weights to start from instead of a fresh draw.
Fit standard_fit(const SharingArch& arch, const SharingOptions& o, const SumSharingProblem& problem,
                 const SumSplit& fit_on, const SumSplit& stop_on, const Mat& sharing, Rng& rng,
                 const std::function<void()>& on_hundred, std::vector<Mat> start = {}) {
  Fit out;
  std::vector<Mat> w = start.empty() ? init_weights(arch, rng) : std::move(start);
  Adam adam;
  adam.lr = o.inner_lr;
  Plateau schedule;
  schedule.factor = 0.25;
  schedule.patience = 1000;
  schedule.start = 0;
  const Var a = ad::constant(sharing);
  int since = 0;
  for (int step = 1; step <= o.final_steps; ++step) {
    const double train = step_on(problem, w, sharing, fit_on, adam);
    adam.lr = schedule.step(train, adam.lr);
    if (step % o.eval_every != 0 && step != o.final_steps) continue;
    const double v = loss_on(problem, w, a, stop_on);
    if (!std::isfinite(v)) throw RunError("the fit's loss became NaN or Inf (try a smaller --inner-lr)");
    if (step % 100 == 0) {
      out.curve.push_back(v);
      if (on_hundred) on_hundred();
    }
    if (out.best > v * kImprovement) {
      out.best = v;
      out.weights = w;
      since = 0;
    } else if (++since >= o.patience) {
      break;
    }
  }
  if (out.weights.empty()) out.weights = w;
  return out;
}

struct Start {
  Mat best_logits;
  std::vector<double> total, entropy;  // per outer step: val L1 + penalty, row entropy
};

// θ = A ψ with ψ the A-weighted means of the coordinates' means (1 x K).
Var gaussian_theta(const Var& a, const Mat& coord_means) {
  const Var psi = ad::div(ad::matmul(ad::constant(coord_means), a), ad::add_scalar(ad::col_sums(a), 1e-8));
  return ad::matmul(psi, ad::transpose(a));  // 1 x K
}

SharingModel train_gaussian_yeh2022(const SharingArch& arch, const SharingOptions& o, const SharingData& data,
                                    const SharingProgress& progress) {
  const auto start_time = std::chrono::steady_clock::now();
  SharingModel out;
  out.arch = arch;
  out.options = o;
  const int K = arch.length;
  const Mat train_means = data.gtrain.colwise().mean();  // 1 x K
  const long total = static_cast<long>(o.restarts) * o.outer_steps;
  long done = 0;
  double best = std::numeric_limits<double>::infinity();
  char buf[96];
  for (int r = 0; r < o.restarts; ++r) {
    Rng rng(o.seed, 800 + static_cast<std::uint64_t>(r));
    Mat logits(K, K);
    for (Eigen::Index i = 0; i < logits.size(); ++i) logits(i) = o.logit_init_std * rng.normal();
    RmsProp opt;
    opt.lr = o.outer_lr;
    opt.decay = o.weight_decay;
    double loss = 0;
    std::vector<double> curve;
    for (int k = 0; k < o.outer_steps; ++k) {
      const Var l = ad::param(logits);
      const Var theta = gaussian_theta(ad::softmax_rows(l), train_means);
      const Var fit = ad::mse_loss(ad::repeat_rows(theta, data.gval.rows()), ad::constant(data.gval));
      Mat pg;
      loss = fit.item() + outer_penalty(logits, o, &pg);
      curve.push_back(loss);
      Mat g = ad::grad(fit, {l})[0].value() + pg;
      require_finite(g, "the gradient of A's logits");
      opt.update(logits, std::move(g));
      std::snprintf(buf, sizeof buf, "start %d/%d  val %.4f", r + 1, o.restarts, loss);
      if (progress) progress(++done, total, buf);
    }
    // The last iteration's penalised loss, at the final logits.
    const Var theta = gaussian_theta(ad::constant(softmax_value(logits)), train_means);
    loss = ad::mse_loss(ad::repeat_rows(theta, data.gval.rows()), ad::constant(data.gval)).item() +
           outer_penalty(logits, o, nullptr);
    out.log.restart_loss.push_back(loss);
    if (loss < best) {
      best = loss;
      out.logits = logits;
      out.sharing = softmax_value(logits);
      out.log.chosen = r;
      out.log.outer_val_loss = curve;
    }
  }
  if (o.refine) {
    // A candidate's score: the val MSE of its train group means.
    auto score = [&](const Partition& p, const Partition&) {
      const Mat hard = partition_sharing(p);
      const Eigen::RowVectorXd theta = (hard * gaussian_group_means(hard, data.gtrain)).transpose();
      return (data.gval.rowwise() - theta).squaredNorm() / static_cast<double>(data.gval.size());
    };
    // Merges closest first: groups whose train means are nearest.
    auto order = [&](const Partition& p) {
      const Mat hard = partition_sharing(p);
      return pairs_by_distance(p, gaussian_group_means(hard, data.gtrain));
    };
    const RefineResult r =
        refine_partition(sharing_groups(out.sharing), score, o.refine_tolerance, o.refine_split_gain, NAN, order);
    out.sharing = partition_sharing(r.groups);
    out.log.refine_steps = r.steps;
  }
  // The hard sharing refitted on train ∪ val: each group's mean of its coordinates' means.
  Eigen::MatrixXd all(data.gtrain.rows() + data.gval.rows(), K);
  all << data.gtrain, data.gval;
  const Eigen::VectorXd psi = gaussian_group_means(out.hard(), all);
  out.weights = {psi};
  if (progress) progress(total, total, "done");
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return out;
}

}  // namespace

// The parent's fitted weights carried to a merge or split of its partition:
// each new group's ψ and β the mean over its positions of their parent
// group's (a merge averages two groups by size; a split copies), the rest as is.
std::vector<Mat> carried_weights(const SharingArch& arch, const std::vector<Mat>& parent_w, const Partition& parent,
                                 const Partition& candidate) {
  const int L = arch.length, H = arch.hidden;
  std::vector<Mat> w = parent_w;
  w[1].setZero();
  w[2].setZero();
  std::vector<int> count(static_cast<std::size_t>(L), 0);
  for (int p = 0; p < L; ++p) {
    const int from = parent[static_cast<std::size_t>(p)], to = candidate[static_cast<std::size_t>(p)];
    ++count[static_cast<std::size_t>(to)];
    for (int h = 0; h < H; ++h) w[1].row(to + L * h) += parent_w[1].row(from + L * h);
    w[2].row(to) += parent_w[2].row(from);
  }
  for (int g = 0; g < L; ++g) {
    const int n = count[static_cast<std::size_t>(g)];
    if (n == 0) continue;
    for (int h = 0; h < H; ++h) w[1].row(g + L * h) /= n;
    w[2].row(g) /= n;
  }
  return w;
}

SharingModel brute_force_gaussian(const SharingArch& arch, const SharingOptions& o, const SharingData& data) {
  const auto start_time = std::chrono::steady_clock::now();
  const int K = arch.length;
  if (K > 8) throw InputError("sharing-brute enumerates Bell(K) partitions and stops at K = 8 (this data has K = " + std::to_string(K) + ")");
  SharingModel out;
  out.arch = arch;
  out.options = o;
  const Mat train_means = data.gtrain.colwise().mean();
  Eigen::MatrixXd all(data.gtrain.rows() + data.gval.rows(), K);
  all << data.gtrain, data.gval;
  auto soft_of = [&](const std::vector<int>& groups) {
    Mat a = Mat::Zero(K, K);
    for (int i = 0; i < K; ++i) a(i, groups[static_cast<std::size_t>(i)]) = 1.0;
    return softmax_value(5.0 * a.array() - 2.5);
  };
  ad::NoGradGuard guard;
  double best = std::numeric_limits<double>::infinity();
  std::vector<int> best_groups;
  // Restricted growth strings g (g_0 = 0, g_i <= 1 + max_{j<i} g_j): each set partition once.
  std::vector<int> g(static_cast<std::size_t>(K), 0);
  for (;;) {
    const Mat a = soft_of(g);
    const Var theta = gaussian_theta(ad::constant(a), train_means);
    const double score = ad::mse_loss(ad::repeat_rows(theta, data.gval.rows()), ad::constant(data.gval)).item() +
                         1e-2 * static_cast<double>(K) * column_group_norm(a);
    if (score < best) {
      best = score;
      best_groups = g;
    }
    // The next string: bump the last position that may grow, reset the rest.
    int i = K - 1;
    for (; i > 0; --i) {
      int prefix_max = 0;
      for (int j = 0; j < i; ++j) prefix_max = std::max(prefix_max, g[static_cast<std::size_t>(j)]);
      if (g[static_cast<std::size_t>(i)] <= prefix_max) break;
    }
    if (i <= 0) break;
    ++g[static_cast<std::size_t>(i)];
    for (int j = i + 1; j < K; ++j) g[static_cast<std::size_t>(j)] = 0;
  }
  out.log.restart_loss = {best};
  out.sharing = soft_of(best_groups);
  // The winner's one-hot A refitted on train ∪ val (each group's mean), as
  // the learned model's and the oracle's: the soft A's mixing would pull every
  // group's mean toward the others (by ~2 % at K = 4).
  out.weights = {gaussian_group_means(out.hard(), all)};
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return out;
}

SharingModel train_yeh2022(const SharingArch& arch, const SharingOptions& o, const SharingData& data,
                           const SharingProgress& progress) {
  if (arch.gaussian()) {
    if (arch.kind == "sharing") return train_gaussian_yeh2022(arch, o, data, progress);
    throw InputError("--protocol yeh2022 on gaussian-sharing data is for `sharing` (the baselines have no protocol there)");
  }
  const auto start_time = std::chrono::steady_clock::now();
  SharingModel out;
  out.arch = arch;
  out.options = o;
  const int L = arch.length;
  const bool learned = arch.kind == "sharing";
  std::tie(out.y_mean, out.y_std) = joint_label_stats(data.train, data.val);
  const SumSharingProblem problem(arch, data.train, data.val, out.y_mean, out.y_std, 0.0, true);
  const double scale = out.y_std;  // standardised L1 -> label units

  const int starts = learned ? o.restarts : 0;
  const long fit_ticks = o.final_steps / 100 + 1;
  const long total = starts * (o.outer_steps + fit_ticks) + fit_ticks;
  long done = 0;
  char buf[96];
  auto tick = [&](const char* s) {
    ++done;
    if (progress) progress(std::min(done, total), total, s);
  };

  Mat chosen;
  double best_sel = std::numeric_limits<double>::infinity();
  Rng logit_rng(o.seed, 400);
  Mat first_draw;
  for (int r = 0; r < starts; ++r) {
    // The starts share one weight initialisation; their logits are a draw,
    // its negation, then fresh draws.
    Mat logits;
    if (r == 0) first_draw = logits = init_logits(L, 0.0, o.logit_init_bound, logit_rng);
    else if (r == 1) logits = -first_draw;
    else logits = init_logits(L, 0.0, o.logit_init_bound, logit_rng);
    Rng weight_rng(o.seed, 500);
    std::vector<Mat> w = init_weights(arch, weight_rng);
    Adam inner;
    inner.lr = o.inner_lr;
    inner.decay = o.weight_decay;
    Adam outer;
    outer.lr = o.outer_lr;
    Plateau schedule;
    Start run;
    double best = std::numeric_limits<double>::infinity();
    int since = 0;
    std::vector<Mat*> lp = {&logits};
    for (int k = 0; k < o.outer_steps; ++k) {
      const Mat soft = softmax_value(logits);
      for (int s = 0; s < o.inner_steps; ++s) step_on(problem, w, soft, data.train, inner);
      for (const Mat& m : w) require_finite(m, "the inner weights");
      HypergradOptions hopt = o.hypergrad;
      hopt.neumann_alpha = outer.lr;
      hopt.neumann_prefactor = false;
      const Hypergradient hg = hypergradient(problem, w, logits, hopt);
      Mat pg;
      outer_penalty(logits, o, &pg);
      Mat g = hg.grad + pg;
      require_finite(g, "the hypergradient");
      const double norm = g.norm();
      if (norm > kClipNorm) g *= kClipNorm / norm;
      outer.update(lp, {g});
      // Monitored after the update: val L1 + penalty at the new logits.
      const double tot =
          loss_on(problem, w, ad::constant(softmax_value(logits)), data.val) + outer_penalty(logits, o, nullptr);
      run.total.push_back(tot * scale);
      {
        ad::NoGradGuard guard;
        run.entropy.push_back(sharing::row_entropy(ad::constant(softmax_value(logits))).item());
      }
      if (k >= kOuterWarmup) outer.lr = schedule.step(tot, outer.lr);
      if (k >= kOuterWarmup && best > tot * kImprovement) {
        best = tot;
        run.best_logits = logits;
        since = 0;
      } else {
        ++since;
      }
      std::snprintf(buf, sizeof buf, "start %d/%d  val L1+pen %.4f", r + 1, starts, tot * scale);
      tick(buf);
      if (since >= kOuterPatience) break;
    }
    if (run.best_logits.size() == 0) run.best_logits = logits;  // fewer than 31 outer steps
    done = (r + 1) * static_cast<long>(o.outer_steps) + r * fit_ticks;
    // Selection: the hard sharing refitted on train, early stopping on val.
    const Mat hard = hard_sharing(softmax_value(run.best_logits));
    Rng fit_rng(o.seed, 600);
    std::snprintf(buf, sizeof buf, "start %d/%d  refit", r + 1, starts);
    const Fit fit = standard_fit(arch, o, problem, data.train, data.val, hard, fit_rng, [&] { tick(buf); });
    done = (r + 1) * (static_cast<long>(o.outer_steps) + fit_ticks);
    out.log.restart_loss.push_back(fit.best * scale);
    if (fit.best < best_sel) {
      best_sel = fit.best;
      chosen = hard;
      out.logits = run.best_logits;
      out.sharing = softmax_value(run.best_logits);
      out.log.chosen = r;
      out.log.outer_val_loss = run.total;
      out.log.outer_entropy = run.entropy;
    }
  }
  if (learned && o.refine) {
    // Candidates are scored as the starts were: the refit on train, early-stopped on val L1.
    int candidates = 0;
    std::map<Partition, std::vector<Mat>> fitted;
    // A candidate's fit starts from its parent's fitted weights carried over
    // (the start's from a fresh draw, as the starts' refits): the scores then
    // differ by the change of partition, not by a new initialisation.
    auto fit_candidate = [&](const Partition& p, const Partition& parent, bool fresh) {
      Rng fit_rng(o.seed, 600);
      std::snprintf(buf, sizeof buf, "refine: candidate %d", ++candidates);
      tick(buf);
      std::vector<Mat> start;
      if (!parent.empty() && !fresh) start = carried_weights(arch, fitted.at(parent), parent, p);
      return standard_fit(arch, o, problem, data.train, data.val, partition_sharing(p), fit_rng, {}, std::move(start));
    };
    // A candidate fitted twice keeps its better fit: the one its children start from.
    std::map<Partition, double> scored;
    auto keep = [&](const Partition& p, Fit fit) {
      const auto it = scored.find(p);
      if (it == scored.end() || fit.best < it->second) {
        scored[p] = fit.best;
        fitted[p] = std::move(fit.weights);
      }
      return fit.best;
    };
    auto score = [&](const Partition& p, const Partition& parent) { return keep(p, fit_candidate(p, parent, false)); };
    // A merge refused from the carried weights is refitted from a fresh draw, as the starts were.
    auto retry = [&](const Partition& p, const Partition& parent) { return keep(p, fit_candidate(p, parent, true)); };
    // Merges are tried closest first: groups whose fitted functions of a token agree.
    auto order = [&](const Partition& p) { return pairs_by_distance(p, group_responses(arch, fitted.at(p))); };
    const RefineResult r =
        refine_partition(sharing_groups(chosen), score, o.refine_tolerance, o.refine_split_gain, NAN, order, retry);
    chosen = partition_sharing(r.groups);
    out.sharing = chosen;
    out.log.refine_steps = r.steps;
  }
  if (!learned) {
    if (arch.kind == "sharing-oracle") chosen = data.truth;
    if (arch.kind == "sharing-none") chosen = identity_sharing(L);
    if (arch.kind == "sharing-all") chosen = all_sharing(L);
    out.sharing = chosen;
  }
  // The final model: retrained on train ∪ val, early stopping on /hyper.
  const SumSplit fit_on = join(data.train, data.val);
  Rng final_rng(o.seed, 700);
  const Fit fit = standard_fit(arch, o, problem, fit_on, data.hyper, chosen, final_rng, [&] { tick("final fit"); });
  out.weights = fit.weights;
  out.log.final_hyper_loss = fit.curve;
  for (double& v : out.log.final_hyper_loss) v *= scale;
  if (progress) progress(total, total, "done");
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return out;
}

}  // namespace symlearn::sharing
