#include "methods/sharing/session.hpp"

#include "cli/cli.hpp"
#include "methods/sharing/model_io.hpp"
#include "methods/sharing/yeh2022.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

#include <iostream>
#include <optional>

namespace symlearn::sharing {

nlohmann::json run_sharing_train(const SharingSessionOptions& o) {
  io::refuse_terminal(o.output);  // before training, not after it
  sharing::SharingArch arch;
  arch.kind = o.kind;
  arch.embed = o.embed;
  arch.hidden = o.hidden;
  o.train.validate();
  io::Reader file(o.tasks_path, "tasks");
  const SharingData data = load_sharing_data(file, o.kind == "sharing-oracle");
  refuse_input_as_output(o.output);  // the tasks file is noted now
  arch.task = data.kind;
  arch.length = data.length();
  arch.validate();
  SharingOptions train = o.train;
  if (train.protocol == "yeh2022") {
    apply_yeh2022_defaults(train, data.kind == "gaussian-sharing", arch.length, o.given);
    train.validate();
  }
  const learn::DatasetRecord dataset{o.tasks_path, file.sha256(), data.kind};

  std::optional<cli::Progress> bar;  // made on the first report, which knows the total
  const SharingModel model = train_sharing(arch, train, data, [&](long done, long total, const std::string& s) {
    if (!bar) bar.emplace("meta-train " + o.kind, static_cast<std::uint64_t>(total), !o.quiet);
    bar->update(static_cast<std::uint64_t>(done), s);
  });
  if (bar) bar->finish();
  save_sharing_model(o.output, cli::created_by("meta-train"), model, dataset);

  const std::vector<int> groups = sharing::sharing_groups(model.sharing);
  nlohmann::json summary = {{"model", o.kind},
                            {"task", data.kind},
                            {"length", arch.length},
                            {"groups", groups},
                            {"restart_loss", model.log.restart_loss},
                            {"chosen_start", model.log.chosen},
                            {"seconds", model.seconds},
                            {"peak_rss_mib", cli::peak_rss_mib()},
                            {"output", o.output}};
  if (!o.quiet) {
    std::string g;
    for (int x : groups) g += (g.empty() ? "" : " ") + std::to_string(x);
    std::cerr << "meta-train: " << o.kind << " on " << data.kind << " (L = " << arch.length << "), groups [" << g
              << "], selection loss " << model.log.restart_loss.at(static_cast<std::size_t>(model.log.chosen)) << ", "
              << model.seconds << " s" << std::endl;
  }
  return summary;
}

}  // namespace symlearn::sharing
