#include "methods/msr/family.hpp"

#include "cli/cli.hpp"
#include "methods/msr/evaluate.hpp"
#include "methods/msr/model_io.hpp"
#include "methods/msr/regularize.hpp"
#include "methods/msr/session.hpp"
#include "util/error.hpp"

#include <cstdio>

namespace symlearn::msr {

namespace {

class MsrTrainer : public methods::Trainer {
 public:
  explicit MsrTrainer(const std::string& model) { o_.kind = model; }

  void add_options(CLI::App& app) override {
    const std::string& k = o_.kind;
    const bool msr = k == "msr-fc" || k == "msr-kron";
    if (k == "msr-fc") app.add_option("--latent", o_.latent, "Columns k of U (default: kernel x rank of the data)");
    if (k == "msr-kron") {
      app.add_option("--kron-in", o_.kron_in, "Columns k1 of U1 (n x k1) (default: kernel x rank of the data)");
      app.add_option("--kron-out", o_.kron_out, "Columns k2 of U2 (m x k2) (default: kernel x rank of the data)");
    }
    if (k == "maml-lc" || k == "maml-conv")
      app.add_option("--kernel", o_.kernel, "Kernel size (default: the data's)");
    if (msr) app.add_option("--u-init-std", o_.u_init_std, "Std of U's initial entries")->capture_default_str();
    auto& t = o_.train;
    steps_ = app.add_option("--steps", t.steps, "Outer steps (with --resume: the new total)")->capture_default_str();
    app.add_option("--meta-batch", t.meta_batch, "Tasks per outer step")->capture_default_str();
    app.add_option("--support", t.support, "Support examples per task (inner loop)")->capture_default_str();
    app.add_option("--query", t.query, "Query examples per task (outer loss)")->capture_default_str();
    app.add_option("--outer-lr", t.outer_lr, "Outer learning rate")->capture_default_str();
    app.add_option("--outer-opt", t.outer_opt, "Outer optimizer: adam | sgd")->capture_default_str();
    app.add_option("--inner-steps", t.inner.steps, "Inner SGD steps")->capture_default_str();
    app.add_option("--inner-lr", o_.inner_lr, "Inner learning rate (its initial value when learned)")
        ->capture_default_str();
    app.add_option("--inner-lr-mode", o_.lr_mode, "fixed | layer (one learned per layer) | param (one per weight)")
        ->capture_default_str();
    app.add_flag("--first-order", t.inner.first_order, "First-order MAML: drop the second-order term");
    if (msr) {
      app.add_option("--inner-solver", o_.inner_solver,
                     "sgd: MAML's inner steps | ridge: the exact ridge fit of v on the support set, "
                     "differentiated implicitly (README, Ridge inner solver)")
          ->capture_default_str();
      app.add_option("--ridge-lambda", o_.ridge_lambda, "ridge: initial strength λ of the pull to v0 (learned)")
          ->capture_default_str();
    }
    if (msr || k == "maml-conv")
      app.add_option("--engine", t.engine,
                     "auto: a fused hand-derived kernel (msr-fc, msr-kron: any --inner-steps; "
                     "maml-conv: 1 inner step), autodiff otherwise; autodiff: always the general path")
          ->capture_default_str();
    if (msr || k == "maml-conv")
      app.add_option("--precision", precision_,
                     "Arithmetic of the fused kernel: float32 | float64 (the autodiff path, used with "
                     "--engine autodiff or maml-conv's --inner-steps > 1, is always float64)")
          ->capture_default_str();
    if (msr) {
      const char* g = "Proximal sparsity on U (Sparse MSR)";
      app.add_option("--prox", o_.prox_op,
                     "After every outer update apply a proximal step to U: l1 | group | exclusive | combined "
                     "(step = --outer-lr; exact proximal gradient with --outer-opt sgd)")
          ->group(g);
      app.add_option("--prox-lambda", t.prox.spec.lambda, "Strength λ of the proximal step")
          ->capture_default_str()
          ->group(g);
      app.add_option("--prox-groups", t.prox.groups, "Groups: input | output | latent | row | FILE of ids")
          ->capture_default_str()
          ->group(g);
      app.add_option("--prox-group-weight", t.prox.spec.group_weight, "combined: weight of the group term")
          ->capture_default_str()
          ->group(g);
      app.add_option("--prox-exclusive-weight", t.prox.spec.exclusive_weight, "combined: weight of the exclusive term")
          ->capture_default_str()
          ->group(g);
    }
    app.add_option("--train-tasks", t.train_tasks,
                   "Use only the first N tasks of /train, validation tasks included (0: all)")
        ->capture_default_str();
    app.add_option("--val-tasks", t.val_tasks, "Training tasks held out for validation (the last ones)")
        ->capture_default_str();
    app.add_option("--val-every", t.val_every, "Validate every N outer steps")->capture_default_str();
    app.add_option("--checkpoint", o_.checkpoint, "Checkpoint file (default: OUTPUT.ckpt when -o is a file)");
    app.add_option("--checkpoint-every", o_.checkpoint_every, "Write a checkpoint every N steps (0: only on Ctrl-C)")
        ->capture_default_str();
  }

  bool resumable() const override { return true; }
  std::vector<std::string> resume_options() const override { return {"--steps", "--checkpoint", "--checkpoint-every"}; }

  nlohmann::json train(const methods::TrainContext& c) override {
    o_.tasks_path = c.tasks_path;
    o_.output = c.output;
    o_.resume = c.resume;
    o_.train.seed = c.seed;
    o_.threads = c.threads;
    o_.quiet = c.quiet;
    o_.steps_given = steps_->count() > 0;
    o_.train.precision = learn::precision_from_name(precision_);
    return run_meta_train(o_);
  }

 private:
  SessionOptions o_;
  std::string precision_ = "float32";
  CLI::Option* steps_ = nullptr;
};

methods::EvalResult eval(const io::Reader& model_file, const methods::EvalRequest& q) {
  const LoadedModel model = load_model(model_file);
  io::Reader tasks_file(q.tasks_path, "tasks");
  const tasks::RegressionSplit data = tasks::load_regression(tasks_file, q.split);
  const auto& arch = model.state.model.arch;
  if (arch.input_dim != data.input_dim || arch.output_dim != data.output_dim)
    throw InputError(model_file.name() + ": the " + arch.kind + " model maps " + std::to_string(arch.input_dim) +
                     " -> " + std::to_string(arch.output_dim) + " but " + tasks_file.name() + " " + q.split +
                     " holds " + std::to_string(data.input_dim) + " -> " + std::to_string(data.output_dim) + " tasks");
  const std::string kind = tasks_file.has_attr("/", "kind") ? tasks_file.attr_string("/", "kind") : "";
  if (!model.dataset.kind.empty() && !kind.empty() && model.dataset.kind != kind)
    throw InputError(model_file.name() + ": was trained on " + model.dataset.kind + " tasks but " + tasks_file.name() +
                     " holds " + kind + " tasks");

  EvalOptions opt;
  opt.limit = q.limit;
  opt.support = q.support;
  opt.query = q.query;
  opt.seed = q.seed;
  opt.threads = q.threads;
  const EvalResult r = evaluate(model.state, data, opt);
  if (!q.output.empty()) {
    const nlohmann::json cfg = {{"model", q.model_path}, {"tasks", q.tasks_path}, {"split", q.split},
                                {"limit", q.limit},      {"support", r.support},  {"query", r.query},
                                {"seed", q.seed}};
    io::Writer w(q.output, "report", cli::created_by("eval"), cfg);
    const std::vector<std::int64_t> ids(r.tasks.begin(), r.tasks.end());
    w.write("/task", {ids.size()}, ids.data());
    w.write("/loss", {r.losses.size()}, r.losses.data());
    w.attr("/loss", "description", std::string("query MSE after adaptation, per task (index into " + q.split + ")"));
    w.attr("/", "mean", r.summary.mean);
    w.attr("/", "ci95", r.summary.half_width);
    w.commit();
  }
  methods::EvalResult out;
  out.json = {{"model", arch.kind},          {"split", q.split},
              {"tasks", r.summary.n},        {"mse", r.summary.mean},
              {"ci95", r.summary.half_width}, {"std", r.summary.std},
              {"support", r.support},         {"query", r.query}};
  if (!io::is_stdio(q.output)) {
    char line[512];
    std::snprintf(line, sizeof line, "%s on %s %s: MSE %.4f ± %.4f (95%% CI, %ld tasks, support %d, query %d)\n",
                  arch.kind.c_str(), tasks_file.name().c_str(), q.split.c_str(), r.summary.mean, r.summary.half_width,
                  r.summary.n, r.support, r.query);
    out.text = line;
  }
  return out;
}

nlohmann::json regularize_file(const io::Reader& in, const methods::RegularizeRequest& q) {
  ProxOptions opt;
  opt.spec = q.spec;
  opt.groups = q.groups;
  opt.param = q.param;
  LoadedModel model = load_model(in);
  int kernel = 0;
  if (!q.truth_path.empty()) {
    io::Reader t(q.truth_path, "tasks");
    kernel = t.config().value("kernel", 0);
    if (t.config().value("input_dim", 0) != model.state.model.arch.input_dim)
      throw InputError(t.name() + ": its input dimension does not match the model's");
  }
  std::vector<ParamReport> reports;
  try {
    reports = regularize(model.state.model, opt, kernel);
  } catch (const InputError& e) {  // the options do not fit this file's model: say which file
    const std::string m = e.what();
    const std::size_t colon = m.find(": ");
    const bool named = colon != std::string::npos && m.substr(0, colon).find(' ') == std::string::npos;
    if (named) throw;  // already names its file (a --groups FILE)
    throw InputError(in.name() + ": " + m);
  }
  nlohmann::json provenance = model.config.value("provenance", nlohmann::json::array());
  nlohmann::json step = opt.to_json();
  step["tool"] = q.created_by;
  step["input"] = q.model_path;
  provenance.push_back(step);
  save_model(q.output, q.created_by, model.state, model.dataset, provenance);

  nlohmann::json js = nlohmann::json::array();
  for (const auto& r : reports) {
    nlohmann::json j = {{"param", r.name},
                        {"shape", {r.rows, r.cols}},
                        {"groups", r.groups},
                        {"sparsity_before", r.sparsity_before},
                        {"sparsity_after", r.sparsity_after}};
    if (r.band_before >= 0) {
      j["band_l1_before"] = r.band_before;  // share of sum|U| on the true band
      j["band_l1_after"] = r.band_after;
    }
    js.push_back(j);
  }
  return js;
}

methods::ModelInfo info(const std::string& name, const std::string& summary, const std::string& paper,
                        const std::string& options = "") {
  return {name, summary, paper,
          "gen-tasks locally-connected --tasks 2000 -o tasks.h5 && meta-train " + name + options +
              " tasks.h5 -o model.h5"};
}

}  // namespace

methods::Family family() {
  methods::Family f;
  f.name = "msr";
  f.title = "Meta-learned symmetries: U shared by all tasks, v adapted per task, and MAML baselines";
  f.models = {
      info("msr-fc", "vec(W) = U v: a learned weight-sharing matrix U", "Zhou, Knowles, Finn 2021 (MSR)", " --steps 1000"),
      info("msr-kron", "W = U2 unvec(v) U1^T: a Kronecker-factored U", "Zhou, Knowles, Finn 2021 (MSR)"),
      info("maml-fc", "MAML adapting a dense W", "Finn, Abbeel, Levine 2017 (MAML)"),
      info("maml-lc", "MAML adapting a locally connected W", "Finn, Abbeel, Levine 2017 (MAML)"),
      info("maml-conv", "MAML adapting a 1-D convolution filter (the true symmetry given)", "Finn et al. 2017 (MAML)"),
  };
  f.trainer = [](const std::string& model) { return std::make_unique<MsrTrainer>(model); };
  f.eval = eval;
  f.inspect = [](const io::Reader& file, const methods::InspectRequest& q) {
    (void)load_model(file);  // a damaged model is refused whole, not reported on in part
    analysis::ReportHints hints;
    hints.kronecker = learn::ModelReader(file).model() == "msr-kron";
    return methods::symmetry_inspection(file, q, hints);
  };
  f.regularize = regularize_file;
  return f;
}

}  // namespace symlearn::msr
