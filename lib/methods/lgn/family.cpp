#include "methods/lgn/family.hpp"

#include "learn/model_file.hpp"
#include "methods/lgn/inspect.hpp"
#include "methods/lgn/session.hpp"
#include "util/error.hpp"

#include <cstdio>

namespace symlearn::lgn {

namespace {

class NetworkTrainer : public methods::Trainer {
 public:
  explicit NetworkTrainer(const std::string& model) { o_.arch.kind = model; }

  void add_options(CLI::App& app) override {
    auto& a = o_.arch;
    auto& t = o_.train;
    const bool structured = a.structured();
    if (a.reconstruction()) t.mu = 0.01;  // the authors' reconstruction run
    epochs_ = app.add_option("--epochs", t.epochs, "Epochs over /train (with --resume: the new total)")->capture_default_str();
    app.add_option("--batch", t.batch, "Mini-batch size")->capture_default_str();
    app.add_option("--lr", t.lr, "Adam learning rate (halved at 1/2, 3/4, 7/8 of the epochs)")->capture_default_str();
    app.add_option("--clip", t.clip, "Gradient-norm clipping (0: none)")->capture_default_str();
    app.add_option("--layers", a.layers, "Unfolded FISTA layers (untied)")->capture_default_str();
    app.add_option("--kernel", a.kernel, "Filter side (the actions are kernel^2 x kernel^2)")->capture_default_str();
    app.add_option("--padding", a.padding, "Convolution padding")->capture_default_str();
    app.add_option("--eta", a.eta, "FISTA step size")->capture_default_str();
    if (!a.reconstruction()) app.add_option("--pool", a.pool, "Adaptive average pooling to pool x pool")->capture_default_str();
    if (structured) {
      app.add_option("--groups", a.groups, "Groups K per layer (each a basis filter and one action per channel)")
          ->capture_default_str();
      app.add_option("--order", a.order, "Filters per group p: b, Ab, ..., A^(p-1) b")->capture_default_str();
      app.add_option("--inverse-loss", a.inverse,
                     "invertibility: mu sum |A A~ - I|_F (A~ learned) | singular: -mu sum sigma_i(A) | none")
          ->capture_default_str();
      app.add_option("--mu", t.mu, "Weight of the action penalty")->capture_default_str();
      app.add_option("--a-projection", t.a_projection, "fro: actions back to unit Frobenius norm after each step | none")
          ->capture_default_str();
    } else {
      app.add_option("--filters", free_filters_, "Free filters per layer (the structured net's groups x order)")
          ->capture_default_str();
    }
    app.add_flag("--no-whiten", no_whiten_, "Do not standardise and ZCA-whiten the images");
    app.add_option("--whiten-epsilon", t.whiten_epsilon, "ZCA epsilon, relative to the mean eigenvalue")
        ->capture_default_str();
    app.add_option("--train-examples", t.train_limit, "Use only the first N training images (0: all)")
        ->capture_default_str();
    app.add_option("--checkpoint", checkpoint_, "Checkpoint file (default: OUTPUT.ckpt when -o is a file)");
  }

  bool resumable() const override { return true; }
  std::vector<std::string> resume_options() const override { return {"--epochs", "--checkpoint"}; }

  nlohmann::json train(const methods::TrainContext& c) override {
    o_.tasks_path = c.tasks_path;
    o_.output = c.output;
    o_.resume = c.resume;
    o_.checkpoint = checkpoint_;
    o_.quiet = c.quiet;
    o_.train.seed = c.seed;
    o_.epochs_given = epochs_->count() > 0;
    o_.train.whiten = !no_whiten_;
    if (!o_.arch.structured()) {
      // The unstructured ablation: as many free filters, no actions (one "group" of F filters).
      if (free_filters_ < 1 || free_filters_ > 4096) throw InputError("--filters must be in [1, 4096]");
      o_.arch.groups = free_filters_;
      o_.arch.order = 1;
      o_.arch.inverse = "none";
    }
    return run_network_training(o_);
  }

 private:
  SessionOptions o_;
  std::string checkpoint_;
  int free_filters_ = 20;
  bool no_whiten_ = false;
  CLI::Option* epochs_ = nullptr;
};

class ActionTrainer : public methods::Trainer {
 public:
  void add_options(CLI::App& app) override {
    auto& f = o_.fit;
    app.add_option("--epochs", f.epochs, "Epochs over /train")->capture_default_str();
    app.add_option("--batch", f.batch, "Mini-batch size")->capture_default_str();
    app.add_option("--lr", f.lr, "Adam learning rate (halved at 1/2, 3/4, 7/8 of the epochs)")->capture_default_str();
    app.add_option("--clip", f.clip, "Gradient-norm clipping (0: none)")->capture_default_str();
    app.add_option("--a-projection", f.projection, "fro: A back to unit Frobenius norm after each step | none")
        ->capture_default_str();
    app.add_option("--optimizer", f.optimizer, "adam (the authors') | sgd (projected gradient descent; try --lr 1)")
        ->capture_default_str();
  }
  nlohmann::json train(const methods::TrainContext& c) override {
    o_.tasks_path = c.tasks_path;
    o_.output = c.output;
    o_.quiet = c.quiet;
    o_.fit.seed = c.seed;
    return run_action_fit(o_);
  }

 private:
  ActionSessionOptions o_;
};

std::string eval_text(const nlohmann::json& r) {
  char b[320];
  if (r.contains("accuracy"))
    std::snprintf(b, sizeof b, "%s on %s %s: accuracy %.4f, loss %.4f (%ld examples)\n",
                  r["model"].get<std::string>().c_str(), r["tasks"].get<std::string>().c_str(),
                  r["split"].get<std::string>().c_str(), r["accuracy"].get<double>(), r["loss"].get<double>(),
                  r["examples"].get<long>());
  else if (r.contains("cos_truth"))
    std::snprintf(b, sizeof b, "lgn-action on %s %s: MSE %.4g, cos(A, T) %.4f, |A - T|/|T| %.4f, argmax rows %d/%d\n",
                  r["tasks"].get<std::string>().c_str(), r["split"].get<std::string>().c_str(), r["mse"].get<double>(),
                  r["cos_truth"].get<double>(), r["relative_error"].get<double>(), r["argmax_rows"].get<int>(),
                  r["argmax_rows_of"].get<int>());
  else
    std::snprintf(b, sizeof b, "%s on %s %s: MSE %.5g (%ld examples)\n", r["model"].get<std::string>().c_str(),
                  r["tasks"].get<std::string>().c_str(), r["split"].get<std::string>().c_str(), r["mse"].get<double>(),
                  r["examples"].get<long>());
  std::string s = b;
  if (r.contains("median_inverse_residual"))
    s += "actions: median |A A~ - I|_F / sqrt(d) " + std::to_string(r["median_inverse_residual"].get<double>()) + "\n";
  return s;
}

methods::EvalResult eval(const io::Reader& model_file, const methods::EvalRequest& q) {
  if (!q.output.empty()) throw InputError("-o is for meta-learned models; use --json for an LGN model's results");
  if (q.support || q.query) throw InputError("--support and --query are for meta-learned models");
  const std::string model = learn::ModelReader(model_file).model();
  const nlohmann::json r = model == "lgn-action" ? evaluate_action_file(model_file, q.tasks_path, q.split, q.limit)
                                                 : evaluate_network_file(model_file, q.tasks_path, q.split, q.limit);
  return {r, eval_text(r)};
}

methods::Inspection inspect(const io::Reader& model_file, const methods::InspectRequest& q) {
  return learn::ModelReader(model_file).model() == "lgn-action" ? inspect_action(model_file, q)
                                                                 : inspect_network(model_file, q);
}

}  // namespace

methods::Family family() {
  methods::Family f;
  f.name = "lgn";
  f.title = "Linear Group Networks: learned cyclic group actions on filters (Theodosis et al. 2023)";
  const std::string paper = "Theodosis, Helwani, Ba 2023";
  f.models = {
      {"lgn", "unfolded FISTA network whose filters are orbits b, Ab, A^2b, ... of learned actions A (classification)",
       paper,
       "gen-tasks rotated-scrambled --source fashion-mnist -o fm.h5 && meta-train lgn fm.h5 --epochs 20 -o lgn.h5"},
      {"lgn-free", "the same unfolded network with free filters (the unstructured ablation)", paper,
       "gen-tasks rotated-scrambled --source fashion-mnist -o fm.h5 && meta-train lgn-free fm.h5 -o free.h5"},
      {"lgn-recon", "the unfolded encoder with a learned decoder dictionary, trained to reconstruct (MSE)", paper,
       "gen-tasks rotated-scrambled --source fashion-mnist -o fm.h5 && meta-train lgn-recon fm.h5 -o recon.h5"},
      {"lgn-action", "one action A fitted to patch pairs y = T x (the sterile experiments, section 5.2)", paper,
       "gen-tasks lgn-patches --transform rot90 -o p.h5 && meta-train lgn-action p.h5 -o a.h5"}};
  f.trainer = [](const std::string& model) -> std::unique_ptr<methods::Trainer> {
    if (model == "lgn-action") return std::make_unique<ActionTrainer>();
    return std::make_unique<NetworkTrainer>(model);
  };
  f.eval = eval;
  f.inspect = inspect;
  return f;
}

}  // namespace symlearn::lgn
