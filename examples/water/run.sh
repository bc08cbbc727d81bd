#!/usr/bin/env bash
# Example (a): both water-phantom fields (10x10 then 2x2); extra arguments go to sabre run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
SABRE=$sabre bash "$here/setup.sh"
mkdir -p "$here/output/10x10" "$here/output/2x2"
"$sabre" run "$here/run-10x10.toml" "$@"
"$sabre" run "$here/run-2x2.toml" "$@"
