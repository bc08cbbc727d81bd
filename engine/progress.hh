// Progress of a long run. On a terminal: one line updated in place (histories, rate,
// current uncertainty, ETA). Otherwise (batch jobs): a log line at most every
// `log_interval_s`. Quiet: nothing.
#pragma once

#include <cstdint>
#include <string>

namespace sabre {

struct ProgressState {
  std::int64_t histories = 0;      // done so far
  double elapsed_s = 0;
  double uncertainty = -1;         // current mean relative 1-sigma (fraction); < 0 unknown
  // stopping rules (0 = not set)
  std::int64_t target_histories = 0;
  double target_uncertainty = 0;
  double time_limit_s = 0;
};

// Seconds until the first stopping rule is reached, from the current rate and the
// 1/sqrt(N) scaling of the uncertainty; < 0 when unknown.
double estimate_remaining_s(const ProgressState& s);

// One human-readable line, e.g.
// "1.20e+06 histories | 4.1e+04/s | uncertainty 2.31 % (target 2.00 %) | ETA 12 s"
std::string format_progress(const ProgressState& s);

class ProgressReporter {
 public:
  enum class Mode { quiet, terminal, log };
  explicit ProgressReporter(Mode mode, double log_interval_s = 5.0);
  // Picks terminal when stderr is a TTY, else log; quiet wins.
  static Mode detect(bool quiet);

  void update(const ProgressState& s);
  void finish();  // ends the terminal line

 private:
  Mode mode_;
  double interval_s_;
  double last_s_ = -1e30;
  bool drew_ = false;
};

}  // namespace sabre
