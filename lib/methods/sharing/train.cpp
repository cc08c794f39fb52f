#include "methods/sharing/train.hpp"

#include "learn/adam.hpp"
#include "linalg/gemm.hpp"
#include "methods/sharing/yeh2022.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <chrono>
#include <cmath>
#include <limits>

namespace symlearn::sharing {

using ad::Mat;
using ad::Var;

HypergradOptions default_hypergrad() {
  HypergradOptions o;
  o.method = HypergradMethod::cg;
  o.iterations = 20;
  o.damping = 0.1;
  return o;
}

// ---- options --------------------------------------------------------------------

nlohmann::json SharingOptions::to_json() const {
  return {{"protocol", protocol},
          {"group_norm", group_norm},
          {"logit_init_bound", logit_init_bound},
          {"inner_warmup", inner_warmup},
          {"inner_steps", inner_steps},
          {"inner_lr", inner_lr},
          {"weight_decay", weight_decay},
          {"ridge", ridge},
          {"outer_steps", outer_steps},
          {"outer_lr", outer_lr},
          {"logit_init_std", logit_init_std},
          {"entropy", entropy},
          {"nuclear", nuclear},
          {"hypergrad", hypergrad_name(hypergrad.method)},
          {"hypergrad_iterations", hypergrad.iterations},
          {"hypergrad_damping", hypergrad.damping},
          {"neumann_alpha", hypergrad.neumann_alpha},
          {"restarts", restarts},
          {"refine", refine},
          {"refine_tolerance", refine_tolerance},
          {"refine_split_gain", refine_split_gain},
          {"final_steps", final_steps},
          {"eval_every", eval_every},
          {"patience", patience},
          {"seed", seed}};
}

SharingOptions SharingOptions::from_json(const nlohmann::json& j) {
  SharingOptions o;
  try {
    o.inner_warmup = j.at("inner_warmup");
    o.inner_steps = j.at("inner_steps");
    o.inner_lr = j.at("inner_lr");
    o.weight_decay = j.at("weight_decay");
    o.ridge = j.at("ridge");
    o.outer_steps = j.at("outer_steps");
    o.outer_lr = j.at("outer_lr");
    o.logit_init_std = j.at("logit_init_std");
    o.entropy = j.at("entropy");
    o.nuclear = j.at("nuclear");
    o.hypergrad.method = hypergrad_from_name(j.at("hypergrad").get<std::string>());
    o.hypergrad.iterations = j.at("hypergrad_iterations");
    o.hypergrad.damping = j.at("hypergrad_damping");
    o.hypergrad.neumann_alpha = j.at("neumann_alpha");
    o.restarts = j.at("restarts");
    o.final_steps = j.at("final_steps");
    o.eval_every = j.at("eval_every");
    o.patience = j.at("patience");
    o.seed = j.at("seed");
    // Added with issue 15; absent from older model files.
    o.protocol = j.value("protocol", std::string("symlearn"));
    o.group_norm = j.value("group_norm", 0.0);
    o.logit_init_bound = j.value("logit_init_bound", 0.0);
    o.refine = j.value("refine", false);
    o.refine_tolerance = j.value("refine_tolerance", 0.02);
    o.refine_split_gain = j.value("refine_split_gain", o.refine_tolerance);  // older files: one threshold
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the training options in the config are incomplete: ") + e.what());
  }
  return o;
}

void SharingOptions::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InputError(what);
  };
  need(protocol == "symlearn" || protocol == "yeh2022", "--protocol must be symlearn or yeh2022, not '" + protocol + "'");
  need(group_norm >= 0 && std::isfinite(group_norm), "--group-norm must be >= 0");
  need(logit_init_bound >= 0 && std::isfinite(logit_init_bound), "--logit-init-bound must be >= 0");
  need(inner_warmup >= 0, "--inner-warmup must be >= 0");
  need(inner_steps >= 1, "--inner-steps must be >= 1");
  need(inner_lr > 0 && std::isfinite(inner_lr), "--inner-lr must be > 0");
  need(weight_decay >= 0 && std::isfinite(weight_decay), "--weight-decay must be >= 0");
  need(ridge > 0 && std::isfinite(ridge), "--ridge must be > 0");
  need(outer_steps >= 0, "--outer-steps must be >= 0");
  need(outer_lr > 0 && std::isfinite(outer_lr), "--outer-lr must be > 0");
  need(logit_init_std >= 0 && std::isfinite(logit_init_std), "--logit-init-std must be >= 0");
  need(entropy >= 0 && std::isfinite(entropy), "--entropy must be >= 0");
  need(nuclear >= 0 && std::isfinite(nuclear), "--nuclear must be >= 0");
  need(hypergrad.iterations >= 1, "--hypergrad-iterations must be >= 1");
  need(hypergrad.damping >= 0 && std::isfinite(hypergrad.damping), "--hypergrad-damping must be >= 0");
  need(hypergrad.neumann_alpha > 0 && std::isfinite(hypergrad.neumann_alpha), "--neumann-alpha must be > 0");
  need(restarts >= 1, "--restarts must be >= 1");
  need(refine_tolerance >= 0 && refine_tolerance < 1, "--refine-tolerance must be in [0, 1)");
  need(refine_split_gain >= 0 && refine_split_gain < 1, "--refine-split-gain must be in [0, 1)");
  need(!refine || protocol == "yeh2022", "--refine is for --protocol yeh2022 (it scores partitions by the refit on train, early-stopped on val L1)");
  need(final_steps >= 1, "--final-steps must be >= 1");
  need(eval_every >= 1, "--eval-every must be >= 1");
  need(patience >= 1, "--patience must be >= 1");
}

// ---- data -------------------------------------------------------------------------

int SharingData::length() const { return kind == "gaussian-sharing" ? static_cast<int>(gtrain.cols()) : train.length; }

SharingData load_sharing_data(const io::Reader& file, bool need_truth) {
  SharingData d;
  d.kind = tasks_kind(file);
  if (d.kind == "sum-of-numbers") {
    d.train = load_sum_split(file, "/train");
    d.val = load_sum_split(file, "/val", d.train.length);
    d.hyper = load_sum_split(file, "/hyper", d.train.length);
  } else if (d.kind == "gaussian-sharing") {
    d.gtrain = load_gaussian_split(file, "/train");
    d.gval = load_gaussian_split(file, "/val", static_cast<int>(d.gtrain.cols()));
  } else {
    throw InputError(file.name() + ": sharing models learn from sum-of-numbers or gaussian-sharing tasks, not " +
                     (d.kind.empty() ? std::string("a file without a kind") : d.kind + " tasks"));
  }
  d.has_truth = file.has("/truth/sharing");
  if (need_truth && !d.has_truth) throw InputError(file.name() + ": has no /truth/sharing (needed by sharing-oracle)");
  if (d.has_truth) d.truth = load_true_sharing(file, d.length());
  return d;
}

// ---- problems -----------------------------------------------------------------------

namespace {

Var weight_decay_term(const std::vector<Var>& w, double wd) {
  Var s = ad::scalar(0.0);
  for (const Var& x : w) s = ad::add(s, ad::sum(ad::square(x)));
  return ad::scale(s, 0.5 * wd);
}

Var standardised(const SumSplit& s, double mean, double stddev) {
  return ad::constant(((s.y.array() - mean) / stddev).matrix());
}

std::vector<Mat*> pointers(std::vector<Mat>& w) {
  std::vector<Mat*> p;
  for (Mat& m : w) p.push_back(&m);
  return p;
}

// One Adam step on MSE(w; sharing, split) + (wd/2)‖w‖²: the inner loop and the final fit.
void adam_step(const SumSharingProblem& problem, std::vector<Mat>& w, const Mat& sharing, const SumSplit& split,
               Adam& adam) {
  std::vector<Mat> g;
  problem.loss_and_grad(w, sharing, split, true, g);
  std::vector<Mat*> ptrs = pointers(w);
  adam.update(ptrs, g);
}

}  // namespace

Mat softmax_value(const Mat& logits) {
  ad::NoGradGuard guard;
  return ad::softmax_rows(ad::constant(logits)).value();
}

void require_finite(const Mat& m, const std::string& what) {
  if (!m.allFinite()) throw RunError(what + " became NaN or Inf (try a smaller --outer-lr or --inner-lr)");
}

Mat init_logits(int length, double stddev, double bound, Rng& rng) {
  Mat l(length, length);
  for (long j = 0; j < l.cols(); ++j)
    for (long i = 0; i < l.rows(); ++i) l(i, j) = bound > 0 ? rng.uniform(-bound, bound) : stddev * rng.normal();
  return l;
}

double outer_penalty(const Mat& logits, const SharingOptions& o, Mat* gradient) {
  const Var l = ad::param(logits);
  const Var a = ad::softmax_rows(l);
  const double entropy = sharing::row_entropy(a).item();
  Mat gn, gg;
  const double nuclear = o.nuclear > 0 ? sharing::nuclear_norm(a.value(), &gn) : 0.0;
  const double group = o.group_norm > 0 ? column_group_norm(a.value(), &gg) : 0.0;
  if (gradient) {
    // The norms' gradients G are constants here: <A, G> has the same first
    // derivative in A; the chain through the softmax is the autodiff's.
    Var p = ad::scale(sharing::row_entropy(a), o.entropy);
    if (o.nuclear > 0) p = ad::add(p, ad::scale(ad::sum(ad::mul(a, ad::constant(gn))), o.nuclear));
    if (o.group_norm > 0) p = ad::add(p, ad::scale(ad::sum(ad::mul(a, ad::constant(gg))), o.group_norm));
    *gradient = ad::grad(p, {l})[0].value();
  }
  return o.entropy * entropy + o.nuclear * nuclear + o.group_norm * group;
}

SumSharingProblem::SumSharingProblem(const sharing::SharingArch& arch, const SumSplit& train, const SumSplit& val,
                                     double y_mean, double y_std, double weight_decay, bool l1)
    : arch_(arch), train_(train), val_(val), y_mean_(y_mean), y_std_(y_std), weight_decay_(weight_decay), l1_(l1) {}

Var SumSharingProblem::loss(const std::vector<Var>& w, const Var& sharing, const SumSplit& split) const {
  const Var pred = sharing::sum_forward(arch_, w, sharing, split.batch);
  const Var target = standardised(split, y_mean_, y_std_);
  return l1_ ? ad::l1_loss(pred, target) : ad::mse_loss(pred, target);
}

double SumSharingProblem::loss_and_grad(const std::vector<Mat>& w, const Mat& a, const SumSplit& split,
                                        bool with_decay, std::vector<Mat>& grads) const {
  // The forward pass of sum_forward (model.hpp), keeping what backward needs.
  const int L = arch_.length, H = arch_.hidden, V = arch_.vocab;
  const long n = split.n;
  const Mat m0 = linalg::gemm(w[1], w[0], false, true);                // (L·H) x V: row q + L h, column v
  const Mat t = a * Eigen::Map<const Mat>(m0.data(), L, H * V);        // row p: W_p Eᵀ (H x V, column-major)
  const Mat bias = a * w[2];                                           // L x H
  Mat h = Mat::Zero(n, H);
  std::vector<Mat> pre(static_cast<std::size_t>(L));
  for (int p = 0; p < L; ++p) {
    Mat& z = pre[static_cast<std::size_t>(p)];
    z.resize(n, H);
    for (int k = 0; k < H; ++k)
      for (long i = 0; i < n; ++i) {
        const long v = split.tokens[static_cast<std::size_t>(i * L + p)] - 1;
        z(i, k) = t(p, k + H * v) + bias(p, k);
      }
    h += z.cwiseMax(0.0);
  }
  const Eigen::VectorXd out = (h * w[3]).col(0).array() + w[4](0, 0);
  const Eigen::VectorXd r = out - ((split.y.array() - y_mean_) / y_std_).matrix();
  double loss;
  Eigen::VectorXd dout;
  if (l1_) {
    loss = r.cwiseAbs().mean();
    dout = r.unaryExpr([](double x) { return double((x > 0) - (x < 0)); }) / static_cast<double>(n);
  } else {
    loss = r.squaredNorm() / static_cast<double>(n);
    dout = (2.0 / static_cast<double>(n)) * r;
  }
  // Backward.
  grads.resize(5);
  grads[4] = Mat::Constant(1, 1, dout.sum());
  grads[3] = h.transpose() * dout;
  const Mat dh = dout * w[3].transpose();  // n x H
  Mat dt = Mat::Zero(L, H * V), dbias(L, H);
  for (int p = 0; p < L; ++p) {
    const Mat& z = pre[static_cast<std::size_t>(p)];
    for (int k = 0; k < H; ++k) {
      double sum = 0;
      for (long i = 0; i < n; ++i) {
        if (!(z(i, k) > 0)) continue;
        const long v = split.tokens[static_cast<std::size_t>(i * L + p)] - 1;
        dt(p, k + H * v) += dh(i, k);
        sum += dh(i, k);
      }
      dbias(p, k) = sum;
    }
  }
  const Mat dm = a.transpose() * dt;  // L x (H·V), i.e. d m0 as (L·H) x V
  const Eigen::Map<const Mat> dm0(dm.data(), static_cast<Eigen::Index>(L) * H, V);
  grads[2] = a.transpose() * dbias;
  grads[1] = linalg::gemm(dm0, w[0]);              // (L·H) x D
  grads[0] = linalg::gemm(dm0, w[1], true, false);  // V x D
  if (with_decay && weight_decay_ > 0) {
    double sq = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      sq += w[i].squaredNorm();
      grads[i] += weight_decay_ * w[i];
    }
    loss += 0.5 * weight_decay_ * sq;
  }
  return loss;
}

Var SumSharingProblem::train_loss(const std::vector<Var>& w, const Var& logits) const {
  const Var l = loss(w, ad::softmax_rows(logits), train_);
  return weight_decay_ > 0 ? ad::add(l, weight_decay_term(w, weight_decay_)) : l;
}

Var SumSharingProblem::val_loss(const std::vector<Var>& w, const Var& logits) const {
  return loss(w, ad::softmax_rows(logits), val_);
}

GaussianSharingProblem::GaussianSharingProblem(const Eigen::MatrixXd& train, const Eigen::MatrixXd& val, double ridge)
    : train_mean_(train.colwise().mean().transpose()), val_mean_(val.colwise().mean().transpose()), ridge_(ridge) {}

// mean_k (x̄_k − (Aψ)_k)²: the mean squared error over samples and coordinates
// minus a constant (the samples' own variance), which changes no gradient.
Var GaussianSharingProblem::train_loss(const std::vector<Var>& w, const Var& logits) const {
  const Var theta = ad::matmul(ad::softmax_rows(logits), w[0]);
  return ad::add(ad::mse_loss(theta, ad::constant(train_mean_)), weight_decay_term(w, ridge_));
}

Var GaussianSharingProblem::val_loss(const std::vector<Var>& w, const Var& logits) const {
  return ad::mse_loss(ad::matmul(ad::softmax_rows(logits), w[0]), ad::constant(val_mean_));
}

Eigen::VectorXd gaussian_group_means(const Mat& hard, const Eigen::MatrixXd& x) {
  const Eigen::RowVectorXd means = x.colwise().mean();
  const Eigen::RowVectorXd counts = hard.colwise().sum();
  Eigen::VectorXd psi = Eigen::VectorXd::Zero(hard.cols());
  for (Eigen::Index j = 0; j < hard.cols(); ++j)
    if (counts(j) > 0) psi(j) = (means * hard.col(j))(0) / counts(j);
  return psi;
}

Eigen::VectorXd gaussian_fit(const Mat& a, const Eigen::MatrixXd& x, double ridge) {
  const double k = static_cast<double>(a.rows());
  const Eigen::VectorXd mean = x.colwise().mean().transpose();
  const Mat lhs = (2.0 / k) * a.transpose() * a + ridge * Mat::Identity(a.cols(), a.cols());
  return lhs.ldlt().solve((2.0 / k) * a.transpose() * mean);
}

// ---- training ---------------------------------------------------------------------

namespace {


struct FinalFit {
  std::vector<Mat> weights;
  double hyper_loss = 0;  // standardised units
  std::vector<double> curve;
};

// Adam on train+val with a fixed sharing, keeping the weights with the best
// /hyper loss; stops after `patience` evaluations without improvement.
FinalFit final_fit(const sharing::SharingArch& arch, const SharingOptions& o, const SumSharingProblem& problem,
                   const SumSplit& fit_on, const SumSplit& hyper, const Mat& sharing, Rng& rng,
                   const std::function<void()>& on_eval) {
  FinalFit out;
  std::vector<Mat> w = sharing::init_sum_weights(arch, rng);
  Adam adam;
  adam.lr = o.inner_lr;
  const Var a = ad::constant(sharing);
  out.hyper_loss = std::numeric_limits<double>::infinity();
  int since_best = 0;
  for (int step = 1; step <= o.final_steps; ++step) {
    adam_step(problem, w, sharing, fit_on, adam);
    if (step % o.eval_every == 0 || step == o.final_steps) {
      for (const Mat& m : w) require_finite(m, "the final fit's weights");
      ad::NoGradGuard guard;
      std::vector<Var> cv;
      for (const Mat& m : w) cv.push_back(ad::constant(m));
      const double h = problem.loss(cv, a, hyper).item();
      out.curve.push_back(h);
      if (on_eval) on_eval();
      if (h < out.hyper_loss) {
        out.hyper_loss = h;
        out.weights = w;
        since_best = 0;
      } else if (++since_best >= o.patience) {
        break;
      }
    }
  }
  return out;
}

struct OuterRun {
  Mat logits;
  std::vector<double> val_loss, entropy;
};

// The bi-level loop for one start: `inner(w, A)` moves w toward the inner optimum.
OuterRun outer_loop(const BilevelProblem& problem, const SharingOptions& o, Mat logits,
                    const std::function<std::vector<Mat>(const Mat&)>& inner, const std::function<void(double)>& on_step) {
  OuterRun run;
  Adam adam;
  adam.lr = o.outer_lr;
  std::vector<Mat*> lp = {&logits};
  for (int s = 0; s < o.outer_steps; ++s) {
    const std::vector<Mat> w = inner(softmax_value(logits));
    const Hypergradient hg = hypergradient(problem, w, logits, o.hypergrad);
    Mat pg;
    outer_penalty(logits, o, &pg);
    Mat g = hg.grad + pg;
    require_finite(g, "the hypergradient");
    adam.update(lp, {g});
    run.val_loss.push_back(hg.val_loss);
    {
      ad::NoGradGuard guard;
      run.entropy.push_back(sharing::row_entropy(ad::constant(softmax_value(logits))).item());
    }
    if (on_step) on_step(hg.val_loss);
  }
  run.logits = logits;
  return run;
}

}  // namespace

SharingModel train_sharing(const sharing::SharingArch& arch, const SharingOptions& o, const SharingData& data,
                           const SharingProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  arch.validate();
  o.validate();
  if (arch.kind == "sharing-brute") {
    if (!arch.gaussian()) throw InputError("sharing-brute is for gaussian-sharing data (Bell(L) partitions of a sequence are too many)");
    return brute_force_gaussian(arch, o, data);
  }
  if (o.protocol == "yeh2022") return train_yeh2022(arch, o, data, progress);
  SharingModel out;
  out.arch = arch;
  out.options = o;
  const int L = arch.length;
  const bool learned = arch.kind == "sharing";
  Mat fixed;
  if (arch.kind == "sharing-oracle") fixed = data.truth;
  if (arch.kind == "sharing-none") fixed = sharing::identity_sharing(L);
  if (arch.kind == "sharing-all") fixed = sharing::all_sharing(L);
  const int starts = learned ? o.restarts : 1;

  long done = 0;
  const long per_start = (learned ? o.outer_steps : 0) + (arch.gaussian() ? 0 : o.final_steps / o.eval_every + 1);
  const long total = starts * per_start;
  std::string status;
  auto tick = [&](const std::string& s) {
    ++done;
    if (progress) progress(std::min(done, total), total, s);
  };
  char buf[96];

  double best = std::numeric_limits<double>::infinity();
  if (arch.gaussian()) {
    const GaussianSharingProblem problem(data.gtrain, data.gval, o.ridge);
    for (int r = 0; r < starts; ++r) {
      Rng rng(o.seed, 100 + static_cast<std::uint64_t>(r));
      OuterRun run;
      Mat a = fixed;
      if (learned) {
        run = outer_loop(
            problem, o, init_logits(L, o.logit_init_std, o.logit_init_bound, rng),
            [&](const Mat& soft) { return std::vector<Mat>{gaussian_fit(soft, data.gtrain, o.ridge)}; },
            [&](double v) {
              std::snprintf(buf, sizeof buf, "start %d/%d  val %.4f", r + 1, starts, v);
              tick(buf);
            });
        a = softmax_value(run.logits);
      }
      const Mat hard = learned ? sharing::hard_sharing(a) : a;
      const Eigen::VectorXd psi = gaussian_fit(hard, data.gtrain, o.ridge);
      const double sel = (hard * psi - Eigen::VectorXd(data.gval.colwise().mean().transpose())).squaredNorm() / L;
      out.log.restart_loss.push_back(sel);
      if (sel < best) {
        best = sel;
        out.sharing = a;
        out.logits = run.logits;
        out.weights = {psi};
        out.log.chosen = r;
        out.log.outer_val_loss = run.val_loss;
        out.log.outer_entropy = run.entropy;
      }
    }
  } else {
    out.y_mean = data.train.y.mean();
    const double var = (data.train.y.array() - out.y_mean).square().mean();
    out.y_std = var > 0 ? std::sqrt(var) : 1.0;
    const SumSharingProblem problem(arch, data.train, data.val, out.y_mean, out.y_std, o.weight_decay);
    const SumSplit fit_on = join(data.train, data.val);
    for (int r = 0; r < starts; ++r) {
      Rng rng(o.seed, 200 + static_cast<std::uint64_t>(r));
      OuterRun run;
      Mat a = fixed;
      if (learned) {
        std::vector<Mat> w = sharing::init_sum_weights(arch, rng);
        Adam inner_adam;
        inner_adam.lr = o.inner_lr;
        bool warm = false;
        auto inner = [&](const Mat& soft) {
          const int steps = warm ? o.inner_steps : o.inner_warmup + o.inner_steps;
          warm = true;
          for (int k = 0; k < steps; ++k) {
            adam_step(problem, w, soft, data.train, inner_adam);
          }
          for (const Mat& m : w) require_finite(m, "the inner weights");
          return w;
        };
        run = outer_loop(problem, o, init_logits(L, o.logit_init_std, o.logit_init_bound, rng), inner, [&](double v) {
          std::snprintf(buf, sizeof buf, "start %d/%d  val %.4f", r + 1, starts, v * out.y_std * out.y_std);
          tick(buf);
        });
        a = softmax_value(run.logits);
      }
      const Mat hard = learned ? sharing::hard_sharing(a) : a;
      Rng fit_rng(o.seed, 300 + static_cast<std::uint64_t>(r));
      const long before = done;
      FinalFit fit = final_fit(arch, o, problem, fit_on, data.hyper, hard, fit_rng, [&] {
        std::snprintf(buf, sizeof buf, "start %d/%d  final fit", r + 1, starts);
        tick(buf);
      });
      done = before + o.final_steps / o.eval_every + 1;  // early stopping skips the rest of this start's work
      const double sel = fit.hyper_loss * out.y_std * out.y_std;
      out.log.restart_loss.push_back(sel);
      if (sel < best) {
        best = sel;
        out.sharing = a;
        out.logits = run.logits;
        out.weights = std::move(fit.weights);
        out.log.chosen = r;
        out.log.outer_val_loss = run.val_loss;
        for (double& v : out.log.outer_val_loss) v *= out.y_std * out.y_std;
        out.log.outer_entropy = run.entropy;
        out.log.final_hyper_loss = fit.curve;
        for (double& v : out.log.final_hyper_loss) v *= out.y_std * out.y_std;
      }
    }
  }
  if (progress) progress(total, total, "done");
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Eigen::VectorXd predict_sum(const SharingModel& model, const SumSplit& x) {
  ad::NoGradGuard guard;
  std::vector<Var> w;
  for (const Mat& m : model.weights) w.push_back(ad::constant(m));
  const Var a = ad::constant(model.hard());
  Eigen::VectorXd out(x.n);
  // In chunks, so a 100000-example test split needs little memory.
  const long chunk = 8192;
  for (long first = 0; first < x.n; first += chunk) {
    const long count = std::min(chunk, x.n - first);
    sharing::TokenBatch b;
    b.n = count;
    for (const Mat& m : x.batch.onehot) b.onehot.push_back(m.middleRows(first, count));
    const Mat pred = sharing::sum_forward(model.arch, w, a, b).value();
    out.segment(first, count) = (pred.col(0).array() * model.y_std + model.y_mean).matrix();
  }
  return out;
}

}  // namespace symlearn::sharing
