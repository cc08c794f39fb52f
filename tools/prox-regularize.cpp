// prox-regularize: a proximal sparsity step on a model's symmetry matrices.
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "prox/regularize.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "prox-regularize: apply a proximal sparsity operator to every symmetry parameter of a model\n"
      "(or to --param NAME) and write a new model file; other parameters are untouched and the step\n"
      "is appended to the model's provenance. prox(z) = argmin_w 1/2|w - z|^2 + lambda*step*Omega(w).",
      "prox-regularize"};
  app.footer(
      "Operators (Omega over groups g): l1 sum|w|; group sum_g |w_g|_2; exclusive 1/2 sum_g (sum_i |w_gi|)^2;\n"
      "combined a*group + b*exclusive. Groups for msr-fc's U: input (the entries producing W[:, j]),\n"
      "output (W[i, :]), latent (a column of U), row, or a file of ids (text or HDF5 /groups).\n"
      "e.g.: prox-regularize --op exclusive --lambda 1e-3 model.h5 -o sparse.h5\n"
      "      build/bin/meta-train --model msr-fc tasks.h5 | prox-regularize --op group --lambda 0.01 - |"
      " build/bin/eval --tasks tasks.h5 -\n"
      "See also: meta-train (--prox), eval, inspect-symmetry");
  cli::init_app(app);
  cli::Common common;
  std::string model_path, output = "-", truth, op = "exclusive";
  prox::Options opt;
  cli::add_common(app, common, "prox-regularize");
  app.add_option("model", model_path, "Model file ('-' = stdin)")->required();
  app.add_option("-o,--output", output, "Model file to write ('-' = stdout, never a terminal)")->capture_default_str();
  app.add_option("--op", op, "l1 | group | exclusive | combined")->capture_default_str();
  app.add_option("--lambda", opt.spec.lambda, "Strength lambda")->required();
  app.add_option("--step", opt.spec.step, "Step s (the prox is taken with t = lambda * s)")->capture_default_str();
  app.add_option("--groups", opt.groups, "input | output | latent | row | FILE of group ids")->capture_default_str();
  app.add_option("--param", opt.param, "Only this parameter (default: every parameter whose role is symmetry)");
  app.add_option("--group-weight", opt.spec.group_weight, "combined: weight a of the group term")->capture_default_str();
  app.add_option("--exclusive-weight", opt.spec.exclusive_weight, "combined: weight b of the exclusive term")
      ->capture_default_str();
  app.add_option("--truth", truth, "Tasks file of the data: also report the share of U's L1 mass on the true band");

  return cli::run_tool("prox-regularize", app, argc, argv, [&] {
    if (common.json && io::is_stdio(output)) throw InputError("--json needs -o FILE: stdout carries the model");
    opt.spec.op = prox::op_from_name(op);
    if (!(opt.spec.lambda >= 0) || !(opt.spec.step >= 0)) throw InputError("--lambda and --step must be >= 0");
    io::Reader in(model_path, "model");
    learn::LoadedModel model = learn::load_model(in);
    int kernel = 0;
    if (!truth.empty()) {
      io::Reader t(truth, "tasks");
      kernel = t.config().value("kernel", 0);
      if (t.config().value("input_dim", 0) != model.state.model.arch.input_dim)
        throw InputError(t.name() + ": its input dimension does not match the model's");
    }
    const auto reports = prox::regularize(model.state.model, opt, kernel);
    nlohmann::json provenance = model.config.value("provenance", nlohmann::json::array());
    nlohmann::json step = opt.to_json();
    step["tool"] = cli::created_by("prox-regularize");
    step["input"] = model_path;
    provenance.push_back(step);
    learn::save_model(output, cli::created_by("prox-regularize"), model.state, model.dataset, provenance);

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
      if (!common.quiet) {
        char line[320];
        std::snprintf(line, sizeof line, "prox-regularize: %s [%ldx%ld]: %s, lambda %g, step %g, %ld %s groups: "
                      "sparsity %.3f -> %.3f", r.name.c_str(), r.rows, r.cols, op.c_str(), opt.spec.lambda,
                      opt.spec.step, r.groups, opt.groups.c_str(), r.sparsity_before, r.sparsity_after);
        std::string text = line;
        if (r.band_before >= 0) {
          std::snprintf(line, sizeof line, "; L1 mass on the true band %.3f -> %.3f", r.band_before, r.band_after);
          text += line;
        }
        std::cerr << text << std::endl;
      }
    }
    if (common.json) std::cout << nlohmann::json{{"op", op}, {"params", js}}.dump(2) << std::endl;
  });
}
