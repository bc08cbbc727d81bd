#!/usr/bin/python3
"""Validation case gamma-analytic: `sabre compare` on dose pairs whose gamma is known in
closed form or by hand (see README.md). Writes the RT Dose pairs (pydicom), runs
`sabre compare --output-h5` on each, reads the gamma maps, prints one JSON line per
quantity {"case","quantity","reference","sabre","difference","tolerance","pass"} and
writes a plot (gamma-analytic.png) to --out.

Usage: run.py SABRE_EXE [--out DIR]      (exit status 1 if any quantity fails)
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "engine", "compare"))
import rtdose_files  # noqa: E402  (pydicom RT Dose writer shared with the tests)

TOL = 0.01  # gamma


def ramp_gamma(s_mm, g_gy_mm, dd_gy, dta_mm):
    """Gamma of a linear ramp (slope g) against itself shifted by s: the minimum over u of
    u^2/DTA^2 + g^2 (u - s)^2 / dD^2 = s^2 g^2 / (dD^2 + g^2 DTA^2)."""
    return abs(s_mm) * g_gy_mm / math.sqrt(dd_gy ** 2 + (g_gy_mm * dta_mm) ** 2)


def grid(n, sp, c0):
    """x, y, z [mm] of voxel centres, arrays [nz, ny, nx]."""
    z, y, x = np.meshgrid(np.arange(n[2]) * sp[2] + c0[2], np.arange(n[1]) * sp[1] + c0[1],
                          np.arange(n[0]) * sp[0] + c0[0], indexing="ij")
    return x, y, z


class Runner:
    def __init__(self, exe, tmp):
        self.exe, self.tmp, self.rows, self.plots = exe, tmp, [], {}

    def gamma_map(self, name, ref, ev, sp, c0, *args):
        rp = os.path.join(self.tmp, name + "_ref.dcm")
        ep = os.path.join(self.tmp, name + "_ev.dcm")
        out = os.path.join(self.tmp, name + ".h5")
        rtdose_files.write_rtdose(rp, ref, sp, c0, frame_uid="1.2.3")
        rtdose_files.write_rtdose(ep, ev, sp, c0, frame_uid="1.2.3")
        rep = rtdose_files.sabre_compare(self.exe, rp, ep, "--output-h5", out, *args)
        with h5py.File(out, "r") as f:
            return f["gamma"][:], rep

    def record(self, case, quantity, reference, value, tol=TOL):
        diff = value - reference
        row = {"case": case, "quantity": quantity, "reference": round(reference, 6),
               "sabre": round(float(value), 6), "difference": round(float(diff), 6),
               "tolerance": tol, "pass": bool(abs(diff) <= tol)}
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def ramp_case(r):
    # Reference 2 + 0.2 x [Gy] on 1 mm voxels from x = 0 to 40 mm; evaluated shifted by s.
    g, sp, c0, n = 0.2, (1.0, 1.0, 1.0), (0.5, 0.5, 0.5), (40, 3, 3)
    x, _, _ = grid(n, sp, c0)
    for s in (1.0, 2.5, 4.0):
        for local in (False, True):
            args = ["--norm-dose", "10", "--threshold", "0"] + (["--local"] if local else [])
            gam, _ = r.gamma_map(f"ramp{s}{local}", 2 + g * x, 2 + g * (x - s), sp, c0, *args)
            mode = "local" if local else "global"
            for xi in (12.5, 20.5, 28.5):
                i = int(xi - 0.5)
                dd = 0.03 * (2 + g * xi) if local else 0.3
                r.record(f"ramp-shift-{s}mm-{mode}", f"gamma at x={xi} mm",
                         ramp_gamma(s, g, dd, 3), gam[1, 1, i])
            if s == 2.5:
                r.plots[f"ramp {mode}"] = (x[1, 1], gam[1, 1], [
                    ramp_gamma(s, g, 0.03 * (2 + g * xx) if local else 0.3, 3) for xx in x[1, 1]])


def step_case(r):
    # 1 Gy below x = 20 mm, 3 Gy above; evaluated step at 22 mm (1 mm voxels).
    sp, c0, n = (1.0, 1.0, 1.0), (0.5, 0.5, 0.5), (40, 3, 3)
    x, _, _ = grid(n, sp, c0)
    for local in (False, True):
        gam, _ = r.gamma_map(f"step{local}", np.where(x < 20, 1.0, 3.0), np.where(x < 22, 1.0, 3.0),
                             sp, c0, "--threshold", "0", *(["--local"] if local else []))
        mode = "local" if local else "global"
        # Reference 3 Gy at x = 20.5 / 21.5 mm; evaluated reaches 3 Gy at 22.5 mm (2 Gy/mm
        # ramp before it): gamma = distance / 3 mm up to the ramp correction.
        r.record(f"step-shift-2mm-{mode}", "gamma at x=20.5 mm", ramp_gamma(2, 2, 0.09, 3), gam[1, 1, 20])
        r.record(f"step-shift-2mm-{mode}", "gamma at x=21.5 mm", ramp_gamma(1, 2, 0.09, 3), gam[1, 1, 21])
        r.record(f"step-shift-2mm-{mode}", "gamma at x=10.5 mm (both 1 Gy)", 0.0, gam[1, 1, 10])


def uniform_case(r):
    sp, c0, n = (2.0, 2.0, 2.5), (-11.0, -9.0, -8.75), (12, 10, 8)
    ref = np.full((n[2], n[1], n[0]), 2.0)
    for f in (1.02, 0.985, 1.05):
        for local in (False, True):
            gam, rep = r.gamma_map(f"uniform{f}{local}", ref, ref * f, sp, c0,
                                   *(["--local"] if local else []))
            mode = "local" if local else "global"
            expected = abs(f - 1) / 0.03
            r.record(f"uniform-x{f}-{mode}", "gamma max", expected, rep["gamma"]["max"])
            r.record(f"uniform-x{f}-{mode}", "gamma mean", expected, rep["gamma"]["mean"])
            r.record(f"uniform-x{f}-{mode}", "pass rate [%]", 100.0 if expected <= 1 else 0.0,
                     rep["gamma"]["pass_rate_percent"], 0.0)


def block_case(r):
    # 2 Gy in voxels 10..19 on each axis (2 mm voxels); evaluated moved by (+4, +2, 0) mm.
    sp, c0, n = (2.0, 2.0, 2.0), (1.0, 1.0, 1.0), (32, 32, 30)
    x, y, z = grid(n, sp, c0)
    i, j, k = (x // 2).astype(int), (y // 2).astype(int), (z // 2).astype(int)

    def block(di, dj):
        return np.where((i >= 10 + di) & (i <= 19 + di) & (j >= 10 + dj) & (j <= 19 + dj) &
                        (k >= 10) & (k <= 19), 2.0, 0.0)

    for local in (False, True):
        gam, rep = r.gamma_map(f"block{local}", block(0, 0), block(2, 1), sp, c0,
                               *(["--local"] if local else []))
        mode = "local" if local else "global"
        # Gamma = distance to the moved block's plateau (box of its voxel centres) / 3 mm.
        for (ii, jj), d in (((10, 10), math.hypot(4, 2)), ((11, 10), math.hypot(2, 2)),
                            ((10, 11), 4.0), ((11, 15), 2.0), ((12, 11), 0.0)):
            r.record(f"block-pair-{mode}", f"gamma at voxel ({ii},{jj},14)", d / 3, gam[14, jj, ii])
        r.record(f"block-pair-{mode}", "pass rate [%]", 90.0, rep["gamma"]["pass_rate_percent"], 1e-9)
        if not local:
            r.plots["block"] = gam[14]


def plot(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, (xs, g, ref) in ((k, v) for k, v in r.plots.items() if k.startswith("ramp")):
        ax[0].plot(xs, g, "o", ms=3, label=f"sabre, {name.split()[1]}")
        ax[0].plot(xs, ref, "-", lw=1, label=f"closed form, {name.split()[1]}")
    ax[0].set_xlabel("x [mm]")
    ax[0].set_ylabel("gamma")
    ax[0].set_title("ramp 0.2 Gy/mm shifted 2.5 mm, 3 %/3 mm")
    ax[0].axvspan(0, 9, color="0.9")
    ax[0].axvspan(31, 40, color="0.9")
    ax[0].legend(fontsize=8)
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad("white")  # not evaluated (below the threshold)
    im = ax[1].imshow(np.ma.masked_invalid(r.plots["block"]), origin="upper", vmin=0, vmax=2,
                      cmap=cmap)
    ax[1].set_title("block pair, gamma at k = 14 (global 3 %/3 mm)")
    ax[1].set_xlabel("i")
    ax[1].set_ylabel("j")
    fig.colorbar(im, ax=ax[1])
    diffs = [abs(row["difference"]) for row in r.rows]
    colours = ["tab:green" if row["pass"] else "tab:red" for row in r.rows]
    ax[2].bar(range(len(diffs)), diffs, color=colours)
    ax[2].axhline(TOL, color="k", ls="--", lw=1, label="tolerance 0.01")
    ax[2].set_yscale("symlog", linthresh=1e-5)
    ax[2].set_xlabel("quantity #")
    ax[2].set_ylabel("|sabre - reference|")
    ax[2].set_title(f"{sum(row['pass'] for row in r.rows)} of {len(r.rows)} within tolerance")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sabre_exe")
    ap.add_argument("--out", default=".", help="directory for gamma-analytic.png")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = Runner(a.sabre_exe, tmp)
        ramp_case(r)
        step_case(r)
        uniform_case(r)
        block_case(r)
        os.makedirs(a.out, exist_ok=True)
        plot(r, os.path.join(a.out, "gamma-analytic.png"))
    failed = [row for row in r.rows if not row["pass"]]
    print(f"gamma-analytic: {len(r.rows) - len(failed)} of {len(r.rows)} quantities within "
          f"tolerance; plot {os.path.join(a.out, 'gamma-analytic.png')}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
