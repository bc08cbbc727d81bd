#!/usr/bin/python3
"""The linac source's margin density (issue 20, docs/efficiency.md): efficiency and bias.

`sabre linac` (TrueBeam HD120 6X-FFF, jaw field at SSD 100 cm, water 30 x 30 x 20 cm, 0.25 cm
voxels) with the aims in the field-restriction margin at density 1 (uniform: the sampling
before the technique) and at the default (0.25 of the opening's density), interleaved,
--reps times, on one thread by default:
  eps = 1 / (s^2 T), s the mean relative 1 sigma over the voxels above 50 % of the maximum
  (`sabre linac`'s summary, mean_rel_uncertainty_50), T the CPU seconds of the process.
--bias: one long run per density (seeds differ) and the per-voxel comparison of
benchmarks/efficiency.py (voxels above 10 % of the two runs' mean maximum, |z| <= 3, the mean
symmetric relative difference), plus the same over the voxels between 0.5 % and 10 % (the
jaw transmission and penumbra tails, where the margin's photons land). Needs h5py.

Prints the table; appends nothing (docs/efficiency.md carries the figures).

Usage: benchmarks/source_margin.py [--sabre build/sabre] [--fields 1,3,10] [--histories 4e6]
         [--reps 1] [--threads 1] [--density 0.25] [--bias]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(sabre, field, density, n, seed, threads, out_h5):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([sabre, "linac", "--machine", "truebeam-hd120", "--beam", "6X-FFF", "--field", str(field),
                        str(field), "--ssd", "100", "--size", "30", "30", "20", "--voxel", "0.25", "0.25", "0.25",
                        "--histories", str(n), "--batches", "10", "--seed", str(seed), "--threads", str(threads),
                        "--margin-density", str(density), "-o", out_h5],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"source_margin.py: sabre linac failed ({p.returncode}):\n{p.stdout[-3000:]}")
    start = p.stdout.index("{")
    s = json.loads(p.stdout[start:p.stdout.rindex("}") + 1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return s["mean_rel_uncertainty_50"], cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sabre", default=os.path.join(ROOT, "build", "sabre"))
    ap.add_argument("--fields", default="1,3,10")
    ap.add_argument("--histories", type=float, default=4e6)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--density", type=float, default=0.25)
    ap.add_argument("--bias", action="store_true")
    a = ap.parse_args()
    sabre = os.path.abspath(a.sabre)
    n = int(a.histories)
    with tempfile.TemporaryDirectory() as tmp:
        for f in [float(x) for x in a.fields.split(",") if x]:
            if a.bias:
                sys.path.insert(0, HERE)
                from efficiency import bias_stats
                ha, hb = os.path.join(tmp, "uniform.h5"), os.path.join(tmp, "density.h5")
                run(sabre, f, 1.0, n, 11, a.threads, ha)
                run(sabre, f, a.density, n, 12, a.threads, hb)
                print(f"{f:g} x {f:g} cm2, {n} histories per run, density 1 vs {a.density:g}:")
                print("  > 10 % of max:", json.dumps(bias_stats(ha, hb, False)))
                print("  0.5-10 % of max:", json.dumps(bias_stats(ha, hb, False, band=(0.005, 0.1))))
                continue
            acc = {1.0: [0.0, 0.0], a.density: [0.0, 0.0]}  # sum of s^2, sum of T
            for r in range(a.reps):
                for d in (1.0, a.density):
                    s, t = run(sabre, f, d, n, 3 + r, a.threads, os.path.join(tmp, "d.h5"))
                    acc[d][0] += s * s
                    acc[d][1] += t
            eps = {d: 1 / ((v[0] / a.reps) * (v[1] / a.reps)) for d, v in acc.items()}
            print(f"{f:g} x {f:g} cm2: " + "; ".join(
                f"density {d:g}: s {100 * (acc[d][0] / a.reps) ** 0.5:.3f} %, T {acc[d][1] / a.reps:.1f} s, eps {eps[d]:.1f}"
                for d in (1.0, a.density)) + f"; ratio {eps[a.density] / eps[1.0]:.2f}")


if __name__ == "__main__":
    main()
