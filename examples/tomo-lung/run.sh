#!/usr/bin/env bash
# Example (e), TomoTherapy lung: generates the inputs on first use, then `sabre run run.toml`.
# Extra arguments go to sabre run (e.g. --histories 200000, --device cpu).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
SABRE=$sabre bash "$here/setup.sh"
mkdir -p "$here/output"
exec "$sabre" run "$here/run.toml" "$@"
