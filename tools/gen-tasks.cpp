// gen-tasks: write synthetic task datasets (HDF5) for symmetry learning.
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "tasks/images.hpp"
#include "tasks/locally_connected.hpp"
#include "tasks/sharing_tasks.hpp"
#include "tasks/summary.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "gen-tasks: write a synthetic task dataset (HDF5) for symmetry learning.\n"
      "Choose a kind; each kind has its own --help.",
      "gen-tasks"};
  app.footer(
      "e.g.: gen-tasks locally-connected --rank 2 --seed 1 -o tasks.h5\n"
      "      gen-tasks sum-of-numbers --rank 2 --seed 1 -o sums.h5\n"
      "See also: meta-train, eval, inspect-symmetry");
  cli::init_app(app);
  app.require_subcommand(1);
  cli::Common common;
  std::string output = "-";
  app.set_version_flag("--version", cli::created_by("gen-tasks"));
  // --config belongs to the top level (CLI11 reads config files there); the
  // options of a kind go in its section, e.g. [locally-connected].
  app.set_config("--config", "", "Read options from a TOML/INI file; a kind's options go in its [section]");
  app.fallthrough();

  tasks::LocallyConnectedSpec lc;
  auto* lc_cmd = app.add_subcommand(
      "locally-connected",
      "1-D regression tasks made by locally connected layers (MSR, Zhou et al. 2021):\n"
      "x ~ N(0, I_n), y_j = sum_t F[j,t] x[j+t] (+ noise); rank 1 = one convolution filter per task,\n"
      "rank r = F = C B with a connectivity C shared by the dataset and a basis B per task.");
  lc_cmd->footer(
      "Writes /train and /test (x [T,N,n], y [T,N,m], w [T,m,s], b [T,r,s]) and /truth (connectivity,\n"
      "symmetry: the true U with vec(W) = U vec(B)).\n"
      "e.g.: gen-tasks locally-connected --rank 1 --kernel 3 --tasks 2000 -o tasks.h5\n"
      "      gen-tasks locally-connected --rank 2 | meta-train --model msr-fc - -o model.h5   (pipes carry HDF5)");
  lc_cmd->add_option("--rank", lc.rank, "Rank r of the filters across positions (1: a convolution)")
      ->capture_default_str();
  lc_cmd->add_option("--kernel", lc.kernel, "Kernel size s")->capture_default_str();
  lc_cmd->add_option("--input-dim", lc.input_dim, "Input dimension n (output m = n - s + 1)")
      ->capture_default_str();
  lc_cmd->add_option("--tasks", lc.tasks, "Number of tasks in all")->capture_default_str();
  lc_cmd->add_option("--samples", lc.samples, "Examples per task")->capture_default_str();
  lc_cmd->add_option("--test-fraction", lc.test_fraction, "Share of tasks (the last ones) that form /test")
      ->capture_default_str();
  lc_cmd->add_option("--noise", lc.noise, "Std of Gaussian noise added to y")->capture_default_str();
  lc_cmd->add_flag("--permute-inputs", lc.permute_inputs,
                   "Control without shared structure: permute each task's inputs at random after computing y\n"
                   "(recorded in /train/permutation, /test/permutation)");

  tasks::SumOfNumbersSpec son;
  auto* son_cmd = app.add_subcommand(
      "sum-of-numbers",
      "Sequences of L digits 1..9 labelled by a weighted sum y = sum_p w_p x_p whose weights follow a\n"
      "known sharing (Yeh et al. 2022): rank 1 = every weight 1; rank 2 = even positions (0, 2, ...)\n"
      "weigh --w-scale, odd positions 1. Labels of /train, /val, /hyper get uniform noise in [-a, a].");
  son_cmd->footer(
      "Writes /train, /val, /hyper, /test (x int64 [1,N,L], y float64 [1,N,1], words string [1,N,L])\n"
      "and /truth (sharing [L,L] with one-hot rows, weights [L]); /test labels carry no noise.\n"
      "e.g.: gen-tasks sum-of-numbers --rank 2 --seed 1 -o sums.h5\n"
      "      gen-tasks sum-of-numbers --test 5 -o small.h5 && h5dump -d /test/words small.h5");
  son_cmd->add_option("--length", son.length, "Tokens per sequence L")->capture_default_str();
  son_cmd->add_option("--rank", son.rank, "Rank of the true sharing: 1 (all weights 1) or 2 (even/odd)")
      ->capture_default_str();
  son_cmd->add_option("--w-scale", son.w_scale, "Rank 2: the weight of the even positions")->capture_default_str();
  son_cmd->add_option("--noise", son.noise, "a: label noise uniform in [-a, a] (not on /test)")
      ->capture_default_str();
  son_cmd->add_option("--train", son.train, "Examples in /train")->capture_default_str();
  son_cmd->add_option("--val", son.val, "Examples in /val")->capture_default_str();
  son_cmd->add_option("--hyper", son.hyper, "Examples in /hyper")->capture_default_str();
  son_cmd->add_option("--test", son.test, "Examples in /test")->capture_default_str();

  tasks::GaussianSharingSpec gs;
  auto* gs_cmd = app.add_subcommand(
      "gaussian-sharing",
      "Vectors x ~ N(theta, sigma^2 I_K) whose means are shared by a known sharing of given rank\n"
      "(Yeh et al. 2022): theta = A_gt psi, psi_j = 3 (j+1), coordinates assigned to the groups at\n"
      "random with every group used. Unsupervised mean estimation: there is no y.");
  gs_cmd->footer(
      "Writes /train, /val, /test (x float64 [1,N,K]) and /truth (sharing [K,K] with one-hot rows,\n"
      "psi [K], zero beyond the rank, means [K] = theta).\n"
      "e.g.: gen-tasks gaussian-sharing --dim 10 --rank 3 --seed 1 -o gauss.h5");
  gs_cmd->add_option("--dim", gs.dim, "Dimension K")->capture_default_str();
  gs_cmd->add_option("--rank", gs.rank, "Number of groups of shared means, 1..K")->capture_default_str();
  gs_cmd->add_option("--sigma", gs.sigma, "Standard deviation of every coordinate")->capture_default_str();
  gs_cmd->add_option("--train", gs.train, "Examples in /train")->capture_default_str();
  gs_cmd->add_option("--val", gs.val, "Examples in /val")->capture_default_str();
  gs_cmd->add_option("--test", gs.test, "Examples in /test")->capture_default_str();


  // ---- rotated-scrambled (L-conv, issue 7) ----
  tasks::RotatedScrambledSpec rs;
  auto* rs_cmd = app.add_subcommand(
      "rotated-scrambled",
      "Image classification (L-conv, Dehmamy et al. 2021): each image turned by its own angle in [-90, 90) degrees\n"
      "(bilinear, border pixels extended), then every image's pixels permuted by one fixed random permutation.");
  rs_cmd->footer(
      "Writes /train and /test (x [1,N,H*W*C] float32, channels last, y [1,N] int64 labels) and /truth\n"
      "(permutation [H*W]: stored pixel k is rotated pixel permutation[k]; train_angle, test_angle in degrees).\n"
      "e.g.: gen-tasks rotated-scrambled --rotate --scramble --seed 1 -o glyphs.h5\n"
      "      gen-tasks rotated-scrambled --source fashion-mnist --rotate --scramble --train 10000 -o fmnist.h5");
  rs_cmd->add_option("--source", rs.source,
                     "builtin (ten classes of drawn glyphs) | fashion-mnist (Debian dataset-fashion-mnist) |\n"
                     "idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS] (IDX files, gzipped or not)")
      ->capture_default_str();
  rs_cmd->add_flag("--rotate", rs.rotate, "Turn each image by a uniform random angle in [-90, 90) degrees");
  rs_cmd->add_flag("--scramble", rs.scramble, "Permute the pixels of every image by one fixed random permutation");
  rs_cmd->add_option("--train", rs.train, "Training images (default: the source's split; builtin 4000)");
  rs_cmd->add_option("--test", rs.test, "Test images (default: the source's split; builtin 1000)");
  rs_cmd->add_option("--size", rs.size, "builtin: image side in pixels")->capture_default_str();

  for (auto* cmd : {lc_cmd, son_cmd, gs_cmd, rs_cmd}) {
    cmd->add_option("-o,--output", output, "Output file ('-' = stdout, never a terminal)")->capture_default_str();
    cli::add_common(*cmd, common, "gen-tasks");
  }

  return cli::run_tool("gen-tasks", app, argc, argv, [&] {
    if (common.json && io::is_stdio(output))
      throw InputError("--json needs -o FILE: stdout already carries the HDF5 data");
    if (rs_cmd->parsed()) {
      rs.seed = common.seed;
      rs.validate();
      io::Writer out(output, "tasks", cli::created_by("gen-tasks"), rs.config());
      const tasks::RotatedScrambledStats st = tasks::write_rotated_scrambled(rs, out);
      const std::uint64_t bytes = out.commit();
      nlohmann::json j = {{"kind", "rotated-scrambled"}, {"train", st.train}, {"test", st.test}, {"height", st.height},
                          {"width", st.width}, {"channels", st.channels}, {"classes", st.classes},
                          {"bytes", bytes}, {"output", output}, {"peak_rss_mib", cli::peak_rss_mib()}};
      if (!common.quiet)
        std::cerr << "gen-tasks: rotated-scrambled " << st.train << " + " << st.test << " images " << st.height << "x"
                  << st.width << "x" << st.channels << ", " << st.classes << " classes, " << cli::human_bytes(double(bytes))
                  << std::endl;
      if (common.json) std::cout << j.dump(2) << std::endl;
      return;
    }
    // Each kind: its config, the number of tasks it writes, and the writer.
    nlohmann::json config;
    long n_tasks = 1;  // the single-dataset kinds write T = 1
    std::function<void(io::Writer&)> generate;
    if (son_cmd->parsed()) {
      son.seed = common.seed;
      son.validate();
      config = son.config();
      generate = [&](io::Writer& out) { tasks::write_sum_of_numbers(son, out); };
    } else if (gs_cmd->parsed()) {
      gs.seed = common.seed;
      gs.validate();
      config = gs.config();
      generate = [&](io::Writer& out) { tasks::write_gaussian_sharing(gs, out); };
    } else {
      lc.seed = common.seed;
      lc.validate();
      config = lc.config();
      n_tasks = lc.tasks;
      generate = [&](io::Writer& out) {
        cli::Progress bar("gen-tasks", static_cast<std::uint64_t>(lc.tasks), !common.quiet);
        tasks::write_locally_connected(lc, out, cli::resolve_threads(common.threads),
                                       [&](long done) { bar.update(static_cast<std::uint64_t>(done)); });
        bar.finish();
      };
    }
    const auto start = std::chrono::steady_clock::now();
    io::Writer out(output, "tasks", cli::created_by("gen-tasks"), config);
    generate(out);
    tasks::WriteStats st;
    st.output = output;
    st.bytes = out.commit();
    st.tasks = n_tasks;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    st.peak_rss_mib = cli::peak_rss_mib();
    if (!common.quiet) std::cerr << "gen-tasks: " << tasks::summary_line(config, st) << std::endl;
    if (common.json) std::cout << tasks::summary_json(config, st).dump(2) << std::endl;
  });
}
