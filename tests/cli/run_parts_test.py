#!/usr/bin/env python3
"""Parts, merge and checkpoints of `sabre run` (issue 22, acceptance 1 and 2 for the main job).

  parts       a fixed-count plan run (water phantom, 3 x 3 cm 6X-FFF field, 10 batches) split
              into 4 parts (`--part K/4 --part-output pK.h5`: no calibration, only the part
              file) and combined by `sabre run <same arguments> --merge p0.h5 ... p3.h5` give
              the HDF5 (dose, total and statistical uncertainty) and the RT Dose pixel data of
              the one run bit for bit, and the same summary figures.
  refusals    a merge with a missing part, a part of another seed, a part of a `sabre
              simulate` job; --part with a target uncertainty: exit 2/3, one message naming
              the file or the flag, nothing written.
  checkpoint  SIGTERM during the transport of a run with --checkpoint: exit 5, no dose
              output, a checkpoint of some of the batches; `--resume` gives the uninterrupted
              run's outputs bit for bit; a checkpoint resumed with another seed is refused.

Fixed seeds, 1 CPU thread, a small fixed-count calibration cached in the test's temporary
directory: these checks are about bits, not physics.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, need_h5py, run_sabre, sabre_exe, same_dose_bits, sigterm_after_checkpoint  # noqa: E402,E501

need_h5py()
import h5py  # noqa: E402

EXE = sabre_exe()
check = Checks()
sabre = run_sabre
identical = same_dose_bits


def rtdose_pixels(path):
    """Dose Grid Scaling (3004,000E) and Pixel Data (7FE0,0010) of an explicit-VR little-endian
    RT Dose, as bytes (the UIDs and dates around them differ from file to file)."""
    b = open(path, "rb").read()
    s = b.find(b"\x04\x30\x0e\x00DS")
    n = int.from_bytes(b[s + 6:s + 8], "little")
    return b[s + 8:s + 8 + n], b[b.rfind(b"\xe0\x7f\x10\x00"):]


def same_rtdose(a, b):
    x, y = rtdose_pixels(a), rtdose_pixels(b)
    return len(x[1]) > 1000 and x == y


with tempfile.TemporaryDirectory() as tmp:
    os.chdir(tmp)
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    r = sabre("--log-level", "warn", "phantom", "water", "-o", "ct", "--size", 60, 60, 60, "--spacing", 5,
              "--slice", 5)
    check(r.returncode == 0, f"phantom ({r.stderr.strip()[-300:]})")
    r = sabre("--log-level", "warn", "plan", "static", "-o", "RP.dcm", "--ct", "ct", "--rtstruct", "ct/RS.dcm",
              "--field", 3, 3, "--iso", 0, 0, 0, "--mu", 100, "--fractions", 3)
    check(r.returncode == 0, f"plan ({r.stderr.strip()[-300:]})")
    job = ["--log-level", "warn", "run", "--ct", "ct", "--plan", "RP.dcm", "--structures", "ct/RS.dcm",
           "--calibration-histories", 20000, "--calibration-seed", 7, "--device", "cpu:1", "--histories", 40000,
           "--seed", 3]

    # --- four parts merged == one run
    r = sabre(*job, "--output-h5", "one.h5", "--output-rtdose", "one.dcm", "--summary-json", "one.json", env=env)
    check(r.returncode == 0, f"single run ({r.stderr.strip()[-300:]})")
    for k in range(4):
        r = sabre(*job, "--part", f"{k}/4", "--part-output", f"p{k}.h5", "--output-h5", "ignored.h5", env=env)
        check(r.returncode == 0 and f"part written to p{k}.h5" in r.stdout,
              f"part {k}/4 ({r.returncode}: {r.stderr.strip()[-300:]})")
    check(not os.path.exists("ignored.h5"), "a part writes no dose output")
    with h5py.File("p1.h5", "r") as f:
        t = f["tally"].attrs
        kind = t["job_kind"].decode() if isinstance(t["job_kind"], bytes) else t["job_kind"]
        check((kind, t["first_batch"], t["next_batch"], t["batches_total"]) == ("run", 2, 5, 10),
              f"part 1/4 of the run holds batches 2..5 of 10 ({kind}, {t['first_batch']}..{t['next_batch']})")
    r = sabre(*job, "--merge", "p2.h5", "p0.h5", "p3.h5", "p1.h5", "--output-h5", "merged.h5",
              "--output-rtdose", "merged.dcm", "--summary-json", "merged.json", env=env)
    check(r.returncode == 0, f"merge of 4 parts, given out of order ({r.stderr.strip()[-300:]})")
    if r.returncode == 0:
        why = identical("one.h5", "merged.h5")
        check(not why, "4 parts merged == one run: HDF5 dose and uncertainties bit for bit " + why)
        check(same_rtdose("one.dcm", "merged.dcm"), "4 parts merged == one run: RT Dose pixel data and scaling")
        a, b = json.load(open("one.json")), json.load(open("merged.json"))
        check(a["dose"]["max_gy"] == b["dose"]["max_gy"] and a["uncertainty"] == b["uncertainty"]
              and a["histories"] == b["histories"] == 40000,
              f"summaries agree: max {a['dose']['max_gy']} vs {b['dose']['max_gy']} Gy, "
              f"{a['histories']} vs {b['histories']} histories")
        with h5py.File("merged.h5", "r") as f:
            m = f["provenance"].attrs.get("merged_from", "")
            m = m.decode() if isinstance(m, bytes) else m
        check(m.startswith("4 parts"), f"the provenance names the parts ({m})")

    # --- refused merges and parts
    r = sabre(*job[:-1], 4, "--part", "2/4", "--part-output", "q2.h5", env=env)
    check(r.returncode == 0, "a part of another seed")
    with open("ph.toml", "w") as f:
        f.write('[phantom]\nvoxels = [4, 4, 4]\nvoxel_cm = [1, 1, 1]\nmaterial = "water"\n[source]\n'
                'particle = "photon"\ntype = "point"\nposition_cm = [0, 0, -100]\nfield_centre_cm = [0, 0, 0]\n'
                'field_x_cm = [-1, 1]\nfield_y_cm = [-1, 1]\nenergy_mev = 2.0\n[run]\nhistories = 1000\n'
                'batches = 10\n')
    r = sabre("--log-level", "warn", "simulate", "ph.toml", "--part", "0/2", "-o", "s0.h5")
    check(r.returncode == 0, f"a simulate part ({r.stderr.strip()[-200:]})")
    cases = [(["p0.h5", "p1.h5", "p3.h5"], "part 2 of 4 is missing", "p0.h5", 3),
             (["p0.h5", "p1.h5", "q2.h5", "p3.h5"], "another job", "q2.h5", 3),
             (["s0.h5"], "sabre simulate", "s0.h5", 3)]
    for files, msg, named, code in cases:
        r = sabre(*job, "--merge", *files, "--output-h5", "bad.h5", env=env)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == code and len(lines) == 1 and msg in lines[0] and named in lines[0],
              f"merge {' '.join(files)}: exit {code}, one message naming {named} ({r.returncode}: {r.stderr.strip()})")
    r = sabre("merge", "-o", "bad.h5", "p0.h5", "p1.h5", "p2.h5", "p3.h5")
    check(r.returncode == 3 and "--merge" in r.stderr,
          f"`sabre merge` of run parts points to `sabre run ... --merge` ({r.stderr.strip()})")
    r = sabre(*job[:-4], "--target-uncertainty", "5%", "--part", "0/2", "--part-output", "bad.h5", env=env)
    check(r.returncode == 2 and "fixed-count" in r.stderr, f"--part with a target uncertainty refused ({r.stderr.strip()})")
    check(not [f for f in os.listdir(".") if f.startswith("bad")], "no output or temporary from a refused command")

    # --- checkpoint, SIGTERM, resume
    big = [*job[:-4], "--histories", 10000000, "--seed", 11]
    r = sabre(*big, "--output-h5", "full.h5", "--output-rtdose", "full.dcm", env=env)
    check(r.returncode == 0, f"uninterrupted reference run ({r.stderr.strip()[-300:]})")
    code, err = sigterm_after_checkpoint([*big[2:], "--checkpoint", "ck.h5", "--checkpoint-interval", 0.001,
                                          "--output-h5", "int.h5"], "ck.h5", env=env)
    check(code == 5, f"SIGTERM: exit 5 ({code})")
    check(not os.path.exists("int.h5"), "SIGTERM: no dose output")
    with h5py.File("ck.h5", "r") as f:
        done = int(f["tally"].attrs["next_batch"])
    check(0 < done < 10, f"the checkpoint holds part of the run ({done} of 10 batches)")
    r = sabre(*big, "--resume", "ck.h5", "--output-h5", "resumed.h5", "--output-rtdose", "resumed.dcm", env=env)
    check(r.returncode == 0, f"resume ({r.stderr.strip()[-300:]})")
    if r.returncode == 0:
        why = identical("full.h5", "resumed.h5")
        check(not why, f"interrupted after {done} batches and resumed == uninterrupted, bit for bit " + why)
        check(same_rtdose("full.dcm", "resumed.dcm"), "resumed RT Dose == uninterrupted")
    bad = list(big)
    bad[-1] = 12
    r = sabre(*bad, "--resume", "ck.h5", "--output-h5", "bad.h5", env=env)
    check(r.returncode == 3 and "another job" in r.stderr and "ck.h5" in r.stderr and not os.path.exists("bad.h5"),
          f"a checkpoint resumed with another seed is refused, naming it ({r.stderr.strip()})")

sys.exit(check.status())
