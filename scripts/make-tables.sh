#!/usr/bin/env bash
# Regenerates the shipped physics table set physics/data/default.h5 from the raw NIST data in
# ../shared/data/physics (docs/tables.md). Byte-identical to the committed file when the
# sources and the generator are unchanged (tests/physics/tables/table_regeneration_test.cc).
# Usage: scripts/make-tables.sh [path/to/sabre]   (default: build/sabre)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sabre="${1:-$root/build/sabre}"
"$sabre" tables build --source "$root/../shared/data/physics" --set default \
  --output "$root/physics/data/default.h5"
