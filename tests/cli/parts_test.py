#!/usr/bin/env python3
"""`sabre simulate --part K/N`, `sabre merge`, `--checkpoint` / `--resume` end to end
(issue 22, acceptances 1 and 2).

  parts      the job run as 4 parts (on 1 and 2 threads), merged by `sabre merge` in a shuffled
             order, equals one run with the same seed and histories bit for bit (dose, total
             and statistical uncertainty; histories and batches in the provenance). A batch
             count that does not divide into the parts (10 batches, 4 parts) is part of it.
  refused    a missing part, a part given twice, a part of another seed, a plain dose file:
             exit 3, one message naming the file, no merged output.
  resume     SIGTERM in the middle of a run with --checkpoint (after the first checkpoint
             appeared): exit 5, no output, a checkpoint of the batches done; --resume from it
             gives the uninterrupted run bit for bit. A checkpoint of another seed, or of
             another part, is refused (exit 3, the message names the checkpoint).
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import sigterm_after_checkpoint  # noqa: E402

exe = os.environ.get("SABRE_EXE", "")
if not exe or not os.path.exists(exe):
    print("SABRE_EXE not set or missing", file=sys.stderr)
    sys.exit(1)

PHANTOM = """
[phantom]
voxels = [16, 16, 24]
voxel_cm = [1.0, 1.0, 1.0]
material = "water"
[[slab]]
from_cm = 5.0
to_cm = 12.0
material = "lung"
density_g_cm3 = 0.26
[[slab]]
from_cm = 12.0
to_cm = 14.0
material = "bone_cortical"
[source]
particle = "photon"
type = "point"
position_cm = [0, 0, -100]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2.5, 2.5]
field_y_cm = [-2.5, 2.5]
energy_mev = 6.0
[run]
histories = 60003
batches = 10
"""

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def sabre(*args, **kw):
    return subprocess.run([exe, "--log-level", "warn", *map(str, args)], capture_output=True, text=True, **kw)


def identical(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for k in ("dose", "rel_uncertainty", "rel_uncertainty_statistical"):
            x, y = fa["dose/" + k][...], fb["dose/" + k][...]
            if x.shape != y.shape or x.tobytes() != y.tobytes():
                return f"/dose/{k} differs (max |diff| {np.max(np.abs(x - y)):.3e})"
        for k in ("histories", "batches", "seed"):
            if fa["provenance"].attrs[k] != fb["provenance"].attrs[k]:
                return f"provenance {k} differs"
    return ""


with tempfile.TemporaryDirectory() as tmp:
    os.chdir(tmp)
    with open("ph.toml", "w") as f:
        f.write(PHANTOM)
    r = sabre("simulate", "ph.toml", "--seed", 11, "-o", "one.h5")
    check(r.returncode == 0, f"single run ({r.stderr.strip()})")

    # --- parts
    for k in range(4):
        r = sabre("simulate", "ph.toml", "--seed", 11, "--threads", 1 + k % 2, "--part", f"{k}/4", "-o", f"p{k}.h5")
        check(r.returncode == 0 and "part written" in r.stdout, f"part {k}/4 ({r.stderr.strip()})")
    order = ["p2.h5", "p0.h5", "p3.h5", "p1.h5"]
    r = sabre("merge", "-o", "merged.h5", *order)
    check(r.returncode == 0, f"merge of 4 parts ({r.stderr.strip()})")
    why = identical("one.h5", "merged.h5")
    check(not why, "4 parts merged == one run, bit for bit " + why)
    with h5py.File("p1.h5", "r") as f:
        t = f["tally"].attrs
        check((t["first_batch"], t["next_batch"], t["batches_total"]) == (2, 5, 10),
              f"part 1/4 holds batches 2..5 of 10 ({t['first_batch']}..{t['next_batch']})")

    # --- refused merges
    r = sabre("simulate", "ph.toml", "--seed", 12, "--part", "2/4", "-o", "q2.h5")
    cases = [(["p0.h5", "p1.h5", "p3.h5"], "part 2 of 4 is missing", "p0.h5"),
             (["p0.h5", "p1.h5", "p1.h5", "p2.h5", "p3.h5"], "given twice", "p1.h5"),
             (["p0.h5", "p1.h5", "q2.h5", "p3.h5"], "another job", "q2.h5"),
             (["one.h5"], "no /tally", "one.h5")]
    for files, msg, named in cases:
        r = sabre("merge", "-o", "bad.h5", *files)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 3 and len(lines) == 1 and msg in lines[0] and named in lines[0]
              and not os.path.exists("bad.h5"),
              f"merge {' '.join(files)}: exit 3, one message naming {named} ({r.returncode}: {r.stderr.strip()})")
    check(not [f for f in os.listdir(".") if f.startswith("bad.h5")], "no merged output or temporary left")

    # --- checkpoint, SIGTERM, resume
    big = ["ph.toml", "--seed", 21, "--histories", 1500000, "--threads", 1]
    r = sabre("simulate", *big, "-o", "full.h5")
    check(r.returncode == 0, "uninterrupted reference run")
    code, err = sigterm_after_checkpoint(["simulate", *big, "--checkpoint", "ck.h5", "--checkpoint-interval", 0.001,
                                          "-o", "int.h5"], "ck.h5")
    check(code == 5, f"SIGTERM: exit 5 ({code})")
    check(not os.path.exists("int.h5"), "SIGTERM: no output file")
    with h5py.File("ck.h5", "r") as f:
        done = int(f["tally"].attrs["next_batch"])
    check(0 < done < 10, f"the checkpoint holds part of the run ({done} of 10 batches)")
    check("(stopping)" in err, "the last checkpoint was written on the signal")
    r = sabre("simulate", *big, "--resume", "ck.h5", "-o", "resumed.h5")
    check(r.returncode == 0, f"resume ({r.stderr.strip()})")
    why = identical("full.h5", "resumed.h5")
    check(not why, f"interrupted after {done} batches and resumed == uninterrupted, bit for bit " + why)
    for extra, msg in ((["--seed", 22], "another job"), (["--part", "1/2"], "not of the part asked for")):
        args = list(big)
        if extra[0] == "--seed":
            args[2] = 22
        else:
            args += extra
        r = sabre("simulate", *args, "--resume", "ck.h5", "-o", "bad.h5")
        check(r.returncode == 3 and msg in r.stderr and "ck.h5" in r.stderr and not os.path.exists("bad.h5"),
              f"resume with {' '.join(map(str, extra))}: refused, naming the checkpoint ({r.stderr.strip()})")

sys.exit(1 if failures else 0)
