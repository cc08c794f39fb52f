#include "methods/sharing/family.hpp"

#include "methods/sharing/evaluate.hpp"
#include "methods/sharing/model_io.hpp"
#include "methods/sharing/session.hpp"
#include "util/error.hpp"

namespace symlearn::sharing {

namespace {

class SharingTrainer : public methods::Trainer {
 public:
  explicit SharingTrainer(const std::string& model) { o_.kind = model; }

  void add_options(CLI::App& app) override {
    auto& t = o_.train;
    app_ = &app;
    const bool learned = o_.kind == "sharing";
    app.add_option("--protocol", t.protocol,
                   "symlearn: this toolkit's schedule | yeh2022: the original's (L1 on train+val-standardised labels, "
                   "250 AdamW inner steps per outer step, Neumann hypergradient, early stopping; README, Learned "
                   "sharing); options given explicitly override the protocol's values")
        ->check(CLI::IsMember({"symlearn", "yeh2022"}))
        ->capture_default_str();
    app.add_option("--embed", o_.embed, "sum-of-numbers: token embedding size D")->capture_default_str();
    app.add_option("--hidden", o_.hidden, "sum-of-numbers: hidden units H per position")->capture_default_str();
    if (learned) {
      const char* g = "Bi-level learning of A (outer problem)";
      app.add_option("--outer-steps", t.outer_steps, "Outer (hypergradient) steps per start")->capture_default_str()->group(g);
      app.add_option("--outer-lr", t.outer_lr, "Adam learning rate of A's logits")->capture_default_str()->group(g);
      app.add_option("--inner-warmup", t.inner_warmup, "Inner Adam steps before the first hypergradient")
          ->capture_default_str()
          ->group(g);
      app.add_option("--inner-steps", t.inner_steps, "Inner Adam steps between hypergradients")->capture_default_str()->group(g);
      app.add_option("--hypergrad", t.hypergrad.method, "exact | cg | neumann | identity")
          ->transform(CLI::CheckedTransformer(std::map<std::string, learn::HypergradMethod>{
              {"exact", learn::HypergradMethod::exact},
              {"cg", learn::HypergradMethod::cg},
              {"neumann", learn::HypergradMethod::neumann},
              {"identity", learn::HypergradMethod::identity}}))
          ->default_str(learn::hypergrad_name(t.hypergrad.method))
          ->group(g);
      app.add_option("--hypergrad-iterations", t.hypergrad.iterations, "CG iterations / Neumann terms")
          ->capture_default_str()
          ->group(g);
      app.add_option("--hypergrad-damping", t.hypergrad.damping, "delta in (H + delta I) v = g")->capture_default_str()->group(g);
      app.add_option("--neumann-alpha", t.hypergrad.neumann_alpha, "alpha of the Neumann series")->capture_default_str()->group(g);
      app.add_option("--logit-init-std", t.logit_init_std, "Std of the initial logits of A")->capture_default_str()->group(g);
      app.add_option("--entropy", t.entropy, "Weight of the row-entropy penalty on A (toward one-hot)")
          ->capture_default_str()
          ->group(g);
      app.add_option("--nuclear", t.nuclear, "Weight of the nuclear-norm penalty on A (toward few groups)")
          ->capture_default_str()
          ->group(g);
      app.add_option("--group-norm", t.group_norm, "Weight of the column group norm sum_j |A[:, j]| / L (yeh2022: 0.05)")
          ->capture_default_str()
          ->group(g);
      app.add_option("--logit-init-bound", t.logit_init_bound, "> 0: A's logits start U(-b, b) instead of N(0, std^2)")
          ->capture_default_str()
          ->group(g);
      app.add_option("--restarts", t.restarts, "Random starts; the best on /hyper wins")->capture_default_str()->group(g);
      app.add_flag("--refine", t.refine,
                   "yeh2022: after learning, greedily merge and split the groups of the hard sharing, keeping a "
                   "change only when the refit's val loss allows it (README, Learned sharing)")
          ->group(g);
      app.add_option("--refine-tolerance", t.refine_tolerance, "--refine: a merge may raise the val loss by this fraction")
          ->capture_default_str()
          ->group(g);
      app.add_option("--refine-split-gain", t.refine_split_gain,
                     "--refine: a split must lower the val loss by more than this fraction (refits of more groups win "
                     "by noise)")
          ->capture_default_str()
          ->group(g);
    }
    app.add_option("--inner-lr", t.inner_lr, "Adam learning rate of the weights (inner problem and final fit)")
        ->capture_default_str();
    app.add_option("--weight-decay", t.weight_decay,
                   "L2 weight wd/2 |w|^2 in the inner objective (yeh2022: AdamW's decoupled decay; on "
                   "gaussian-sharing, RMSprop's L2 on A's logits)")
        ->capture_default_str();
    app.add_option("--ridge", t.ridge, "gaussian-sharing: ridge on psi in the closed-form fit")->capture_default_str();
    app.add_option("--final-steps", t.final_steps, "Most Adam steps of the final fit on train+val")->capture_default_str();
    app.add_option("--eval-every", t.eval_every, "Final fit: evaluate /hyper every N steps")->capture_default_str();
    app.add_option("--patience", t.patience, "Final fit: stop after N evaluations without improvement")
        ->capture_default_str();
  }

  nlohmann::json train(const methods::TrainContext& c) override {
    o_.tasks_path = c.tasks_path;
    o_.output = c.output;
    o_.train.seed = c.seed;
    o_.quiet = c.quiet;
    o_.given = [this](const std::string& flag) {
      const CLI::Option* opt = app_->get_option_no_throw(flag);
      return opt && opt->count() > 0;
    };
    return run_sharing_train(o_);
  }

 private:
  SharingSessionOptions o_;
  CLI::App* app_ = nullptr;
};

methods::EvalResult eval(const io::Reader& model_file, const methods::EvalRequest& q) {
  // A single-dataset model: it predicts on the split without adapting.
  if (!q.output.empty()) throw InputError("-o is for per-task reports of meta-learned models; use --json");
  if (q.limit || q.support || q.query)
    throw InputError("--limit, --support and --query are for meta-learned models; a sharing model uses the whole split");
  const SharingModel model = load_sharing_model(model_file);
  io::Reader tasks_file(q.tasks_path, "tasks");
  const SharingEval r = evaluate_sharing(model, tasks_file, q.split);
  return {r.to_json(), r.line(tasks_file.name()) + "\n"};
}

methods::ModelInfo info(const std::string& name, const std::string& summary, const std::string& paper) {
  return {name, summary, paper, "gen-tasks sum-of-numbers --length 4 -o sums.h5 && meta-train " + name + " sums.h5 -o sharing.h5"};
}

}  // namespace

methods::Family family() {
  methods::Family f;
  f.name = "sharing";
  f.title = "Learned parameter sharing theta = A psi on one dataset (sum-of-numbers, gaussian-sharing)";
  f.models = {
      info("sharing", "A learned by bi-level optimisation with implicit hypergradients", "Yeh et al. 2022"),
      info("sharing-oracle", "A fixed to the true sharing (/truth/sharing)", "baseline, Yeh et al. 2022"),
      info("sharing-none", "A = I: every position its own weights", "baseline, Yeh et al. 2022"),
      info("sharing-all", "every position shares one weight (Deep Sets)", "baseline, Zaheer et al. 2017"),
      {"sharing-brute", "gaussian-sharing: the best of all set partitions (K <= 8) on val", "baseline, Yeh et al. 2022",
       "gen-tasks gaussian-sharing --dim 4 --rank 2 -o gauss.h5 && meta-train sharing-brute gauss.h5 -o brute.h5"},
  };
  f.trainer = [](const std::string& model) { return std::make_unique<SharingTrainer>(model); };
  f.eval = eval;
  f.inspect = [](const io::Reader& file, const methods::InspectRequest& q) {
    (void)load_sharing_model(file);  // a damaged model is refused whole, not reported on in part
    analysis::ReportHints hints;
    hints.sharing_matrix = true;
    return methods::symmetry_inspection(file, q, hints);
  };
  return f;
}

}  // namespace symlearn::sharing
