#!/usr/bin/env bash
# Configure and build sabre in ./build (Release). Extra arguments go to CMake's configure
# step, e.g. scripts/build.sh -DSABRE_CUDA=OFF. Set SABRE_BUILD_DIR to build elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SABRE_BUILD_DIR:-build}
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then gen=(-G Ninja); fi
cmake -S . -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "$(nproc)"
