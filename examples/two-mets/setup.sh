#!/usr/bin/env bash
# Example (c), two metastases, two isocentres in one plan: writes generated/ on first use.
#   - the thorax CT of example (b) (lesion at (65, -5, 0) mm, left lung);
#   - a 6X-FFF HD120 plan with two isocentres, each treated by two arcs (181 -> 179 CW
#     collimator 30, back CC collimator 330), 3 x 3 cm aperture: isocentre 1 at the lesion,
#     isocentre 2 at (-65, -5, 20) mm in the right lung. The phantom has no second lesion:
#     the second target is lung tissue (no PTV contour), so this example shows the
#     two-isocentre delivery, not a second tumour's dose.
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
  --machine truebeam-hd120 --beam 6X-FFF --iso 65 -5 0 --iso2 -65 -5 20 --field 3 3 --modulation 0.3 \
  --start 181 --stop 179 --direction CW --collimator 30 --return-arc --return-collimator 330 \
  --mu "$MU_PER_ARC" --fractions 3 >/dev/null
rm -rf "$gen"
mv "$gen.tmp" "$gen"
echo "example inputs written to $gen"
