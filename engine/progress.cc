#include "engine/progress.hh"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sabre {

double estimate_remaining_s(const ProgressState& s) {
  if (s.histories <= 0 || s.elapsed_s <= 0) return -1;
  const double rate = s.histories / s.elapsed_s;
  double best = -1;
  auto consider = [&](double t) {
    if (t >= 0 && (best < 0 || t < best)) best = t;
  };
  if (s.target_histories > 0) consider((s.target_histories - s.histories) / rate);
  if (s.target_uncertainty > 0 && s.uncertainty > 0) {
    const double needed = s.histories * std::pow(s.uncertainty / s.target_uncertainty, 2);
    consider(std::max(0.0, (needed - s.histories) / rate));
  }
  if (s.time_limit_s > 0) consider(std::max(0.0, s.time_limit_s - s.elapsed_s));
  return best;
}

std::string format_progress(const ProgressState& s) {
  std::string line = fmt::format("{:.3g} histories", double(s.histories));
  if (s.target_histories > 0) line += fmt::format(" of {:.3g}", double(s.target_histories));
  if (s.elapsed_s > 0) line += fmt::format(" | {:.3g}/s", s.histories / s.elapsed_s);
  if (s.uncertainty > 0) {
    line += fmt::format(" | uncertainty {:.2f} %", 100 * s.uncertainty);
    if (s.target_uncertainty > 0) line += fmt::format(" (target {:.2f} %)", 100 * s.target_uncertainty);
  }
  const double eta = estimate_remaining_s(s);
  if (eta >= 0) line += fmt::format(" | ETA {:.0f} s", eta);
  return line;
}

ProgressReporter::ProgressReporter(Mode mode, double log_interval_s)
    : mode_(mode), interval_s_(log_interval_s) {}

ProgressReporter::Mode ProgressReporter::detect(bool quiet) {
  if (quiet) return Mode::quiet;
  return ::isatty(STDERR_FILENO) ? Mode::terminal : Mode::log;
}

void ProgressReporter::update(const ProgressState& s) {
  switch (mode_) {
    case Mode::quiet:
      return;
    case Mode::terminal:
      std::fprintf(stderr, "\r\033[K%s", format_progress(s).c_str());
      std::fflush(stderr);
      drew_ = true;
      return;
    case Mode::log:
      if (s.elapsed_s - last_s_ >= interval_s_) {
        spdlog::info("progress: {}", format_progress(s));
        last_s_ = s.elapsed_s;
      }
      return;
  }
}

void ProgressReporter::finish() {
  if (mode_ == Mode::terminal && drew_) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
    drew_ = false;
  }
}

}  // namespace sabre
