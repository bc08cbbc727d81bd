#!/usr/bin/env python3
"""DVH metrics of an RT Dose and RT Structure Set computed with plastimatch (Debian package
`plastimatch`, 1.9.4), an independent tool for issue 19, acceptance 1.

plastimatch rasterises each contour onto the one image plane nearest to it and computes the
DVH voxel by voxel. To give it the same geometric reading as DICOM (and sabre) — each
contour stands for a slab one contour spacing thick — and a dose that varies continuously
across that slab, the pipeline is, all steps by plastimatch:
  1. `convert`: RT Dose -> dose image;
  2. `resample`: an empty grid with fine in-plane pixels (dose pixel / FINE) whose planes are
     the contour planes; `convert --output-prefix`: one mask per structure on that grid;
  3. `resample --interpolation nn`: each mask onto planes FINE times closer (every fine plane
     takes the nearest contour plane, i.e. the slab), `convert --input-prefix`: a structure
     set image;
  4. `resample` (trilinear): the dose onto the same fine grid;
  5. `dvh --differential`, bins of max dose / 20000; the metrics below from that histogram.
The contour planes (to lay out the grid) are read from plastimatch's own text export (CXT),
the dose grid from its image header; the metrics are computed here from its histogram.

Usage: python3 plastimatch_dvh.py RS.dcm RD.dcm NAME [NAME ...] [--fine 5]
(needs numpy). Prints JSON: {name: {volume_cm3, Dmean, D95%, ...}}.
Metrics: Dx% (x % of the volume at least), Dv cc (v cm3 at least), V20Gy (cm3 at least
20 Gy), as sabre check defines them.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def plm(*args):
    r = subprocess.run(["plastimatch", *args], capture_output=True, text=True)
    text = r.stdout + r.stderr
    if r.returncode != 0 or "Error" in text or "Unhandled" in text:
        sys.exit(f"plastimatch {args[0]} failed: {text[-1500:]}")
    return r.stdout


def contour_planes(cxt, names):
    """The contour planes of the named structures, from plastimatch's CXT text form."""
    lines = open(cxt).read().splitlines()
    i = lines.index("ROI_NAMES")
    j = lines.index("END_OF_ROI_NAMES")
    wanted = {ln.split("|")[0] for ln in lines[i + 1:j] if ln.split("|")[2] in names}
    zs = set()
    for ln in lines[j + 1:]:
        f = ln.split("|")
        if len(f) >= 6 and f[0] in wanted and f[5]:
            zs.add(round(float(f[5].split("\\")[2]), 4))
    zs = sorted(zs)
    if not zs:
        sys.exit(f"{cxt}: none of {sorted(names)} has a contour")
    steps = np.diff(zs) if len(zs) > 1 else np.array([1.0])
    s = float(np.min(steps))
    k = np.round(steps / s)
    if np.any(np.abs(steps - k * s) > 1e-3):
        sys.exit("the contour planes are not on one regular spacing")
    return zs[0], s, int(round((zs[-1] - zs[0]) / s)) + 1


def mha_header(path):
    raw = open(path, "rb").read()
    key = b"ElementDataFile = LOCAL\n"
    at = raw.index(key) + len(key)
    head = dict(ln.split(" = ", 1) for ln in raw[:at].decode().splitlines() if " = " in ln)
    return head, raw[at:]


def metrics(csv_path, names, voxel_cm3):
    rows = list(csv.reader(open(csv_path)))
    header = [h.strip() for h in rows[0]]
    data = np.array([[float(x) for x in r[: len(header)]] for r in rows[1:] if r and r[0].strip()])
    lo = data[:, 0]
    width = lo[1] - lo[0]
    centre = lo + width / 2
    out = {}
    for name in names:
        if name not in header:
            continue
        n = data[:, header.index(name)]
        tot = n.sum()
        if tot == 0:
            continue
        above = np.cumsum(n[::-1])[::-1] * voxel_cm3  # cm3 with dose >= bin's lower edge

        def dose_to_volume(v):
            i = np.nonzero(above >= v)[0]
            return float(lo[i[-1]] + width / 2) if len(i) else 0.0

        vol = tot * voxel_cm3
        r = {"volume_cm3": float(vol), "Dmean": float((n * centre).sum() / tot)}
        for p in (95, 98, 2):
            r[f"D{p}%"] = dose_to_volume(p / 100 * vol)
        r["D0.035cc"] = dose_to_volume(0.035)
        r["D1cc"] = dose_to_volume(1.0)
        j = int(np.searchsorted(lo, 20.0 - 1e-9))
        r["V20Gy"] = float(n[j:].sum() * voxel_cm3)
        out[name] = r
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rs")
    ap.add_argument("rd")
    ap.add_argument("names", nargs="+")
    ap.add_argument("--fine", type=int, default=5, help="sub-division of dose pixel and contour spacing")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        dose = os.path.join(t, "dose.mha")
        plm("convert", "--input-dose-img", a.rd, "--output-dose-img", dose)
        plm("convert", "--input", a.rs, "--output-cxt", os.path.join(t, "ss.cxt"))
        z0, s, nz = contour_planes(os.path.join(t, "ss.cxt"), set(a.names))
        head, _ = mha_header(dose)
        x0, y0, _ = (float(v) for v in head["Offset"].split())
        px, py, _ = (float(v) for v in head["ElementSpacing"].split())
        nx, ny, _ = (int(v) for v in head["DimSize"].split())
        if head["TransformMatrix"].split() != "1 0 0 0 1 0 0 0 1".split():
            sys.exit(f"{a.rd}: only axial dose grids (identity orientation) are handled")
        f = a.fine
        fx, fy, fz = px / f, py / f, s / f
        ox, oy = x0 - px / 2 + fx / 2, y0 - py / 2 + fy / 2
        plm("resample", "--input", dose, "--output", os.path.join(t, "planes.mha"), "--origin", f"{ox} {oy} {z0}",
            "--spacing", f"{fx} {fy} {s}", "--dim", f"{nx * f} {ny * f} {nz}")
        plm("convert", "--input", a.rs, "--fixed", os.path.join(t, "planes.mha"), "--output-prefix",
            os.path.join(t, "masks"))
        os.makedirs(os.path.join(t, "fine"))
        fine_args = ["--origin", f"{ox} {oy} {z0 - s / 2 + fz / 2}", "--spacing", f"{fx} {fy} {fz}",
                     "--dim", f"{nx * f} {ny * f} {nz * f}"]
        for name in a.names:
            m = os.path.join(t, "masks", name + ".mha")
            if os.path.exists(m):
                plm("resample", "--input", m, "--output", os.path.join(t, "fine", name + ".mha"),
                    "--interpolation", "nn", *fine_args)
        plm("convert", "--input-prefix", os.path.join(t, "fine"), "--output-ss-img", os.path.join(t, "ss.mha"),
            "--output-ss-list", os.path.join(t, "ss.txt"))
        plm("resample", "--input", dose, "--output", os.path.join(t, "dosef.mha"), *fine_args)
        # Bins: max dose / 20000 (the maximum read from the fine dose image's histogram range).
        _, body = mha_header(os.path.join(t, "dosef.mha"))
        dmax = float(np.frombuffer(body, dtype=np.float32).max())
        width = dmax / 20000
        plm("dvh", "--input-ss-img", os.path.join(t, "ss.mha"), "--input-ss-list", os.path.join(t, "ss.txt"),
            "--input-dose", os.path.join(t, "dosef.mha"), "--output-csv", os.path.join(t, "dvh.csv"),
            "--num-bins", "20002", "--bin-width", f"{width:.9g}", "--normalization", "vox", "--differential")
        out = metrics(os.path.join(t, "dvh.csv"), a.names, fx * fy * fz / 1000.0)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
