#!/usr/bin/env python3
"""Issue 18, acceptance 1-3 (first pass): the TomoTherapy model of beams/machines/tomotherapy.toml.

Every run is `sabre linac` in water with a native tomotherapy plan (docs/tomo-plans.md).
Static parts: gantry 0 (FIXED_ANGLE, one projection), SSD 83.5 cm, read-outs at 1.5 cm
depth (85 cm from the source, the axis plane), voxels 0.5 mm along the measured profile.

1. static: longitudinal 50 % widths (of the field centre) of the 1.0, 2.5 and 5.0 cm jaw
   settings with every leaf open, against nominal (0.5 mm) and the published real width of
   the narrow jaw (1.05 cm); one open leaf (leaf 33, slot 0 .. 6.25 mm) with 5 cm jaws:
   its lateral 50 % width (of its own maximum) against 6.25 mm (0.3 mm); closed-MLC
   transmission: every leaf closed against every leaf open, 5 cm jaws, mean over |x| < 2 cm,
   |z| < 1 cm.
2. fraction: the central 8 leaves open for f = 0.2, 0.4, 0.6, 0.8, 1 of one projection,
   same seed: D(f) / (f D(1)) within 1 % (latency off); with the latency model on, D(f) /
   (f D(1)) against the model's (f - latency / T) / f.
3. helical: an all-open sinogram (2.5 cm jaws) over 12 cm of couch travel at pitches 0.287
   (~0.86/3), 0.43 (~0.86/2) and 0.5, water box 30 x 30 x 24 cm centred on the axis:
   longitudinal profiles (2 mm) on the axis (a disc of r < 2 cm) and 10 cm off it (1 x 1 cm
   at one azimuth); over |z| < 4 cm: uniformity (max-min)/mean of 1 cm bins on the axis,
   and the ripple amplitude at the helix period (pitch x jaw width) from a least-squares
   sinusoid + line, with its 1 sigma.

4. cylinder: acceptance 3's uniformity on a water cylinder with a longer travel and the
   read-out region fixed in advance (part_cylinder's docstring).

Usage: run.py SABRE_EXE [--parts static,fraction,helical,cylinder] [--histories N] [--threads T]
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
_spec = importlib.util.spec_from_file_location("jaw_fields", os.path.join(SRC, "validation", "linac-jaw-fields", "run.py"))
jaw_fields = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(jaw_fields)


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-3000:]}")
    return r.stdout


def plan_file(tmp, name, sinogram, jaw_mm, geometry="FIXED_ANGLE", pitch=None, t=0.3, latency=False, iso=(0, 0, 0)):
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write('format = "sabre-tomo-plan/1"\n[plan]\nmachine = "Tomo"\n')
        f.write(f'geometry = "{geometry}"\nprojection_time_s = {t}\njaw_width_mm = {jaw_mm}\n')
        f.write(f"iso_start_mm = [{iso[0]}, {iso[1]}, {iso[2]}]\nleaf_latency = {'true' if latency else 'false'}\n")
        if geometry == "FIXED_ANGLE":
            f.write(f"fixed_gantry_deg = {[0.0] * len(sinogram)}\n")
        else:
            f.write(f"pitch = {pitch}\n")
        f.write("sinogram = [\n" + "".join(f"  {list(map(float, row))},\n" for row in sinogram) + "]\n")
    return path


def run_linac(a, plan, where, histories, seed, tmp, tag):
    """`sabre linac` of the TomoTherapy plan with the phantom arguments `where` (a water box or
    --ct DIR), 20 batches; the dose, its relative 1 sigma and the voxel centres (x, y, z) [cm]."""
    out = os.path.join(tmp, tag + ".h5")
    t0 = time.time()
    sh([a.exe, "--log-level", "warn", "linac", "--machine", "tomotherapy", "--plan", plan, *where,
        "--histories", str(int(histories)), "--batches", "20", "--seed", str(seed), "--threads", str(a.threads),
        "-o", out])
    with h5py.File(out, "r") as h:
        d, u = h["dose/dose"][...], h["dose/rel_uncertainty"][...]
        origin, spacing = h["grid"].attrs["origin_cm"], h["grid"].attrs["spacing_cm"]
    os.remove(out)
    print(f"  {tag}: {histories:.3g} histories, {time.time() - t0:.0f} s", flush=True)
    centres = [origin[k] + (np.arange(n) + 0.5) * spacing[k] for k, n in enumerate(d.shape[::-1])]
    return d, u, centres


def run(a, plan, size, voxel, histories, seed, tmp, tag, extra=()):
    d, u, _ = run_linac(a, plan, [*extra, "--size", *map(str, size), "--voxel", *map(str, voxel)], histories, seed,
                        tmp, tag)
    return d, u


def width50(coord, prof, ref, guess, half=0.15):
    lo = jaw_fields.level_crossing(-coord[coord < 0][::-1], prof[coord < 0][::-1] / ref, 0.5, guess, half)
    hi = jaw_fields.level_crossing(coord[coord > 0], prof[coord > 0] / ref, 0.5, guess, half)
    return lo + hi, lo, hi


def part_static(a, tmp, res):
    out = {}
    static = ["--ssd", "83.5"]
    for w in (10, 25, 50):
        p = plan_file(tmp, f"open{w}", [[1] * 64], w)
        d, u = run(a, p, (6, 3, 8), (0.2, 0.5, 0.05), a.histories, 100 + w, tmp, f"jaw{w}", static)
        nz, ny, nx = d.shape
        xc = (np.arange(nx) + 0.5) * 0.2 - nx * 0.1
        zc = (np.arange(nz) + 0.5) * 0.05 - nz * 0.025
        prof = d[:, 3, np.abs(xc) < 1.0].mean(axis=1)  # depth 1.5-2.0 cm
        ref = prof[np.abs(zc) < 0.1].mean()
        wid, lo, hi = width50(zc, prof, ref, w / 20)
        out[f"jaw_{w / 10:g}cm"] = {"width_mm": 10 * wid, "nominal_mm": w, "delta_mm": 10 * wid - w,
                                     "edges_mm": [-10 * lo, 10 * hi]}
        print(f"jaw {w / 10:g} cm: longitudinal 50 % width {10 * wid:.2f} mm (nominal {w} mm)", flush=True)
    out["jaw_1cm"]["published_real_width_mm"] = 10.5
    leaf = [0.0] * 64
    leaf[32] = 1.0
    p = plan_file(tmp, "leaf33", [leaf], 50)
    d, u = run(a, p, (4, 3, 8), (0.05, 0.5, 0.2), a.histories, 133, tmp, "leaf33", static)
    nz, ny, nx = d.shape
    xc = (np.arange(nx) + 0.5) * 0.05 - nx * 0.025 - 0.3125  # centred on the slot
    zc = (np.arange(nz) + 0.5) * 0.2 - nz * 0.1
    prof = d[np.abs(zc) < 0.5, 3, :].mean(axis=0)
    ref = prof[np.abs(xc) < 0.05].mean()
    wid, lo, hi = width50(xc, prof, ref, 0.3125, half=0.1)
    out["single_leaf"] = {"width_mm": 10 * wid, "nominal_mm": 6.25, "delta_mm": 10 * wid - 6.25,
                          "edges_mm": [-10 * lo + 3.125, 10 * hi + 3.125]}
    print(f"single leaf: lateral 50 % width {10 * wid:.2f} mm (6.25)", flush=True)
    vals = {}
    for name, row in (("open", [1.0] * 64), ("closed", [0.0] * 64)):
        p = plan_file(tmp, name, [row], 50)
        hist = a.histories // 4 if name == "open" else a.histories
        d, u = run(a, p, (6, 3, 4), (0.2, 0.5, 0.2), hist, 150 + len(name), tmp, f"mlc-{name}", static)
        blk = d[:, 3, :]
        uu = u[:, 3, :] * blk
        vals[name] = (blk.mean(), float(np.sqrt((uu ** 2).sum())) / blk.size)
    t = vals["closed"][0] / vals["open"][0]
    ts = t * float(np.hypot(vals["closed"][1] / vals["closed"][0], vals["open"][1] / vals["open"][0]))
    out["closed_mlc_transmission"] = {"value": t, "sigma": ts}
    print(f"closed-MLC transmission {100 * t:.3f} +- {100 * ts:.3f} %", flush=True)
    res["static"] = out


def part_fraction(a, tmp, res):
    out = {}
    for latency in (False, True):
        doses = {}
        for f in (1.0, 0.8, 0.6, 0.4, 0.2):
            row = [f if 28 <= i < 36 else 0.0 for i in range(64)]
            p = plan_file(tmp, f"f{f}-{latency}", [row], 25, latency=latency)
            d, u = run(a, p, (8, 3, 6), (0.2, 0.5, 0.2), a.histories, 200, tmp, f"frac{f}{'-lat' if latency else ''}",
                       ["--ssd", "83.5"])
            nz, ny, nx = d.shape
            xc = (np.arange(nx) + 0.5) * 0.2 - nx * 0.1
            zc = (np.arange(nz) + 0.5) * 0.2 - nz * 0.1
            blk = d[np.abs(zc) < 0.5][:, 3, :][:, np.abs(xc) < 2.0]
            ub = u[np.abs(zc) < 0.5][:, 3, :][:, np.abs(xc) < 2.0] * blk
            doses[f] = (blk.mean(), float(np.sqrt((ub ** 2).sum())) / blk.size)
        rows = {}
        for f in (0.8, 0.6, 0.4, 0.2):
            r = doses[f][0] / (f * doses[1.0][0])
            rs = r * doses[f][1] / doses[f][0]  # same seed: the f = 1 run's noise largely shared
            expect = max(0.0, f - 0.010 / 0.3) / f if latency else 1.0
            rows[f"{f:g}"] = {"ratio": r, "sigma": rs, "expected": expect}
            print(f"{'latency on ' if latency else ''}f {f:g}: D(f) / (f D(1)) = {r:.4f} +- {rs:.4f} (expected {expect:.4f})",
                  flush=True)
        out["latency_on" if latency else "latency_off"] = rows
    res["fraction"] = out


def part_helical(a, tmp, res):
    """The thread effect at three pitches: 12 cm of travel, all leaves open, 2.5 cm jaws, read
    out on the axis and 10 cm off it. --helical-phantom box: a 30 x 30 x 24 cm water box of
    1 x 1 x 0.2 cm voxels (the first runs); cylinder: `sabre phantom cylinder`, 30 cm diameter,
    30 cm long, the same voxels, the phantom acceptance 3 names."""
    out = {}
    cyl = a.helical_phantom == "cylinder"
    if cyl:
        ct = os.path.join(tmp, "thread-cylinder")
        sh([a.exe, "--log-level", "warn", "phantom", "cylinder", "--size", "300", "300", "300", "--spacing", "10",
            "--slice", "2", "-o", ct])
    for pitch in (0.287, 0.43, 0.5):
        step = pitch * 25 / 51
        n = int(np.ceil(120 / step))
        p = plan_file(tmp, f"hel{pitch}", [[1] * 64] * n, 25, geometry="HELICAL", pitch=pitch, t=0.1,
                      iso=(0, 0, 60))
        if cyl:
            d, u, (xc, yc, zc) = run_linac(a, p, ["--ct", ct], a.helical_histories, 300 + int(100 * pitch), tmp,
                                           f"helical{pitch} (cylinder)")
        else:
            d, u = run(a, p, (30, 30, 24), (1.0, 1.0, 0.2), a.helical_histories, 300 + int(100 * pitch), tmp,
                       f"helical{pitch}", ["--centred", "--box-centre", "0", "0", "0"])
            nz, ny, nx = d.shape
            zc = (np.arange(nz) + 0.5) * 0.2 - nz * 0.1
            xc = (np.arange(nx) + 0.5) * 1.0 - nx * 0.5
            yc = (np.arange(ny) + 0.5) * 1.0 - ny * 0.5
        X, Y = np.meshgrid(xc, yc)
        R = np.hypot(X, Y)
        sig = u * d

        def line(mask):
            v = d[:, mask].mean(axis=1)
            e = np.sqrt((sig[:, mask] ** 2).sum(axis=1)) / mask.sum()
            return v, e

        axis, eax = line(R < 2.0)                       # a disc of 2 cm about the axis
        off, eoff = line((np.abs(X - 10) < 0.6) & (np.abs(Y) < 0.6))  # 10 cm off axis, one azimuth
        c = np.abs(zc) < 4.0
        # uniformity: 1 cm bins over |z| < 4 cm
        zb = np.floor(zc[c]).astype(int)
        bins = np.array([axis[c][zb == k].mean() for k in np.unique(zb)])
        ebins = np.array([np.sqrt((eax[c][zb == k] ** 2).sum()) / (zb == k).sum() for k in np.unique(zb)])
        period = pitch * 2.5

        def ripple(v, e):
            """Amplitude of A cos(2 pi z / period) + B sin(...) + C + D z over |z| < 4 cm
            (weighted least squares), relative to C: the thread ripple at its known period,
            with its 1 sigma."""
            z = zc[c]
            A = np.vstack([np.cos(2 * np.pi * z / period), np.sin(2 * np.pi * z / period), np.ones_like(z), z]).T
            w = 1 / e[c] ** 2
            cov = np.linalg.inv(A.T @ (A * w[:, None]))
            coef = cov @ (A.T @ (w * v[c]))
            amp = np.hypot(coef[0], coef[1]) / coef[2]
            # 1 sigma of the amplitude (linearised; biased up by noise when amp ~ sigma)
            g = np.array([coef[0], coef[1]]) / max(np.hypot(coef[0], coef[1]), 1e-300) / coef[2]
            samp = float(np.sqrt(g @ cov[:2, :2] @ g))
            return float(amp), samp

        ra, sa = ripple(axis, eax)
        ro, so = ripple(off, eoff)
        uni = float((bins.max() - bins.min()) / bins.mean())
        out[f"{pitch:g}"] = {"period_mm": 10 * period, "projections": n,
                             "axis_uniformity_max_min_over_mean_1cm_bins": uni,
                             "axis_bin_rel_sigma": float((ebins / bins).mean()),
                             "axis_ripple_amplitude": ra, "axis_ripple_sigma": sa,
                             "off_axis_10cm_ripple_amplitude": ro, "off_axis_10cm_ripple_sigma": so,
                             "z_cm": [float(v) for v in zc], "axis_profile": [float(v) for v in axis],
                             "off_axis_profile": [float(v) for v in off]}
        print(f"pitch {pitch:g} (period {10 * period:.1f} mm): axis uniformity (1 cm bins, |z| < 4 cm) "
              f"{100 * uni:.2f} % (bin sigma {100 * (ebins / bins).mean():.2f} %); ripple amplitude on the axis "
              f"{100 * ra:.2f} +- {100 * sa:.2f} %, 10 cm off axis {100 * ro:.2f} +- {100 * so:.2f} %", flush=True)
    res["helical" if not cyl else "helical_cylinder"] = out


def part_cylinder(a, tmp, res):
    """Acceptance 3 on the phantom the issue names, with the read-out region fixed before
    the run: a water cylinder (30 cm diameter, --cyl-length long, 5 mm voxels), an all-open
    helical sinogram (2.5 cm jaws, pitch 0.287) over --cyl-travel of couch travel centred on
    it; the axis dose (a disc r < 2 cm) in 1 cm bins over |z| <= --cyl-region, i.e. that far
    inside both ends of the travel; (max - min) / mean against 2 %. Defaults: 40 cm, 24 cm,
    7 cm (5 cm inside the ends); the second run: 50 cm, 36 cm, 10 cm (8 cm inside)."""
    travel, region, length = a.cyl_travel, a.cyl_region, a.cyl_length
    ct = os.path.join(tmp, "cylinder")
    sh([a.exe, "--log-level", "warn", "phantom", "cylinder", "--size", "300", "300", str(length), "--spacing", "5",
        "--slice", "5", "-o", ct])
    plan = os.path.join(tmp, "cyl.toml")
    sh([a.exe, "--log-level", "warn", "plan", "tomo", "-o", plan, "--ct", ct, "--target", "0", "0", "0",
        "--radius", "0", "--length", str(travel), "--jaw", "25", "--pitch", "0.287", "--projection-time", "0.1"])
    d, u, (xc, yc, zc) = run_linac(a, plan, ["--ct", ct], a.helical_histories, 287, tmp, "cylinder")
    X, Y = np.meshgrid(xc, yc)
    disc = np.hypot(X, Y) < 2.0
    sig = u * d
    axis = d[:, disc].mean(axis=1)
    eax = np.sqrt((sig[:, disc] ** 2).sum(axis=1)) / disc.sum()
    c = np.abs(zc) <= region / 10
    zb = np.floor(zc[c]).astype(int)
    keys = np.unique(zb)
    bins = np.array([axis[c][zb == k].mean() for k in keys])
    ebins = np.array([np.sqrt((eax[c][zb == k] ** 2).sum()) / (zb == k).sum() for k in keys])
    uni = float((bins.max() - bins.min()) / bins.mean())
    slope = np.polyfit(keys + 0.5, bins / bins.mean(), 1)[0]
    res[f"cylinder_{int(travel)}mm"] = {"pitch": 0.287, "travel_mm": travel, "cylinder_length_mm": length,
                       "region_cm": [-region / 10, region / 10],
                       "axis_uniformity_max_min_over_mean_1cm_bins": uni,
                       "axis_bin_rel_sigma": float((ebins / bins).mean()),
                       "axis_slope_per_cm": float(slope),
                       "bins_z_cm": [float(k + 0.5) for k in keys], "bins_rel": [float(v) for v in bins / bins.mean()],
                       "z_cm": [float(v) for v in zc], "axis_profile": [float(v) for v in axis]}
    print(f"cylinder, pitch 0.287, {travel / 10:g} cm travel: axis (max - min) / mean over |z| <= {region / 10:g} cm, "
          f"1 cm bins: "
          f"{100 * uni:.2f} % (bin sigma {100 * (ebins / bins).mean():.2f} %), slope {100 * slope:+.3f} %/cm: "
          f"{'pass' if uni <= 0.02 else 'FAIL'} (2 %)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exe")
    ap.add_argument("--parts", default="static,fraction,helical")
    ap.add_argument("--histories", type=float, default=2e7)
    ap.add_argument("--helical-histories", type=float, default=6e7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--helical-phantom", choices=("box", "cylinder"), default="box",
                    help="helical: the phantom of the thread-effect runs")
    ap.add_argument("--cyl-travel", type=float, default=240, help="cylinder: couch travel [mm]")
    ap.add_argument("--cyl-region", type=float, default=70, help="cylinder: read-out half-length [mm]")
    ap.add_argument("--cyl-length", type=float, default=400, help="cylinder: length [mm]")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    a = ap.parse_args()
    a.histories = int(a.histories)
    a.helical_histories = int(a.helical_histories)
    res = json.load(open(a.out)) if os.path.exists(a.out) else {}
    res["sabre"] = [v for v in sh([a.exe, "--version"]).split("\n") if v.startswith("commit")][0]
    with tempfile.TemporaryDirectory() as tmp:
        for part in a.parts.split(","):
            t0 = time.time()
            {"static": part_static, "fraction": part_fraction, "helical": part_helical,
             "cylinder": part_cylinder}[part](a, tmp, res)
            res.setdefault("seconds", {})[part] = round(time.time() - t0)
            res.setdefault("histories", {})[part] = a.helical_histories if part in ("helical", "cylinder") else a.histories
            with open(a.out, "w") as f:
                json.dump(res, f, indent=1)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
