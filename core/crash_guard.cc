#include "core/crash_guard.hh"

#include <csetjmp>
#include <csignal>

#include "core/errors.hh"

namespace sabre {
namespace {

sigjmp_buf* g_jump = nullptr;

void on_fault(int sig) {
  if (g_jump) siglongjmp(*g_jump, sig);
  std::signal(sig, SIG_DFL);  // not ours: die as without the guard
  std::raise(sig);
}

}  // namespace

void guarded_read(const std::string& path, const std::function<void()>& read) {
  if (g_jump) {  // nested: the outer guard covers it
    read();
    return;
  }
  struct sigaction sa {}, old_segv{}, old_bus{};
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
  sigjmp_buf jump;
  auto restore = [&] {
    g_jump = nullptr;
    sigaction(SIGSEGV, &old_segv, nullptr);
    sigaction(SIGBUS, &old_bus, nullptr);
  };
  if (sigsetjmp(jump, 1) != 0) {
    restore();
    throw InputError(path, "corrupted file: its reader crashed on it (a damaged HDF5 structure)");
  }
  g_jump = &jump;
  try {
    read();
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

}  // namespace sabre
