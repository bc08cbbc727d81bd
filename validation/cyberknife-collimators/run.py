#!/usr/bin/env python3
"""Issue 17, acceptance 1-4: the CyberKnife collimators of beams/machines/cyberknife-m6.toml.

Every run is `sabre linac` of a one-node native plan (`sabre plan cyberknife --nodes 1
--max-angle 0`: the source 80 cm anterior of the target) in a water box at SSD 78.5 cm, so
the target lies at 1.5 cm depth, 80 cm from the source (the published reference geometry).
Voxels 0.04 cm across, 0.2 cm deep (the layer 1.4-1.6 cm is the 1.5 cm depth); field-
restriction margin 0.1 cm (cone and Iris walls are 10-12 cm of tungsten: nothing passes
beyond the bore).

Read-outs at 1.5 cm depth:
- axis dose D0: weighted least squares of D = D0 (1 - k r^2) over the voxels with
  r < D/5 (D: nominal size), so that averaging over the region does not lower the small
  cones' peak; its 1 sigma from the voxel uncertainties (the fit's covariance).
- the radial profile (mean dose in 0.04 cm rings about the axis, all azimuths): the 50 %
  radius of D0 (local cubic, validation/linac-jaw-fields' level_crossing), width = 2 r50,
  and the 80-20 % penumbra; 1 sigma by parametric bootstrap. The cones' width criterion is
  on it.
- profiles along x and z (mean of the voxel rows with |other| < max(0.06 cm, size/100)):
  the 50 % crossings, width = right - left, the 80-20 % penumbra per side; for the Iris,
  whose flats face x and z, these are the widths compared with the cone's.

Parts:
1. spot: the small-cone output factors OF(d) = D0(d) / D0(60 mm) for d = 5, 7.5, 10 mm on
   a grid of focal-spot sizes (0.6, 0.8, 1.0 x Thiele et al. 2023's widths read as FWHM)
   and extra-focal weights (0.02, 0.06): the spot sensitivity, and the least-squares fit to
   the detector-corrected published values (Ploquin et al. 2012: the mean of the
   microMOSFET and Al2O3 fibre values), first of the spot alone (extra-focal 0.02), then of
   spot and extra-focal weight together. What the machine file carries comes from that
   fit (its tags say so): a FIT, two parameters to three values.
2. cones: all 12 cones at the machine file's spot: OF, widths, penumbrae. Criteria:
   OF(5, 7.5, 10) within 3 % of each corrected published value (fit quality: the spot was
   fitted to them); every width within 0.3 mm of nominal (x and z).
3. iris: the Iris at 7.5, 10 and 30 mm against the cones of part 2: axis dose within 1 %
   (with its 1 sigma), width within 0.3 mm.
4. incise: a 2 x 2 cm2 MLC field (x: leaf tips at -10 and +10 mm; z: the 8 pairs between
   the leaf boundaries at -8.75 and +11.25 mm, the 41 pairs of 2.5 mm being centred on the
   axis) at 1.5 cm depth: 50 % edges (of the field centre's dose) within 0.5 mm of nominal;
   and closed-leaf transmission: every pair closed with the tips meeting at x = +40 mm
   against all pairs open (x +-50 mm), mean dose over |x|, |z| < 1 cm at 4.5-5.5 cm depth,
   inside the machine file's transmission_range.

Usage: run.py SABRE_EXE [--parts spot,cones,iris,incise] [--histories N] [--threads T]
              [--out results.json]
"""
import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
MACHINE = os.path.join(SRC, "beams", "machines", "cyberknife-m6.toml")
CONES_MM = [5, 7.5, 10, 12.5, 15, 20, 25, 30, 35, 40, 50, 60]
# Ploquin et al., Med Phys 39 (2012) doi:10.1118/1.4740202, via
# ../shared/data/reference/measured/cyberknife-cone-output-factors-ploquin2012.csv
PUBLISHED = {5: {"microMOSFET_RADPOS": 0.650, "Al2O3C_RL_fibre": 0.656, "EBT_film_uncorrected": 0.645},
             7.5: {"microMOSFET_RADPOS": 0.811, "Al2O3C_RL_fibre": 0.815, "EBT_film_uncorrected": 0.806},
             10: {"microMOSFET_RADPOS": 0.843, "Al2O3C_RL_fibre": 0.865, "EBT_film_uncorrected": 0.859}}
CORRECTED = ("microMOSFET_RADPOS", "Al2O3C_RL_fibre")

_spec = importlib.util.spec_from_file_location("jaw_fields", os.path.join(SRC, "validation", "linac-jaw-fields", "run.py"))
jaw_fields = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(jaw_fields)

VOX = 0.04


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-3000:]}")
    return r.stdout


SPOT0 = (0.106, 0.098)  # Thiele et al. 2023's source widths read as FWHM, as sigmas [cm]


def machine_with(scale, ef_weight, tmp):
    """A copy of the machine file with focal-spot sigmas = scale x SPOT0 and the
    extra-focal weight set."""
    text = open(MACHINE).read()
    text = re.sub(r"(sigma_x_cm = \{ value = )([0-9.]+)", lambda m: f"{m.group(1)}{SPOT0[0] * scale:.5f}", text)
    text = re.sub(r"(sigma_y_cm = \{ value = )([0-9.]+)", lambda m: f"{m.group(1)}{SPOT0[1] * scale:.5f}", text)
    text = re.sub(r"(\[beam.extrafocal\]\s*\nweight = \{ value = )([0-9.]+)", lambda m: f"{m.group(1)}{ef_weight:.5f}", text)
    path = os.path.join(tmp, f"ck-spot-{scale:.3f}-ef-{ef_weight:.3f}.toml")
    open(path, "w").write(text)
    return path


def node_plan(a, tmp, collimator, size_mm):
    path = os.path.join(tmp, f"plan-{collimator}-{size_mm:g}.toml")
    sh([a.exe, "--log-level", "warn", "plan", "cyberknife", "-o", path, "--nodes", "1", "--max-angle", "0",
        "--collimator", collimator, "--size", str(size_mm), "--mu", "100"])
    return path


def mlc_plan(tmp, name, a_mm, b_mm):
    path = os.path.join(tmp, f"plan-mlc-{name}.toml")
    with open(path, "w") as f:
        f.write('format = "sabre-robotic-plan/1"\n[plan]\nmachine = "CyberKnife"\n[[node]]\n'
                'source_mm = [0, -800, 0]\ntarget_mm = [0, 0, 0]\ncollimator = "mlc"\n'
                f"leaves_a_mm = {list(a_mm)}\nleaves_b_mm = {list(b_mm)}\nmu = 100\n")
    return path


def dose_run(a, machine, plan, lateral_cm, depth_cm, voxel_depth, histories, seed, tmp, tag):
    out = os.path.join(tmp, f"{tag}.h5")
    t0 = time.time()
    s = json.loads(sh([a.exe, "--log-level", "warn", "linac", "--machine", machine, "--plan", plan,
                       "--ssd", "78.5", "--size", f"{lateral_cm:g}", f"{depth_cm:g}", f"{lateral_cm:g}",
                       "--voxel", f"{VOX}", f"{voxel_depth}", f"{VOX}", "--histories", str(int(histories)),
                       "--batches", "20", "--seed", str(seed), "--threads", str(a.threads), "--margin", "0.1",
                       "-o", out]))
    with h5py.File(out, "r") as h:
        d, u = h["dose/dose"][...], h["dose/rel_uncertainty"][...]
    os.remove(out)
    print(f"  {tag}: {histories:.3g} histories, {time.time() - t0:.0f} s", flush=True)
    return d, u, s


def layer_at(d, u, depth_lo, voxel_depth):
    """The dose layer from depth_lo and its absolute 1 sigma (voxels without an estimate
    get the largest sigma of the layer)."""
    j = int(round(depth_lo / voxel_depth))
    s = u[:, j, :] * d[:, j, :]
    bad = ~np.isfinite(s) | (s <= 0)
    s[bad] = np.nanmax(np.where(bad, np.nan, s)) if (~bad).any() else 1.0
    return d[:, j, :], s


def axis_dose(layer, sigma, size_cm, centre=(0.0, 0.0)):
    """D0 of D = D0 (1 - k r^2) fitted over r < size/5 and its 1 sigma. Ordinary least squares
    (equal voxels, nearly equal true variances in so small a region): weights from the
    estimated voxel variances would pull D0 down, since a voxel's estimated variance grows
    with its dose."""
    nz, nx = layer.shape
    xc = (np.arange(nx) + 0.5) * VOX - nx * VOX / 2 - centre[0]
    zc = (np.arange(nz) + 0.5) * VOX - nz * VOX / 2 - centre[1]
    X, Z = np.meshgrid(xc, zc)
    r2 = X ** 2 + Z ** 2
    m = r2 < (size_cm / 5) ** 2
    y, s = layer[m], sigma[m]
    A = np.vstack([np.ones(y.size), r2[m]]).T
    inv = np.linalg.inv(A.T @ A)
    coef = inv @ (A.T @ y)
    cov = inv @ (A.T @ (A * (s ** 2)[:, None])) @ inv
    return float(coef[0]), float(np.sqrt(cov[0, 0])), int(m.sum())


def profiles(layer, sigma, band=0.06):
    nz, nx = layer.shape
    xc = (np.arange(nx) + 0.5) * VOX - nx * VOX / 2
    zc = (np.arange(nz) + 0.5) * VOX - nz * VOX / 2
    bz, bx = np.abs(zc) < band, np.abs(xc) < band
    px = layer[bz, :].mean(axis=0)
    upx = np.sqrt((sigma[bz, :] ** 2).sum(axis=0)) / bz.sum()
    pz = layer[:, bx].mean(axis=1)
    upz = np.sqrt((sigma[:, bx] ** 2).sum(axis=1)) / bx.sum()
    return {"x": (xc, px, upx), "z": (zc, pz, upz)}


def radial_profile(layer, sigma, centre=(0.0, 0.0)):
    """Mean dose in rings of width VOX about the axis (all azimuths) and its 1 sigma."""
    nz, nx = layer.shape
    xc = (np.arange(nx) + 0.5) * VOX - nx * VOX / 2 - centre[0]
    zc = (np.arange(nz) + 0.5) * VOX - nz * VOX / 2 - centre[1]
    X, Z = np.meshgrid(xc, zc)
    k = (np.hypot(X, Z) / VOX).astype(int).ravel()
    n = np.bincount(k)
    ok = n > 0
    mean = np.bincount(k, layer.ravel())[ok] / n[ok]
    sig = np.sqrt(np.bincount(k, (sigma ** 2).ravel())[ok]) / n[ok]
    r = (np.arange(n.size)[ok] + 0.5) * VOX
    # the ring's mean radius, not its centre line, for the innermost rings
    rm = np.bincount(k, np.hypot(X, Z).ravel())[ok] / n[ok]
    return rm, mean, sig


def radial_edge(r, prof, uprof, ref, nominal_r, rng, half, n_boot=100):
    """50 % radius (width = 2 r50) and the 80-20 % penumbra of a round field, with bootstrap 1 sigma."""
    def one(p):
        return (crossing(r, p / ref, 0.5, nominal_r, half),
                crossing(r, p / ref, 0.2, nominal_r, half) - crossing(r, p / ref, 0.8, nominal_r, half))
    e50, pen = one(prof)
    boots = np.array([one(prof + rng.normal(size=prof.size) * uprof) for _ in range(n_boot)])
    return {"width_mm": 20 * e50, "width_sigma_mm": 20 * float(np.nanstd(boots[:, 0])),
            "penumbra_80_20_mm": 10 * pen, "penumbra_sigma_mm": 10 * float(np.nanstd(boots[:, 1]))}


def crossing(coord, prof, level, guess, half):
    return jaw_fields.level_crossing(coord, prof, level, guess, half)


def edges(coord, prof, uprof, ref, guess_lo, guess_hi, rng, half, n_boot=100):
    """50 % crossings of `ref` on both sides (outward), the 80-20 penumbrae, and bootstrap
    1 sigma of each. guess_lo < 0 < guess_hi are the nominal edges [cm]."""
    def one(p):
        neg = coord < (guess_lo + guess_hi) / 2
        pos = ~neg
        # outward coordinates: the negative side mirrored
        xn, pn = -coord[neg], p[neg]
        xp, pp = coord[pos], p[pos]
        out = {}
        for side, xs, ps, g in (("lo", xn, pn, -guess_lo), ("hi", xp, pp, guess_hi)):
            e50 = crossing(xs, ps / ref, 0.5, g, half)
            e80 = crossing(xs, ps / ref, 0.8, g, half)
            e20 = crossing(xs, ps / ref, 0.2, g, half)
            out[side] = (e50, e20 - e80)
        return out
    base = one(prof)
    boots = [one(prof + rng.normal(size=prof.size) * uprof) for _ in range(n_boot)]
    res = {}
    for side in ("lo", "hi"):
        e = np.array([b[side][0] for b in boots])
        pn = np.array([b[side][1] for b in boots])
        res[side] = {"edge_cm": base[side][0] * (-1 if side == "lo" else 1),
                     "edge_sigma_cm": float(np.nanstd(e)),
                     "penumbra_80_20_mm": 10 * base[side][1], "penumbra_sigma_mm": 10 * float(np.nanstd(pn))}
    width = res["hi"]["edge_cm"] - res["lo"]["edge_cm"]
    ws = np.hypot(res["hi"]["edge_sigma_cm"], res["lo"]["edge_sigma_cm"])
    return {"width_mm": 10 * width, "width_sigma_mm": 10 * ws, "edges": res}


def round_cone(a, machine, collimator, size_mm, histories, seed, tmp, tag):
    """One cone or Iris run: D0 and the x and z profiles' widths and penumbrae at 1.5 cm."""
    size = size_mm / 10
    lateral = round(size + 2.0, 1)
    plan = node_plan(a, tmp, collimator, size_mm)
    d, u, s = dose_run(a, machine, plan, lateral, 2.4, 0.2, histories, seed, tmp, tag)
    layer, sigma = layer_at(d, u, 1.4, 0.2)
    d0, d0s, nvox = axis_dose(layer, sigma, size)
    rng = np.random.default_rng(seed)
    half = max(0.1, min(0.3, size / 10))
    out = {"collimator": collimator, "size_mm": size_mm, "histories": histories, "seed": seed,
           "axis_dose_gy_per_history": d0, "axis_dose_rel_sigma": d0s / d0, "axis_fit_voxels": nvox,
           "wall_seconds": s.get("wall_seconds")}
    for name, (coord, prof, uprof) in profiles(layer, sigma, band=max(0.06, 0.01 * size)).items():
        out[name] = edges(coord, prof, uprof, d0, -size / 2, size / 2, rng, half)
    r, pr, upr = radial_profile(layer, sigma)
    out["radial"] = radial_edge(r, pr, upr, d0, size / 2, rng, half)
    return out


def histories_for(a, size_mm):
    return a.histories


def part_spot(a, tmp, results):
    """Small-cone output factors on a grid of focal-spot scales (x SPOT0) and extra-focal
    weights; the least-squares values on a quadratic-in-scale, linear-in-weight
    interpolation."""
    scales, weights = [0.6, 0.8, 1.0], [0.02, 0.06]
    table = {}
    for w in weights:
        for sc in scales:
            mfile = machine_with(sc, w, tmp)
            runs = {c: round_cone(a, mfile, "cone", c, a.histories, 1700 + int(10 * c), tmp, f"spot{sc:g}-ef{w:g}-cone{c:g}")
                    for c in (5, 7.5, 10, 60)}
            ref = runs[60]
            row = {}
            for c in (5, 7.5, 10):
                r = runs[c]
                of = r["axis_dose_gy_per_history"] / ref["axis_dose_gy_per_history"]
                rs = float(np.hypot(r["axis_dose_rel_sigma"], ref["axis_dose_rel_sigma"]))
                row[f"{c:g}"] = {"of": of, "of_sigma": of * rs, "width_radial_mm": r["radial"]["width_mm"]}
            table[f"scale {sc:g}, extra-focal {w:g}"] = row
            print(f"spot scale {sc:g}, extra-focal {w:g}: OF {[round(row[f'{c:g}']['of'], 4) for c in (5, 7.5, 10)]}",
                  flush=True)
    targets = {c: float(np.mean([PUBLISHED[c][k] for k in CORRECTED])) for c in (5, 7.5, 10)}
    spread = {c: float(np.ptp([PUBLISHED[c][k] for k in CORRECTED])) / 2 for c in (5, 7.5, 10)}

    def model(c, sc, w):
        vals = []
        for ww in weights:
            ys = [table[f"scale {s0:g}, extra-focal {ww:g}"][f"{c:g}"]["of"] for s0 in scales]
            vals.append(np.polyval(np.polyfit(scales, ys, 2), sc))
        return vals[0] + (vals[1] - vals[0]) * (w - weights[0]) / (weights[1] - weights[0])

    def chi2(sc, w):
        tot = 0.0
        for c in (5, 7.5, 10):
            sig = np.hypot(table["scale 1, extra-focal 0.02"][f"{c:g}"]["of_sigma"], max(spread[c], 0.005 * targets[c]))
            tot += ((model(c, sc, w) - targets[c]) / sig) ** 2
        return tot

    def best_over(ws):
        grid = [(chi2(sc, w), sc, w) for sc in np.linspace(0.5, 1.1, 121) for w in ws]
        return min(grid)

    spot_only = best_over([0.02])
    joint = best_over(np.linspace(0.0, 0.08, 81))
    results["spot"] = {
        "grid": table, "targets_corrected_mean": {f"{k:g}": v for k, v in targets.items()},
        "target_half_spread": {f"{k:g}": v for k, v in spread.items()},
        "spot_only": {"scale": spot_only[1], "extra_focal_weight": 0.02, "chi2": spot_only[0],
                      "of": {f"{c:g}": model(c, spot_only[1], 0.02) for c in (5, 7.5, 10)}},
        "joint": {"scale": joint[1], "extra_focal_weight": joint[2], "chi2": joint[0],
                  "of": {f"{c:g}": model(c, joint[1], joint[2]) for c in (5, 7.5, 10)}},
        "spot0_sigma_cm": SPOT0,
        "note": "chi2 with sigma = hypot(MC sigma, half the spread of the two corrected detectors, >= 0.5 %)"}
    for k in ("spot_only", "joint"):
        r = results["spot"][k]
        print(f"{k}: scale {r['scale']:.3f}, extra-focal {r['extra_focal_weight']:.3f}, chi2 {r['chi2']:.2f}, "
              f"OF {[round(v, 4) for v in r['of'].values()]}", flush=True)


def part_cones(a, tmp, results):
    cones = {}
    for c in CONES_MM:
        cones[f"{c:g}"] = round_cone(a, MACHINE, "cone", c, a.histories, 2700 + int(10 * c), tmp, f"cone{c:g}")
    ref = cones["60"]
    rows = []
    ok_of, ok_w = True, True
    for c in CONES_MM:
        r = cones[f"{c:g}"]
        of = r["axis_dose_gy_per_history"] / ref["axis_dose_gy_per_history"]
        r["of"] = of
        r["of_sigma"] = of * float(np.hypot(r["axis_dose_rel_sigma"], ref["axis_dose_rel_sigma"])) if c != 60 else 0.0
        for ax in ("x", "z", "radial"):
            r[ax]["delta_width_mm"] = r[ax]["width_mm"] - c
        ok_w &= abs(r["radial"]["delta_width_mm"]) <= 0.3
        if c in PUBLISHED:
            r["published"] = PUBLISHED[c]
            r["of_rel_diff_corrected"] = {k: of / PUBLISHED[c][k] - 1 for k in CORRECTED}
            ok_of &= all(abs(v) <= 0.03 for v in r["of_rel_diff_corrected"].values())
        rows.append(r)
    results["cones"] = {"by_size_mm": cones, "of_within_3pct_of_corrected": bool(ok_of),
                        "widths_within_0_3mm": bool(ok_w)}
    for r in rows:
        print(f"cone {r['size_mm']:>4g} mm: OF {r['of']:.4f} +- {r['of_sigma']:.4f}; width radial "
              f"{r['radial']['width_mm']:.2f} +- {r['radial']['width_sigma_mm']:.2f}, x {r['x']['width_mm']:.2f}, "
              f"z {r['z']['width_mm']:.2f} mm; penumbra 80-20 {r['radial']['penumbra_80_20_mm']:.2f} mm", flush=True)


def part_iris(a, tmp, results):
    if "cones" not in results:
        sys.exit("part iris needs part cones in the same results file")
    out = {}
    ok = True
    for c in (7.5, 10, 30):
        r = round_cone(a, MACHINE, "iris", c, a.histories, 3700 + int(10 * c), tmp, f"iris{c:g}")
        cone = results["cones"]["by_size_mm"][f"{c:g}"]
        ratio = r["axis_dose_gy_per_history"] / cone["axis_dose_gy_per_history"]
        rs = float(np.hypot(r["axis_dose_rel_sigma"], cone["axis_dose_rel_sigma"]))
        r["axis_ratio_to_cone"] = ratio
        r["axis_ratio_sigma"] = ratio * rs
        for ax in ("x", "z"):
            r[ax]["delta_width_to_cone_mm"] = r[ax]["width_mm"] - cone[ax]["width_mm"]
            ok &= abs(r[ax]["delta_width_to_cone_mm"]) <= 0.3
        ok &= abs(ratio - 1) <= 0.01
        out[f"{c:g}"] = r
        print(f"iris {c:g} mm: axis / cone {ratio:.4f} +- {ratio * rs:.4f}; width x {r['x']['width_mm']:.2f} "
              f"(cone {cone['x']['width_mm']:.2f}), z {r['z']['width_mm']:.2f} (cone {cone['z']['width_mm']:.2f}) mm",
              flush=True)
    results["iris"] = {"by_size_mm": out, "pass": bool(ok)}


def part_incise(a, tmp, results):
    n = 41
    bnd = [-51.25 + 2.5 * k for k in range(n + 1)]
    centres = [(bnd[k] + bnd[k + 1]) / 2 for k in range(n)]
    open_pair = [-8.75 < c < 11.25 for c in centres]
    a_mm = [-10.0 if o else 0.0 for o in open_pair]
    b_mm = [10.0 if o else 0.0 for o in open_pair]
    plan = mlc_plan(tmp, "2x2", a_mm, b_mm)
    d, u, s = dose_run(a, MACHINE, plan, 4.0, 2.4, 0.2, a.mlc_histories, 4701, tmp, "incise-2x2")
    layer, sigma = layer_at(d, u, 1.4, 0.2)
    # Reference: the field centre's dose (x = 0, z = +1.25 mm), fitted like the cones' axis dose.
    d0, d0s, _ = axis_dose(layer, sigma, 2.0, centre=(0.0, 0.125))
    rng = np.random.default_rng(4701)
    pr = profiles(layer, sigma)
    # z profile through the field centre: rows with |x| < 0.06; x profile through z = +0.125 cm
    nz, nx = layer.shape
    zc = (np.arange(nz) + 0.5) * VOX - nz * VOX / 2
    bz = np.abs(zc - 0.125) < 0.06
    xc = (np.arange(nx) + 0.5) * VOX - nx * VOX / 2
    px = layer[bz, :].mean(axis=0)
    upx = np.sqrt((sigma[bz, :] ** 2).sum(axis=0)) / bz.sum()
    ex = edges(xc, px, upx, d0, -1.0, 1.0, rng, 0.2)
    coord, pz, upz = pr["z"]
    ez = edges(coord, pz, upz, d0, -0.875, 1.125, rng, 0.2)
    deltas = {"x_lo_mm": 10 * (ex["edges"]["lo"]["edge_cm"] + 1.0), "x_hi_mm": 10 * (ex["edges"]["hi"]["edge_cm"] - 1.0),
              "z_lo_mm": 10 * (ez["edges"]["lo"]["edge_cm"] + 0.875), "z_hi_mm": 10 * (ez["edges"]["hi"]["edge_cm"] - 1.125)}
    ok_edges = all(abs(v) <= 0.5 for v in deltas.values())
    print(f"incise 2x2: edge - nominal {', '.join(f'{k} {v:+.2f}' for k, v in deltas.items())}", flush=True)
    # Transmission at 5 cm depth.
    open_plan = mlc_plan(tmp, "open", [-50.0] * n, [50.0] * n)
    closed_plan = mlc_plan(tmp, "closed", [40.0] * n, [40.0] * n)
    vals = {}
    for name, p, hist in (("open", open_plan, a.mlc_histories // 4), ("closed", closed_plan, a.mlc_histories)):
        dd, uu, _ = dose_run(a, MACHINE, p, 6.0, 6.0, 0.5, hist, 4800 + len(name), tmp, f"incise-{name}")
        nz, ny, nx = dd.shape
        c = (np.arange(nx) + 0.5) * VOX - nx * VOX / 2
        m = np.abs(c) < 1.0
        blk = dd[m][:, 9, :][:, m]  # depth 4.5-5.5 cm (0.5 cm layers)
        ublk = uu[m][:, 9, :][:, m] * blk
        mean = blk.mean()
        vals[name] = (mean, float(np.sqrt((ublk ** 2).sum())) / blk.size / mean)
    t = vals["closed"][0] / vals["open"][0]
    ts = t * float(np.hypot(vals["closed"][1], vals["open"][1]))
    rng_lo, rng_hi = 0.001, 0.005
    for line in open(MACHINE):
        m = re.match(r"transmission_range = \{ value = \[([0-9.]+), ([0-9.]+)\]", line)
        if m:
            rng_lo, rng_hi = float(m.group(1)), float(m.group(2))
    print(f"incise closed-leaf transmission {100 * t:.3f} +- {100 * ts:.3f} % (range {100 * rng_lo:g}-{100 * rng_hi:g} %)",
          flush=True)
    results["incise"] = {"field_2x2": {"x": ex, "z": ez, "reference_dose": d0, "reference_rel_sigma": d0s / d0,
                                       "edge_minus_nominal_mm": deltas, "pass": bool(ok_edges),
                                       "histories": a.mlc_histories},
                         "transmission": {"value": t, "sigma": ts, "range": [rng_lo, rng_hi],
                                          "inside_range": bool(rng_lo <= t <= rng_hi),
                                          "histories": {"open": a.mlc_histories // 4, "closed": a.mlc_histories}}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exe")
    ap.add_argument("--parts", default="spot,cones,iris,incise")
    ap.add_argument("--histories", type=float, default=6e7, help="per cone / Iris run")
    ap.add_argument("--mlc-histories", type=float, default=8e7, help="per InCise run (open field: a quarter)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    a = ap.parse_args()
    a.histories = int(a.histories)
    a.mlc_histories = int(a.mlc_histories)
    results = json.load(open(a.out)) if os.path.exists(a.out) else {}
    version = sh([a.exe, "--version"]).split("\n")
    results["sabre"] = [v for v in version if v.startswith("commit")][0]
    with tempfile.TemporaryDirectory() as tmp:
        for part in a.parts.split(","):
            t0 = time.time()
            {"spot": part_spot, "cones": part_cones, "iris": part_iris, "incise": part_incise}[part](a, tmp, results)
            results.setdefault("seconds", {})[part] = round(time.time() - t0)
            with open(a.out, "w") as f:
                json.dump(results, f, indent=1, default=float)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
