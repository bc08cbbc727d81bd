// SIGINT/SIGTERM handling for long runs: the handler only sets a flag; the run loop polls
// it between batches and throws sabre::Interrupted, so outputs (written through
// OutputFile) are never left half-written and the process exits with code 5.
#pragma once

namespace sabre::interrupt {

void install_handlers();   // idempotent
bool requested();          // a signal has arrived
int signal_number();       // the signal that arrived (0 if none)
void throw_if_requested(); // throws sabre::Interrupted naming the signal
void reset_for_tests();

}  // namespace sabre::interrupt
