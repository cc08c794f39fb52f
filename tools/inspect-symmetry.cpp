// inspect-symmetry: did the model find the symmetry? The model file says
// which family it belongs to, and the family what to report (lib/methods/registry).
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "methods/registry.hpp"
#include "plot/image.hpp"
#include "util/error.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "inspect-symmetry: report on the symmetry parameters (role `symmetry`) of a model file: norms, sparsity,\n"
      "|u| histogram, singular values; for MSR's U the m x n weight-sharing map, its rows grouped by direction and,\n"
      "with --truth, the mass on the true band and the partition distance to the true tying (rank-1 data);\n"
      "for square matrices symmetric/skew shares, Toeplitz and circulant scores, invertibility and cyclic order;\n"
      "for generators L0, L1, ... the closure of their commutators; for a learned-sharing model (sharing,\n"
      "sharing-oracle, sharing-none, sharing-all) the groups of positions of A (row argmax), how decided its rows are\n"
      "and, with a sum-of-numbers or gaussian-sharing --truth, the partition distance to the true groups; for an\n"
      "L-conv model the structure of its learned generators.",
      "inspect-symmetry"};
  app.footer(
      "e.g.: inspect-symmetry model.h5 --truth tasks.h5 --png model.png\n"
      "      build/bin/meta-train msr-fc tasks.h5 | inspect-symmetry --json -\n"
      "Rows of U tie when |cos| > --cos-threshold (u and -u alike); rows below --zero-row of the largest row norm\n"
      "count as near zero. The convolution counts as recovered when the band mass exceeds 0.9 and the partition\n"
      "distance is 0; a learned sharing counts as recovered when its groups' partition distance to /truth/sharing\n"
      "is 0. A heatmap prints below the report when stdout is a terminal (not with NO_COLOR set).\n"
      "See also: meta-train, prox-regularize, eval");
  cli::init_app(app);
  cli::Common common;
  std::string model_path, png;
  methods::InspectRequest q;
  cli::add_common(app, common, "inspect-symmetry");
  app.add_option("model", model_path, "Model file from meta-train or prox-regularize ('-' = stdin)")->required();
  app.add_option("--truth", q.truth_path, "Tasks file whose /truth to compare with ('-' = stdin)");
  app.add_option("--png", png, "Write a figure (PNG) to this file ('-' = stdout, never a terminal)");
  app.add_option("--order", q.options.order, "Also test A^p = I at this p for square matrices (e.g. a cyclic group's order)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--cos-threshold", q.options.cos_threshold, "Rows of U tie when |cos| exceeds this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--zero-row", q.options.zero_row, "Rows of U below this fraction of the largest row norm are near zero")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();

  return cli::run_tool("inspect-symmetry", app, argc, argv, [&] {
    if (io::is_stdio(model_path) && io::is_stdio(q.truth_path))
      throw InputError("the model and the truth cannot both come from stdin");
    if (io::is_stdio(png) && common.json) throw InputError("--json and --png - both want stdout");
    q.figure = !png.empty();
    io::Reader model(model_path, "model");
    const methods::Inspection r = methods::family_of(model).inspect(model, q);
    nlohmann::json j = r.json;
    if (r.figure) {
      plot::write_png(png, r.figure->image);
      j["figure"] = r.figure->layout();
      j["figure"]["file"] = png;
    }
    if (common.json) {
      std::cout << j.dump(2) << std::endl;
    } else if (!io::is_stdio(png)) {
      std::cout << r.text;
      if (isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR")) std::cout << r.heatmaps;
      std::cout.flush();
    }
  });
}
