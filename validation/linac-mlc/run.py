#!/usr/bin/env python3
"""Acceptance 2 (issue 7): MLC transmission, tongue-and-groove, leaf-end penumbra vs radius.

All with `sabre linac` (TrueBeam 6X-FFF) in water, SSD 100 cm, plans written by
`sabre plan static` and edited with pydicom (an independent DICOM writer/reader):

1. Closed-leaf transmission (Millennium 120 and HD120): jaws 10 x 10 cm; all leaf pairs
   closed at x = -7 cm (under jaw X1), so bank B covers the whole opening. Transmission =
   dose in |x|, |z| < 2 cm at 5 cm depth (4.5-5.5 cm) / the same with the leaves
   retracted. Compared with the machine file's documented range (collimator.MLCX.transmission_range).
2. Tongue and groove (Millennium 120, 5 mm leaves): two beams of equal MU, one with the
   even pairs of the central 4 cm open (x in [-3, 3] cm) and the odd ones closed under the
   jaw, the other the complement; their sum is compared with one open field of the same
   MU per beam. Profile across the leaves (z) at 1.5 cm depth, 0.05 cm voxels, averaged
   over |x| < 2 cm. Reported: the summed dose at the leaf boundaries relative to the open
   field there (the T&G underdose) and relative to mid-leaf.
3. Leaf-end penumbra: leaves at x = +-3 cm (jaws at +-5 cm), same field with
   leaf_end_radius_cm = 4, 8 and 16 cm (machine-file copies in a temporary data
   directory): 80-20 % penumbra and 50 % position of the leaf-defined edges at 5 cm depth.

Usage: run.py SABRE_EXE [--histories N] [--threads T] [--out results.json]
"""
import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pydicom

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))


def sh(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def set_leaves(path, out, fn_list):
    """fn_list: one function per beam, (pair index, y_lo_mm, y_hi_mm) -> (a_mm, b_mm) or None (keep)."""
    ds = pydicom.dcmread(path)
    base = ds.BeamSequence[0]
    beams = []
    for i, fn in enumerate(fn_list):
        b = copy.deepcopy(base)
        b.BeamNumber = i + 1
        b.BeamName = f"beam {i + 1}"
        mlc = next(d for d in b.BeamLimitingDeviceSequence if d.RTBeamLimitingDeviceType == "MLCX")
        bnd = [float(v) for v in mlc.LeafPositionBoundaries]
        n = len(bnd) - 1
        for cp in b.ControlPointSequence:
            for p in getattr(cp, "BeamLimitingDevicePositionSequence", []):
                if p.RTBeamLimitingDeviceType != "MLCX":
                    continue
                pos = [float(v) for v in p.LeafJawPositions]
                for k in range(n):
                    r = fn(k, bnd[k], bnd[k + 1])
                    if r is not None:
                        pos[k], pos[k + n] = r
                p.LeafJawPositions = [f"{v:.3f}" for v in pos]
        beams.append(b)
    ds.BeamSequence = pydicom.sequence.Sequence(beams)
    fg = ds.FractionGroupSequence[0]
    rb0 = fg.ReferencedBeamSequence[0]
    refs = []
    for i in range(len(beams)):
        r = copy.deepcopy(rb0)
        r.ReferencedBeamNumber = i + 1
        refs.append(r)
    fg.ReferencedBeamSequence = pydicom.sequence.Sequence(refs)
    fg.NumberOfBeams = len(beams)
    ds.save_as(out)


def dose(exe, plan, machine, n, threads, seed, voxel, out, env=None):
    summary = json.loads(sh([exe, "linac", "--plan", plan, "--machine", machine, "--beam", "6X-FFF",
                             "--ssd", "100", "--size", "30", "20", "30", "--voxel", *map(str, voxel),
                             "--histories", str(n), "--threads", str(threads), "--seed", str(seed),
                             "-o", out], env))
    with h5py.File(out, "r") as h:
        return h["dose/dose"][...], h["dose/rel_uncertainty"][...], summary


def region_mean(d, u, voxel, xr, zr, yr):
    nz, ny, nx = d.shape
    xc = (np.arange(nx) + 0.5) * voxel[0] - 15
    yc = (np.arange(ny) + 0.5) * voxel[1]
    zc = (np.arange(nz) + 0.5) * voxel[2] - 15
    sel = d[np.ix_((zc > zr[0]) & (zc < zr[1]), (yc > yr[0]) & (yc < yr[1]), (xc > xr[0]) & (xc < xr[1]))]
    usel = u[np.ix_((zc > zr[0]) & (zc < zr[1]), (yc > yr[0]) & (yc < yr[1]), (xc > xr[0]) & (xc < xr[1]))]
    return sel.mean(), float(np.sqrt(((sel * usel) ** 2).sum()) / sel.sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--histories", type=float, default=2e6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--parts", default="1,2,3")
    a = ap.parse_args()
    n = int(a.histories)
    res = {}
    parts = set(a.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        # ---- 1. transmission
        if "1" in parts:
            res["transmission"] = {}
            for machine in ("truebeam-millennium120", "truebeam-hd120"):
                base = os.path.join(tmp, f"{machine}.dcm")
                sh([a.exe, "plan", "static", "--machine", machine, "--field", "10", "10", "-o", base])
                openp = os.path.join(tmp, f"{machine}-open.dcm")
                closed = os.path.join(tmp, f"{machine}-closed.dcm")
                set_leaves(base, openp, [lambda k, lo, hi: (-70.0, 70.0)])
                set_leaves(base, closed, [lambda k, lo, hi: (-70.0, -70.0)])
                vox = (0.5, 0.5, 0.5)
                do, uo, _ = dose(a.exe, openp, machine, n, a.threads, 11, vox, os.path.join(tmp, "o.h5"))
                dc, uc, _ = dose(a.exe, closed, machine, n, a.threads, 12, vox, os.path.join(tmp, "c.h5"))
                mo, eo = region_mean(do, uo, vox, (-2, 2), (-2, 2), (4.5, 5.5))
                mc, ec = region_mean(dc, uc, vox, (-2, 2), (-2, 2), (4.5, 5.5))
                t = mc / mo
                text = open(os.path.join(SRC, "beams", "machines", machine + ".toml")).read()
                rng = [float(v) for v in re.search(r"transmission_range = \{ value = \[([^\]]*)\]", text).group(1).split(",")]
                res["transmission"][machine] = {"transmission": t, "rel_unc": float(np.hypot(eo, ec)),
                                                "documented_range": rng, "inside": bool(rng[0] <= t <= rng[1])}
                print(f"transmission {machine}: {100*t:.3f} % (+-{100*t*np.hypot(eo, ec):.3f} %), documented {rng}", flush=True)
        # ---- 2. tongue and groove
        if "2" in parts:
            machine = "truebeam-millennium120"
            base = os.path.join(tmp, "tg.dcm")
            sh([a.exe, "plan", "static", "--machine", machine, "--field", "6", "4", "-o", base])
            centre = lambda lo, hi: abs(0.5 * (lo + hi)) < 20
            even = lambda k, lo, hi: ((-30.0, 30.0) if (k % 2 == 0) else (-70.0, -70.0)) if centre(lo, hi) else (-70.0, -70.0)
            odd = lambda k, lo, hi: ((-30.0, 30.0) if (k % 2 == 1) else (-70.0, -70.0)) if centre(lo, hi) else (-70.0, -70.0)
            opn = lambda k, lo, hi: (-30.0, 30.0) if centre(lo, hi) else (-70.0, -70.0)
            alt = os.path.join(tmp, "tg-alt.dcm")
            op2 = os.path.join(tmp, "tg-open.dcm")
            set_leaves(base, alt, [even, odd])
            set_leaves(base, op2, [opn, opn])
            vox = (0.5, 0.5, 0.05)
            da, ua, _ = dose(a.exe, alt, machine, 2 * n, a.threads, 21, vox, os.path.join(tmp, "a.h5"))
            dop, uop, _ = dose(a.exe, op2, machine, 2 * n, a.threads, 22, vox, os.path.join(tmp, "b.h5"))
            nz, ny, nx = da.shape
            xc = (np.arange(nx) + 0.5) * 0.5 - 15
            zc = (np.arange(nz) + 0.5) * 0.05 - 15
            j = slice(2, 4)  # depths 1.0-2.0 cm
            pa = da[:, j, :][:, :, np.abs(xc) < 2].mean(axis=(1, 2))
            po = dop[:, j, :][:, :, np.abs(xc) < 2].mean(axis=(1, 2))
            ratio = pa / po
            # Millennium central leaves: boundaries every 0.5 cm at isocentre; at 1.5 cm depth,
            # SSD 100, they project to z = b x 101.5/100.
            bounds = [b * 1.015 for b in np.arange(-1.5, 1.51, 0.5)]
            mids = [b + 0.25 * 1.015 for b in np.arange(-2.0, 1.51, 0.5) if abs(b + 0.25) < 1.8]
            def at(points):
                vals = [ratio[np.abs(zc - p) < 0.051].mean() for p in points]
                return float(np.mean(vals)), float(np.std(vals) / np.sqrt(len(vals)))
            rb, sb = at(bounds)
            rm, sm = at(mids)
            res["tongue_and_groove"] = {"sum_over_open_at_boundaries": rb, "sem_boundaries": sb,
                                        "sum_over_open_mid_leaf": rm, "sem_mid_leaf": sm,
                                        "dip_percent": 100 * (rm - rb) / rm,
                                        "profile_z_cm": zc[np.abs(zc) < 2.2].tolist(),
                                        "profile_ratio": ratio[np.abs(zc) < 2.2].tolist()}
            print(f"tongue and groove: (alternating sum)/open = {rb:.3f} at boundaries, {rm:.3f} mid-leaf: dip {100*(rm-rb)/rm:.1f} %", flush=True)
        # ---- 3. leaf-end penumbra vs radius
        if "3" in parts:
            res["leaf_end"] = {}
            for radius in (4.0, 8.0, 16.0):
                data = os.path.join(tmp, f"data{radius:g}")
                os.makedirs(os.path.join(data, "beams", "machines"))
                os.symlink(os.path.join(SRC, "physics"), os.path.join(data, "physics"))
                text = open(os.path.join(SRC, "beams", "machines", "truebeam-millennium120.toml")).read()
                text = re.sub(r"leaf_end_radius_cm = \{ value = [0-9.]+", f"leaf_end_radius_cm = {{ value = {radius}", text)
                with open(os.path.join(data, "beams", "machines", "truebeam-millennium120.toml"), "w") as f:
                    f.write(text)
                env = dict(os.environ, SABRE_DATA_DIR=data)
                base = os.path.join(tmp, f"le{radius:g}.dcm")
                sh([a.exe, "plan", "static", "--machine", "truebeam-millennium120", "--field", "10", "10", "-o", base], env)
                le = os.path.join(tmp, f"le{radius:g}-leaves.dcm")
                set_leaves(base, le, [lambda k, lo, hi: (-30.0, 30.0)])
                vox = (0.05, 0.5, 0.5)
                d, u, _ = dose(a.exe, le, "truebeam-millennium120", n, a.threads, 31, vox, os.path.join(tmp, "le.h5"), env)
                nz, ny, nx = d.shape
                xc = (np.arange(nx) + 0.5) * 0.05 - 15
                zc = (np.arange(nz) + 0.5) * 0.5 - 15
                prof = d[np.abs(zc) < 2][:, 9:11, :].mean(axis=(0, 1))  # depth 4.5-5.5 cm
                cax = prof[np.abs(xc) < 0.5].mean()
                r = prof / cax
                out = {}
                for side, sel in (("neg", xc < 0), ("pos", xc > 0)):
                    x = np.abs(xc[sel])
                    y = r[sel]
                    o = np.argsort(x)
                    x, y = x[o], y[o]
                    # smooth lightly (3 voxels) and take the outermost crossings
                    ys = np.convolve(y, np.ones(3) / 3, mode="same")
                    def cross(level):
                        idx = np.where((ys[:-1] >= level) & (ys[1:] < level) & (x[:-1] > 2.0) & (x[:-1] < 4.5))[0]
                        if len(idx) == 0:
                            return float("nan")
                        i = idx[-1]
                        return float(x[i] + (ys[i] - level) * (x[i + 1] - x[i]) / (ys[i] - ys[i + 1]))
                    out[side] = {"x80_cm": cross(0.8), "x50_cm": cross(0.5), "x20_cm": cross(0.2)}
                    out[side]["penumbra_80_20_mm"] = 10 * (out[side]["x20_cm"] - out[side]["x80_cm"])
                res["leaf_end"][str(radius)] = out
                print(f"leaf end R {radius:g} cm: 80-20 penumbra {out['neg']['penumbra_80_20_mm']:.2f} / "
                      f"{out['pos']['penumbra_80_20_mm']:.2f} mm, 50 % at {out['neg']['x50_cm']:.3f} / {out['pos']['x50_cm']:.3f} cm "
                      f"(nominal 3 x 105/100 = 3.15 cm)", flush=True)
    old = {}
    if os.path.exists(a.out):
        old = json.load(open(a.out))
    old.update(res)
    with open(a.out, "w") as f:
        json.dump(old, f, indent=1)


if __name__ == "__main__":
    main()
