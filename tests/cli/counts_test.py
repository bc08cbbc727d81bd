#!/usr/bin/env python3
"""Integer flags as users type them (issue 26, acceptance 3).

  every option  every integer option (`INT`/`UINT` in the help) of every command and
                subcommand accepts 1e1 (the parse gets past it: any error left is about
                something else), and refuses 1.5, 'abc' and 1e30 with exit 2 and one line
                naming the option.
  same run      `sabre simulate --histories 2e4 --seed 1e3` writes bit for bit the dose of
                `--histories 20000 --seed 1000`; `sabre run --histories 4e4
                --calibration-histories 2e4` runs.
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, run_sabre, sabre_exe  # noqa: E402

EXE = sabre_exe()
check = Checks()
scratch = tempfile.TemporaryDirectory()  # commands that run with their defaults (sabre linac) write nothing here,
os.chdir(scratch.name)                   # but keep them out of the source tree all the same


def sabre(*args, **kw):
    return run_sabre(*args, timeout=300, **kw)


def subcommands(help_text):
    out, on = [], False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            on = True
            continue
        if on:
            m = re.match(r"^  (\S+)\s", line)
            if m:
                out.append(m.group(1))
            elif line.strip() and not line.startswith(" "):
                on = False
    return out


def int_options(help_text):
    opts = []
    for line in help_text.splitlines():
        m = re.match(r"^\s+((?:-\w,)?--[\w-]+)\s+U?INT\b", line)
        if m:
            opts.append(m.group(1).split(",")[-1])
    return opts


commands = []
for c in subcommands(sabre("--help").stdout):
    h = sabre(c, "--help").stdout
    subs = subcommands(h)
    commands += [[c, s] for s in subs] if subs else [[c]]
    if subs:
        commands.append([c])
found = []
for cmd in commands:
    for opt in int_options(sabre(*cmd, "--help").stdout):
        found.append((cmd, opt))
        r = sabre(*cmd, opt, "1e1")
        msg = r.stderr.strip()
        check(opt + ":" not in msg and "could not be converted" not in msg.lower() and "whole number" not in msg,
              f"sabre {' '.join(cmd)} {opt} 1e1: accepted ({msg[:120]})")
        for bad, why in (("1.5", "not a whole number"), ("abc", "expected a whole number"),
                         ("1e30", "too large")):
            r = sabre(*cmd, opt, bad)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            check(r.returncode == 2 and len(lines) == 1 and opt in lines[0] and why in lines[0],
                  f"sabre {' '.join(cmd)} {opt} {bad}: exit 2, one line naming the option ({r.returncode}: "
                  f"{r.stderr.strip()[:160]})")
names = {o for _, o in found}
check({"--histories", "--seed", "--threads", "--batches", "--calibration-histories"} <= names,
      f"the count options were found in the help ({len(found)} integer options in {len(commands)} commands)")

with tempfile.TemporaryDirectory() as tmp:
    os.chdir(tmp)
    with open("ph.toml", "w") as f:
        f.write('[phantom]\nvoxels = [4, 4, 4]\nvoxel_cm = [1, 1, 1]\nmaterial = "water"\n[source]\n'
                'particle = "photon"\ntype = "point"\nposition_cm = [0, 0, -100]\nfield_centre_cm = [0, 0, 0]\n'
                'field_x_cm = [-1, 1]\nfield_y_cm = [-1, 1]\nenergy_mev = 2.0\n[run]\nhistories = 1000\n'
                'batches = 10\n')
    a = sabre("simulate", "ph.toml", "--histories", "2e4", "--seed", "1e3", "--threads", 1, "-o", "a.h5")
    b = sabre("simulate", "ph.toml", "--histories", 20000, "--seed", 1000, "--threads", 1, "-o", "b.h5")
    check(a.returncode == 0 and b.returncode == 0 and "histories: 20000 in 10 batches, seed 1000" in a.stdout,
          f"simulate --histories 2e4 --seed 1e3 runs 20000 histories with seed 1000 ({a.stdout.splitlines()[:1]})")
    try:
        import h5py
        with h5py.File("a.h5", "r") as fa, h5py.File("b.h5", "r") as fb:
            check(fa["dose/dose"][...].tobytes() == fb["dose/dose"][...].tobytes(),
                  "--histories 2e4 == --histories 20000, bit for bit")
    except ImportError:
        print("(h5py missing: the bit-for-bit comparison is skipped)")
    r = sabre("--log-level", "warn", "phantom", "water", "-o", "ct", "--size", 40, 40, 40, "--spacing", 5,
              "--slice", 5)
    r = sabre("--log-level", "warn", "plan", "static", "-o", "RP.dcm", "--ct", "ct", "--field", 2, 2, "--iso", 0, 0,
              0, "--mu", 100)
    r = sabre("--log-level", "warn", "run", "--ct", "ct", "--plan", "RP.dcm", "--histories", "4e4",
              "--calibration-histories", "2e4", "--device", "cpu:1", "--output-h5", "run.h5", "--json",
              env=dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache")))
    check(r.returncode == 0 and '"histories": 40000' in r.stdout,
          f"run --histories 4e4 --calibration-histories 2e4 ({r.stderr.strip()[-200:]})")

sys.exit(check.status())
