#!/usr/bin/env bash
# Example (d), CyberKnife lung: writes the inputs into generated/ on first use (idempotent).
#   - the thorax CT of example (b) (sabre phantom thorax: 300 x 200 x 120 mm body, lungs,
#     ribs, spine, and a 20 mm diameter lesion (GTV) at (65, -5, 0) mm in the left lung,
#     PTV = GTV + 5 mm) with its RT Structure Set;
#   - a CyberKnife plan in sabre's native form (docs/robotic-plans.md): 120 nodes 800 mm
#     from the lesion centre, spread evenly over the directions within 60 degrees of
#     anterior-left (0.6, -0.8, 0), each with the 30 mm fixed cone, 3 fractions. MU per
#     node: see README.md in this directory.
# SABRE=path/to/sabre to use another binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
MU_PER_NODE=${MU_PER_NODE:-19}
gen=$here/generated
[[ -f $gen/plan.toml ]] && exit 0
rm -rf "$gen.tmp"
mkdir -p "$gen.tmp"
"$sabre" --log-level warn phantom thorax -o "$gen.tmp/ct" >/dev/null
"$sabre" --log-level warn plan cyberknife -o "$gen.tmp/plan.toml" --ct "$gen.tmp/ct" --label "CK lung" \
  --machine cyberknife-m6 --target 65 -5 0 --toward 0.6 -0.8 0 --max-angle 60 --nodes 120 \
  --collimator cone --size 30 --mu "$MU_PER_NODE" --fractions 3 >/dev/null
rm -rf "$gen"
mv "$gen.tmp" "$gen"
echo "example inputs written to $gen"
