#!/usr/bin/env python3
"""Acceptance 4 (issue 16): the reference field run as a plan reproduces the calibration
within 0.3 % with 1 sigma <= 0.15 %.

`sabre linac --calibrate` runs the machine file's reference conditions (SSD 100 cm,
10 x 10 cm2 at the surface, depth 10 cm, water) to a target uncertainty
(`--calib-uncertainty`, the calibration of engine/calibration.hh that `sabre run` uses) to
find the histories per MU, then the requested plan, converted to Gy. Here the plan IS the
reference field, 100 MU, run in the same 30 x 30 x 30 cm water box of 0.5 cm voxels with
seeds independent of the calibration's: the dose in the calibration region (|x|, |z| <= 1 cm,
depth 10 +- 0.5 cm, engine/calibration.cc's axis_region) divided by 100 MU must give the
machine file's gy_per_mu.

Uncertainties, both from independent repeats, not from voxel errors in quadrature:
  - calibration: its own 1 sigma (the batch-to-batch spread of the region mean, at least 10
    batches; summary calibration.reference_rel_uncertainty);
  - plan: the plan's histories are run as --pieces independent pieces (seeds seed0,
    seed0 + 1, ...), and the 1 sigma of their mean is the spread of the pieces' region
    means / sqrt(pieces).
Combined 1 sigma = the two in quadrature. Acceptance: |difference| <= 0.3 % AND combined
1 sigma <= 0.15 %. The pieces' per-voxel errors in quadrature are reported next to their
spread (the correlation factor the batch estimator accounts for).

Cost: the 1 sigma of the region mean is about 3.8 % x sqrt(1e6 / histories) (TrueBeam HD120
6X-FFF). The calibration asks for 0.106 % but stops at sabre's history cap, 1e9 (the
`--calib-histories` default in target mode), which reaches about 0.117 %; a combined 1 sigma
of 0.15 % then needs the plan at <= 0.094 %: about 1.95e9 histories in 24 pieces. These
are the defaults (the first full run had 1.3e9 in 16 pieces and came to 0.158 %; 8 more
pieces were run and pooled with --merge). About 1.5 h on 2 idle CPU threads. Smaller runs
resolve less; the verdict then says "not demonstrated" when the combined 1 sigma is above
0.15 %.

Usage: run.py SABRE_EXE [--calib-uncertainty 0.00106] [--plan-histories 1.95e9] [--pieces 24]
              [--seed0 101] [--threads 2] [--cache-dir DIR] [--out results.json]
       run.py - --from-results results.json [--out FILE]   (judge stored numbers again)
       run.py - --merge A.json B.json ... [--out FILE]     (pool the pieces of runs made with one
                                                            calibration and distinct seeds)
"""
import argparse
import json
import math
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


def region_mean(h5):
    """Mean dose over the calibration region and its voxel errors in quadrature (relative)."""
    with h5py.File(h5, "r") as h:
        d = h["dose/dose"][...]
        u = h["dose/rel_uncertainty_statistical"][...]
        o = h["grid"].attrs["origin_cm"]
        sp = h["grid"].attrs["spacing_cm"]
    nz, ny, nx = d.shape
    xc = o[0] + (np.arange(nx) + 0.5) * sp[0]
    depth = (np.arange(ny) + 0.5) * sp[1]  # the box starts at the surface (gantry 0, y = depth)
    zc = o[2] + (np.arange(nz) + 0.5) * sp[2]
    sel = np.ix_(np.abs(zc) <= 1.0, np.abs(depth - 10) <= 0.5, np.abs(xc) <= 1.0)
    blk, ublk = d[sel], u[sel]
    if blk.size != 32:
        sys.exit(f"{h5}: the calibration region has {blk.size} voxels, expected 32")
    return float(blk.mean()), float(math.sqrt(((blk * ublk) ** 2).sum()) / blk.sum())


def git_state():
    try:
        head = subprocess.run(["git", "-C", SRC, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", SRC, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip() != ""
        return head + (" with uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exe")
    ap.add_argument("--calib-uncertainty", type=float, default=0.00106,
                    help="target relative 1 sigma of the calibration (fraction)")
    ap.add_argument("--calib-seed", type=int, default=1000004, help="seed of the calibration (sabre run's default)")
    ap.add_argument("--plan-histories", type=float, default=1.95e9, help="histories of the plan, all pieces together")
    ap.add_argument("--pieces", type=int, default=24)
    ap.add_argument("--seed0", type=int, default=101)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--machine", default="truebeam-hd120")
    ap.add_argument("--beam", default="6X-FFF")
    ap.add_argument("--cache-dir", help="calibration cache (default: a fresh one, so the calibration is computed)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--from-results", metavar="FILE",
                    help="no runs: judge the numbers of an earlier results file again (write --out)")
    ap.add_argument("--merge", metavar="FILE", nargs="+",
                    help="no runs: pool the plan pieces of these results files (one calibration, distinct "
                         "seeds) and judge them (write --out)")
    a = ap.parse_args()
    if a.merge:
        merge(a.merge, a.out)
    if a.from_results:
        with open(a.from_results) as f:
            finish(json.load(f), a.out)
    tree = git_state()  # at the start: the tree the binary is expected to come from
    if a.pieces < 3:
        sys.exit("--pieces must be at least 3")
    n_piece = int(a.plan_histories) // a.pieces
    text = open(os.path.join(SRC, "beams", "machines", a.machine + ".toml")).read()
    block = text[text.index(f'name = "{a.beam}"'):]
    gy_per_mu = float(re.search(r"gy_per_mu = \{ value = ([0-9.eE+-]+)", block).group(1))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SABRE_CACHE_DIR=a.cache_dir or os.path.join(tmp, "cache"))
        pieces, cal, commit = [], None, None
        t0 = time.time()
        for k in range(a.pieces):
            out = os.path.join(tmp, f"plan{k}.h5")
            cmd = [a.exe, "--log-level", "warn", "linac", "--machine", a.machine, "--beam", a.beam,
                   "--field", "10", "10", "--ssd", "100", "--size", "30", "30", "30", "--voxel", "0.5", "0.5", "0.5",
                   "--histories", str(n_piece), "--seed", str(a.seed0 + k), "--threads", str(a.threads),
                   "--calibrate", "--calib-uncertainty", repr(a.calib_uncertainty), "--calib-seed", str(a.calib_seed),
                   "-o", out]
            t = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode != 0:
                sys.exit(f"piece {k}: {r.stderr}")
            s = json.loads(r.stdout)
            c = s["calibration"]
            if cal is None:
                cal = c
                commit = s["sabre"]["commit"]
                print(f"calibration: {c['reference_histories']:.3g} histories in {c['reference_batches']} batches, "
                      f"{100 * c['reference_rel_uncertainty']:.3f} % (quadrature "
                      f"{100 * c['reference_rel_uncertainty_quadrature']:.3f} %), {c['stopped_by']}, "
                      f"{c['reference_seconds']:.0f} s{' (cached)' if c['from_cache'] else ''}", flush=True)
            elif c["histories_per_mu"] != cal["histories_per_mu"] or not c["from_cache"]:
                sys.exit(f"piece {k}: not the first piece's calibration: {c}")
            dose, quad = region_mean(out)
            pieces.append({"seed": a.seed0 + k, "histories": s["histories"], "region_gy": dose,
                           "gy_per_mu": dose / s["total_mu"], "quadrature_rel": quad,
                           "wall_seconds": s["wall_seconds"]})
            print(f"piece {k}: seed {a.seed0 + k}, {n_piece:.3g} histories, {dose / s['total_mu']:.7g} Gy/MU "
                  f"({time.time() - t:.0f} s)", flush=True)
        elapsed = time.time() - t0
    res = {
        "acceptance": "the reference field run as a plan reproduces the calibration within 0.3 % with 1 sigma <= 0.15 %",
        "machine": a.machine, "beam": a.beam, "sabre_commit": commit, "source_tree": tree,
        "threads": a.threads, "gy_per_mu_file": gy_per_mu, "calibration": cal, "elapsed_seconds": elapsed,
    }
    summarise(res, pieces)
    finish(res, a.out)


def summarise(res, pieces):
    """The plan's figures from its pieces (mean, spread / sqrt(K)) and the difference from the
    machine file's gy_per_mu with the combined 1 sigma, into res."""
    g = np.array([p["gy_per_mu"] for p in pieces])
    gy = float(g.mean())
    unc_plan = float(g.std(ddof=1) / math.sqrt(len(g)) / gy)
    quad_plan = float(math.sqrt(np.mean([p["quadrature_rel"] ** 2 for p in pieces])) / math.sqrt(len(g)))
    unc = math.hypot(unc_plan, res["calibration"]["reference_rel_uncertainty"])
    res["plan"] = {"histories": sum(p["histories"] for p in pieces), "pieces": len(pieces),
                   "seeds": [p["seed"] for p in pieces], "gy_per_mu": gy, "rel_uncertainty": unc_plan,
                   "rel_uncertainty_quadrature": quad_plan,
                   "correlation_factor": unc_plan / quad_plan if quad_plan > 0 else None,
                   "wall_seconds": sum(p["wall_seconds"] for p in pieces), "pieces_detail": pieces}
    res["relative_difference"] = gy / res["gy_per_mu_file"] - 1
    res["combined_rel_uncertainty"] = unc


def merge(files, out):
    """Pools the plan pieces of several runs made with one calibration (the same cached one:
    the same histories per MU) and distinct seeds, and judges the pooled plan."""
    runs = [json.load(open(f)) for f in files]
    first = runs[0]
    for f, r in zip(files, runs):
        for k in ("machine", "beam", "gy_per_mu_file", "sabre_commit"):
            if r[k] != first[k]:
                sys.exit(f"{f}: {k} {r[k]!r} differs from {files[0]}'s {first[k]!r}")
        if r["calibration"]["histories_per_mu"] != first["calibration"]["histories_per_mu"]:
            sys.exit(f"{f}: another calibration than {files[0]}'s")
    pieces = [p for r in runs for p in r["plan"]["pieces_detail"]]
    seeds = [p["seed"] for p in pieces]
    if len(set(seeds)) != len(seeds):
        sys.exit("merge: a seed appears twice")
    res = {k: first[k] for k in ("acceptance", "machine", "beam", "sabre_commit", "source_tree", "threads",
                                 "gy_per_mu_file", "calibration")}
    res["elapsed_seconds"] = sum(r["elapsed_seconds"] for r in runs)
    res["merged_from"] = [{"file": os.path.basename(f), "pieces": r["plan"]["pieces"], "seeds": r["plan"]["seeds"],
                           "source_tree": r["source_tree"]} for f, r in zip(files, runs)]
    summarise(res, pieces)
    finish(res, out)


def judge(res):
    """The acceptance: |difference| <= 0.3 % and combined 1 sigma <= 0.15 %. A difference
    measured with a larger sigma is not resolved: neither accepted nor failed."""
    diff, unc = res["relative_difference"], res["combined_rel_uncertainty"]
    within, resolved = abs(diff) <= 0.003, unc <= 0.0015
    res["difference_in_sigma"] = diff / unc if unc > 0 else None
    res["within_0.3_percent"] = bool(within)
    res["sigma_at_most_0.15_percent"] = bool(resolved)
    res["accepted"] = bool(within and resolved)
    d = f"difference {100 * diff:+.3f} % +- {100 * unc:.3f} % (1 sigma)"
    if within and resolved:
        res["verdict"] = "accepted: " + d
    elif not resolved:
        res["verdict"] = (f"NOT demonstrated: {d}; the combined 1 sigma is above 0.15 %, so the run cannot "
                          f"resolve 0.3 % ({'within' if within else 'outside'} 0.3 %, "
                          f"{abs(res['difference_in_sigma']):.1f} sigma from zero)")
    else:
        res["verdict"] = "FAILED: " + d + ", outside 0.3 %"
    return res


def finish(res, out):
    judge(res)
    unc_plan, unc_cal = res["plan"]["rel_uncertainty"], res["calibration"]["reference_rel_uncertainty"]
    print(json.dumps({k: v for k, v in res.items() if k not in ("plan", "calibration")}, indent=1))
    print(f"plan {100 * unc_plan:.3f} % (pieces; voxel quadrature {100 * res['plan']['rel_uncertainty_quadrature']:.3f} %), "
          f"calibration {100 * unc_cal:.3f} %, combined {100 * res['combined_rel_uncertainty']:.3f} %")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    sys.exit(0 if res["accepted"] else 1)


if __name__ == "__main__":
    main()
