// Reading files with third-party parsers that can crash on corrupted input (HDF5 1.10 reads a
// corrupted variable-length string's global heap without checks and segfaults): the read runs
// under a guard that turns SIGSEGV/SIGBUS inside it into an InputError naming the file, so the
// command ends with one message and exit 3 instead of a crash. After such an error the
// library's state is undefined: the caller must not use that library again in this process
// (every sabre command ends on an InputError, and HDF5's exit handler is off: cli/main.cc).
// Single-threaded use only (readers run before any worker thread).
#pragma once

#include <functional>
#include <string>

namespace sabre {

// Runs `read`; a SIGSEGV or SIGBUS during it becomes InputError(path, "corrupted ...").
void guarded_read(const std::string& path, const std::function<void()>& read);

}  // namespace sabre
