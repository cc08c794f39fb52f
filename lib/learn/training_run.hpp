// What every resumable training run shares, whatever the family: where the
// model and its checkpoints go, Ctrl-C / SIGTERM (finish the current step,
// write a checkpoint, exit 130; a step that does not end within the grace
// period, or a second signal, ends the run at once: util/signals.hpp), and
// what to say when a run fails after some checkpoints were written.
#pragma once

#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "util/signals.hpp"

#include <atomic>
#include <functional>
#include <string>

namespace symlearn::learn {

class TrainingRun {
 public:
  // Writes a model file (or checkpoint) to the given path.
  using Save = std::function<void(const std::string& path)>;

  // `checkpoint` "" means OUTPUT.ckpt when `output` is a file, none for stdout.
  // Refuses a terminal as stdout; from here the first SIGINT / SIGTERM asks for a stop.
  TrainingRun(const std::string& output, const std::string& checkpoint);
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  const std::atomic<bool>* stop() const;  // set once Ctrl-C / SIGTERM arrived

  // A checkpoint at `where` ("step 20", "epoch 1, batch 3"), when there is a path for one.
  void checkpoint(const Save& save, const std::string& where);
  // After an interrupt: writes the checkpoint, throws ExitRequest(130).
  [[noreturn]] void interrupted(const Save& save, const std::string& where);
  // `what` plus where the last good checkpoint is, as a RunError.
  [[noreturn]] void failed(const std::string& what) const;
  // Writes the model; a default checkpoint is then no longer needed (the
  // model file holds the optimizer state too).
  void finish(const Save& save);

 private:
  std::string output_, checkpoint_, last_;
  bool default_checkpoint_ = false;
  GracefulStop graceful_;
};

// Resuming `checkpoint` (a model file of `model`, named on the command line
// as `requested`): the kinds must agree; the tasks file is the one given, else
// the one it was trained on, and must be that file (same SHA-256).
void check_resume_model(const ModelReader& checkpoint, const std::string& requested);
std::string resume_tasks(const std::string& given, const DatasetRecord& trained_on, const std::string& checkpoint);
void check_same_dataset(const DatasetRecord& trained_on, const DatasetRecord& given, const std::string& checkpoint,
                        const std::string& tasks_name);

}  // namespace symlearn::learn
