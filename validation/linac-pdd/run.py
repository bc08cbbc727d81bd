#!/usr/bin/env python3
"""Plausibility of the assumed FFF spectra: PDD(10) of a 10 x 10 cm2 field, SSD 100 cm.

`sabre linac --field 10 10` (TrueBeam HD120, 6X-FFF and 10X-FFF), water 30 cm cube,
voxels 1 x 0.5 x 1 cm; the depth dose is the mean over the central 4 x 4 cm; PDD(10) is
the mean of the two 0.5 cm layers around 10 cm over the maximum layer. Soft references
(docs/machines.md): 63-64 % (6X-FFF), ~71 % (10X-FFF). The maximum of a noisy curve is
biased high, so PDD is biased low by about the per-layer uncertainty.

Usage: run.py SABRE_EXE [--histories N] [--threads T]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("exe")
ap.add_argument("--histories", type=float, default=2e6)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
res = {}
with tempfile.TemporaryDirectory() as tmp:
    for beam in ("6X-FFF", "10X-FFF"):
        out = os.path.join(tmp, beam + ".h5")
        r = subprocess.run([a.exe, "linac", "--beam", beam, "--field", "10", "10", "--histories", str(int(a.histories)),
                            "--threads", str(a.threads), "--voxel", "1", "0.5", "1", "--size", "30", "30", "30", "-o", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        with h5py.File(out, "r") as f:
            d, u = f["dose/dose"][...], f["dose/rel_uncertainty"][...]
        blk = d[13:17, :, 13:17]
        c = blk.mean(axis=(0, 2))
        e = np.sqrt(((blk * u[13:17, :, 13:17]) ** 2).sum(axis=(0, 2))) / blk.sum(axis=(0, 2))
        y = (np.arange(d.shape[1]) + 0.5) * 0.5
        res[beam] = {"dmax_cm": float(y[int(np.argmax(c))]), "pdd10_percent": float(100 * (c[19] + c[20]) / 2 / c.max()),
                     "pdd20_percent": float(100 * (c[39] + c[40]) / 2 / c.max()), "layer_rel_unc": float(e[19]),
                     "histories": int(a.histories)}
        print(beam, json.dumps(res[beam]), flush=True)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"), "w") as f:
    json.dump(res, f, indent=1)
