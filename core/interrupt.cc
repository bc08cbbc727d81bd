#include "core/interrupt.hh"

#include <csignal>
#include <string>

#include "core/errors.hh"

namespace sabre::interrupt {
namespace {
volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) { g_signal = sig; }
}  // namespace

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool requested() { return g_signal != 0; }
int signal_number() { return g_signal; }

void throw_if_requested() {
  if (g_signal == 0) return;
  const std::string name = g_signal == SIGINT ? "SIGINT" : g_signal == SIGTERM ? "SIGTERM"
                                                                               : "a signal";
  throw Interrupted("interrupted by " + name + "; no output written");
}

void reset_for_tests() { g_signal = 0; }

}  // namespace sabre::interrupt
