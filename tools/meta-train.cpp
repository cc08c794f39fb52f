// meta-train: learn a symmetry (MSR) or a MAML baseline from many tasks.
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/meta_train.hpp"
#include "learn/model_file.hpp"
#include "learn/sharing_session.hpp"
#include "models/sharing.hpp"
#include "learn/supervised.hpp"
#include "models/lconv.hpp"
#include "learn/train_session.hpp"
#include "util/error.hpp"

#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "meta-train: meta-learn a model from many tasks with MAML (second order by default).\n"
      "msr-fc / msr-kron learn a symmetry matrix U shared by all tasks, vec(W) = U v, adapting only v\n"
      "(Zhou, Knowles, Finn 2021); maml-fc / maml-lc / maml-conv are MAML baselines that adapt every weight.\n"
      "sharing learns which weights to share, theta = A psi, on one dataset (sum-of-numbers, gaussian-sharing) by\n"
      "bi-level optimisation with implicit hypergradients (Yeh et al. 2022); sharing-oracle / -none / -all fix A.",
      "meta-train"};
  app.footer(
      "e.g.: meta-train --model msr-fc tasks.h5 -o model.h5\n"
      "      build/bin/gen-tasks locally-connected --tasks 2000 | meta-train --model msr-fc --steps 200 - | "
      "build/bin/eval --tasks tasks.h5 -\n"
      "      meta-train --model sharing sums.h5 -o sharing.h5   (sums.h5 from gen-tasks sum-of-numbers)\n"
      "See also: gen-tasks, eval, inspect-symmetry, prox-regularize");
  cli::init_app(app);
  cli::Common common;
  learn::SessionOptions s;
  cli::add_common(app, common, "meta-train");
  app.add_option("tasks", s.tasks_path, "Tasks file from gen-tasks ('-' = stdin)")->required();
  app.add_option("-o,--output", s.output, "Model file to write ('-' = stdout, never a terminal)")->capture_default_str();
  app.add_option("--model", s.kind,
                 "msr-fc | msr-kron | maml-fc | maml-lc | maml-conv | sharing | sharing-oracle | sharing-none |\n"
                 "sharing-all | lconv | lconv-random | cnn | fc | fc-shallow")->capture_default_str();
  app.add_option("--latent", s.latent, "msr-fc: columns k of U (default: kernel x rank of the data)");
  app.add_option("--kron-in", s.kron_in, "msr-kron: columns k1 of U1 (n x k1) (default: kernel x rank)");
  app.add_option("--kron-out", s.kron_out, "msr-kron: columns k2 of U2 (m x k2) (default: kernel x rank)");
  app.add_option("--kernel", s.kernel, "maml-lc / maml-conv: kernel size (default: the data's)");
  app.add_option("--u-init-std", s.u_init_std, "Std of U's initial entries")->capture_default_str();
  app.add_option("--steps", s.train.steps, "Outer steps")->capture_default_str();
  app.add_option("--meta-batch", s.train.meta_batch, "Tasks per outer step")->capture_default_str();
  app.add_option("--support", s.train.support, "Support examples per task (inner loop)")->capture_default_str();
  app.add_option("--query", s.train.query, "Query examples per task (outer loss)")->capture_default_str();
  app.add_option("--outer-lr", s.train.outer_lr, "Outer learning rate")->capture_default_str();
  app.add_option("--outer-opt", s.train.outer_opt, "Outer optimizer: adam | sgd")->capture_default_str();
  app.add_option("--inner-steps", s.train.inner.steps, "Inner SGD steps")->capture_default_str();
  app.add_option("--inner-lr", s.inner_lr, "Inner learning rate (its initial value when learned)")->capture_default_str();
  app.add_option("--inner-lr-mode", s.lr_mode, "fixed | layer (one learned per layer) | param (one per weight)")
      ->capture_default_str();
  app.add_flag("--first-order", s.train.inner.first_order, "First-order MAML: drop the second-order term");
  app.add_option("--engine", s.train.engine,
                 "auto: a fused hand-derived kernel for msr-fc with 1 inner step, autodiff otherwise; "
                 "autodiff: always the general path")
      ->capture_default_str();
  app.add_option("--prox", s.prox_op,
                 "After every outer update apply a proximal step to U: l1 | group | exclusive | combined "
                 "(step = --outer-lr; exact proximal gradient with --outer-opt sgd)");
  app.add_option("--prox-lambda", s.train.prox.spec.lambda, "Strength λ of the proximal step")->capture_default_str();
  app.add_option("--prox-groups", s.train.prox.groups, "Groups: input | output | latent | row | FILE of ids")
      ->capture_default_str();
  app.add_option("--prox-group-weight", s.train.prox.spec.group_weight, "combined: weight of the group term")
      ->capture_default_str();
  app.add_option("--prox-exclusive-weight", s.train.prox.spec.exclusive_weight,
                 "combined: weight of the exclusive term")
      ->capture_default_str();
  app.add_option("--train-tasks", s.train.train_tasks,
                 "Use only the first N tasks of /train, validation tasks included (0: all)")
      ->capture_default_str();
  app.add_option("--val-tasks", s.train.val_tasks, "Training tasks held out for validation (the last ones)")
      ->capture_default_str();
  app.add_option("--val-every", s.train.val_every, "Validate every N outer steps")->capture_default_str();
  app.add_option("--checkpoint", s.checkpoint, "Checkpoint file (default: OUTPUT.ckpt when -o is a file)");
  app.add_option("--checkpoint-every", s.checkpoint_every, "Write a checkpoint every N steps (0: only on Ctrl-C)")
      ->capture_default_str();
  app.add_option("--resume", s.resume, "Continue from a checkpoint or model file (its options are used; --steps may extend)");

  // Learned parameter sharing (--model sharing…): bi-level options.
  learn::SharingSessionOptions sh;
  auto* og = "Learned sharing (sharing, sharing-oracle, sharing-none, sharing-all)";
  app.add_option("--embed", sh.embed, "sharing: token embedding size D")->capture_default_str()->group(og);
  app.add_option("--hidden", sh.hidden, "sharing: hidden units H per position; fc-shallow: hidden width (0: match lconv's parameter count)")->capture_default_str()->group(og);
  app.add_option("--outer-steps", sh.train.outer_steps, "sharing: outer (hypergradient) steps per start")
      ->capture_default_str()->group(og);
  app.add_option("--inner-warmup", sh.train.inner_warmup, "sharing: inner Adam steps before the first hypergradient")
      ->capture_default_str()->group(og);
  app.add_option("--weight-decay", sh.train.weight_decay, "sharing: L2 weight wd/2 |w|^2 in the inner objective")
      ->capture_default_str()->group(og);
  app.add_option("--ridge", sh.train.ridge, "sharing on gaussian-sharing: ridge on psi in the closed-form inner fit")
      ->capture_default_str()->group(og);
  app.add_option("--hypergrad", sh.train.hypergrad.method, "sharing: exact | cg | neumann | identity")
      ->transform(CLI::CheckedTransformer(std::map<std::string, learn::HypergradMethod>{
          {"exact", learn::HypergradMethod::exact}, {"cg", learn::HypergradMethod::cg},
          {"neumann", learn::HypergradMethod::neumann}, {"identity", learn::HypergradMethod::identity}}))
      ->group(og);
  app.add_option("--hypergrad-iterations", sh.train.hypergrad.iterations, "sharing: CG iterations / Neumann terms")
      ->capture_default_str()->group(og);
  app.add_option("--hypergrad-damping", sh.train.hypergrad.damping, "sharing: delta in (H + delta I) v = g")
      ->capture_default_str()->group(og);
  app.add_option("--neumann-alpha", sh.train.hypergrad.neumann_alpha, "sharing: alpha of the Neumann series")
      ->capture_default_str()->group(og);
  app.add_option("--logit-init-std", sh.train.logit_init_std, "sharing: std of the initial logits of A")
      ->capture_default_str()->group(og);
  app.add_option("--entropy", sh.train.entropy, "sharing: weight of the row-entropy penalty on A (toward one-hot)")
      ->capture_default_str()->group(og);
  app.add_option("--nuclear", sh.train.nuclear, "sharing: weight of the nuclear-norm penalty on A (toward few groups)")
      ->capture_default_str()->group(og);
  app.add_option("--restarts", sh.train.restarts, "sharing: random starts; the best on /hyper wins")
      ->capture_default_str()->group(og);
  app.add_option("--final-steps", sh.train.final_steps, "sharing: most Adam steps of the final fit on train+val")
      ->capture_default_str()->group(og);
  app.add_option("--eval-every", sh.train.eval_every, "sharing: final fit: evaluate /hyper every N steps")
      ->capture_default_str()->group(og);
  app.add_option("--patience", sh.train.patience, "sharing: final fit: stop after N evaluations without improvement")
      ->capture_default_str()->group(og);

  // ---- image classifiers on gen-tasks rotated-scrambled data (L-conv, issue 7) ----
  learn::ClassifierSessionOptions img;
  app.add_option("--epochs", img.train.epochs, "Image models: epochs over /train")->capture_default_str()->group("Image models");
  app.add_option("--batch", img.train.batch, "Image models: mini-batch size")->capture_default_str()->group("Image models");
  app.add_option("--lr", img.train.lr, "Image models: learning rate")->capture_default_str()->group("Image models");
  app.add_option("--optimizer", img.train.optimizer, "Image models: adam | rmsprop")->capture_default_str()->group("Image models");
  app.add_option("--layers", img.arch.layers, "Image models: L-conv / conv / fc layers (1 or 2)")->capture_default_str()->group("Image models");
  app.add_option("--filters", img.arch.filters, "Image models: channels F of each layer")->capture_default_str()->group("Image models");
  app.add_option("--generators", img.arch.generators, "lconv: learned generators L_i (plus L_0 = I)")->capture_default_str()->group("Image models");
  app.add_option("--rank", img.arch.rank, "lconv: rank d_h of each L_i = U_i V_i")->capture_default_str()->group("Image models");
  app.add_option("--train-examples", img.train.train_limit, "Image models: use only the first N training images (0: all)")->capture_default_str()->group("Image models");
  app.add_option("--checkpoint-batches", img.checkpoint_every, "Image models: write a checkpoint every N mini-batches (0: only at Ctrl-C)")->capture_default_str()->group("Image models");

  return cli::run_tool("meta-train", app, argc, argv, [&] {
    if (models::is_image_kind(s.kind) || (!s.resume.empty() && app.count("--model") == 0 && learn::is_image_model_file(s.resume))) {
      img.tasks_path = s.tasks_path;
      img.output = s.output;
      img.arch.kind = s.kind;
      img.train.seed = common.seed;
      img.checkpoint = s.checkpoint;
      img.resume = s.resume;
      img.epochs_given = app.count("--epochs") > 0;
      img.quiet = common.quiet;
      img.arch.hidden = app.count("--hidden") ? sh.hidden : 0;
      if (common.json && io::is_stdio(img.output)) throw InputError("--json needs -o FILE: stdout carries the model");
      const nlohmann::json summary = learn::run_classifier_training(img);
      if (common.json) std::cout << summary.dump(2) << std::endl;
      return;
    }
    if (models::is_sharing_kind(s.kind)) {
      // --outer-lr, --inner-lr and --inner-steps keep their meaning; their defaults differ from MAML's.
      if (app.count("--outer-lr")) sh.train.outer_lr = s.train.outer_lr;
      if (app.count("--inner-lr")) sh.train.inner_lr = s.inner_lr;
      if (app.count("--inner-steps")) sh.train.inner_steps = s.train.inner.steps;
      sh.train.seed = common.seed;
      sh.tasks_path = s.tasks_path;
      sh.output = s.output;
      sh.kind = s.kind;
      sh.quiet = common.quiet;
      if (common.json && io::is_stdio(sh.output)) throw InputError("--json needs -o FILE: stdout carries the model");
      const nlohmann::json summary = learn::run_sharing_train(sh);
      if (common.json) std::cout << summary.dump(2) << std::endl;
      return;
    }
    s.train.seed = common.seed;
    s.threads = cli::resolve_threads(common.threads);
    s.quiet = common.quiet;
    s.steps_given = app.count("--steps") > 0;
    if (common.json && io::is_stdio(s.output)) throw InputError("--json needs -o FILE: stdout carries the model");
    const nlohmann::json summary = learn::run_meta_train(s);
    if (common.json) std::cout << summary.dump(2) << std::endl;
  });
}
