#!/usr/bin/env bash
# Example (a), water phantom: writes the inputs into generated/ on first use (idempotent).
#   - a 300 x 300 x 300 mm water cube (sabre phantom water, 5 mm voxels) centred on the
#     origin, surface at y = -150 mm;
#   - two static 6X-FFF gantry-0 plans on a TrueBeam HD120, 100 MU, isocentre at 10 cm depth
#     (0, -50, 0) mm (SSD 90 cm): 10 x 10 cm (RP-10x10.dcm) and 2 x 2 cm (RP-2x2.dcm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sabre=${SABRE:-$here/../../build/sabre}
gen=$here/generated
[[ -f $gen/RP-2x2.dcm ]] && exit 0
rm -rf "$gen.tmp"
mkdir -p "$gen.tmp"
"$sabre" --log-level warn phantom water -o "$gen.tmp/ct" --size 300 300 300 --spacing 5 --slice 5 >/dev/null
for f in 10 2; do
  "$sabre" --log-level warn plan static -o "$gen.tmp/RP-${f}x${f}.dcm" --ct "$gen.tmp/ct" \
    --rtstruct "$gen.tmp/ct/RS.dcm" --machine truebeam-hd120 --beam 6X-FFF --field $f $f \
    --iso 0 -50 0 --gantry 0 --mu 100 >/dev/null
done
rm -rf "$gen"
mv "$gen.tmp" "$gen"
echo "example inputs written to $gen"
