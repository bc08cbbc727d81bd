#!/usr/bin/env python3
"""Why is the fitted model's 30 x 30 cm2 penumbra at 20 cm 3 mm too sharp? A diagnostic from
the kept basis runs alone (no Monte Carlo): README.md, "The 30 x 30 cm2 penumbra at 20 cm".

The dose is linear in the fitted model's free parameters, so a set-up's profile for any off-axis
fluence or any spectrum is a sum of basis runs that the fit computed once:
- fluence: D = w_p sum_k f_k H_k + w_f EF + w_e EL (H_k the dose of knot k's hat function,
  engine/commission/commission.cc stage_fluence);
- spectrum: D_photon = sum_g x_g p_g P_g (P_g the dose of prior x hat_g per photon, p_g its share
  of the prior; stage_spectrum), x from the spectrum's bin weights.
fit-cache-6a91fd0/ holds round 1's basis runs of the 2818bd8 fit, the 30 x 30 cm2 set-up's
among them. Swapping the hidden model's fluence (or spectrum) for the fitted one in the same
basis gives the change of each profile figure that this parameter alone makes, with the basis
runs' noise common to both (it cancels to first order in the difference).

The profile figures mirror engine/commission/report.cc profile_figures (inflection points,
field size, 80-20 % penumbra renormalised to the inflection level); the script first prints them
for the data, which the report also lists (report/report.md: 6.76, 11.5 and 25.3 mm), as the
check that the mirror reads the same. It also prints how steep the data's renormalised profile
is at the 80 % and 20 % crossings (what a 0.1 % change of the dose there moves them).

What it found (2026-12-06): the fitted fluence moves the 20 cm penumbra by +0.24 mm and the
fitted spectrum by +0.29 mm (wider, not sharper); paired_penumbra.py then measured the whole
fitted model against the hidden one at common seeds: +0.37 and -0.47 mm.

Usage: penumbra_from_basis.py   (reads the files beside it; prints; writes nothing)
"""
import csv
import glob
import json
import os
import tomllib
import warnings

import h5py
import numpy as np

# The local fits near a profile's edges are short and steep; numpy's conditioning warning
# there says nothing about the figures (the check against the report's own figures does).
warnings.simplefilter("ignore", getattr(np, "RankWarning", None) or np.exceptions.RankWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data-10x-2818bd8")
CACHE = os.path.join(HERE, "fit-cache-6a91fd0")
FLUENCE_SEED, SPECTRUM_SEED = 95029, 71272  # round 1's fluence and spectrum stages, 30 x 30 cm2


def curves_30():
    with open(os.path.join(DATA, "measured.csv")) as fh:
        rows = [r for r in csv.reader(l for l in fh if not l.startswith("#"))][1:]
    r30 = [r for r in rows if r[2] == "30" and r[3] == "30"]
    return r30, np.array([float(r[8]) for r in r30]), np.array([float(r[9]) for r in r30])


def profile_index(r30, depth):
    idx = [i for i, r in enumerate(r30) if r[0] == "profile" and r[1] == "crossplane" and r[5] == depth]
    x = np.array([float(r30[i][7]) for i in idx])
    o = np.argsort(x)
    return x[o], np.array(idx)[o]


# ---- report.cc's profile figures, in numpy ------------------------------------------------
def steepest_near(x, y, guess):
    best, g = guess, -1.0
    for i in range(len(x)):
        if abs(x[i] - guess) > 1.0:
            continue
        m = np.abs(x - x[i]) <= 0.2 + 1e-9
        if m.sum() < 3:
            continue
        s = abs(np.polyfit(x[m], y[m], 1)[0])
        if s > g:
            g, best = s, x[i]
    return best


def inflection(x, y, guess):
    x0 = guess
    for _ in range(8):
        m = np.abs(x - x0) <= 0.3 + 1e-9
        c = np.polyfit(x[m] - x0, y[m], 3)
        du = float(np.clip(-c[1] / (3 * c[0]), -0.3, 0.3))
        x0 += du
        if abs(du) < 1e-5:
            break
    return x0


def crossing_from(x, z, start, step, level):
    i = min(int(np.searchsorted(x, start)), len(x) - 1)
    while (i + 1 < len(x)) if step > 0 else (i > 0):
        j = i + step
        if (z[i] - level) * (z[j] - level) <= 0 and z[i] != z[j]:
            return x[i] + (level - z[i]) * (x[j] - x[i]) / (z[j] - z[i])
        i = j
    raise ValueError("no crossing")


def figures(x, v, half):
    """(field size, 80-20 % penumbra, right 80 % and 20 % crossings, inflection level), cm."""
    y = v / np.interp(0.0, x, v)
    left = inflection(x, y, steepest_near(x, y, -half))
    right = inflection(x, y, steepest_near(x, y, half))
    level = 0.5 * (np.interp(left, x, y) + np.interp(right, x, y))
    z = 0.5 * y / level
    l80, l20 = crossing_from(x, z, left, 1, 0.8), crossing_from(x, z, left, -1, 0.2)
    r80, r20 = crossing_from(x, z, right, -1, 0.8), crossing_from(x, z, right, 1, 0.2)
    return right - left, 0.5 * ((l80 - l20) + (r20 - r80)), r80, r20, level


# ---- the kept basis ------------------------------------------------------------------------
def basis_runs(seed):
    out = {}
    for fn in glob.glob(os.path.join(CACHE, "*.h5")):
        with h5py.File(fn) as f:
            key = json.loads(f.attrs["key"])
            if key["setup"][:2] != [30.0, 30.0] or key["seed"] != seed:
                continue
            out[(key["part"][0], key["part"][3], tuple(key["part"][4]))] = (np.array(f["value"]), key["beam"])
    return out


def main():
    r30, meas, sig = curves_30()
    after = json.load(open(os.path.join(HERE, "results.json")))["after"]
    with open(os.path.join(DATA, "hidden.toml"), "rb") as fh:
        beam = next(b for b in tomllib.load(fh)["beam"] if b["name"] == "6X-FFF")
    f_hid = np.array(beam["off_axis"]["fluence_rel"])
    w_hid = np.array(beam["spectrum"]["weights"])
    f_fit, w_fit = np.array(after["fluence_rel"]), np.array(after["spectrum_weights"])
    depths = (("1.5", 15 * 1.015), ("10", 15 * 1.10), ("20", 15 * 1.20))  # nominal edges at depth

    print("The data (the report lists 6.76, 11.5, 25.3 mm) and the steepness at the crossings:")
    for depth, half in depths:
        x, idx = profile_index(r30, depth)
        s, pen, r80, r20, level = figures(x, meas[idx], half)
        z = 0.5 * meas[idx] / np.interp(0.0, x, meas[idx]) / level
        move = []
        for at, lv in ((r80, 0.8), (r20, 0.2)):
            m = np.abs(x - at) <= 0.3
            slope = abs(np.polyfit(x[m], z[m], 1)[0])
            move.append(10 * 0.001 * lv / slope)
        print(f"  {depth:>4} cm: size {s:.3f} cm, penumbra {10 * pen:.2f} mm; 0.1 % of the dose moves the 80 % "
              f"crossing {move[0]:.2f} mm, the 20 % crossing {move[1]:.2f} mm")

    # Fluence: the hat basis of round 1's fluence stage.
    fl = basis_runs(FLUENCE_SEED)
    hats = [fl[(0, k, ())][0] for k in range(len(f_hid))]
    ef, el = fl[(1, -1, ())][0], fl[(2, -1, ())][0]

    def dose_fluence(f, wf, we):
        return (1 - wf - we) * sum(fk * h for fk, h in zip(f, hats)) + wf * ef + we * el

    # Spectrum: the six spectral parts of round 1's spectrum stage (prior x hat_g, one photon each).
    sp = basis_runs(SPECTRUM_SEED)
    spectral = [(np.array(k[2]), v) for k, (v, _) in sp.items() if k[0] == 0 and k[2]]
    prior = np.array(next(b for (v, b) in sp.values())["spectrum_weights"])
    shares = np.array([w.sum() for w, _ in spectral])
    hat_g = np.array([w / prior for w, _ in spectral])
    ef_s = next(v for k, (v, _) in sp.items() if k[0] == 1)

    def dose_spectrum(w):
        w = np.asarray(w) / np.sum(w)
        xg = np.linalg.lstsq(hat_g.T, w / prior, rcond=None)[0]
        assert np.max(np.abs(prior * (hat_g.T @ xg) - w)) < 1e-5 * w.max(), "spectrum outside the parts' span (beyond the file's 6 digits)"
        xg = xg / np.dot(xg, shares)
        return (1 - 0.07) * sum(c * p * P for c, p, (_, P) in zip(xg, shares, spectral)) + 0.07 * ef_s

    print("One parameter at a time, hidden -> fitted, in the same basis (penumbra in mm):")
    for depth, half in depths:
        x, idx = profile_index(r30, depth)
        cases = (("fluence", dose_fluence(f_hid, 0.07, 0.003), dose_fluence(f_fit, after["extrafocal"][0],
                                                                              after["electron"][0])),
                 ("spectrum", dose_spectrum(w_hid), dose_spectrum(w_fit)))
        for name, dh, df in cases:
            ph, pf = figures(x, dh[idx], half)[1], figures(x, df[idx], half)[1]
            print(f"  {depth:>4} cm, {name:8s}: hidden {10 * ph:.2f}, fitted {10 * pf:.2f}, change {10 * (pf - ph):+.2f}")


if __name__ == "__main__":
    main()
