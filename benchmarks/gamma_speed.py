#!/usr/bin/python3
"""Speed of `sabre compare` on a clinical-size grid: two RT Dose files of 200 x 200 x 150
voxels of 2.5 mm (an SBRT-like dose: 10 Gy sphere of radius 25 mm with a 3 mm logistic
penumbra on a 1.5 Gy bath; the evaluated dose shifted 2 mm, scaled 1.02, with a 3 % ripple),
3 %/3 mm global and local and 2 %/2 mm global, with HDF5 and PNG outputs. Prints one line per
run and, with --record, appends them to benchmarks/RESULTS.md ("sabre compare" table).

Usage: gamma_speed.py SABRE_EXE [--record]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "engine", "compare"))
import rtdose_files  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    exe, record = sys.argv[1], "--record" in sys.argv[2:]
    n, sp = (200, 200, 150), (2.5, 2.5, 2.5)
    c0 = (-248.75, -248.75, -186.25)
    z, y, x = np.meshgrid(np.arange(n[2]) * sp[2] + c0[2], np.arange(n[1]) * sp[1] + c0[1],
                          np.arange(n[0]) * sp[0] + c0[0], indexing="ij", sparse=True)

    def dose(shift, scale, ripple):
        r = np.sqrt((x - shift) ** 2 + y ** 2 + z ** 2)
        d = 10 / (1 + np.exp((r - 25) / 3.0)) + 1.5 * np.exp(-(x ** 2 + y ** 2) / (2 * 60.0 ** 2))
        return scale * d * (1 + ripple * np.sin(x * 1.3) * np.cos(y * 0.7 + z))

    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short=7", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ref, ev = os.path.join(tmp, "ref.dcm"), os.path.join(tmp, "ev.dcm")
        rtdose_files.write_rtdose(ref, dose(0, 1, 0), sp, c0, frame_uid="1.2")
        rtdose_files.write_rtdose(ev, dose(2.0, 1.02, 0.03), sp, c0, frame_uid="1.2")
        for label, args in (("3 %/3 mm global", []), ("3 %/3 mm local", ["--local"]),
                            ("2 %/2 mm global", ["--dose-criterion", "2", "--distance-mm", "2"])):
            cmd = [exe, "--log-level", "warn", "compare", ref, ev, *args, "--json",
                   "--output-h5", os.path.join(tmp, "g.h5"), "--output-png", os.path.join(tmp, "g.png")]
            t0 = time.time()
            before = os.times()
            p = subprocess.run(cmd, capture_output=True, text=True)
            after = os.times()
            wall = time.time() - t0
            if p.returncode != 0:
                print(p.stderr, file=sys.stderr)
                return 1
            g = json.loads(p.stdout)["gamma"]
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            load = os.getloadavg()[0]
            row = (f"| {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC | {commit} | cpu:{g['threads']} threads, "
                   f"load {load:.1f} | 200x200x150 @ 2.5 mm, {label}, {g['evaluated_voxels']} voxels "
                   f"| {g['seconds']:.2f} s | {wall:.2f} s ({cpu:.2f} CPU-s) | pass {g['pass_rate_percent']:.2f} % |")
            print(row)
            rows.append(row)
    if record:
        path = os.path.join(HERE, "RESULTS.md")
        text = open(path).read()
        header = "## sabre compare (gamma)"
        if header not in text:
            text += ("\n" + header + "\n\n`gamma_speed.py`: two RT Dose files, 6 million voxels; "
                     "gamma search time from the report, whole command (reading both files, "
                     "writing HDF5 and PNG) wall-clock and CPU.\n\n"
                     "| date | commit | device | case | gamma search | whole command | result |\n"
                     "|---|---|---|---|---|---|---|\n")
        text += "\n".join(rows) + "\n"
        open(path, "w").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
