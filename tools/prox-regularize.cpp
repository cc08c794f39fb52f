// prox-regularize: a proximal sparsity step on a model's symmetry matrices.
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "methods/registry.hpp"
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
      "      build/bin/meta-train msr-fc tasks.h5 | prox-regularize --op group --lambda 0.01 - |"
      " build/bin/eval --tasks tasks.h5 -\n"
      "See also: meta-train (--prox), eval, inspect-symmetry");
  cli::init_app(app);
  cli::Common common;
  methods::RegularizeRequest q;
  cli::add_common(app, common, "prox-regularize");
  app.add_option("model", q.model_path, "Model file ('-' = stdin)")->required();
  app.add_option("-o,--output", q.output, "Model file to write ('-' = stdout, never a terminal)")->capture_default_str();
  app.add_option("--op", q.op, "l1 | group | exclusive | combined")->capture_default_str();
  app.add_option("--lambda", q.spec.lambda, "Strength lambda")->required();
  app.add_option("--step", q.spec.step, "Step s (the prox is taken with t = lambda * s)")->capture_default_str();
  app.add_option("--groups", q.groups, "input | output | latent | row | FILE of group ids")->capture_default_str();
  app.add_option("--param", q.param, "Only this parameter (default: every parameter whose role is symmetry)");
  app.add_option("--group-weight", q.spec.group_weight, "combined: weight a of the group term")->capture_default_str();
  app.add_option("--exclusive-weight", q.spec.exclusive_weight, "combined: weight b of the exclusive term")
      ->capture_default_str();
  app.add_option("--truth", q.truth_path, "Tasks file of the data: also report the share of U's L1 mass on the true band");

  return cli::run_tool("prox-regularize", app, argc, argv, [&] {
    if (common.json && io::is_stdio(q.output)) throw InputError("--json needs -o FILE: stdout carries the model");
    q.spec.op = prox::op_from_name(q.op);
    if (!(q.spec.lambda >= 0) || !(q.spec.step >= 0)) throw InputError("--lambda and --step must be >= 0");
    if (!(q.spec.group_weight >= 0) || !(q.spec.exclusive_weight >= 0))
      throw InputError("--group-weight and --exclusive-weight must be >= 0");
    q.created_by = cli::created_by("prox-regularize");
    io::Reader in(q.model_path, "model");
    const methods::Family& family = methods::family_of(in);
    if (!family.regularize) {
      std::string applies;
      for (const auto& f : methods::families())
        for (const auto& m : f.models)
          if (f.regularize) applies += (applies.empty() ? "" : ", ") + m.name;
      throw InputError(in.name() + ": a " + learn::ModelReader(in).model() +
                       " model has no symmetry matrices to sparsify (prox-regularize applies to " + applies + ")");
    }
    const nlohmann::json params = family.regularize(in, q);
    for (const auto& r : params) {
      if (common.quiet) break;
      char line[320];
      std::snprintf(line, sizeof line,
                    "prox-regularize: %s [%ldx%ld]: %s, lambda %g, step %g, %ld %s groups: sparsity %.3f -> %.3f",
                    r["param"].get<std::string>().c_str(), r["shape"][0].get<long>(), r["shape"][1].get<long>(),
                    q.op.c_str(), q.spec.lambda, q.spec.step, r["groups"].get<long>(), q.groups.c_str(),
                    r["sparsity_before"].get<double>(), r["sparsity_after"].get<double>());
      std::string text = line;
      if (r.contains("band_l1_before")) {
        std::snprintf(line, sizeof line, "; L1 mass on the true band %.3f -> %.3f", r["band_l1_before"].get<double>(),
                      r["band_l1_after"].get<double>());
        text += line;
      }
      std::cerr << text << std::endl;
    }
    if (common.json) std::cout << nlohmann::json{{"op", q.op}, {"params", params}}.dump(2) << std::endl;
  });
}
