#include "learn/training_run.hpp"

#include "io/h5.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

#include <cstdio>

namespace symlearn::learn {

TrainingRun::TrainingRun(const std::string& output, const std::string& checkpoint)
    : output_(output), default_checkpoint_(checkpoint.empty()) {
  checkpoint_ = !checkpoint.empty() ? checkpoint : io::is_stdio(output) ? std::string() : output + ".ckpt";
  io::refuse_terminal(output);  // before training, not after it
  refuse_input_as_output(output);
  // `--resume M.ckpt -o M` (what an interrupted run suggests): the run goes on
  // from M.ckpt, read whole by now, and its new checkpoints replace it.
  if (default_checkpoint_ && !checkpoint_.empty()) forget_input_file(checkpoint_);
  refuse_input_as_output(checkpoint_);
}

const std::atomic<bool>* TrainingRun::stop() const { return graceful_.requested(); }

void TrainingRun::checkpoint(const Save& save, const std::string& where) {
  if (checkpoint_.empty()) return;
  save(checkpoint_);
  last_ = where;
}

void TrainingRun::interrupted(const Save& save, const std::string& where) {
  graceful_.end();  // the boundary is reached: the checkpoint takes what it takes; a second signal ends at once
  if (checkpoint_.empty())
    throw ExitRequest(130, "interrupted at " + where + "; no checkpoint written (give --checkpoint FILE or -o FILE)");
  checkpoint(save, where);
  throw ExitRequest(130, "interrupted at " + where + "; checkpoint written to " + checkpoint_ +
                             " (continue with --resume " + checkpoint_ + ")");
}

void TrainingRun::failed(const std::string& what) const {
  throw RunError(what + (last_.empty() ? "; no checkpoint was written"
                                       : "; the last good checkpoint (" + last_ + ") is " + checkpoint_));
}

void TrainingRun::finish(const Save& save) {
  graceful_.end();  // a signal during the final write removes the temporary and ends the process
  save(output_);
  if (default_checkpoint_ && !checkpoint_.empty()) std::remove(checkpoint_.c_str());
}

void check_resume_model(const ModelReader& checkpoint, const std::string& requested) {
  if (checkpoint.model() != requested)
    checkpoint.fail("holds a " + (checkpoint.model().empty() ? std::string("unnamed") : checkpoint.model()) +
                    " model, not " + requested + " (meta-train --resume FILE alone picks the model from the file)");
}

std::string resume_tasks(const std::string& given, const DatasetRecord& trained_on, const std::string& checkpoint) {
  if (!given.empty()) return given;
  if (trained_on.path.empty() || io::is_stdio(trained_on.path))
    throw InputError(checkpoint + ": was trained on " + (trained_on.path.empty() ? "an unrecorded file" : "stdin") +
                     "; name the tasks file to resume on");
  return trained_on.path;
}

void check_same_dataset(const DatasetRecord& trained_on, const DatasetRecord& given, const std::string& checkpoint,
                        const std::string& tasks_name) {
  if (!trained_on.sha256.empty() && trained_on.sha256 != given.sha256)
    throw InputError(tasks_name + ": is not the dataset " + checkpoint + " was trained on (SHA-256 differs)");
}

}  // namespace symlearn::learn
