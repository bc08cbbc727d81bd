#!/usr/bin/env bash
# Example (b), lung SBRT: writes the inputs into generated/ on first use (idempotent).
#   - a thorax CT (sabre phantom thorax: 300 x 200 x 120 mm body, lungs, ribs, spine, and a
#     20 mm diameter lesion (GTV) at (65, -5, 0) mm in the left lung, PTV = GTV + 5 mm) with
#     its RT Structure Set (BODY, LUNG_R, LUNG_L, SPINAL_CORD, PTV, GTV);
#   - a two-arc 6X-FFF VMAT plan on a TrueBeam HD120: arc 1 181 -> 179 CW collimator 30,
#     arc 2 179 -> 181 CC collimator 330, 3 x 3 cm aperture with modulation 0.3, isocentre
#     at the lesion centre, 3 fractions. MU per arc: see README.md in this directory.
# SABRE=path/to/sabre to use another binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
MU_PER_ARC=${MU_PER_ARC:-1304}
gen=$here/generated
[[ -f $gen/RP.dcm ]] && exit 0
rm -rf "$gen.tmp"
mkdir -p "$gen.tmp"
"$sabre" --log-level warn phantom thorax -o "$gen.tmp/ct" >/dev/null
"$sabre" --log-level warn plan arc -o "$gen.tmp/RP.dcm" --ct "$gen.tmp/ct" --rtstruct "$gen.tmp/ct/RS.dcm" \
  --machine truebeam-hd120 --beam 6X-FFF --iso 65 -5 0 --field 3 3 --modulation 0.3 \
  --start 181 --stop 179 --direction CW --collimator 30 --return-arc --return-collimator 330 \
  --mu "$MU_PER_ARC" --fractions 3 >/dev/null
rm -rf "$gen"
mv "$gen.tmp" "$gen"
echo "example inputs written to $gen"
