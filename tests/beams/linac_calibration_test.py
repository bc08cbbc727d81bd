#!/usr/bin/env python3
"""`sabre linac --calibrate`: the pipeline reproduces the machine file's Gy/MU exactly when
the plan is the reference field run with the reference run's seed (same histories, same
water box): a wiring check of the calibration (region, SSD, field definition, MU scaling),
free of statistics. The statistical version (independent seeds) is
validation/linac-calibration. (40 000 histories: far too few for any statistical
comparison; none is made.) A second run reads the reference result from the calibration
cache (the one path `sabre run` takes, engine/calibration.hh) and gives the same figures.
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
                            "--calib-seed", "5", "--threads", "2", "-o", out], capture_output=True, text=True,
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
    rel = res["10"] / gy_per_mu - 1
    print(f"10 x 10 reproduces {res['10']:.6g} Gy/MU vs {gy_per_mu} (relative {rel:.2e})")
    if abs(rel) > 1e-9:
        fails.append(f"same-seed reference does not reproduce gy_per_mu: relative difference {rel}")
if fails:
    print("\n".join(fails))
    sys.exit(1)
print("ok")
