#!/usr/bin/python3
"""Regression suite (issue 21, item 4): small fixed-seed dose distributions stored in the
repository (tests/regression/data/*.npz), recomputed by every test run and compared.

This is a GUARD, not validation: it proves only that the transport still computes what it
computed when the files were last written. Any change of the physics, the random-number
use or the step logic changes every voxel (the doses are sums of a few thousand histories,
so a changed history moves its voxels by far more than the tolerance) and fails here; a
change that is meant must be followed by

    python3 tests/regression/regression_test.py --update SABRE_EXE

and the reason recorded in the commit message. Tolerance: per voxel |D - D_ref| <= 1e-9 of
the stored maximum (sabre's dose for a seed is bit-identical on any thread count; the
margin is for another libm's last bit).

Cases (each ~1 s): photons (6 MeV, 4 x 4 cm2) through water with a lung and a bone slab,
with the efficiency techniques on (the default) and off (analog); a 10 MeV electron beam
through the same slabs; the default table set."""
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIP: python module missing: {e}")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
TOLERANCE = 1e-9

PHANTOM = """[phantom]
voxels = [16, 16, 24]
voxel_cm = [0.5, 0.5, 0.5]
material = "water"
[[slab]]
from_cm = 3.0
to_cm = 7.0
material = "lung"
density_g_cm3 = 0.26
[[slab]]
from_cm = 7.0
to_cm = 8.5
material = "bone_cortical"
[source]
particle = "{particle}"
type = "point"
position_cm = [0, 0, -100]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2, 2]
field_y_cm = [-2, 2]
energy_mev = {energy}
[run]
histories = {histories}
batches = 10
seed = 20261203
threads = 2
[physics]
{physics}
"""
CASES = {
    "photon6_slabs": dict(particle="photon", energy=6.0, histories=20000, physics=""),
    "photon6_slabs_analog": dict(particle="photon", energy=6.0, histories=20000,
                                 physics="msc_tables = false\nrange_rejection = false\nfar_steps = false"),
    "electron10_slabs": dict(particle="electron", energy=10.0, histories=4000, physics=""),
}


def compute(exe, name, tmp):
    toml = os.path.join(tmp, name + ".toml")
    with open(toml, "w") as f:
        f.write(PHANTOM.format(**CASES[name]))
    out = os.path.join(tmp, name + ".h5")
    r = subprocess.run([exe, "--log-level", "warn", "simulate", toml, "--device", "cpu", "-o", out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{name}: sabre simulate failed ({r.returncode}): {r.stdout[-1000:]}")
    with h5py.File(out, "r") as f:
        return f["dose/dose"][...].astype(np.float64)


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    exe = args[0] if args else os.environ.get("SABRE_EXE")
    if not exe or not os.path.exists(exe):
        print("SKIP: SABRE_EXE is not set to a built sabre (or give it as the argument)")
        return 77
    failures = []
    with tempfile.TemporaryDirectory(prefix="sabre-regression-") as tmp:
        for name in CASES:
            dose = compute(exe, name, tmp)
            path = os.path.join(DATA, name + ".npz")
            if update:
                os.makedirs(DATA, exist_ok=True)
                np.savez_compressed(path, dose=dose)
                print(f"{name}: written {path} (max {dose.max():.6e} Gy/history); record the reason in the commit")
                continue
            if not os.path.exists(path):
                failures.append(f"{name}: no stored dose {path} (run with --update once)")
                continue
            ref = np.load(path)["dose"]
            if ref.shape != dose.shape:
                failures.append(f"{name}: grid {dose.shape} != stored {ref.shape}")
                continue
            diff = np.abs(dose - ref)
            worst = float(diff.max()) / float(ref.max())
            n_bad = int((diff > TOLERANCE * ref.max()).sum())
            print(f"{name}: max |D - D_ref| / max D_ref = {worst:.3e} (tolerance {TOLERANCE:g}), "
                  f"{n_bad} of {ref.size} voxels outside")
            if n_bad:
                k = np.unravel_index(int(diff.argmax()), diff.shape)
                failures.append(f"{name}: {n_bad} voxels differ from the stored dose (worst at (z,y,x)={k}: "
                                f"{dose[k]:.6e} vs {ref[k]:.6e}); if the change is meant, run "
                                f"tests/regression/regression_test.py --update and say why in the commit")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
