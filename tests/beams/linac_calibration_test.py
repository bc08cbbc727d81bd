#!/usr/bin/env python3
"""`sabre linac --calibrate`: the pipeline reproduces the machine file's Gy/MU exactly when
the plan is the reference field run with the reference run's seed (same histories, same
water box): a wiring check of the calibration (region, SSD, field definition, MU scaling),
free of statistics. The statistical version (independent seeds) is
validation/linac-calibration. (40 000 histories, an explicit fixed count for the
reference run: far too few for any statistical comparison; none is made.) A second run
reads the reference result from the calibration cache (the one path `sabre run` takes,
engine/calibration.hh) and gives the same figures.

The calibration's uncertainty in the output of an absolute dose: the HDF5's
/dose/rel_uncertainty is the statistical part (/dose/rel_uncertainty_statistical) and the
calibration term (attribute calibration_rel_uncertainty = the summary's
calibration.reference_rel_uncertainty) in quadrature, and the summary's
uncertainty.total_mean_rel_50 is the mean of that over the voxels above half the maximum.
A run with --calib-uncertainty (a small target, 10 %) stops at it.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIPPED: h5py/numpy not available")
    sys.exit(77)

EXE = os.environ.get("SABRE_EXE")
SRC = os.environ.get("SABRE_SOURCE_DIR")
if not EXE or not SRC:
    print("SKIPPED: SABRE_EXE / SABRE_SOURCE_DIR not set")
    sys.exit(77)
if not os.path.exists(os.path.join(SRC, "physics", "data", "default.h5")):
    print("SKIPPED: no physics tables")
    sys.exit(77)


def region_gy_per_mu(h5, mu):
    with h5py.File(h5, "r") as h:
        d = h["dose/dose"][...]
    nz, ny, nx = d.shape
    xc = (np.arange(nx) + 0.5) * 0.5 - 15
    yc = (np.arange(ny) + 0.5) * 0.5
    zc = (np.arange(nz) + 0.5) * 0.5 - 15
    return d[np.ix_(np.abs(zc) <= 1.0, np.abs(yc - 10) <= 0.5, np.abs(xc) <= 1.0)].mean() / mu


text = open(os.path.join(SRC, "beams", "machines", "truebeam-hd120.toml")).read()
block = text[text.index('name = "6X-FFF"'):]
gy_per_mu = float(re.search(r"gy_per_mu = \{ value = ([0-9.eE+-]+)", block).group(1))

fails = []
with tempfile.TemporaryDirectory() as tmp:
    res = {}
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    cal = []
    for field in ("10", "10"):
        out = os.path.join(tmp, f"f{field}.h5")
        r = subprocess.run([EXE, "linac", "--field", field, field, "--ssd", "100", "--size", "30", "30", "30",
                            "--voxel", "0.5", "0.5", "0.5", "--histories", "40000", "--calibrate", "--seed", "5",
                            "--calib-seed", "5", "--calib-histories", "40000", "--threads", "2", "-o", out], capture_output=True, text=True,
                           env=env)
        if r.returncode != 0:
            if "no electron/positron transport" in r.stderr:
                print("SKIPPED: built without charged transport")
                sys.exit(77)
            sys.exit(f"sabre linac failed: {r.stderr}")
        s = json.loads(r.stdout)
        res[field] = region_gy_per_mu(out, s["total_mu"])
        cal.append(s["calibration"])
    if not (cal[0]["from_cache"] is False and cal[1]["from_cache"] is True
            and cal[0]["histories_per_mu"] == cal[1]["histories_per_mu"]):
        fails.append(f"the second run should read the same reference result from the cache: {cal}")
    # The calibration term in the reported uncertainty (the last run's file and summary).
    with h5py.File(out, "r") as h:
        d = h["dose/dose"][...]
        total = h["dose/rel_uncertainty"][...]
        stat = h["dose/rel_uncertainty_statistical"][...]
        c = float(h["dose"].attrs["calibration_rel_uncertainty"])
        unit = h["dose"].attrs["unit"]
    m = d > 0
    if not (c > 0 and c == s["calibration"]["reference_rel_uncertainty"] == s["uncertainty"]["calibration_rel"]):
        fails.append(f"calibration term {c} != summary {s['calibration']['reference_rel_uncertainty']}")
    if unit != "Gy" or not np.array_equal(total[m], np.sqrt(stat[m] ** 2 + c ** 2)) or np.any(total[~m] != 0):
        fails.append("HDF5 rel_uncertainty is not the statistical part and the calibration in quadrature")
    half = m & (d > 0.5 * d.max())
    if abs(stat[half].mean() - s["mean_rel_uncertainty_50"]) > 1e-12 * s["mean_rel_uncertainty_50"]:
        fails.append("summary mean_rel_uncertainty_50 is not the statistical part's mean")
    t50 = float(np.sqrt(stat[half] ** 2 + c ** 2).mean())
    print(f"uncertainty: statistical {s['uncertainty']['statistical_mean_rel_50']:.4f}, calibration {c:.4f}, "
          f"total {s['uncertainty']['total_mean_rel_50']:.4f} (from HDF5 {t50:.4f})")
    if abs(t50 - s["uncertainty"]["total_mean_rel_50"]) > 1e-12 * t50:
        fails.append(f"summary total {s['uncertainty']['total_mean_rel_50']} != HDF5 {t50}")

    # A calibration to a target: stops at it (>= 10 batches), in the summary.
    r = subprocess.run([EXE, "linac", "--field", "10", "10", "--size", "30", "30", "30", "--histories", "20000",
                        "--calibrate", "--calib-uncertainty", "10%", "--calib-batch-histories", "20000", "--seed", "5",
                        "--threads", "2"], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"sabre linac --calib-uncertainty failed: {r.stderr}")
    ct = json.loads(r.stdout)["calibration"]
    print(f"target 10 %: {ct['reference_rel_uncertainty']:.4f} after {ct['reference_batches']} batches "
          f"({ct['stopped_by']})")
    if not (ct["mode"] == "target_uncertainty" and ct["stopped_by"] == "target_uncertainty"
            and ct["target_rel_uncertainty"] == 0.1 and 0 < ct["reference_rel_uncertainty"] <= 0.1
            and ct["reference_batches"] >= 10 and ct["reference_histories"] == 20000 * ct["reference_batches"]):
        fails.append(f"calibration to a 10 % target: {ct}")
    rel = res["10"] / gy_per_mu - 1
    print(f"10 x 10 reproduces {res['10']:.6g} Gy/MU vs {gy_per_mu} (relative {rel:.2e})")
    if abs(rel) > 1e-9:
        fails.append(f"same-seed reference does not reproduce gy_per_mu: relative difference {rel}")
if fails:
    print("\n".join(fails))
    sys.exit(1)
print("ok")
