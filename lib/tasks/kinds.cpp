#include "tasks/kinds.hpp"

#include "cli/cli.hpp"
#include "util/error.hpp"
#include "util/human_bytes.hpp"
#include "io/h5.hpp"
#include "tasks/generator_pairs.hpp"
#include "tasks/images.hpp"
#include "tasks/lgn_patches.hpp"
#include "tasks/locally_connected.hpp"
#include "tasks/sharing_tasks.hpp"
#include "tasks/summary.hpp"

#include <chrono>
#include <functional>

namespace symlearn::tasks {

namespace {

const char* const kTool = "gen-tasks";  // recorded as created_by, labels the progress bar

// The kinds that report through tasks/summary.hpp: writes the file with
// `generate` and times it; `n_tasks` is the T the throughput counts.
KindResult write_with_summary(const KindContext& c, const nlohmann::json& config, long n_tasks,
                              const std::function<void(io::Writer&)>& generate) {
  const auto start = std::chrono::steady_clock::now();
  io::Writer out(c.output, "tasks", cli::created_by(kTool), config);
  generate(out);
  WriteStats st;
  st.output = c.output;
  st.bytes = out.commit();
  st.tasks = n_tasks;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  st.peak_rss_mib = cli::peak_rss_mib();
  return {summary_json(config, st), summary_line(config, st)};
}

class LocallyConnected : public Kind {
 public:
  std::string name() const override { return "locally-connected"; }
  std::string description() const override {
    return "1-D regression tasks made by locally connected layers (MSR, Zhou et al. 2021):\n"
           "x ~ N(0, I_n), y_j = sum_t F[j,t] x[j+t] (+ noise); rank 1 = one convolution filter per task,\n"
           "rank r = F = C B with a connectivity C shared by the dataset and a basis B per task.";
  }
  std::string footer() const override {
    return "Writes /train and /test (x [T,N,n], y [T,N,m], w [T,m,s], b [T,r,s]) and /truth (connectivity,\n"
           "symmetry: the true U with vec(W) = U vec(B)).\n"
           "e.g.: gen-tasks locally-connected --rank 1 --kernel 3 --tasks 2000 -o tasks.h5\n"
           "      gen-tasks locally-connected --rank 2 | meta-train msr-fc - -o model.h5   (pipes carry HDF5)";
  }
  void add_options(CLI::App& app) override {
    app.add_option("--rank", spec_.rank, "Rank r of the filters across positions (1: a convolution)")
        ->capture_default_str();
    app.add_option("--kernel", spec_.kernel, "Kernel size s")->capture_default_str();
    app.add_option("--input-dim", spec_.input_dim, "Input dimension n (output m = n - s + 1)")
        ->capture_default_str();
    app.add_option("--tasks", spec_.tasks, "Number of tasks in all")->capture_default_str();
    app.add_option("--samples", spec_.samples, "Examples per task")->capture_default_str();
    app.add_option("--test-fraction", spec_.test_fraction, "Share of tasks (the last ones) that form /test")
        ->capture_default_str();
    app.add_option("--noise", spec_.noise, "Std of Gaussian noise added to y")->capture_default_str();
    app.add_flag("--permute-inputs", spec_.permute_inputs,
                 "Control without shared structure: permute each task's inputs at random after computing y\n"
                 "(recorded in /train/permutation, /test/permutation)");
  }
  KindResult run(const KindContext& c) override {
    spec_.seed = c.seed;
    spec_.validate();
    // The only kind with many tasks, so the only one with a progress bar.
    return write_with_summary(c, spec_.config(), spec_.tasks, [&](io::Writer& out) {
      cli::Progress bar(kTool, static_cast<std::uint64_t>(spec_.tasks), !c.quiet);
      write_locally_connected(spec_, out, c.threads,
                              [&](long done) { bar.update(static_cast<std::uint64_t>(done)); });
      bar.finish();
    });
  }

 private:
  LocallyConnectedSpec spec_;
};

class SumOfNumbers : public Kind {
 public:
  std::string name() const override { return "sum-of-numbers"; }
  std::string description() const override {
    return "Sequences of L digits 1..9 labelled by a weighted sum y = sum_p w_p x_p whose weights follow a\n"
           "known sharing (Yeh et al. 2022): rank 1 = every weight 1; rank 2 = even positions (0, 2, ...)\n"
           "weigh --w-scale, odd positions 1. Labels of /train, /val, /hyper get uniform noise in [-a, a].";
  }
  std::string footer() const override {
    return "Writes /train, /val, /hyper, /test (x int64 [1,N,L], y float64 [1,N,1], words string [1,N,L])\n"
           "and /truth (sharing [L,L] with one-hot rows, weights [L]); /test labels carry no noise.\n"
           "e.g.: gen-tasks sum-of-numbers --rank 2 --seed 1 -o sums.h5\n"
           "      gen-tasks sum-of-numbers --test 5 -o small.h5 && h5dump -d /test/words small.h5";
  }
  void add_options(CLI::App& app) override {
    app.add_option("--length", spec_.length, "Tokens per sequence L")->capture_default_str();
    app.add_option("--rank", spec_.rank, "Rank of the true sharing: 1 (all weights 1) or 2 (even/odd)")
        ->capture_default_str();
    app.add_option("--w-scale", spec_.w_scale, "Rank 2: the weight of the even positions")->capture_default_str();
    app.add_option("--noise", spec_.noise, "a: label noise uniform in [-a, a] (not on /test)")
        ->capture_default_str();
    app.add_option("--train", spec_.train, "Examples in /train")->capture_default_str();
    app.add_option("--val", spec_.val, "Examples in /val")->capture_default_str();
    app.add_option("--hyper", spec_.hyper, "Examples in /hyper")->capture_default_str();
    app.add_option("--test", spec_.test, "Examples in /test")->capture_default_str();
  }
  KindResult run(const KindContext& c) override {
    spec_.seed = c.seed;
    spec_.validate();
    // One dataset: T = 1.
    return write_with_summary(c, spec_.config(), 1, [&](io::Writer& out) { write_sum_of_numbers(spec_, out); });
  }

 private:
  SumOfNumbersSpec spec_;
};

class GaussianSharing : public Kind {
 public:
  std::string name() const override { return "gaussian-sharing"; }
  std::string description() const override {
    return "Vectors x ~ N(theta, sigma^2 I_K) whose means are shared by a known sharing of given rank\n"
           "(Yeh et al. 2022): theta = A_gt psi, psi_j = 3 (j+1), coordinates assigned to the groups at\n"
           "random with every group used. Unsupervised mean estimation: there is no y.";
  }
  std::string footer() const override {
    return "Writes /train, /val, /test (x float64 [1,N,K]) and /truth (sharing [K,K] with one-hot rows,\n"
           "psi [K], zero beyond the rank, means [K] = theta).\n"
           "e.g.: gen-tasks gaussian-sharing --dim 10 --rank 3 --seed 1 -o gauss.h5";
  }
  void add_options(CLI::App& app) override {
    app.add_option("--dim", spec_.dim, "Dimension K")->capture_default_str();
    app.add_option("--rank", spec_.rank, "Number of groups of shared means, 1..K")->capture_default_str();
    app.add_option("--sigma", spec_.sigma, "Standard deviation of every coordinate")->capture_default_str();
    app.add_option("--train", spec_.train, "Examples in /train")->capture_default_str();
    app.add_option("--val", spec_.val, "Examples in /val")->capture_default_str();
    app.add_option("--test", spec_.test, "Examples in /test")->capture_default_str();
  }
  KindResult run(const KindContext& c) override {
    spec_.seed = c.seed;
    spec_.validate();
    // One dataset: T = 1.
    return write_with_summary(c, spec_.config(), 1, [&](io::Writer& out) { write_gaussian_sharing(spec_, out); });
  }

 private:
  GaussianSharingSpec spec_;
};

// L-conv (issue 7). Reports image counts and shapes rather than tasks/s.
class RotatedScrambled : public Kind {
 public:
  std::string name() const override { return "rotated-scrambled"; }
  std::string description() const override {
    return "Image classification (L-conv, Dehmamy et al. 2021): each image turned by its own angle in [-90, 90) "
           "degrees\n"
           "(border pixels extended), then every image's pixels permuted by one fixed random permutation.";
  }
  std::string footer() const override {
    return "Writes /train, /test and with --val-fraction /val (x [1,N,H*W*C] float32, channels last, y [1,N] int64\n"
           "labels) and /truth (permutation [H*W]: stored pixel k is rotated pixel permutation[k]; train_angle,\n"
           "test_angle, val_angle in degrees).\n"
           "--protocol dehmamy2021 = --interpolation cubic --pixels centered --val-fraction 0.2 (the authors' code;\n"
           "options given explicitly win).\n"
           "e.g.: gen-tasks rotated-scrambled --rotate --scramble --seed 1 -o glyphs.h5\n"
           "      gen-tasks rotated-scrambled --source fashion-mnist --protocol dehmamy2021 --rotate --scramble -o fm.h5";
  }
  void add_options(CLI::App& app) override {
    app.add_option("--source", spec_.source,
                   "builtin (ten classes of drawn glyphs) | fashion-mnist (Debian dataset-fashion-mnist) |\n"
                   "idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS] (IDX files, gzipped or not)")
        ->capture_default_str();
    app.add_flag("--rotate", spec_.rotate, "Turn each image by a uniform random angle in [-90, 90) degrees");
    app.add_flag("--scramble", spec_.scramble, "Permute the pixels of every image by one fixed random permutation");
    app.add_option("--train", spec_.train, "Training images (default: the source's split; builtin 4000)");
    app.add_option("--test", spec_.test, "Test images (default: the source's split; builtin 1000)");
    app.add_option("--size", spec_.size, "builtin: image side in pixels")->capture_default_str();
    app.add_option("--protocol", protocol_, "symlearn | dehmamy2021 (sets the three options below)")
        ->check(CLI::IsMember({"symlearn", "dehmamy2021"}))
        ->capture_default_str();
    interp_ = app.add_option("--interpolation", spec_.interpolation, "Rotation: bilinear | cubic (B-spline, scipy order 3)")
                  ->capture_default_str();
    pixels_ = app.add_option("--pixels", spec_.pixels, "Pixel values: unit [0, 1] | centered [-0.5, 0.5]")
                  ->capture_default_str();
    val_ = app.add_option("--val-fraction", spec_.val_fraction,
                          "Write the last share of the training images as /val (Keras's validation_split)")
               ->capture_default_str();
  }
  KindResult run(const KindContext& c) override {
    if (protocol_ == "dehmamy2021") {
      if (!interp_->count()) spec_.interpolation = "cubic";
      if (!pixels_->count()) spec_.pixels = "centered";
      if (!val_->count()) spec_.val_fraction = 0.2;
    }
    spec_.seed = c.seed;
    spec_.validate();
    io::Writer out(c.output, "tasks", cli::created_by(kTool), spec_.config());
    const RotatedScrambledStats st = write_rotated_scrambled(spec_, out);
    const std::uint64_t bytes = out.commit();
    KindResult r;
    r.json = {{"kind", "rotated-scrambled"}, {"train", st.train}, {"val", st.val}, {"test", st.test}, {"height", st.height},
              {"width", st.width}, {"channels", st.channels}, {"classes", st.classes},
              {"bytes", bytes}, {"output", c.output}, {"peak_rss_mib", cli::peak_rss_mib()}};
    r.line = "rotated-scrambled " + std::to_string(st.train) + (st.val ? " + " + std::to_string(st.val) + " val" : "") +
             " + " + std::to_string(st.test) + " images " +
             std::to_string(st.height) + "x" + std::to_string(st.width) + "x" + std::to_string(st.channels) + ", " +
             std::to_string(st.classes) + " classes, " + human_bytes(double(bytes));
    return r;
  }

 private:
  RotatedScrambledSpec spec_;
  std::string protocol_ = "symlearn";
  CLI::Option *interp_ = nullptr, *pixels_ = nullptr, *val_ = nullptr;
};

// Generator discovery with a ground truth (issue 16).
class GeneratorPairsKind : public Kind {
 public:
  std::string name() const override { return "generator-pairs"; }
  std::string description() const override {
    return "Pairs (x, G_t x) for discovering a Lie generator with the answer known (L-conv, Dehmamy et al. 2021,\n"
           "appendix C): random images turned by t degrees, or 1-D signals shifted by t pixels, with\n"
           "Shannon-Whittaker (periodic sinc) interpolation, whose generator L = dG/dt at 0 is exact.";
  }
  std::string footer() const override {
    return "Writes /train, /test (x, y float64 [1,N,d]) and /truth (generator [d,d]: per radian, or per pixel;\n"
           "train_amount, test_amount [N]).\n"
           "e.g.: gen-tasks generator-pairs --size 7 --amount 5 -o pairs.h5 && meta-train lie-generator pairs.h5 -o g.h5\n"
           "      gen-tasks generator-pairs --size 20 --range -2,2 --pairs 4800 -o range.h5";
  }
  void add_options(CLI::App& app) override {
    app.add_option("--transform", spec_.transform, "rotation (images) | shift (1-D signals)")->capture_default_str();
    app.add_option("--size", spec_.size, "Image side (rotation) or signal length (shift)")->capture_default_str();
    app.add_option("--signal", spec_.signal, "noise: i.i.d. N(0,1) | smooth: band-limited, |frequency| <= size/4")
        ->capture_default_str();
    app.add_option("--amount", spec_.amount, "Fixed t: degrees (rotation) or pixels (shift)")->capture_default_str();
    app.add_option("--range", range_, "LO,HI: t uniform in [LO, HI] per pair instead of --amount")->delimiter(',')
        ->expected(2);
    app.add_option("--pairs", spec_.pairs, "Training pairs")->capture_default_str();
    app.add_option("--test-pairs", spec_.test_pairs, "Test pairs")->capture_default_str();
    app.add_option("--noise", spec_.noise, "Std of Gaussian noise added to y")->capture_default_str();
  }
  KindResult run(const KindContext& c) override {
    if (range_.size() == 2) {
      spec_.range_lo = range_[0];
      spec_.range_hi = range_[1];
      if (!(spec_.range_hi > spec_.range_lo)) throw InputError("--range LO,HI needs LO < HI");
    }
    spec_.seed = c.seed;
    spec_.validate();
    return write_with_summary(c, spec_.config(), 1, [&](io::Writer& out) { write_generator_pairs(spec_, out); });
  }

 private:
  GeneratorPairsSpec spec_;
  std::vector<double> range_;
};

// The sterile experiments of "Learning Linear Groups in Neural Networks"
// (Theodosis, Helwani, Ba 2023, section 5.2): patches and one fixed linear
// transform of them, with the exact matrix as the truth.
class LgnPatchesKind : public Kind {
 public:
  std::string name() const override { return "lgn-patches"; }
  std::string description() const override {
    return "Pairs (x, T x) of p x p patches for learning a linear group (Theodosis, Helwani, Ba 2023, section 5.2):\n"
           "T a fixed nearest-neighbour rotation (fill 0), a k x k box mean (reflect padding), or a box mean then a\n"
           "rotation; x Gaussian noise or random patches of (standardised, ZCA-whitened) images.";
  }
  std::string footer() const override {
    return "Writes /train, /test (x, y float64 [1,N,p*p], row-major pixels, y = T x) and /truth (operator [p*p,p*p]: T).\n"
           "Transforms: rot30 rot45 rot60 rot90 box3 box4 box5 box6 rot60-box4 rot60-box5 rot60-box6.\n"
           "e.g.: gen-tasks lgn-patches --transform rot90 --train 10000 --test 2000 -o rot90.h5\n"
           "      gen-tasks lgn-patches --transform rot60-box4 --source fashion-mnist -o fm.h5";
  }
  void add_options(CLI::App& app) override {
    app.add_option("--transform", spec_.transform, "The transform T (see below)")->capture_default_str();
    app.add_option("--source", spec_.source,
                   "gaussian (i.i.d. N(0,1) pixels) | fashion-mnist (Debian dataset-fashion-mnist) | builtin (drawn\n"
                   "glyphs, 16x16) | idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS] (IDX files, gzipped or not)")
        ->capture_default_str();
    app.add_option("--patch", spec_.patch, "Patch side p, 2..16")->capture_default_str();
    app.add_option("--train", spec_.train, "Training pairs (images: one random patch of each of the first images)")
        ->capture_default_str();
    app.add_option("--test", spec_.test, "Test pairs (images: from the source's test split)")->capture_default_str();
    app.add_flag("--no-whiten", no_whiten_,
                 "Images: cut patches from the raw pixels in [0, 1] instead of standardised, ZCA-whitened images");
    app.add_option("--whiten-epsilon", spec_.whiten_epsilon,
                   "ZCA: W = U diag(1/sqrt(s + eps mean(s))) U^T over the training images' covariance")
        ->capture_default_str();
  }
  KindResult run(const KindContext& c) override {
    spec_.whiten = !no_whiten_;
    spec_.seed = c.seed;
    spec_.validate();
    return write_with_summary(c, spec_.config(), 1, [&](io::Writer& out) { write_lgn_patches(spec_, out); });
  }

 private:
  LgnPatchesSpec spec_;
  bool no_whiten_ = false;
};

}  // namespace

std::vector<std::unique_ptr<Kind>> kinds() {
  std::vector<std::unique_ptr<Kind>> all;
  all.push_back(std::make_unique<LocallyConnected>());
  all.push_back(std::make_unique<SumOfNumbers>());
  all.push_back(std::make_unique<GaussianSharing>());
  all.push_back(std::make_unique<RotatedScrambled>());
  all.push_back(std::make_unique<GeneratorPairsKind>());
  all.push_back(std::make_unique<LgnPatchesKind>());
  return all;
}

}  // namespace symlearn::tasks
