#!/usr/bin/env python3
"""Every HDF5 file sabre writes, read back with h5py (issue 26, acceptance 4).

  strings     every string attribute and string list of every file comes back from h5py as
              `str`, never `bytes` (h5py returns bytes for string *datasets*: sabre keeps
              strings in attributes), and no file holds a string dataset at all.
  sha256      every input file a dose, phantom or gamma file names in its provenance has its
              SHA-256 beside it (`input_sha256:<name>`), equal to the file's actual digest.

Writers covered: `sabre simulate` (dose file; with a spectrum file), `sabre simulate --part`
(part file with /tally), `sabre merge`, `sabre run` (dose file, and a checkpoint), `sabre
ct -o` (phantom file), `sabre compare --output-h5` (gamma file), `sabre tables build`
(the shipped table set, byte-identical to the writer's output: tests/physics/tables).
"""
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from clitest import Checks, need_h5py, run_sabre, sabre_exe, source_dir  # noqa: E402

need_h5py()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

EXE = sabre_exe()
SRC = source_dir()
check = Checks()


def sabre(*args, **kw):
    r = run_sabre("--log-level", "warn", *args, **kw)
    check(r.returncode == 0, f"sabre {' '.join(map(str, args[:2]))} ({r.stderr.strip()[-300:]})")
    return r


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def bytes_strings(path):
    """Names of attributes / datasets whose strings h5py returns as bytes, and string datasets."""
    bad = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for k, v in obj.attrs.items():
                vals = v.ravel().tolist() if isinstance(v, np.ndarray) else [v]
                if any(isinstance(x, (bytes, np.bytes_)) for x in vals):
                    bad.append(f"{name}@{k}")
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "SOU":
                bad.append(f"{name} (a string dataset)")
        visit("/", f)
        f.visititems(visit)
    return bad


def string_count(path):
    n = 0
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            nonlocal n
            for v in obj.attrs.values():
                vals = v.ravel().tolist() if isinstance(v, np.ndarray) else [v]
                n += sum(isinstance(x, str) for x in vals)
        visit("/", f)
        f.visititems(visit)
    return n


def provenance_shas(path, group="provenance", base=None):
    """(file keys without a sha, wrong shas) for the attributes of `group`."""
    with h5py.File(path, "r") as f:
        a = dict(f[group].attrs)
    base = base or os.getcwd()
    missing, wrong = [], []
    for k, v in a.items():
        if k.startswith("input_sha256:"):
            name = k.split(":", 1)[1]
            p = a.get(name)
            if isinstance(p, str) and os.path.isfile(os.path.join(base, p)) and sha(os.path.join(base, p)) != v:
                wrong.append(f"{k} ({name} = {p})")
            continue
        if isinstance(v, str) and os.path.isfile(os.path.join(base, v)) and f"input_sha256:{k}" not in a:
            missing.append(f"{k} = {v}")
    return missing, wrong


with tempfile.TemporaryDirectory() as tmp:
    os.chdir(tmp)
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    with open("flat.csv", "w") as f:
        f.write("# two bins\ne_lo_MeV,e_hi_MeV,p\n0.5,1.0,0.5\n1.0,2.0,0.5\n")
    with open("ph.toml", "w") as f:
        f.write('[phantom]\nvoxels = [6, 6, 6]\nvoxel_cm = [1, 1, 1]\nmaterial = "water"\n[[slab]]\nfrom_cm = 2\n'
                'to_cm = 4\nmaterial = "lung"\n[source]\nparticle = "photon"\ntype = "point"\n'
                'position_cm = [0, 0, -100]\nfield_centre_cm = [0, 0, 0]\nfield_x_cm = [-2, 2]\n'
                'field_y_cm = [-2, 2]\nspectrum = "flat.csv"\n[run]\nhistories = 4000\nbatches = 10\n')
    sabre("simulate", "ph.toml", "-o", "sim.h5", "--threads", 1)
    sabre("simulate", "ph.toml", "--part", "0/2", "-o", "p0.h5", "--threads", 1)
    sabre("simulate", "ph.toml", "--part", "1/2", "-o", "p1.h5", "--threads", 1)
    sabre("merge", "-o", "merged.h5", "p0.h5", "p1.h5")
    sabre("phantom", "water", "-o", "ct", "--size", 40, 40, 40, "--spacing", 5, "--slice", 5)
    sabre("plan", "static", "-o", "RP.dcm", "--ct", "ct", "--rtstruct", "ct/RS.dcm", "--field", 2, 2, "--iso", 0, 0,
          0, "--mu", 100)
    run = ["run", "--ct", "ct", "--plan", "RP.dcm", "--structures", "ct/RS.dcm", "--calibration-histories", 2000,
           "--histories", 20000, "--device", "cpu:1"]
    sabre(*run, "--output-h5", "run.h5", "--checkpoint", "ck.h5", "--checkpoint-interval", 0.000001, env=env)
    sabre("ct", "ct", "--structures", "ct/RS.dcm", "-o", "phantom.h5")
    sabre("compare", "run.h5", "run.h5", "--output-h5", "gamma.h5", "--threads", 1)
    tables = os.path.join(SRC, "physics", "data", "default.h5")

    files = ["sim.h5", "p0.h5", "merged.h5", "run.h5", "ck.h5", "phantom.h5", "gamma.h5", tables]
    for p in files:
        if not os.path.exists(p):
            check(False, f"{p} written")
            continue
        bad = bytes_strings(p)
        check(not bad and string_count(p) > 3,
              f"{os.path.basename(p)}: all {string_count(p)} strings read by h5py as str" +
              (f"; as bytes or string datasets: {bad}" if bad else ""))
    with h5py.File("sim.h5", "r") as f:
        names = list(f["phantom"].attrs["material_names"])
    check({"water", "lung"} <= set(names) and all(type(n) is str for n in names),
          f"/phantom@material_names as str ({names})")

    # --- SHA-256 of every input file named in a provenance
    for p, group in (("sim.h5", "provenance"), ("merged.h5", "provenance"), ("run.h5", "provenance"),
                     ("phantom.h5", "provenance"), ("gamma.h5", "/")):
        if not os.path.exists(p):
            continue
        missing, wrong = provenance_shas(p, group)
        check(not missing and not wrong, f"{p}: every input file named has its SHA-256, and it is right"
              + (f"; missing: {missing}" if missing else "") + (f"; wrong: {wrong}" if wrong else ""))
    with h5py.File("sim.h5", "r") as f:
        a = f["provenance"].attrs
        need = {"input_sha256:input_file": sha("ph.toml"), "input_sha256:spectrum_file": sha("flat.csv"),
                "input_sha256:physics_tables": sha(tables)}
        got = {k: a.get(k) for k in need}
    check(got == need, f"simulate: phantom file, spectrum and tables digests ({got})")
    with h5py.File("run.h5", "r") as f:
        a = f["provenance"].attrs
        need = {"input_sha256:rt_plan": sha("RP.dcm"), "input_sha256:structure_set": sha("ct/RS.dcm"),
                "input_sha256:physics_tables": sha(tables)}
        got = {k: a.get(k) for k in need}
        check(got == need and len(a.get("input_sha256:ct_series", "")) == 64
              and len(a.get("input_sha256:machine_model", "")) == 64,
              f"run: plan, structures, tables, CT series and machine digests ({got})")

sys.exit(check.status())
