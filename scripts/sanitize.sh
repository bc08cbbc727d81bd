#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (issue 23, item 2):
# a CPU-only build (nvcc has no sanitizers) in ./build-asan, -O1 with frame pointers, every
# sanitizer report fatal, then ctest. Python tests run the sanitized sabre executable too.
#
#   bash scripts/sanitize.sh [ctest arguments...]      # e.g. -R engine: a subset
#
# Not part of .ci/run: the build (~10 min) and the suite under ASan (~3x slower) do not fit in
# CI's time on 2 cores next to the normal build; run it before a release and after changes to
# readers, writers or memory handling. Exit status: ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SABRE_ASAN_BUILD_DIR:-build-asan}
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g"
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then gen=(-G Ninja); fi
cmake -S . -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSABRE_CUDA=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$build_dir" -j "$(nproc)"
# detect_leaks: sabre's own leaks are reported; HDF5/DCMTK/OpenMPI keep global state alive
# at exit, suppressed by name in scripts/lsan.supp.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build_dir"
ctest -j "$(nproc)" --output-on-failure "$@"
