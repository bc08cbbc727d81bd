#!/usr/bin/python3
"""Compare a sabre dose (HDF5, from R1.toml) with the EGSnrc/DOSXYZnrc reference R1.

Usage: compare.py SABRE_DOSE.h5 [MORE.h5 ...] [--reference DIR] [--plot FILE.png]

Several dose files (same grid, independent seeds) are combined weighted by their
histories: D = sum N_i D_i / sum N_i, var(D) = sum N_i^2 var(D_i) / (sum N_i)^2.

Scoring, the same way for both codes:
  - central-axis depth dose: mean over the central 3 x 3 voxels (x, y in [-0.75, 0.75] cm),
    as in R1_cax_depth_dose_3x3avg.csv; sabre's 0.25 cm z voxels are summed in pairs to
    the reference's z voxels (0-0.25, 0.25-0.75, 0.75-1.25, ...);
  - both curves normalised at 10 cm depth on the axis (the 3 x 3 value there);
  - depth of maximum: vertex of a parabola fitted to the depth dose around its maximum
    (sabre on its 0.25 cm voxels within +-0.75 cm, the reference on its 0.5 cm voxels within
    +-1 cm);
  - 80-20 % penumbra at 10 cm depth: x and y profiles through the axis (single voxel row,
    y or x in [-0.25, 0.25]), normalised to the profile's central value, 80 % and 20 %
    positions by linear interpolation on each of the 4 edges; the mean of the 4 widths.
Tolerances (issue 4, acceptance 6): depth dose within 1 % beyond 1.5 cm depth, depth of
maximum within 2 mm, penumbra within 1 mm.
Prints one JSON line per quantity: {"case","quantity","reference","sabre","difference",
"tolerance","pass"} plus informational lines with "pass": null.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np

CASE = "R1-water-6MV"


def chi2_common_normalisation(d, own_var, var_n):
    """chi2 = d^T C^-1 d for C = diag(own_var) + var_n 1 1^T (Sherman-Morrison): relative
    differences d_i that share one normalisation point of relative variance var_n."""
    d = np.asarray(d, dtype=float)
    own_var = np.asarray(own_var, dtype=float)
    return float(np.sum(d ** 2 / own_var) -
                 var_n * np.sum(d / own_var) ** 2 / (1 + var_n * np.sum(1 / own_var)))


def default_reference():
    shared = os.environ.get("SABRE_SHARED_DIR")
    if not shared:
        shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
    return os.path.join(shared, "data", "reference", "egsnrc", "R1-water-6MV-10x10")


def read_csv(path):
    with open(path) as f:
        lines = [l for l in f if not l.startswith("#")]
    header = lines[0].strip().split(",")
    rows = [l.strip().split(",") for l in lines[1:] if l.strip()]
    return header, rows


def emit(quantity, reference, sabre, difference, tolerance, passed, **extra):
    d = {"case": CASE, "quantity": quantity, "reference": reference, "sabre": sabre,
         "difference": difference, "tolerance": tolerance, "pass": passed}
    d.update(extra)
    print(json.dumps(d))


def parabola_vertex(z, d):
    a, b, _ = np.polyfit(z, d, 2)
    return -b / (2 * a)


def penumbra_8020(pos, prof):
    """Mean 80-20 % width over the two edges of a profile normalised to its centre."""
    centre = prof[np.argmin(np.abs(pos))]
    p = prof / centre
    widths = []
    for side in (1, -1):
        idx = np.where(pos * side >= 0)[0]
        idx = idx[np.argsort(pos[idx] * side)]  # from the centre outwards
        x, y = pos[idx] * side, p[idx]

        def crossing(level):
            for n in range(len(y) - 1):
                if y[n] >= level > y[n + 1]:
                    return x[n] + (level - y[n]) * (x[n + 1] - x[n]) / (y[n + 1] - y[n])
            return np.nan

        widths.append(crossing(0.2) - crossing(0.8))
    return widths


def read_3ddose(path):
    """DOSXYZnrc .3ddose (gzip): dose [z, y, x] in Gy per history (Gy cm2 / 100 cm2) and
    relative 1 sigma."""
    import gzip
    with gzip.open(path, "rt") as f:
        tok = f.read().split()
    rnx, rny, rnz = int(tok[0]), int(tok[1]), int(tok[2])
    p0 = 3 + rnx + 1 + rny + 1 + rnz + 1
    nvr = rnx * rny * rnz
    rd = np.array(tok[p0:p0 + nvr], float).reshape(rnz, rny, rnx) / 100.0
    ru = np.array(tok[p0 + nvr:p0 + 2 * nvr], float).reshape(rnz, rny, rnx)
    return rd, ru


# Neighbouring voxels are positively correlated: the reference README scales the quadrature
# 1 sigma of its 3 x 3 mean by 1.071 (empirical, from its 4 sub-jobs); applied to every block.
REF_CORRELATION = 1.071


def central(b):
    """x or y index range of the central b x b voxels (voxel 30 is on the axis in both grids)."""
    return slice(30 - b // 2, 31 + b // 2)


def block_mean(rd, ru, b):
    """Reference mean over the central b x b voxels per z voxel and its relative 1 sigma."""
    w = central(b)
    m = rd[:, w, w].mean(axis=(1, 2))
    u = np.sqrt(((ru * rd)[:, w, w] ** 2).sum(axis=(1, 2))) / float(b * b) / m * REF_CORRELATION
    return m, u


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dose", nargs="+")
    ap.add_argument("--reference", default=default_reference())
    ap.add_argument("--plot", default="")
    args = ap.parse_args()

    dose = var = None
    histories, seconds, devices, commits = 0, 0.0, [], []
    counts, fine_blocks = [], {3: [], 7: [], 9: []}  # per piece: histories, block means on 0.25 cm z
    for path in args.dose:
        with h5py.File(path, "r") as f:
            d = f["dose/dose"][...]  # [z, y, x]
            u = f["dose/rel_uncertainty"][...]
            origin = f["grid"].attrs["origin_cm"]
            spacing = f["grid"].attrs["spacing_cm"]
            n = int(f["provenance"].attrs["histories"])
            seconds += float(f["provenance"].attrs["wall_seconds"])
            devices.append(str(f["provenance"].attrs["device"]))
            commits.append(str(f["provenance"].attrs.get("sabre_commit", "?")))
        if dose is not None and d.shape != dose.shape:
            sys.exit(f"{path}: grid differs from {args.dose[0]}")
        if d.shape == (120, 61, 61):
            for b in fine_blocks:
                fine_blocks[b].append(d[:, central(b), central(b)].mean(axis=(1, 2)))
        counts.append(n)
        dose = n * d if dose is None else dose + n * d
        var = (n * u * d) ** 2 if var is None else var + (n * u * d) ** 2
        histories += n
    dose = dose / histories
    var = var / float(histories) ** 2  # absolute variance of the combined dose, per voxel
    weights = np.array(counts, float) / histories
    device = ", ".join(sorted(set(devices)))
    args.dose = args.dose[0]
    nz, ny, nx = dose.shape
    if (nx, ny, nz) != (61, 61, 120) or not np.allclose(spacing, [0.5, 0.5, 0.25]) or \
            not np.allclose(origin, [-15.25, -15.25, 0.0]):
        sys.exit(f"{args.dose}: not the R1.toml grid (61 x 61 x 120, 0.5/0.5/0.25 cm)")

    _, rows = read_csv(os.path.join(args.reference, "R1_cax_depth_dose_3x3avg.csv"))
    ref = np.array([[float(v) for v in r] for r in rows])
    ref_z, ref_lo, ref_hi = ref[:, 0], ref[:, 1], ref[:, 2]

    # --- the depth dose, scored the same way for both codes ---
    # ACCEPTANCE estimator: the mean over the central 7 x 7 voxels (3.5 x 3.5 cm2). The
    # reference's own 3 x 3 depth dose (R1_cax_depth_dose_3x3avg.csv) is too noisy for a
    # point-wise 1 % test: with its 1 sigma (0.31-0.83 % per depth, 0.37 % at the 10 cm
    # normalisation point) a NOISELESS sabre equal to the true dose would show max |diff|
    # <= 1 % over the 58 depths beyond 1.5 cm in only 4 % of reference realisations (median
    # max 1.45 %); with 7 x 7 blocks that probability is 98 % (median 0.62 %) - computed from
    # the reference's per-voxel uncertainties alone, before the acceptance run (README.md).
    # In the reference the 7 x 7 mean stays within 0.35 % of the 3 x 3 mean from 1.5 to 29 cm
    # (the flat part of the 10 x 10 field); the 3 x 3 rows are still printed, informational.
    ref_d3, ref_u3 = ref[:, 4], ref[:, 5]
    rd, ru = read_3ddose(os.path.join(args.reference, "R1_combined.3ddose.gz"))
    z_fine = origin[2] + (np.arange(nz) + 0.5) * spacing[2]
    i10 = int(np.argmin(np.abs(ref_z - 10.0)))
    beyond = ref_z >= 1.5

    def rebin(fine):
        """0.25 cm z voxels -> the reference's z voxels (0-0.25, then pairs)."""
        return np.array([fine[(z_fine > lo) & (z_fine < hi)].mean() for lo, hi in zip(ref_lo, ref_hi)])

    def sabre_block_unc(b):
        """Relative 1 sigma of the combined block mean: the per-voxel batch uncertainties in
        quadrature, times a correlation factor sqrt(empirical / quadrature variance) of the
        independent pieces, pooled over the depths beyond 1.5 cm (as the reference README
        does for its 3 x 3 mean), when there are at least 8 pieces; else quadrature only (an
        underestimate: neighbouring voxels are positively correlated)."""
        mean = np.sum(weights[:, None] * per_file[b], axis=0)
        w = central(b)
        fine_var = var[:, w, w].sum(axis=(1, 2)) / float(b ** 4)
        u = np.array([np.sqrt(fine_var[(z_fine > lo) & (z_fine < hi)].sum()) /
                      np.sum((z_fine > lo) & (z_fine < hi)) for lo, hi in zip(ref_lo, ref_hi)]) / mean
        k = len(weights)
        if k < 8:
            return mean, u, "per-voxel batch uncertainties in quadrature (underestimate)"
        dev = per_file[b] - mean
        emp = np.sum(weights[:, None] ** 2 * dev ** 2, axis=0) * k / (k - 1) / mean ** 2
        factor = float(np.sqrt(np.mean(emp[beyond]) / np.mean(u[beyond] ** 2)))
        return mean, u * factor, (f"quadrature x {factor:.3f} (correlation factor from the scatter of "
                                  f"{k} independent pieces, pooled over depths beyond 1.5 cm)")

    per_file = {b: np.array([rebin(x) for x in fine_blocks[b]]) for b in fine_blocks}

    def depth_dose_rows(b, ref_d, ref_u, accept, prefix):
        s_d, s_u, s_unc_from = sabre_block_unc(b)
        ref_n = ref_d / ref_d[i10]
        s_n = s_d / s_d[i10]
        diff = s_n / ref_n - 1
        sig = np.sqrt(s_u ** 2 + ref_u ** 2 + s_u[i10] ** 2 + ref_u[i10] ** 2)
        block = f"{b}x{b} voxels ({0.5 * b:g} x {0.5 * b:g} cm2) around the axis"
        max_diff = float(np.max(np.abs(diff[beyond])))
        emit(prefix + "cax_depth_dose_max_abs_diff_beyond_1.5cm", 0.0, max_diff, max_diff,
             0.01 if accept else None, bool(max_diff <= 0.01) if accept else None,
             unit="fraction", block=block,
             depth_of_max_diff_cm=float(ref_z[beyond][np.argmax(np.abs(diff[beyond]))]),
             points=int(beyond.sum()), points_within_1pct=int(np.sum(np.abs(diff[beyond]) <= 0.01)),
             rms_diff=float(np.sqrt(np.mean(diff[beyond] ** 2))),
             mean_combined_1sigma=float(np.mean(sig[beyond])), sabre_sigma_from=s_unc_from)
        # chi2 with the covariance the normalisation implies: every difference shares the
        # 10 cm point's noise (relative variance var_n, the same for all depths), so
        # C = diag(own variances) + var_n 1 1^T, inverted by Sherman-Morrison. The diagonal
        # form (each depth's sigma including var_n, treated as independent) has the right
        # mean but a far wider spread than chi2(dof), so its 99.9 % quantile test fails far
        # more often than 0.1 % of the time; it is kept as information.
        chi2 = chi2_common_normalisation(diff[beyond], (s_u ** 2 + ref_u ** 2)[beyond],
                                         float(s_u[i10] ** 2 + ref_u[i10] ** 2))
        chi2_diag = float(np.sum((diff[beyond] / sig[beyond]) ** 2))
        emit(prefix + "cax_depth_dose_mean_diff_beyond_1.5cm", 0.0, float(np.mean(diff[beyond])),
             float(np.mean(diff[beyond])), None, None, unit="fraction", block=block,
             chi2=chi2, dof=int(beyond.sum()), chi2_diagonal=chi2_diag,
             note="chi2 of the per-depth differences with the covariance of the shared 10 cm "
                  "normalisation point (both codes); chi2_diagonal treats the depths as "
                  "independent; neighbouring depths also correlate through electron transport "
                  "(not modelled)")
        for depth in (1.5, 5.0, 20.0, 25.0):  # not 10 cm: the normalisation point equals itself
            n = int(np.argmin(np.abs(ref_z - depth)))
            emit(prefix + f"cax_dose_at_{depth:g}cm_normalised_10cm", float(ref_n[n]), float(s_n[n]),
                 float(diff[n]), 0.01 if accept else None,
                 bool(abs(diff[n]) <= 0.01) if accept and depth >= 1.5 else None,
                 unit="relative", block=block, combined_1sigma=float(sig[n]))
        # surface region: informational
        emit(prefix + "cax_dose_at_0.125cm_normalised_10cm", float(ref_n[0]), float(s_n[0]),
             float(diff[0]), None, None, unit="relative", block=block, combined_1sigma=float(sig[0]))
        return ref_n, s_n, diff, sig, s_u

    r7, r7_u = block_mean(rd, ru, 7)
    ref_n, s_n, diff, sig, s_u7 = depth_dose_rows(7, r7, r7_u, True, "")
    _, _, diff3, sig3, s_u3 = depth_dose_rows(3, ref_d3, ref_u3, False, "info_3x3_")
    cax9 = dose[:, 29:32, 29:32].mean(axis=(1, 2))  # 3 x 3, 0.25 cm z voxels (depth of maximum)

    # depth of maximum
    kmax = int(np.argmax(cax9))
    sel = np.abs(z_fine - z_fine[kmax]) <= 0.75 + 1e-9
    s_dmax = float(parabola_vertex(z_fine[sel], cax9[sel]))
    jmax = int(np.argmax(ref_d3))
    rsel = np.abs(ref_z - ref_z[jmax]) <= 1.0 + 1e-9
    r_dmax = float(parabola_vertex(ref_z[rsel], ref_d3[rsel]))
    emit("depth_of_maximum_cm", r_dmax, s_dmax, s_dmax - r_dmax, 0.2,
         bool(abs(s_dmax - r_dmax) <= 0.2), unit="cm", reference_readme_cm=1.5)

    # penumbra at 10 cm
    _, prow = read_csv(os.path.join(args.reference, "R1_lateral_profiles.csv"))
    r_w = []
    r_prof = {}
    for axis in ("x", "y"):
        pts = [(float(r[5]), float(r[9])) for r in prow if float(r[0]) == 10.0 and r[4] == axis]
        pts.sort()
        pos = np.array([p[0] for p in pts])
        val = np.array([p[1] for p in pts])
        r_prof[axis] = (pos, val)
        r_w += penumbra_8020(pos, val)
    k10 = np.where((z_fine > 9.75) & (z_fine < 10.25))[0]
    slab = dose[k10].mean(axis=0)  # [y, x]
    pos = origin[0] + (np.arange(nx) + 0.5) * spacing[0]
    s_prof = {"x": (pos, slab[30, :]), "y": (pos, slab[:, 30])}
    s_w = penumbra_8020(*s_prof["x"]) + penumbra_8020(*s_prof["y"])
    r_pen, s_pen = float(np.mean(r_w)), float(np.mean(s_w))
    emit("penumbra_80_20_at_10cm_cm", r_pen, s_pen, s_pen - r_pen, 0.1,
         bool(abs(s_pen - r_pen) <= 0.1), unit="cm",
         reference_edges_cm=[float(w) for w in r_w], sabre_edges_cm=[float(w) for w in s_w])

    # Informational: ABSOLUTE dose per history (no normalisation), mean over the central
    # 9 x 9 voxels (4.5 x 4.5 cm2) of both codes.
    r9, r9_u = block_mean(rd, ru, 9)
    w = central(9)
    s9 = rebin(dose[:, w, w].mean(axis=(1, 2)))
    s9_u = np.sqrt(rebin(var[:, w, w].sum(axis=(1, 2)) / 81.0 ** 2) / 2.0) / s9
    s9_u[0] = np.sqrt(var[0, w, w].sum()) / 81.0 / s9[0]  # the 0-0.25 cm voxel is not a pair
    ratio = s9 / r9
    rs = np.sqrt(s9_u ** 2 + r9_u ** 2)
    sel = (ref_z >= 1.5) & (ref_z <= 25.0)
    emit("absolute_dose_9x9_mean_ratio_1.5_to_25cm", 1.0, float(np.mean(ratio[sel])),
         float(np.mean(ratio[sel]) - 1), None, None, unit="sabre/EGSnrc - 1, Gy/history",
         max_abs_dev=float(np.max(np.abs(ratio[sel] - 1))),
         chi2=float(np.sum(((ratio[sel] - 1) / rs[sel]) ** 2)), dof=int(sel.sum()),
         mean_1sigma=float(np.mean(rs[sel])),
         note="sabre's 1 sigma of the 9 x 9 means assumes independent voxels (underestimate)")
    # CHECKED: the absolute dose per history at 10 cm (9 x 9 mean, no normalisation). Both
    # codes score dose per incident photon of the same source (point source at SSD 100 cm,
    # 10 x 10 cm2 at the surface, the same spectrum), so this tests the whole chain of
    # cross sections, stopping powers and energy bookkeeping in absolute terms. sabre's
    # 1 sigma comes from the scatter of the independent pieces (>= 8 needed: the per-voxel
    # uncertainties in quadrature ignore the correlation of neighbouring voxels), combined
    # with the reference's. Tolerance 1 %, the acceptance bound of the relative depth dose.
    n10 = int(np.argmin(np.abs(ref_z - 10.0)))
    k = len(weights)
    if k >= 8:
        m9 = np.sum(weights[:, None] * per_file[9], axis=0)
        emp9 = np.sqrt(np.sum(weights[:, None] ** 2 * (per_file[9] - m9) ** 2, axis=0) * k / (k - 1)) / m9
        s_abs = float(np.hypot(emp9[n10], r9_u[n10]))
        d_abs = float(m9[n10] / r9[n10] - 1)
        emit("absolute_dose_9x9_at_10cm_checked", float(r9[n10]), float(m9[n10]), d_abs, 0.01,
             bool(abs(d_abs) <= 0.01), unit="Gy per history; difference relative", combined_1sigma=s_abs,
             sabre_1sigma_from=f"scatter of {k} independent pieces", z=d_abs / s_abs)
    else:
        emit("absolute_dose_9x9_at_10cm_checked", float(r9[n10]), float(s9[n10]), float(ratio[n10] - 1), 0.01,
             None, unit="Gy per history; difference relative",
             status=f"not checked: {k} pieces, at least 8 independent pieces are needed for sabre's 1 sigma")
    for depth in (0.125, 1.5, 5.0, 20.0):
        n = int(np.argmin(np.abs(ref_z - depth)))
        emit(f"absolute_dose_9x9_at_{depth:g}cm_Gy_per_history", float(r9[n]), float(s9[n]),
             float(ratio[n] - 1), None, None, unit="relative difference",
             combined_1sigma=float(rs[n]))

    emit("run", None, None, None, None, None, histories=histories, wall_seconds=seconds,
         device=device, sabre_commits=", ".join(sorted(set(commits))),
         sabre_mean_7x7_rel_unc_beyond_1_5cm=float(np.mean(s_u7[beyond])),
         sabre_mean_3x3_rel_unc_beyond_1_5cm=float(np.mean(s_u3[beyond])))

    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(3, 1, figsize=(7, 10))
        ax[0].plot(ref_z, ref_n, "k-", label="EGSnrc (7x7 mean)")
        ax[0].errorbar(ref_z, s_n, yerr=s_n * s_u7, fmt="r.", ms=3, label="sabre (7x7 mean)")
        ax[0].set_xlabel("depth [cm]")
        ax[0].set_ylabel("dose / dose(10 cm)")
        ax[0].legend()
        ax[0].set_title(f"R1 6 MV 10x10 water: {histories:.3g} histories")
        ax[1].errorbar(ref_z, 100 * diff, yerr=100 * sig, fmt="b.", ms=3, label="7x7 (acceptance)")
        ax[1].plot(ref_z + 0.1, 100 * diff3, "x", color="gray", ms=3, label="3x3 (information)")
        ax[1].legend(fontsize=8)
        ax[1].axhline(1, color="g", ls="--")
        ax[1].axhline(-1, color="g", ls="--")
        ax[1].axvline(1.5, color="gray", ls=":")
        ax[1].set_ylim(-4, 4)
        ax[1].set_xlabel("depth [cm]")
        ax[1].set_ylabel("sabre / EGSnrc - 1 [%]")
        for axis, col in (("x", "k"), ("y", "gray")):
            p, v = r_prof[axis]
            ax[2].plot(p, v / v[np.argmin(np.abs(p))], "-", color=col, label=f"EGSnrc {axis}")
            p, v = s_prof[axis]
            ax[2].plot(p, v / v[np.argmin(np.abs(p))], "r." if axis == "x" else "m.", ms=3,
                       label=f"sabre {axis}")
        ax[2].set_xlabel("off-axis position [cm]")
        ax[2].set_ylabel("dose / centre (10 cm depth)")
        ax[2].legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()
