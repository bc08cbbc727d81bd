#!/usr/bin/env bash
# Coverage-guided fuzzing of sabre's readers with libFuzzer (issue 23, item 1): builds the
# harnesses of tests/fuzz/ with clang, AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-fuzz, then fuzzes each for SECONDS (default 1800), JOBS at a time (default: the
# cores), each from its seed corpus tests/fuzz/corpus/<harness>/.
#
#   bash scripts/fuzz.sh [SECONDS] [HARNESS...]      # harnesses: dicom toml iaea_phsp text
#
# Per harness, in build-fuzz/: corpus-<h>/ (the working corpus: seeds plus what libFuzzer
# kept), artifacts-<h>/ (crash-*, timeout-*, oom-*: inputs to keep in tests/fuzz/corpus/<h>/
# once fixed, so that the replay test in CI runs them), fuzz-<h>.log (coverage lines "cov:"
# and the final stats: executions, peak memory). A summary line per harness at the end.
# Needs clang and libFuzzer (Debian: clang, libclang-rt-dev or llvm's compiler-rt); not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(dicom toml iaea_phsp text)
jobs=${JOBS:-$(nproc)}
build_dir=${SABRE_FUZZ_BUILD_DIR:-build-fuzz}
cc=${CC:-clang}
cxx=${CXX:-clang++}
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g"
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then gen=(-G Ninja); fi
cmake -S . -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSABRE_CUDA=OFF -DSABRE_MPI=OFF -DSABRE_FUZZ=ON \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("sabre_fuzz_$h"); done
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}"

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
run_one() {
  local h=$1 dir=$build_dir
  mkdir -p "$dir/corpus-$h" "$dir/artifacts-$h"
  cp -n tests/fuzz/corpus/"$h"/* "$dir/corpus-$h/" 2>/dev/null || true
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: 2 GB is an out-of-memory.
  TMPDIR=$scratch "$dir/tests/fuzz/sabre_fuzz_$h" "$dir/corpus-$h" -artifact_prefix="$dir/artifacts-$h/" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    >"$dir/fuzz-$h.log" 2>&1
}
status=0
pids=()
names=()
for h in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 5; done
  run_one "$h" & pids+=($!); names+=("$h")
done
for i in "${!pids[@]}"; do
  h=${names[$i]}
  if wait "${pids[$i]}"; then r=ok; else r=FAILED; status=1; fi
  log=$build_dir/fuzz-$h.log
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  corpus=$(ls "$build_dir/corpus-$h" | wc -l)
  arts=$(ls "$build_dir/artifacts-$h" | wc -l)
  echo "fuzz $h: $r, ${seconds} s, ${execs:-?} executions, last ${cov:-cov ?}, corpus $corpus inputs, artifacts $arts ($log)"
done
exit $status
