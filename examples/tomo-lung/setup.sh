#!/usr/bin/env bash
# Example (e), TomoTherapy lung: writes the inputs into generated/ on first use (idempotent).
#   - the thorax CT of example (b) with its RT Structure Set (a 20 mm lesion at (65, -5, 0) mm
#     in the left lung, PTV = GTV + 5 mm);
#   - a helical plan in sabre's native sinogram form (docs/tomo-plans.md): 2.5 cm jaws,
#     pitch 0.287, the leaves over the 30 mm PTV sphere open (a geometric plan, not an
#     optimised one), 3 fractions. Projection time: see README.md in this directory.
# SABRE=path/to/sabre to use another binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
PROJECTION_TIME=${PROJECTION_TIME:-0.87}
gen=$here/generated
[[ -f $gen/plan.toml ]] && exit 0
rm -rf "$gen.tmp"
mkdir -p "$gen.tmp"
"$sabre" --log-level warn phantom thorax -o "$gen.tmp/ct" >/dev/null
"$sabre" --log-level warn plan tomo -o "$gen.tmp/plan.toml" --ct "$gen.tmp/ct" --label "Tomo lung" \
  --machine tomotherapy --target 65 -5 0 --radius 15 --jaw 25 --pitch 0.287 \
  --projection-time "$PROJECTION_TIME" --fractions 3 >/dev/null
rm -rf "$gen"
mv "$gen.tmp" "$gen"
echo "example inputs written to $gen"
