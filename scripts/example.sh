#!/usr/bin/env bash
# README command 1: install what is missing, build, and run sabre's main job on the
# bundled lung SBRT example (b): a thorax CT with a 2 cm lesion, its structure set and a
# two-arc 6X-FFF VMAT plan (3 x 15 Gy), generated on first use into
# examples/lung-sbrt/generated/. Writes HDF5, RT Dose, PNGs and a summary into
# examples/lung-sbrt/output/ and prints where they are. Uses every CUDA GPU when there is
# one, else all CPU cores; on 2 CPU cores it stops at 2 % uncertainty or after 330 s of
# transport (about 2.5 %), whichever comes first (examples/lung-sbrt/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
SABRE=./build/sabre bash examples/lung-sbrt/run.sh "$@"
echo "outputs: $(pwd)/examples/lung-sbrt/output/ (dose.h5, RD.dcm, png/axial.png, png/coronal.png, png/sagittal.png, summary.json)"
