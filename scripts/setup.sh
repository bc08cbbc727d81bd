#!/usr/bin/env bash
# sabre setup: installs the Debian 12 packages sabre needs to build, test and run.
# Idempotent, non-interactive; run as root (or with sudo available).
# Every package here has a reason written beside it (see docs/dependencies.md).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git  # toolchain (CMake >= 3.25 in Debian 12)
  libdcmtk-dev dcmtk              # DICOM CT / RT Plan / RT Struct / RT Dose (DCMTK)
  libhdf5-dev hdf5-tools           # HDF5 tables and dose output; h5dump for inspection
  libcli11-dev                     # command line (CLI11)
  libspdlog-dev libfmt-dev         # logging (spdlog with fmt)
  catch2                           # unit tests (Catch2 2.13)
  nlohmann-json3-dev               # JSON output (--json, --summary-json, JSON logs)
  libtomlplusplus-dev              # TOML run files and machine files
  libpng-dev zlib1g-dev            # PNG dose pictures
  python3 python3-numpy python3-h5py python3-pydicom python3-matplotlib  # test/validation scripts (system python3)
  dicom3tools                      # dciodvfy: DICOM conformance check of RT Dose in tests
  plastimatch                      # independent gamma and DVH for cross-checking sabre compare and check
  libopenmpi-dev openmpi-bin       # MPI: one job across processes and nodes (mpirun; docs/scale-out.md)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi
