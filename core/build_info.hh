// What was built: version, git commit, build type, CUDA configuration.
#pragma once

#include <string>

namespace sabre::build {

const char* version();          // e.g. "0.1.0"
const char* git_commit();       // commit of the sources compiled (12 hex digits, "-dirty" when tracked
                                // files differed from it, "unknown" outside git), stamped at build time
const char* transport_id();     // SHA-256 (64 hex digits) of the sources that decide what a Monte Carlo
                                // run computes (core/transport_id.cmake), stamped at build time: equal
                                // in two builds whose transport, sources and scoring code are the same
const char* build_type();       // CMAKE_BUILD_TYPE
bool cuda_enabled();            // the CUDA back end is compiled in
const char* cuda_architectures();  // e.g. "80;90", or "" without CUDA
const char* compiler();         // C++ compiler id and version

// Where sabre finds its data (physics tables, machine files): $SABRE_DATA_DIR if set,
// else the source tree it was built from.
std::string data_dir();

}  // namespace sabre::build
