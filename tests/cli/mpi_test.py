#!/usr/bin/env python3
"""`mpirun -n R sabre ...` gives the single-process result bit for bit (issue 22, acceptance 3).

  simulate   a fixed history count: `sabre simulate` on 1 process, and under mpirun with 2 and
             3 ranks (3 oversubscribed on 2 cores), 1 thread each: dose and uncertainty
             identical, histories and batches the same.
  target     `sabre run` with a target uncertainty (open-ended batches): the stop is decided
             once for all ranks on rank 0, after every batch as one process does, so 2 and 3
             ranks stop on the same batch and write the same dose bit for bit.
  failure    a rank that fails (an unwritable checkpoint directory on rank 0 only cannot be
             staged, so: a bad input on every rank) ends the job: non-zero exit, one message
             on rank 0's behalf, no output file.

Skipped (77) with its reason when sabre was built without MPI or mpirun is absent.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import same_dose_bits, under_sanitizer  # noqa: E402

exe = os.environ.get("SABRE_EXE", "")
if not exe or not os.path.exists(exe):
    print("SABRE_EXE not set or missing", file=sys.stderr)
    sys.exit(1)
ver = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
if "MPI: on" not in ver:
    print("SKIPPED: sabre built without MPI (SABRE_MPI=OFF or no MPI found at configure time)")
    sys.exit(77)
mpirun = shutil.which("mpirun")
if not mpirun:
    print("SKIPPED: mpirun not found (Debian: openmpi-bin)")
    sys.exit(77)

# Under the sanitizer build (scripts/sanitize.sh) leak detection is off for the MPI ranks:
# OpenMPI's components, unloaded at MPI_Finalize, leave allocations LeakSanitizer cannot
# attribute to a library name (suppressions match names); memory errors are still caught.
if under_sanitizer():
    os.environ["ASAN_OPTIONS"] += ":detect_leaks=0"
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none",
           OMPI_MCA_plm="isolated", OMPI_MCA_btl="self,vader")

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
[source]
particle = "photon"
type = "point"
position_cm = [0, 0, -100]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2.5, 2.5]
field_y_cm = [-2.5, 2.5]
energy_mev = 6.0
[run]
histories = 100003
batches = 12
"""

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(args, ranks=1):
    cmd = [exe, *map(str, args)]
    if ranks > 1:
        cmd = [mpirun, "-n", str(ranks), "--oversubscribe", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def identical(a, b, keys=("dose", "rel_uncertainty_statistical")):
    return same_dose_bits(a, b, keys)


with tempfile.TemporaryDirectory() as tmp:
    os.chdir(tmp)
    with open("ph.toml", "w") as f:
        f.write(PHANTOM)
    base = ["--log-level", "warn", "simulate", "ph.toml", "--seed", 5, "--threads", 1]
    r = run([*base, "-o", "one.h5"])
    check(r.returncode == 0, f"single process ({r.stderr.strip()[-300:]})")
    for n in (2, 3):
        r = run([*base, "-o", f"mpi{n}.h5"], n)
        check(r.returncode == 0, f"mpirun -n {n} simulate: exit 0 ({r.returncode}: {r.stderr.strip()[-400:]})")
        if r.returncode == 0:
            why = identical("one.h5", f"mpi{n}.h5")
            check(not why, f"mpirun -n {n}: fixed count, bit for bit " + why)
            with h5py.File(f"mpi{n}.h5", "r") as f:
                dev = f["provenance"].attrs["device"]
                dev = dev.decode() if isinstance(dev, bytes) else dev
            check(f"{n} MPI ranks" in dev, f"the provenance names the ranks ({dev})")
            check(r.stdout.count("dose written") == 1, "one rank reports")

    # --- target uncertainty through sabre run
    ct = os.path.join(tmp, "ct")
    r = run(["--log-level", "warn", "phantom", "water", "-o", ct, "--size", 60, 60, 60, "--spacing", 5, "--slice", 5])
    check(r.returncode == 0, "phantom")
    plan = os.path.join(tmp, "RP.dcm")
    r = run(["--log-level", "warn", "plan", "static", "-o", plan, "--ct", ct, "--rtstruct", os.path.join(ct, "RS.dcm"),
             "--field", 3, 3, "--iso", 0, 0, 0, "--mu", 100, "--fractions", 3])
    check(r.returncode == 0, "plan")
    env["SABRE_CACHE_DIR"] = os.path.join(tmp, "cache")
    job = ["--log-level", "warn", "run", "--ct", ct, "--plan", plan, "--calibration-histories", 20000, "--seed", 3,
           "--device", "cpu:1", "--target-uncertainty", "6%", "--batch-histories", 1500, "--histories", 3000000,
           "--summary-json"]
    r = run([*job, "s1.json", "--output-h5", "t1.h5"])
    check(r.returncode == 0, f"sabre run to a target, one process ({r.stderr.strip()[-300:]})")
    import json
    s1 = json.load(open("s1.json")) if r.returncode == 0 else {}
    for n in (2, 3):
        r = run([*job, f"s{n}.json", "--output-h5", f"t{n}.h5"], n)
        check(r.returncode == 0, f"mpirun -n {n} run: exit 0 ({r.returncode}: {r.stderr.strip()[-400:]})")
        if r.returncode == 0 and s1:
            s = json.load(open(f"s{n}.json"))
            check(s["stopped_by"] == s1["stopped_by"] == "target_uncertainty" and s["batches"] == s1["batches"],
                  f"mpirun -n {n}: stopped by {s['stopped_by']} after {s['batches']} batches "
                  f"(one process: {s1['stopped_by']} after {s1['batches']})")
            why = identical("t1.h5", f"t{n}.h5", ("dose", "rel_uncertainty", "rel_uncertainty_statistical"))
            check(not why, f"mpirun -n {n}: target uncertainty, bit for bit " + why)

    # --- failure: a bad input ends every rank, nothing written
    with open("bad.toml", "w") as f:
        f.write(PHANTOM.replace('material = "water"', 'material = "unobtainium"', 1))
    r = run(["--log-level", "warn", "simulate", "bad.toml", "--threads", 1, "-o", "bad.h5"], 2)
    check(r.returncode != 0 and "bad.toml" in r.stderr and not os.path.exists("bad.h5"),
          f"a bad input under mpirun: exit {r.returncode} != 0, the file named, no output ({r.stderr.strip()[-300:]})")

sys.exit(1 if failures else 0)
