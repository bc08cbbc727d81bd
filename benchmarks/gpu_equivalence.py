#!/usr/bin/python3
"""GPU vs CPU dose equivalence and GPU speed (issue 5, acceptance 2), for a machine with a
CUDA GPU. Prints one JSON object; exit 0 when every check passes, 1 when one fails, 77
when there is no usable GPU (nothing is run).

Cases (`sabre simulate`, the same seed on both back ends):
  water6mv  the 6 MV (Mohan) spectrum of validation case R1, 10 x 10 cm2 at SSD 100 cm,
            water 30 x 30 x 30 cm, 0.5 x 0.5 x 0.25 cm voxels (validation/R1-water-6MV/
            R1.toml; needs ../shared for the spectrum: without it, 2 MeV mono photons);
  slabs     6 MeV photons, 5 x 5 cm2, 20 x 20 x 30 cm of 1 cm voxels: water with a lung
            slab (0.26 g/cm3, 5-12 cm) and a cortical bone slab (12-14 cm).

Checks per case (voxels above 10 % of the CPU maximum dose):
  - per voxel |D_gpu - D_cpu| <= 3 sigma (sigma = both batch uncertainties in quadrature)
    for >= 99 % of the voxels;
  - no systematic offset: |sum D_gpu / sum D_cpu - 1| <= 0.3 %;
  - two GPU runs bit-identical (every voxel's dose and uncertainty).
Speed: histories/s of each run (wall clock of the sabre command, set-up included, and the
transport time sabre reports).

The 3-sigma criterion uses batch uncertainties; with B batches the sigma estimate has
B - 1 degrees of freedom, so the runs use 40 batches (P(|t| > 3) ~ 0.5 %, two runs).

Usage: benchmarks/gpu_equivalence.py [--sabre PATH] [--histories N] [--cases water6mv,slabs]
                                     [--device cuda:0] [--keep DIR] [--no-gpu-check]
  --no-gpu-check runs even without a GPU: with --device cpu:1 it exercises this script
  on a CPU-only machine (the "GPU" runs are then CPU runs; not a GPU result).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SLABS_TOML = """# gpu_equivalence slabs case
[phantom]
voxels = [20, 20, 30]
voxel_cm = [1.0, 1.0, 1.0]
origin_cm = [-10.0, -10.0, 0.0]
material = "water"
[[slab]]
from_cm = 5.0
to_cm = 12.0
material = "lung"
density_g_cm3 = 0.26
[[slab]]
from_cm = 12.0
to_cm = 14.0
material = "bone_cortical"
[source]
particle = "photon"
type = "point"
position_cm = [0, 0, -100]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2.5, 2.5]
field_y_cm = [-2.5, 2.5]
energy_mev = 6.0
[run]
histories = 1000000
batches = 40
seed = 11
"""


def find_sabre(arg):
    if arg:
        return arg
    for cand in ("build-cuda/cli/sabre", "build/cli/sabre", "build-cuda/sabre", "build/sabre"):
        p = os.path.join(ROOT, cand)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return shutil.which("sabre") or "sabre"


def water_toml(workdir):
    """R1.toml with absolute paths and 40 batches; 2 MeV mono without ../shared."""
    src = os.path.join(ROOT, "validation", "R1-water-6MV", "R1.toml")
    text = open(src).read()
    m = re.search(r'^spectrum\s*=\s*"([^"]+)"', text, re.M)
    note = "Mohan 6 MV spectrum (R1)"
    if m:
        spec = os.path.normpath(os.path.join(os.path.dirname(src), m.group(1)))
        if os.path.isfile(spec):
            text = text.replace(m.group(0), f'spectrum = "{spec}"')
        else:
            text = text.replace(m.group(0), "energy_mev = 2.0")
            text = re.sub(r'^spectrum_column\s*=.*$', "", text, flags=re.M)
            note = "2 MeV mono (R1 spectrum not found: ../shared absent)"
    text = re.sub(r"^batches\s*=.*$", "batches = 40", text, flags=re.M)
    path = os.path.join(workdir, "water6mv.toml")
    with open(path, "w") as f:
        f.write(text)
    return path, note


def run_sabre(sabre, toml, device, out, histories):
    cmd = [sabre, "--log-level", "warn", "simulate", toml, "--device", device, "-o", out,
           "--histories", str(histories)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> exit {r.returncode}: {r.stderr.strip()}")
    m = re.search(r"time: ([0-9.]+) s \(([0-9.]+) histories/s\)", r.stdout)
    dev = re.search(r"seed \d+, (.*)$", r.stdout, re.M)
    return {"wall_s": wall, "histories_per_s_wall": histories / wall if wall > 0 else None,
            "transport_s": float(m.group(1)) if m else None,
            "histories_per_s": float(m.group(2)) if m else None,
            "device": dev.group(1) if dev else device}


def read(path):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        return np.array(f["dose/dose"][...]), np.array(f["dose/rel_uncertainty"][...])


def compare(cpu, g1, g2):
    import numpy as np
    dc, uc = cpu
    da, ua = g1
    db, ub = g2
    sel = dc > 0.1 * dc.max()
    sigma = np.sqrt((uc * dc) ** 2 + (ua * da) ** 2)[sel]
    diff = np.abs(da - dc)[sel]
    within = float(np.mean(diff <= 3 * sigma)) if sel.any() else 0.0
    offset = float(da[sel].sum() / dc[sel].sum() - 1) if sel.any() else float("nan")
    z = (da - dc)[sel] / np.where(sigma > 0, sigma, np.inf)
    return {
        "voxels_above_10pct": int(sel.sum()),
        "fraction_within_3sigma": within,
        "offset": offset,
        "chi2_per_dof": float(np.mean(z ** 2)) if sel.any() else None,
        "gpu_repeat_bit_identical": bool(np.array_equal(da, db) and np.array_equal(ua, ub)),
        "pass": bool(within >= 0.99 and abs(offset) <= 0.003 and np.array_equal(da, db)
                     and np.array_equal(ua, ub)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sabre")
    ap.add_argument("--histories", type=int, default=2000000)
    ap.add_argument("--cases", default="water6mv,slabs")
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--keep", help="keep the dose files in this folder")
    ap.add_argument("--no-gpu-check", action="store_true",
                    help="run without a GPU (script self-test with --device cpu:N)")
    a = ap.parse_args()
    sabre = find_sabre(a.sabre)
    out = {"sabre": sabre, "device": a.device, "histories": a.histories, "cases": {}}

    info = subprocess.run([sabre, "info", "--json"], capture_output=True, text=True)
    try:
        devs = json.loads(info.stdout).get("cuda_devices") or []
    except ValueError:
        devs = []
    if not devs and not a.no_gpu_check:
        out["skipped"] = "no usable CUDA device (sabre info --json lists none)"
        print(json.dumps(out, indent=2))
        return 77
    out["gpus"] = devs

    work = a.keep or tempfile.mkdtemp(prefix="sabre_gpu_eq_")
    os.makedirs(work, exist_ok=True)
    ok = True
    try:
        for case in a.cases.split(","):
            if case == "water6mv":
                toml, note = water_toml(work)
            elif case == "slabs":
                toml, note = os.path.join(work, "slabs.toml"), "water/lung/bone slabs, 6 MeV"
                with open(toml, "w") as f:
                    f.write(SLABS_TOML)
            else:
                raise SystemExit(f"unknown case {case}")
            res = {"note": note}
            paths = {k: os.path.join(work, f"{case}_{k}.h5") for k in ("cpu", "gpu1", "gpu2")}
            try:
                res["cpu"] = run_sabre(sabre, toml, "cpu", paths["cpu"], a.histories)
                res["gpu1"] = run_sabre(sabre, toml, a.device, paths["gpu1"], a.histories)
                res["gpu2"] = run_sabre(sabre, toml, a.device, paths["gpu2"], a.histories)
                res.update(compare(read(paths["cpu"]), read(paths["gpu1"]), read(paths["gpu2"])))
                if res["cpu"]["histories_per_s"] and res["gpu1"]["histories_per_s"]:
                    res["speedup"] = res["gpu1"]["histories_per_s"] / res["cpu"]["histories_per_s"]
            except RuntimeError as e:
                res["error"] = str(e)
                res["pass"] = False
            ok = ok and res["pass"]
            out["cases"][case] = res
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    out["pass"] = ok
    print(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
