#include "methods/images/family.hpp"

#include "learn/model_file.hpp"
#include "methods/images/inspect.hpp"
#include "methods/images/model_io.hpp"
#include "methods/images/session.hpp"
#include "plot/figure.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <optional>

namespace symlearn::images {

namespace {

class ImageTrainer : public methods::Trainer {
 public:
  explicit ImageTrainer(const std::string& model) { o_.arch.kind = model; }

  void add_options(CLI::App& app) override {
    const std::string& k = o_.arch.kind;
    const bool lconv = k == "lconv" || k == "lconv-random", shallow = k == "fc-shallow";
    auto& t = o_.train;
    auto& a = o_.arch;
    app.add_option("--protocol", protocol_,
                   "symlearn | dehmamy2021: the authors' code (Glorot init, RMSprop 1e-3, batch 32, 30 epochs; cnn "
                   "valid padding; fc a Dense((n+1)*d_h) bottleneck first); options given explicitly win")
        ->check(CLI::IsMember({"symlearn", "dehmamy2021"}))
        ->capture_default_str();
    epochs_ = app.add_option("--epochs", t.epochs, "Epochs over /train (with --resume: the new total)")->capture_default_str();
    batch_ = app.add_option("--batch", t.batch, "Mini-batch size")->capture_default_str();
    lr_ = app.add_option("--lr", t.lr, "Learning rate")->capture_default_str();
    optimizer_ = app.add_option("--optimizer", t.optimizer, "adam | rmsprop (rho 0.9, eps 1e-7, as Keras)")->capture_default_str();
    init_ = app.add_option("--init", a.init, "he | glorot (Keras's Glorot scales; README, L-conv)")->capture_default_str();
    if (k == "cnn")
      padding_ = app.add_option("--padding", a.padding, "same | valid (1 layer: the border outputs dropped)")
                     ->capture_default_str();
    if (k == "fc")
      bottleneck_ = app.add_option("--bottleneck", a.bottleneck, "> 0: a dense layer of this width first")
                        ->capture_default_str();
    app.add_option("--precision", precision_, "Arithmetic of training: float32 | float64")->capture_default_str();
    if (!shallow) app.add_option("--layers", a.layers, "Layers (1 or 2)")->capture_default_str();
    const std::string of = shallow ? " of the 1-layer lconv whose parameter count --hidden 0 matches" : "";
    app.add_option("--filters", a.filters, "Channels F of each layer" + of)->capture_default_str();
    if (lconv || shallow) {
      app.add_option("--generators", a.generators, "Learned generators L_i (plus L_0 = I)" + of)->capture_default_str();
      app.add_option("--rank", a.rank, "Rank d_h of each L_i = U_i V_i" + of)->capture_default_str();
    }
    if (shallow)
      app.add_option("--hidden", a.hidden, "Hidden width (0: match a 1-layer lconv's parameter count)")
          ->capture_default_str();
    app.add_option("--train-examples", t.train_limit, "Use only the first N training images (0: all)")
        ->capture_default_str();
    app.add_option("--checkpoint", o_.checkpoint, "Checkpoint file (default: OUTPUT.ckpt when -o is a file)");
    app.add_option("--checkpoint-batches", o_.checkpoint_every,
                   "Write a checkpoint every N mini-batches (0: only on Ctrl-C)")
        ->capture_default_str();
  }

  bool resumable() const override { return true; }
  std::vector<std::string> resume_options() const override {
    return {"--epochs", "--checkpoint", "--checkpoint-batches"};
  }

  nlohmann::json train(const methods::TrainContext& c) override {
    o_.tasks_path = c.tasks_path;
    o_.output = c.output;
    o_.resume = c.resume;
    o_.train.seed = c.seed;
    o_.threads = c.threads;
    o_.quiet = c.quiet;
    if (protocol_ == "dehmamy2021") apply_dehmamy2021();
    o_.epochs_given = epochs_->count() > 0;
    o_.train.precision = learn::precision_from_name(precision_);
    return run_classifier_training(o_);
  }

 private:
  // The authors' code (nimadehmamy/L-conv-code, run_test.py): Keras defaults
  // (Glorot, RMSprop lr 1e-3), batch 32, 30 epochs, Conv2D's valid padding,
  // the FC baseline Dense(kernel * hidden = (n+1) d_h) -> Dense(HW F).
  void apply_dehmamy2021() {
    auto unset = [](CLI::Option* opt) { return opt && opt->count() == 0; };
    auto& t = o_.train;
    auto& a = o_.arch;
    if (unset(init_)) a.init = "glorot";
    if (unset(optimizer_)) t.optimizer = "rmsprop";
    if (unset(lr_)) t.lr = 1e-3;
    if (unset(batch_)) t.batch = 32;
    if (unset(epochs_)) t.epochs = 30;
    if (unset(padding_)) a.padding = "valid";
    if (unset(bottleneck_)) a.bottleneck = (a.generators + 1) * a.rank;
  }

  ClassifierSessionOptions o_;
  std::string precision_ = "float32";
  std::string protocol_ = "symlearn";
  CLI::Option *epochs_ = nullptr, *batch_ = nullptr, *lr_ = nullptr, *optimizer_ = nullptr, *init_ = nullptr,
              *padding_ = nullptr, *bottleneck_ = nullptr;
};

methods::EvalResult eval(const io::Reader& model_file, const methods::EvalRequest& q) {
  if (!q.output.empty()) throw InputError("-o is for meta-learned models; use --json for an image model's results");
  if (q.support || q.query) throw InputError("--support and --query are for meta-learned models, not image classifiers");
  const nlohmann::json r = evaluate_classifier_file(model_file, q.tasks_path, q.split, q.limit);
  return {r, eval_text(r)};
}

methods::Inspection inspect(const io::Reader& file, const methods::InspectRequest& q) {
  const std::string model = learn::ModelReader(file).model();
  (void)load_classifier(file);  // a damaged model is refused whole, not reported on in part
  if (model != "lconv" && model != "lconv-random") return methods::symmetry_inspection(file, q, {});
  std::optional<io::Reader> tasks;
  if (!q.truth_path.empty()) tasks.emplace(q.truth_path, "tasks");
  const LconvReport r = inspect_lconv(file, tasks ? &*tasks : nullptr);
  methods::Inspection out;
  out.json = lconv_report_json(r);
  out.text = lconv_report_text(r);
  if (q.figure) {
    // Each generator's centre-pixel row as an image: local, shift-like
    // generators show a small stencil around the centre.
    std::vector<plot::Panel> panels;
    for (const LconvLayer& lay : r.layers)
      for (std::size_t i = 0; i < lay.centre_rows.size(); ++i) {
        plot::Panel p;
        p.title = "layer " + std::to_string(lay.layer) + " L" + std::to_string(i + 1);
        char sub[96];
        std::snprintf(sub, sizeof sub, "centre row; locality %.4f", lay.gens[i].locality);
        p.subtitle = sub;
        p.values = lay.centre_rows[i];
        panels.push_back(std::move(p));
      }
    char cap[160];
    std::snprintf(cap, sizeof cap, "what each L_i takes from every pixel into the centre pixel, in %s coordinates",
                  r.unscrambled ? "image" : "the model's (scrambled?)");
    char base[96];
    std::snprintf(base, sizeof base, "locality of a random matrix: %.4f", r.locality_baseline);
    out.figure = plot::compose_figure(r.kind + ": " + file.name(), {cap, base}, panels);
  }
  return out;
}

methods::ModelInfo info(const std::string& name, const std::string& summary, const std::string& paper) {
  return {name, summary, paper,
          "gen-tasks rotated-scrambled --rotate --scramble -o images.h5 && meta-train " + name +
              " --epochs 3 images.h5 -o model.h5"};
}

}  // namespace

methods::Family family() {
  methods::Family f;
  f.name = "images";
  f.title = "Image classifiers on rotated / scrambled images (gen-tasks rotated-scrambled)";
  f.models = {
      info("lconv", "L-conv layers: learned Lie-algebra generators L_i = U_i V_i", "Dehmamy et al. 2021 (L-conv)"),
      info("lconv-random", "L-conv with frozen random generators", "baseline, Dehmamy et al. 2021"),
      info("cnn", "3x3 convolutions (the shift symmetry given)", "baseline"),
      info("fc", "dense HW*C -> HW*F layers: no weight sharing", "baseline"),
      info("fc-shallow", "one hidden layer with as many parameters as lconv", "baseline, Dehmamy et al. 2021"),
  };
  f.trainer = [](const std::string& model) { return std::make_unique<ImageTrainer>(model); };
  f.eval = eval;
  f.inspect = inspect;
  return f;
}

}  // namespace symlearn::images
