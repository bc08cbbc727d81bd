#!/usr/bin/python3
"""Benchmark: validation case R1 (6 MV, 10 x 10 cm2, water; validation/R1-water-6MV/R1.toml)
on the host back end. Runs `sabre simulate` and appends one row to benchmarks/RESULTS.md:
date, commit, device, settings, histories per second, and the seconds needed to reach a
1 % mean relative uncertainty (mean over voxels above 50 % of the maximum dose, on the
R1.toml grid: 0.5 x 0.5 x 0.25 cm voxels), either MEASURED (when the run reached 1 %) or
PROJECTED from this run with sigma proportional to 1/sqrt(N): t_1% = t (u / 1 %)^2.

Usage: r1_host.py [--sabre PATH] [--histories N] [--threads N] [--no-append]
"""
import argparse
import datetime
import os
import re
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sabre", default=os.environ.get("SABRE_EXE", os.path.join(ROOT, "build", "sabre")))
    ap.add_argument("--histories", type=int, default=2000000)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--note", default="")
    args = ap.parse_args()

    case = os.path.join(ROOT, "validation", "R1-water-6MV", "R1.toml")
    cmd = [args.sabre, "--log-level", "warn", "simulate", case, "--histories", str(args.histories),
           "--threads", str(args.threads), "--seed", str(args.seed)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = ru.ru_utime + ru.ru_stime
    if r.returncode != 0:
        sys.exit(f"sabre failed ({r.returncode}): {r.stderr.strip()}")
    out = r.stdout
    m_time = re.search(r"time: ([0-9.]+) s \(([0-9.]+) histories/s\)", out)
    m_unc = re.search(r"mean relative uncertainty \(voxels > 50% of max\): ([0-9.]+) %", out)
    m_dev = re.search(r"seed \d+, (.*)", out)
    if not (m_time and m_unc and m_dev):
        sys.exit("could not parse sabre's summary:\n" + out)
    seconds, rate = float(m_time.group(1)), float(m_time.group(2))
    unc_pct = float(m_unc.group(1))
    device = m_dev.group(1).strip()
    if unc_pct <= 1.0:
        t1, how = seconds, "measured (reached %.2f %%)" % unc_pct
    else:
        t1, how = seconds * (unc_pct / 1.0) ** 2, "projected from %.2f %% (sigma ~ 1/sqrt(N))" % unc_pct
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        commit += "-dirty"
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    row = (f"| {date} | {commit} | {cpu}, {device}, load {load:.1f} | R1.toml, {args.histories} histories, "
           f"seed {args.seed} | {rate:.0f} ({args.histories / cpu_s:.0f} per CPU-s) | {t1:.0f} s, {how} | {args.note} |")
    print(row)
    if not args.no_append:
        path = os.path.join(HERE, "RESULTS.md")
        new = not os.path.exists(path)
        with open(path, "a") as f:
            if new:
                f.write("# Benchmark results\n\n"
                        "Rows appended by the scripts in this folder. `r1_host.py`: validation case R1 "
                        "(6 MV, 10 x 10 cm2, water, 61 x 61 x 120 voxels of 0.5 x 0.5 x 0.25 cm) on the "
                        "host back end; histories/s is wall-clock over the whole run (set-up included), in brackets per CPU second (user + system time of the sabre process: less sensitive to other load); "
                        "the time to 1 % is for the mean relative uncertainty over voxels above 50 % "
                        "of the maximum dose. The machine's load average is given because the "
                        "development machines are shared.\n\n"
                        "| date | commit | device | settings | histories/s | seconds to 1 % | note |\n"
                        "|---|---|---|---|---|---|---|\n")
            f.write(row + "\n")


if __name__ == "__main__":
    main()
