#!/usr/bin/env bash
# Example (c): two isocentres in one plan; extra arguments go to sabre run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
SABRE=$sabre bash "$here/setup.sh"
mkdir -p "$here/output"
exec "$sabre" run "$here/run.toml" "$@"
