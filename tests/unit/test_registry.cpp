// The method-family registry (lib/methods/registry) and meta-train's command
// line built from it (lib/methods/meta_train_cli).
#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "methods/meta_train_cli.hpp"
#include "methods/registry.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <set>
#include <string>
#include <vector>

using namespace symlearn;

namespace {
// Parses `args` as meta-train would and returns CLI11's error reworded ("" when it parses).
std::string parse_error(std::vector<std::string> args) {
  CLI::App app{"meta-train test", "meta-train"};
  const methods::MetaTrainCli cli(app);
  std::vector<char*> argv = {const_cast<char*>("meta-train")};
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return cli.explain(e);
  }
  return "";
}
}  // namespace

TEST_CASE("registry: every model belongs to exactly one family, and every family is complete") {
  std::set<std::string> names;
  long models = 0;
  for (const methods::Family& f : methods::families()) {
    CHECK(!f.name.empty());
    CHECK(!f.title.empty());
    CHECK(f.trainer);
    CHECK(f.eval);
    CHECK(f.inspect);
    for (const methods::ModelInfo& m : f.models) {
      ++models;
      CHECK(names.insert(m.name).second);
      CHECK(methods::find_family(m.name) == &f);
      CHECK(!m.paper.empty());
      CHECK(m.example.find("meta-train " + m.name + " ") != std::string::npos);
      CHECK(f.trainer(m.name) != nullptr);
    }
  }
  CHECK(models == 20);
  CHECK(methods::find_family("msr-fc")->name == "msr");
  CHECK(methods::find_family("sharing-all")->name == "sharing");
  CHECK(methods::find_family("sharing-brute")->name == "sharing");
  CHECK(methods::find_family("fc-shallow")->name == "images");
  CHECK(methods::find_family("lie-generator")->name == "generators");
  CHECK(methods::find_family("msr-xx") == nullptr);
  CHECK(methods::find_family("") == nullptr);
  // Only MSR's symmetry matrices take prox-regularize.
  CHECK(methods::find_family("msr-kron")->regularize);
  CHECK_FALSE(methods::find_family("lconv")->regularize);
}

TEST_CASE("registry: a model file's family comes from its `model` attribute") {
  testutil::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& model) {
    io::Writer w(dir.file(name), "model", "unit", nlohmann::json::object());
    if (!model.empty()) w.attr("/", "model", model);
    w.commit();
    return dir.file(name);
  };
  io::Reader lconv(write("a.h5", "lconv"), "model");
  CHECK(methods::family_of(lconv).name == "images");
  io::Reader unknown(write("b.h5", "lgn-xx"), "model");
  try {
    methods::family_of(unknown);
    FAIL("no error for an unknown model");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("b.h5: holds a model 'lgn-xx' that this symlearn does not know") != std::string::npos);
    CHECK(what.find("msr-fc, msr-kron") != std::string::npos);
  }
  io::Reader unnamed(write("c.h5", ""), "model");
  CHECK_THROWS_WITH_AS(methods::family_of(unnamed), doctest::Contains("has no `model` attribute"), InputError);
}

TEST_CASE("meta-train command line: foreign options name the option and the model") {
  CHECK(parse_error({"lconv", "--prox", "exclusive", "data.h5"}) ==
        "--prox is not an option of lconv (see meta-train lconv --help)");
  CHECK(parse_error({"msr-fc", "--kron-in", "3", "t.h5"}) ==
        "--kron-in is not an option of msr-fc (see meta-train msr-fc --help)");
  CHECK(parse_error({"sharing-none", "--restarts=4", "t.h5"}) ==
        "--restarts is not an option of sharing-none (see meta-train sharing-none --help)");
  CHECK(parse_error({"msr-xx", "t.h5"}).find("unknown model 'msr-xx'") == 0);
  CHECK(parse_error({"msr-fc", "a.h5", "b.h5"}) == "unexpected argument 'b.h5' (see meta-train msr-fc --help)");
  CHECK(parse_error({"msr-fc", "--steps", "5", "t.h5"}).empty());
  CHECK(parse_error({"lconv", "--epochs", "5", "--rank", "2", "t.h5"}).empty());
}

TEST_CASE("meta-train command line: the model goes first; --model is refused") {
  CLI::App app{"meta-train test", "meta-train"};
  const methods::MetaTrainCli cli(app);
  std::vector<std::string> in = {"meta-train", "--steps", "5", "msr-fc", "-o", "fc", "t.h5"};
  std::vector<char*> argv;
  for (auto& a : in) argv.push_back(a.data());
  // "fc" after -o is the output file's name, not the model.
  CHECK(cli.arguments(static_cast<int>(argv.size()), argv.data()) ==
        std::vector<std::string>{"msr-fc", "--steps", "5", "-o", "fc", "t.h5"});
  std::vector<std::string> old = {"meta-train", "--model", "msr-fc", "t.h5"};
  std::vector<char*> argv2;
  for (auto& a : old) argv2.push_back(a.data());
  CHECK_THROWS_WITH_AS(cli.arguments(static_cast<int>(argv2.size()), argv2.data()),
                       doctest::Contains("--model is gone"), InputError);
}
