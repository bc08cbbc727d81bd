#!/usr/bin/env python3
"""`sabre run --dose-to water` end to end (engine/run_job.cc, engine/dose_to_water.hh; issue 19,
acceptance 3, second part): the quantity is written in the HDF5, the RT Dose, the summary and
`sabre check`'s report, and the dose is the dose to medium times s_w,m of each voxel's
material.

Thorax phantom (5 mm), one 10 x 10 cm 6X-FFF field from gantry 0 on the spine's side of the
chest (ribs, spine, lungs, soft tissue in the beam), the same seed and calibration for a run
to medium and one to water:
1. HDF5: /dose quantity "dose to water" (and "dose to medium" for the other), the provenance
   names the method and one s_w,m per material; bone above 1.05, lung within 2 % of 1;
2. every voxel with dose: D_w / D_m = s_w,m of its material (to 1e-9), bone and lung voxels
   among them; the relative uncertainties are the same arrays;
3. RT Dose: DoseComment says "dose to water"; summary.json dose.quantity too;
4. `sabre check --dose <water HDF5> --tps-dose <medium RT Dose> --tps-quantity medium
   --report DIR`: check.json quantity.sabre "dose to water", the conversion names the
   Bragg-Gray method and the factors; report.html and report.pdf say "dose to water".
"""
import json
import os
import re
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, need_h5py, need_tables, run_sabre, sabre_exe  # noqa: E402

need_h5py()
try:
    import pydicom
except ImportError as e:
    print(f"SKIPPED: {e}")
    sys.exit(77)
import h5py  # noqa: E402
import numpy as np  # noqa: E402

sabre_exe()
SRC = need_tables()
checks = Checks()


def main(tmp):
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    ct = os.path.join(tmp, "ct")
    rs = os.path.join(ct, "RS.dcm")
    r = run_sabre("--log-level", "warn", "phantom", "thorax", "-o", ct, "--spacing", "5", "--slice", "5", env=env)
    checks(r.returncode == 0, f"phantom: {r.stderr.strip()[:200]}")
    plan = os.path.join(tmp, "RP.dcm")
    r = run_sabre("--log-level", "warn", "plan", "static", "-o", plan, "--ct", ct, "--rtstruct", rs, "--machine",
                  "truebeam-hd120", "--beam", "6X-FFF", "--iso", "0", "20", "0", "--field", "10", "10", "--gantry",
                  "0", "--mu", "200", "--fractions", "1", env=env)
    checks(r.returncode == 0, f"plan: {r.stderr.strip()[:200]}")
    out = {}
    for q in ("medium", "water"):
        h5, rd, js = (os.path.join(tmp, f"{q}.{x}") for x in ("h5", "dcm", "json"))
        r = run_sabre("--log-level", "warn", "run", "--ct", ct, "--structures", rs, "--plan", plan, "--histories",
                      "300000", "--seed", "5", "--calibration-seed", "7", "--calibration-histories", "200000",
                      "--device", "cpu:2", "--dose-to", q, "--output-h5", h5, "--output-rtdose", rd,
                      "--summary-json", js, env=env)
        checks(r.returncode == 0, f"sabre run --dose-to {q}: exit {r.returncode} {r.stderr.strip()[-300:]}")
        out[q] = (h5, rd, js)
    if checks.failures:
        return
    with h5py.File(out["water"][0]) as fw, h5py.File(out["medium"][0]) as fm:
        checks(fw["dose"].attrs["quantity"] == "dose to water" and fm["dose"].attrs["quantity"] == "dose to medium",
               f"HDF5 /dose quantity: {fw['dose'].attrs['quantity']!r} / {fm['dose'].attrs['quantity']!r}")
        prov = dict(fw["provenance"].attrs)
        names = list(fw["phantom"].attrs["material_names"])
        factors = {n: float(prov.get("dose_to_water_s_w_m:" + n, "nan")) for n in names}
        checks("Bragg-Gray" in prov.get("dose_to_water_method", "") and all(np.isfinite(list(factors.values()))),
               f"provenance: the method and one s_w,m per material {factors}")
        checks("dose_to_water_method" not in dict(fm["provenance"].attrs), "the medium run's provenance has no conversion")
        bone = [n for n in names if n.startswith("bone")]
        checks(bool(bone) and all(factors[n] > 1.05 for n in bone) and abs(factors.get("lung", 0) - 1) < 0.02,
               f"bone s_w,m > 1.05, lung within 2 % of 1: {factors}")
        dw, dm = fw["dose/dose"][()], fm["dose/dose"][()]
        mat = fw["phantom/material"][()]
        f = np.array([factors[n] for n in names])[mat]
        hit = dm > 0
        ratio = dw[hit] / dm[hit]
        worst = float(np.max(np.abs(ratio / f[hit] - 1)))
        present = sorted({names[i] for i in np.unique(mat[hit])})
        checks(worst < 1e-9 and not np.any(dw[~hit]),
               f"D_w / D_m = s_w,m of the voxel's material in {int(hit.sum())} voxels (worst {worst:.1e}); "
               f"materials with dose: {present}")
        checks("lung" in present and any(n.startswith("bone") for n in present), "bone and lung voxels have dose")
        checks(np.array_equal(fw["dose/rel_uncertainty"][()], fm["dose/rel_uncertainty"][()]),
               "the relative uncertainties are the same arrays")
    ds = pydicom.dcmread(out["water"][1])
    checks("dose to water" in str(getattr(ds, "DoseComment", "")),
           f"RT Dose DoseComment: {getattr(ds, 'DoseComment', '')!r}")
    s = json.load(open(out["water"][2]))
    checks(s["dose"]["quantity"] == "dose to water", f"summary.json dose.quantity {s['dose']['quantity']!r}")
    rep = os.path.join(tmp, "report")
    r = run_sabre("--log-level", "warn", "check", "--dose", out["water"][0], "--tps-dose", out["medium"][1],
                  "--structures", rs, "--plan", plan, "--tps-quantity", "medium", "--report", rep, "--json", env=env)
    checks(r.returncode in (0, 10), f"sabre check: exit {r.returncode} {r.stderr.strip()[-300:]}")
    if r.returncode not in (0, 10):
        return
    c = json.load(open(os.path.join(rep, "check.json")))
    q = c["quantity"]
    checks(q["sabre"] == "dose to water" and q["tps"] == "medium" and "Bragg-Gray" in q["conversion"] and
           "s_w,m" in q["conversion"] and "lung" in q["s_w_m"],
           f"check.json quantity: {q['sabre']!r}, conversion {q['conversion'][:80]!r}...")
    html = open(os.path.join(rep, "report.html")).read()
    checks("dose to water" in html and "Bragg-Gray" in html, "report.html states dose to water and the method")
    pdf = open(os.path.join(rep, "report.pdf"), "rb").read()
    text = b"".join(zlib.decompress(m) for m in re.findall(rb"/Filter /FlateDecode >>\nstream\n(.*?)\nendstream", pdf, re.S))
    checks(b"dose to water" in text, "report.pdf states dose to water")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(tmp)
    sys.exit(checks.status())
