#!/usr/bin/env bash
# README command 1: install what is missing, build, and run sabre's main job on the
# bundled example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/sabre info
