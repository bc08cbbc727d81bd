#!/usr/bin/env python3
"""The TomoTherapy machine (beams/machines/tomotherapy.toml) through the CLI:

1. `sabre plan tomo` writes a native helical plan over a spherical target; `sabre plan show
   --json` maps it to the TomoTherapy model; its start and end isocentres lie half the
   couch travel either side of the target along the patient's z (HFS: toward the feet).
2. `sabre linac` of a one-projection plan: a leaf open for half the projection gives half
   the dose of the leaf open all through, within 4 sigma (same seed).
3. `sabre run` end to end on the thorax phantom: HDF5, RT Dose, summary; the PTV gets the dose.
4. Bad plans, one error each (exit 3, one line naming the file), nothing written: an open
   fraction above 1, a sinogram row of the wrong length, a jaw width the jaws cannot open,
   a C-arm DICOM RT Plan (jaws and MLC, no sinogram) named for the TomoTherapy.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIPPED: h5py/numpy not available")
    sys.exit(77)

EXE = os.environ.get("SABRE_EXE")
SRC = os.environ.get("SABRE_SOURCE_DIR")
if not EXE or not SRC or not os.path.exists(os.path.join(SRC, "physics", "data", "default.h5")):
    print("SKIPPED: SABRE_EXE / tables not available")
    sys.exit(77)

fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails.append(what)


def sabre(*args, env=None):
    r = subprocess.run([EXE, "--log-level", "warn", *args], capture_output=True, text=True, env=env)
    return r.returncode, r.stdout, r.stderr


def tomo_toml(path, rows, jaw=25, extra=""):
    with open(path, "w") as f:
        f.write('format = "sabre-tomo-plan/1"\n[plan]\nmachine = "Tomo"\ngeometry = "FIXED_ANGLE"\n'
                f"projection_time_s = 0.3\njaw_width_mm = {jaw}\niso_start_mm = [0, 0, 0]\n"
                f"fixed_gantry_deg = {[0.0] * len(rows)}\n{extra}sinogram = [\n")
        for r in rows:
            f.write(f"  {list(map(float, r))},\n")
        f.write("]\n")


with tempfile.TemporaryDirectory() as tmp:
    # 1. generator and reader
    p = os.path.join(tmp, "hel.toml")
    rc, out, err = sabre("plan", "tomo", "-o", p, "--target", "65", "-5", "0", "--radius", "15", "--jaw", "25",
                         "--pitch", "0.3")
    check(rc == 0, f"sabre plan tomo: {rc} {err.strip()[:200]}")
    rc, out, err = sabre("plan", "show", "--json", p)
    if rc == 0:
        b = json.loads(out)["beams"][0]
        s0, s1 = b["control_points"][0]["iso_mm"], b["control_points"][1]["iso_mm"]
        check(b.get("machine_model") == "TomoTherapy", f"mapped to TomoTherapy ({b.get('machine_model')})")
        check(abs(s0[2] + s1[2]) < 1e-6 and s0[2] > s1[2] and abs(s0[0] - 65) < 1e-9,
              f"the couch travel runs from z {s0[2]:.2f} to {s1[2]:.2f} mm, centred on the target")
    else:
        check(False, f"plan show: {rc} {err.strip()[:300]}")

    # 2. half-open leaf against open
    leaf_open = [[1.0 if i == 32 else 0.0 for i in range(64)]]
    leaf_half = [[0.5 if i == 32 else 0.0 for i in range(64)]]
    centre = {}
    for name, rows in (("open", leaf_open), ("half", leaf_half)):
        pp = os.path.join(tmp, f"{name}.toml")
        tomo_toml(pp, rows)
        h5 = os.path.join(tmp, f"{name}.h5")
        rc, out, err = sabre("linac", "--machine", "tomotherapy", "--plan", pp, "--ssd", "83.5", "--size", "4", "3", "4",
                             "--voxel", "0.1", "0.5", "0.2", "--histories", "400000", "--seed", "9", "--threads", "2",
                             "-o", h5)
        check(rc == 0, f"sabre linac ({name}): {rc} {err.strip()[:300]}")
        if rc == 0:
            with h5py.File(h5, "r") as h:
                d = h["dose/dose"][:, 3, :]
                u = h["dose/rel_uncertainty"][:, 3, :]
            nz, nx = d.shape
            xc = (np.arange(nx) + 0.5) * 0.1 - 2
            zc = (np.arange(nz) + 0.5) * 0.2 - 2
            m = (np.abs(xc - 0.3125) < 0.15)[None, :] & (np.abs(zc) < 0.5)[:, None]
            centre[name] = (d[m].mean(), np.sqrt(((u * d)[m] ** 2).sum()) / m.sum())
    if len(centre) == 2:
        r = centre["half"][0] / centre["open"][0]
        s = r * np.hypot(centre["half"][1] / centre["half"][0], centre["open"][1] / centre["open"][0])
        check(abs(r - 0.5) < 4 * s, f"a leaf open half the projection gives {r:.3f} +- {s:.3f} of the open leaf's dose")

    # 3. sabre run end to end
    ct = os.path.join(tmp, "ct")
    rc, out, err = sabre("phantom", "thorax", "-o", ct)
    plan = os.path.join(tmp, "run.toml")
    rc, out, err = sabre("plan", "tomo", "-o", plan, "--ct", ct, "--target", "65", "-5", "0", "--radius", "15",
                         "--jaw", "25", "--pitch", "0.287", "--projection-time", "0.2", "--fractions", "3")
    check(rc == 0, f"plan for the phantom: {rc} {err.strip()[:200]}")
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    common = ["run", "--ct", ct, "--structures", os.path.join(ct, "RS.dcm"), "--histories", "400000",
              "--calibration-histories", "300000", "--device", "cpu:2"]

    def run_plan(plan_path, d):
        return subprocess.run([EXE, "--log-level", "warn", *common, "--plan", plan_path,
                               "--output-h5", os.path.join(d, "dose.h5"), "--output-rtdose", os.path.join(d, "RD.dcm"),
                               "--summary-json", os.path.join(d, "summary.json"), "--json"],
                              capture_output=True, text=True, env=env)

    outd = os.path.join(tmp, "out")
    os.makedirs(outd)
    r = run_plan(plan, outd)
    check(r.returncode == 0, f"sabre run (TomoTherapy): {r.returncode} {r.stderr.strip()[-400:]}")
    if r.returncode == 0:
        s = json.loads(r.stdout)
        check(s["machine"]["name"] == "TomoTherapy", f"summary names the model: {s['machine']}")
        ptv = next((x for x in s.get("structures", []) if x["name"] == "PTV"), None)
        body = next((x for x in s.get("structures", []) if x["name"] == "BODY"), None)
        check(ptv is not None and body is not None and ptv["mean_gy"] > 5 * body["mean_gy"] > 0,
              f"the PTV gets the dose: PTV mean {ptv and ptv['mean_gy']:.3g} Gy, body {body and body['mean_gy']:.3g} Gy")

    # 4. bad plans
    def refused(plan_path, want, what):
        d = os.path.join(tmp, "bad-" + what.replace(" ", "_"))
        os.makedirs(d)
        r = run_plan(plan_path, d)
        msg = r.stderr.strip()
        check(r.returncode == 3 and want in msg and plan_path in msg and "\n" not in msg and not os.listdir(d),
              f"{what}: exit {r.returncode}, one line naming the plan, nothing written: {msg[:240]}")

    bad = os.path.join(tmp, "bad_f.toml")
    tomo_toml(bad, [[1.2] + [0.0] * 63])
    refused(bad, "outside [0, 1]", "open fraction above 1")
    bad = os.path.join(tmp, "bad_row.toml")
    tomo_toml(bad, [[1.0] * 64, [1.0] * 63])
    refused(bad, "projection 2 has 63 leaves", "a short sinogram row")
    bad = os.path.join(tmp, "bad_jaw.toml")
    tomo_toml(bad, [[1.0] * 64], jaw=70)
    refused(bad, "not one the jaws can open", "jaw width beyond the jaws")
    bad = os.path.join(tmp, "bad_dicom.dcm")
    rc, out, err = sabre("plan", "static", "--machine", "truebeam-hd120", "--machine-name", "Tomo", "-o", bad)
    if rc == 0:
        refused(bad, "sinogram plans only", "a DICOM RT Plan for the TomoTherapy")

if fails:
    sys.exit(f"FAIL: {len(fails)} check(s)")
print("tomotherapy: all checks passed")
