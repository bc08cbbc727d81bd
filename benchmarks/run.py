#!/usr/bin/python3
"""Benchmarks (issue 9): histories per second and seconds to 1 % mean uncertainty, per case,
on the CPU with all threads and with one (and on a GPU when one is present and the sabre
executable has `simulate --device`). Appends one row per run to benchmarks/RESULTS.md.

Cases:
  water10  6 MV, 10 x 10 cm2 at SSD 100 cm, water 30 x 30 x 30 cm, 2 mm voxels (150^3).
           `sabre simulate`: the source of validation case R1 (point source, the Mohan 6 MV
           spectrum as DOSXYZnrc sampled it, ../shared/data/reference/egsnrc/R1-water-6MV-10x10),
           i.e. the physics of issue 4's case 6 on a 2 mm grid.
  water1   the same source collimated to 1 x 1 cm2 at the surface, water 10 x 10 x 30 cm,
           1 mm voxels (100 x 100 x 300; the field is far from the lateral faces).
  lung     lung SBRT on CT: `sabre phantom thorax` (CT + RT Struct, 2.5 mm voxels), a VMAT
           arc plan (`sabre plan arc`, 181->179 CW, 37 control points, aperture modulation
           0.4, 3 x 3 cm at the lesion, 200 MU) on the TrueBeam HD120 6X-FFF machine model,
           dose by `sabre linac --plan --ct` on the CT grid (`--lung-phantom`); by default, when
           examples/lung-sbrt exists: `sabre run` on it (two 6X-FFF arcs, 2608 MU, 2.5 mm
           grid; uncertainty = sabre run's headline figure, voxels of density >= 0.05 above
           50 % of their maximum; the calibration run is cached after the first use).
  r1       validation/R1-water-6MV/R1.toml on its own grid.

Figures: histories/s = histories / wall-clock seconds of the sabre command (set-up and
output included); in brackets per CPU second of the sabre process (user + system: less
sensitive to other load on a shared machine; for the `sabre run` lung case the transport rate is
in the settings column). Seconds to 1 %: the mean relative
uncertainty u over voxels above 50 % of the maximum dose (`sabre simulate`'s figure; for
the CT case over tissue voxels, density > 0.2 g/cm3, above 50 % of the 99.9th percentile
of tissue dose, because the maximum of a CT dose can sit in an air voxel) after N
histories in t seconds, projected with sigma ~ 1/sqrt(N): t_1% = t (u / 1 %)^2 (lung via
sabre run: set-up/output seconds + transport seconds x (u / 1 %)^2), or measured when the
run itself reached 1 %.

Usage: benchmarks/run.py [--sabre PATH] [--cases water10,water1,lung] [--threads-list 0,1]
                         [--scale F] [--no-append] [--note TEXT]
"""
import argparse
import datetime
import glob
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPECTRUM = os.path.join(ROOT, "..", "shared", "data", "reference", "egsnrc", "R1-water-6MV-10x10",
                        "mohan6_spectrum_as_sampled.csv")

WATER = """[phantom]
voxels = [{nx}, {ny}, {nz}]
voxel_cm = [{v}, {v}, {v}]
material = "water"
density_g_cm3 = 1.0
[source]
particle = "photon"
type = "point"
position_cm = [0, 0, -100]
direction = [0, 0, 1]
field_centre_cm = [0, 0, 0]
field_x_cm = [{f0}, {f1}]
field_y_cm = [{f0}, {f1}]
spectrum = "{spectrum}"
spectrum_column = "p_sampled"
[run]
batches = 10
[physics]
electron_cut_mev = 0.189
photon_cut_mev = 0.01
rayleigh = true
"""

# histories per run at --scale 1 (all threads; one thread gets half)
HISTORIES = {"water10": 1000000, "water1": 1000000, "lung": 2000000, "r1": 1000000}


def sh(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return r.stdout


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    out = sh(cmd)
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, wall, cpu


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def has_gpu(sabre):
    r = subprocess.run([sabre, "info", "--json"], capture_output=True, text=True)
    try:
        devs = json.loads(r.stdout).get("cuda_devices") or []
    except ValueError:
        devs = []
    if not devs:
        return None
    help_ = subprocess.run([sabre, "simulate", "--help"], capture_output=True, text=True).stdout
    return devs[0].get("name", "GPU") if "--device" in help_ else None


def simulate(a, toml, n, threads, device, tmp):
    out = os.path.join(tmp, "dose.h5")
    cmd = [a.sabre, "--log-level", "warn", "simulate", toml, "--histories", n, "--seed", 1, "-o", out]
    cmd += ["--device", device] if device else ["--threads", threads]
    text, wall, cpu = timed(cmd)
    m_unc = re.search(r"mean relative uncertainty \(voxels > 50% of max\): ([0-9.]+) %", text)
    m_dev = re.search(r"seed \d+, (.*)", text)
    if not m_unc:
        sys.exit("could not parse sabre's summary:\n" + text)
    return wall, cpu, float(m_unc.group(1)), (m_dev.group(1).strip() if m_dev else device or f"cpu:{threads}")


def lung_inputs(a, tmp):
    ex = os.path.join(ROOT, "examples", "lung-sbrt")
    if not a.lung_phantom and os.path.exists(os.path.join(ex, "run.toml")):
        env = dict(os.environ, SABRE=a.sabre)
        r = subprocess.run(["bash", os.path.join(ex, "setup.sh")], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"examples/lung-sbrt/setup.sh failed: {r.stderr.strip()[-800:]}")
        # warm-up: computes (or finds) the cached calibration run, so that the timed runs
        # measure set-up + transport + outputs, not the one-off 4e6-history reference field
        sh([a.sabre, "--log-level", "warn", "run", os.path.join(ex, "run.toml"), "--histories", 20000,
            "--output-h5", os.path.join(tmp, "warm.h5"), "--summary-json", os.path.join(tmp, "warm.json"),
            "--png-dir", os.path.join(tmp, "warm_png"), "--quiet"])
        return ("example", ex)
    import pydicom
    ct = os.path.join(tmp, "ct")
    sh([a.sabre, "phantom", "thorax", "-o", ct])
    # the lesion of the thorax phantom: (65, -5, 0) mm in patient coordinates (docs/cli.md)
    plan = os.path.join(tmp, "arc.dcm")
    sh([a.sabre, "plan", "arc", "--modulation", "0.4", "--control-points", "37", "--field", "3", "3", "--mu", "200",
        "--ct", ct, "--rtstruct", os.path.join(ct, "RS.dcm"), "--iso", "65", "-5", "0", "-o", plan])
    return ("plan", ct, plan)


def lung(a, inp, n, threads, tmp):
    import h5py
    import numpy as np
    out = os.path.join(tmp, "lung.h5")
    if inp[0] == "example":
        # sabre run on the bundled example; its outputs redirected to tmp; --histories is the
        # first stopping rule reached at these sizes (the file's 2 % / 330 s come later)
        js = os.path.join(tmp, "summary.json")
        cmd = [a.sabre, "--log-level", "warn", "run", os.path.join(inp[1], "run.toml"), "--histories", n,
               "--device", f"cpu:{threads or os.cpu_count()}", "--output-h5", out,
               "--output-rtdose", os.path.join(tmp, "RD.dcm"), "--png-dir", os.path.join(tmp, "png"),
               "--summary-json", js, "--quiet"]
        text, wall, cpu = timed(cmd)
        with open(js) as f:
            summ = json.load(f)
        if summ["histories"] != n:
            sys.exit(f"sabre run stopped at {summ['histories']} histories, not {n} ({summ.get('stopped_by')})")
        unc = 100 * float(summ["mean_rel_uncertainty_50"])
        return wall, cpu, unc, summ["device"], tuple(reversed(summ["dose"]["grid_shape_xyz"])), summ
    cmd = [a.sabre, "--log-level", "warn", "linac", "--plan", inp[2], "--ct", inp[1], "--histories", n,
           "--threads", threads, "--seed", 1, "-o", out]
    text, wall, cpu = timed(cmd)
    summary = json.loads(text)
    with h5py.File(out, "r") as h:
        d = h["dose/dose"][...]
        u = h["dose/rel_uncertainty"][...]
        rho = h["phantom/density_g_cm3"][...]
        shape = d.shape
    t = rho > 0.2
    d99 = float(np.percentile(d[t], 99.9))
    hi = t & (d > 0.5 * d99)
    unc = 100 * float(u[hi].mean())
    return wall, cpu, unc, f"cpu:{threads or os.cpu_count()} thread{'' if threads == 1 else 's'}", shape, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sabre", default=os.environ.get("SABRE_EXE", os.path.join(ROOT, "build", "sabre")))
    ap.add_argument("--cases", default="water10,water1,lung,r1")
    ap.add_argument("--threads-list", default="0,1", help="CPU thread counts (0 = all)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the histories per run")
    ap.add_argument("--lung-phantom", action="store_true",
                    help="lung case from sabre phantom thorax + plan arc + linac instead of examples/lung-sbrt + sabre run")
    ap.add_argument("--no-gpu", action="store_true")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    a.sabre = os.path.abspath(a.sabre)
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "unknown"
    ver = subprocess.run([a.sabre, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"commit: (\S+)", ver)
    commit = f"sabre {m.group(1)[:7] + ('-dirty' if m.group(1).endswith('-dirty') else '') if m else '?'} (HEAD {head})"
    gpu = None if a.no_gpu else has_gpu(a.sabre)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sabre-bench-") as tmp:
        for case in a.cases.split(","):
            runs = [(int(t), None) for t in a.threads_list.split(",")]
            if gpu and case != "lung":
                runs.append((0, "cuda:0"))
            inp = None
            for threads, device in runs:
                n = int(HISTORIES[case] * a.scale * (0.5 if threads == 1 else 1) * (10 if device else 1))
                n -= n % 10
                if case in ("water10", "water1", "r1"):
                    if case == "r1":
                        toml = os.path.join(ROOT, "validation", "R1-water-6MV", "R1.toml")
                        settings = "R1.toml (61 x 61 x 120 voxels, 0.5 x 0.5 x 0.25 cm)"
                    else:
                        toml = os.path.join(tmp, case + ".toml")
                        if case == "water10":
                            geo = dict(nx=150, ny=150, nz=150, v=0.2, f0=-5, f1=5)
                            settings = "sabre simulate, 6 MV (Mohan) point source SSD 100, 10x10 cm2, water 30^3 cm, 2 mm voxels"
                        else:
                            geo = dict(nx=100, ny=100, nz=300, v=0.1, f0=-0.5, f1=0.5)
                            settings = "sabre simulate, 6 MV (Mohan) point source SSD 100, 1x1 cm2, water 10x10x30 cm, 1 mm voxels"
                        with open(toml, "w") as f:
                            f.write(WATER.format(spectrum=os.path.abspath(SPECTRUM), **geo))
                    wall, cpu, unc, dev = simulate(a, toml, n, threads, device, tmp)
                else:
                    if inp is None:
                        inp = lung_inputs(a, tmp)
                    wall, cpu, unc, dev, shape, summ = lung(a, inp, n, threads, tmp)
                    if inp[0] == "example":
                        cal = summ.get("calibration", {})
                        settings = (f"sabre run examples/lung-sbrt/run.toml (thorax CT, 2 x 6X-FFF arcs, HD120, "
                                    f"2608 MU), dose grid {shape[2]}x{shape[1]}x{shape[0]} (2.5 mm); transport "
                                    f"{summ['transport_seconds']:.1f} s = {summ['histories_per_second']:.0f} histories/s"
                                    f"; calibration {'cached' if cal.get('from_cache') else 'computed, %.0f s' % cal.get('seconds', 0)}"
                                    f"; headline uncertainty (rho >= 0.05, > 50 % of max)")
                    else:
                        settings = (f"sabre linac --ct --plan: thorax phantom CT, VMAT arc 37 cp, 3x3 cm, 200 MU, "
                                    f"TrueBeam HD120 6X-FFF, dose on the CT grid {shape[2]}x{shape[1]}x{shape[0]} (2.5 mm)")
                if unc <= 1.0:
                    t1, how = wall, f"measured (reached {unc:.2f} %)"
                elif case == "lung" and inp[0] == "example":
                    # set-up and outputs once, the transport scaled
                    ts = float(summ["transport_seconds"])
                    t1 = (wall - ts) + ts * (unc / 1.0) ** 2
                    how = (f"projected from {unc:.2f} %: {wall - ts:.0f} s set-up/outputs + transport x (u/1 %)^2 "
                           f"(sigma ~ 1/sqrt(N))")
                else:
                    t1, how = wall * (unc / 1.0) ** 2, f"projected from {unc:.2f} % (sigma ~ 1/sqrt(N))"
                load = os.getloadavg()[0]
                date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                devtxt = f"{gpu}, {dev}" if device else f"{cpu_name()}, {dev}"
                row = (f"| {date} | {commit} | {case} | {devtxt} | {settings}; {n} histories, seed 1 | "
                       f"{n / wall:.0f} ({n / cpu:.0f} per CPU-s) | {t1:.0f} s, {how} | {load:.1f} | {a.note} |")
                print(row, flush=True)
                rows.append(row)
        if not gpu:
            print("# no GPU (or no `simulate --device`): GPU rows not run", flush=True)
    if not a.no_append:
        path = os.path.join(HERE, "RESULTS.md")
        with open(path) as f:
            lines = f.read().split("\n")
        header = "## benchmarks/run.py"
        if header not in lines:
            if lines and lines[-1] == "":
                lines.pop()
            lines += ["", header, "",
                      "`benchmarks/run.py`: per case (its docstring gives geometry, source and the uncertainty "
                      "figure) histories/s over the wall-clock of the sabre command (in brackets: per CPU second of "
                      "the sabre process), and the seconds to a 1 % mean relative uncertainty over the voxels above "
                      "50 % of the maximum (projected with sigma ~ 1/sqrt(N) unless measured). `load` is the "
                      "1-minute load average after the run (shared machine).", "",
                      "| date | commit | case | device | settings | histories/s | seconds to 1 % | load | note |",
                      "|---|---|---|---|---|---|---|---|---|", ""]
        # insert after the last row of this section's table
        i = lines.index(header) + 1
        while i < len(lines) and not lines[i].startswith("|"):
            i += 1
        while i < len(lines) and lines[i].startswith("|"):
            i += 1
        lines[i:i] = rows
        with open(path, "w") as f:
            f.write("\n".join(lines).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
