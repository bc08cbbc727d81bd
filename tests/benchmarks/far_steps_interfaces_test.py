#!/usr/bin/env python3
"""benchmarks/far_steps_interfaces (the electron-only study of the far steps next to material
interfaces, docs/efficiency.md) on a few thousand tracks: that its pairing is sound and that
it measures what it says. Guards of the tool, not a validation of the physics.

- A variant whose far G1 limit equals the near one (0.2) has no far steps (the transport takes
  them only when their limit is the larger), so it must be the near transport bit for bit:
  every paired difference exactly zero. A desynchronised start or random-number stream, or a
  variant compared with the wrong column, breaks that.
- The far steps at G1 1.0 take fewer steps than the near ones (measured 0.62 of them), the
  converged steps (G1 0.02) about ten times as many.
- A bad argument is refused with exit code 2 and a message.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, need_tables  # noqa: E402

need_tables()
exe = os.path.join(os.environ.get("SABRE_BINARY_DIR", ""), "benchmarks", "far_steps_interfaces")
if not os.path.exists(exe):
    print(f"far_steps_interfaces not built: {exe}", file=sys.stderr)
    sys.exit(1)

check = Checks()
r = subprocess.run([exe, "--tracks", "3000", "--threads", "2", "--far-g1", "0.2,1.0", "--converged"],
                   capture_output=True, text=True, timeout=300)
print(r.stdout)
check(r.returncode == 0, f"the study runs (exit {r.returncode}: {r.stderr.strip()})")

groups = [ln for ln in r.stdout.splitlines() if re.match(r"^\s*\d+\.\d-\s*\d+\.\d", ln)]
check(len(groups) == 40, f"40 groups of 0.2 cm over the 8 cm ({len(groups)})")
pairs = [re.findall(r"([+-]\d+\.\d+) \((\d+\.\d+)\)", ln) for ln in groups]
# Columns: far G1 0.2 - near, far G1 1 - near (then the differences from converged).
same = [p[0] for p in pairs if p]
check(len(same) == 40 and all(float(m) == 0 and float(s) == 0 for m, s in same),
      "far G1 limit 0.2 (= the near one): every paired difference exactly 0")
moved = [abs(float(p[1][0])) for p in pairs if len(p) > 1]
check(len(moved) == 40 and max(moved) > 0, "far G1 1.0: the paired differences are not all 0 (far steps taken)")

steps = {m.group(1).strip(): float(m.group(2)) for m in
         re.finditer(r"^(near|far G1 [\d.]+|converged)\s+([\d.]+)\s", r.stdout, re.M)}
check({"near", "far G1 0.2", "far G1 1", "converged"} <= set(steps), f"steps per track of every variant ({steps})")
if {"near", "far G1 0.2", "far G1 1", "converged"} <= set(steps):
    check(steps["far G1 0.2"] == steps["near"], "far G1 0.2: as many steps as the near transport")
    check(steps["far G1 1"] < 0.8 * steps["near"], "far G1 1.0: fewer than 0.8 of the near steps")
    check(steps["converged"] > 5 * steps["near"], "converged (G1 0.02): more than 5 times the near steps")

bad = subprocess.run([exe, "--far-g1", "1.5"], capture_output=True, text=True, timeout=60)
check(bad.returncode == 2 and "--far-g1" in bad.stderr, f"--far-g1 1.5 refused with exit 2 ({bad.returncode}: {bad.stderr.strip()})")
bad = subprocess.run([exe, "--frobnicate"], capture_output=True, text=True, timeout=60)
check(bad.returncode == 2 and "--frobnicate" in bad.stderr, "an unknown argument refused with exit 2")
sys.exit(check.status())
