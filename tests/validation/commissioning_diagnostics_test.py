#!/usr/bin/env python3
"""The two diagnostics of validation/commissioning-recovery (README.md there, "The 30 x 30 cm2
penumbra at 20 cm"):
- paired_penumbra.py's fitted machine file: every fitted value of results.json written into the
  6X-FFF beam of hidden.toml, nothing else changed (the 10X-FFF beam, the collimators), and the
  file a machine file sabre reads;
- penumbra_from_basis.py's copy of the report's profile figures reads the data as the
  commissioning report did (report/report.md: penumbra 6.76 mm at 1.5 cm, 11.5 mm at 10 cm,
  25.3 mm at 20 cm; field sizes 30.42, 32.97, 35.98 cm, as printed there to 3-4 digits);
- paired_rows.py's figures between two report.json: each row's worst fitted - hidden difference
  (with its sign and where), depth-dose points before the data's d_max left out, output factors
  as a ratio, the 1 x 1 cm2 field in its own row.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, sabre_exe, source_dir  # noqa: E402

check = Checks()
src = source_dir()
here = os.path.join(src, "validation", "commissioning-recovery")
try:
    import h5py  # noqa: F401
    import numpy as np
except ImportError:
    print("SKIPPED: no numpy/h5py")
    sys.exit(77)


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(here, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---- the fitted machine file ---------------------------------------------------------------
pp = load("paired_penumbra")
after = json.load(open(os.path.join(here, "results.json")))["after"]
hidden_text = open(os.path.join(here, "data-10x-2818bd8", "hidden.toml")).read()
fitted_text = pp.fitted_toml(hidden_text, after)
hid, fit = tomllib.loads(hidden_text), tomllib.loads(fitted_text)
b_h = next(b for b in hid["beam"] if b["name"] == "6X-FFF")
b_f = next(b for b in fit["beam"] if b["name"] == "6X-FFF")
check(b_f["primary"]["sigma_x_cm"]["value"] == after["primary"][0] and
      b_f["primary"]["sigma_y_cm"]["value"] == after["primary"][1], "focal spot written")
check(b_f["extrafocal"]["weight"]["value"] == after["extrafocal"][0], "extra-focal weight written")
check(b_f["electron"]["weight"]["value"] == after["electron"][0], "electron weight written")
check(np.allclose(b_f["spectrum"]["weights"], after["spectrum_weights"], rtol=1e-9), "spectrum written")
check(np.allclose(b_f["off_axis"]["fluence_rel"], after["fluence_rel"], rtol=1e-9), "off-axis fluence written")
check(b_f["calibration"]["backscatter_kx"]["value"] == after["backscatter"][0] and
      b_f["calibration"]["backscatter_ky"]["value"] == after["backscatter"][1], "backscatter written")
# Everything else as in hidden.toml: the other beam, the collimators, the machine, and the keys
# of the 6X-FFF beam that the fit does not set.
check(fit["collimator"] == hid["collimator"] and fit["machine"] == hid["machine"], "collimators and machine unchanged")
check([b for b in fit["beam"] if b["name"] != "6X-FFF"] == [b for b in hid["beam"] if b["name"] != "6X-FFF"],
      "the other beam unchanged")
check(b_f["extrafocal"]["sigma_cm"] == b_h["extrafocal"]["sigma_cm"] and
      b_f["electron"]["mean_energy_mev"] == b_h["electron"]["mean_energy_mev"] and
      b_f["off_axis"]["softening_per_cm"] == b_h["off_axis"]["softening_per_cm"] and
      b_f["spectrum"]["energies_mev"] == b_h["spectrum"]["energies_mev"], "unfitted keys of the beam unchanged")
# A beam block without a key is refused with a message, not written wrong.
try:
    pp.fitted_toml(hidden_text.replace("backscatter_ky", "backscatter_kz", 1), after)
    check(False, "a missing key is refused")
except SystemExit as e:
    check("backscatter_ky" in str(e), f"a missing key is refused: {e}")
with tempfile.TemporaryDirectory() as tmp:
    # sabre reads it as a machine file: one output factor forward-computed from it (a few
    # thousand histories; what is checked is that the file is read, not the value).
    path, meas_csv, out = (os.path.join(tmp, n) for n in ("fitted.toml", "of.csv", "of-out.csv"))
    open(path, "w").write(fitted_text)
    open(meas_csv, "w").write("# sabre-beam-data/1\nkind,axis,field_x_cm,field_y_cm,ssd_cm,depth_cm,detector,"
                              "position_cm,value\noutput_factor,,10,10,100,10,diode,,1\n")
    r = subprocess.run([sabre_exe(), "commission", path, "--beam", "6X-FFF", "--measured", meas_csv, "--forward", out,
                        "--histories", "10000"], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.exists(out), f"sabre reads the fitted machine file: {r.stderr.strip()[-200:]}")

# ---- the profile figures against the report's own --------------------------------------------
pb = load("penumbra_from_basis")
r30, meas, _ = pb.curves_30()
for depth, half, size_cm, pen_mm in (("1.5", 15 * 1.015, 30.42, 6.76), ("10", 15 * 1.10, 32.97, 11.5),
                                      ("20", 15 * 1.20, 35.98, 25.3)):
    x, idx = pb.profile_index(r30, depth)
    s, pen, *_ = pb.figures(x, meas[idx], half)
    # report.md prints 3 significant digits (4 for the size): half a unit of its last digit.
    tol_pen = 0.005 if pen_mm < 10 else 0.05
    check(abs(10 * pen - pen_mm) <= tol_pen + 1e-9 and abs(s - size_cm) <= 0.005 + 1e-9,
          f"{depth} cm: penumbra {10 * pen:.3f} mm (report {pen_mm}), size {s:.4f} cm (report {size_cm})")

# ---- paired_rows.py: the rows between two reports ------------------------------------------
pr = load("paired_rows")


def report(pdd, dmax, size, pen, ofs):
    return {"curves": [
        {"kind": "depth_dose", "field_cm": [10, 10], "position_cm": [0.5, 1.0, 1.5, 2.0, 5.0], "dmax_measured_cm": 1.3,
         "computed": pdd, "dmax_computed_cm": dmax},
        {"kind": "profile", "axis": "crossplane", "depth_cm": 10, "field_cm": [10, 10], "position_cm": [-1, 0, 1],
         "computed": [0.5, 1, 0.5], "field_size_computed_cm": size[0], "penumbra_computed_cm": pen[0]},
        {"kind": "profile", "axis": "crossplane", "depth_cm": 20, "field_cm": [30, 30], "position_cm": [-1, 0, 1],
         "computed": [0.5, 1, 0.5], "field_size_computed_cm": size[1], "penumbra_computed_cm": pen[1]}],
        "output_factors": [{"field_cm": list(f), "computed": v} for f, v in ofs.items()]}


h = report([0.5, 0.9, 1.0, 0.98, 0.80], 1.40, (10.97, 35.98), (0.73, 2.30),
           {(1, 1): 0.70, (10, 10): 1.0, (30, 30): 1.10})
f = report([0.6, 0.9, 1.003, 0.972, 0.804], 1.45, (10.95, 36.01), (0.74, 2.21),
           {(1, 1): 0.707, (10, 10): 1.0, (30, 30): 1.1055})
got = pr.paired_figures(h, f)
want = {"pdd": (-0.008, "10x10 depth dose at 2 cm"), "dmax_cm": (0.05, "10x10 depth dose"),
        "field_size_cm": (0.03, "30x30 crossplane 20 cm"), "penumbra_cm": (-0.09, "30x30 crossplane 20 cm"),
        "of": (0.005, "30 x 30"), "of_small": (0.01, "1 x 1")}
for k, (v, where) in want.items():
    check(abs(got[k][0] - v) < 1e-9 and got[k][1] == where, f"paired {k}: {got[k]} (want {v:+g} at {where})")
# The 0.5 cm point (+0.1, before d_max) is not a depth-dose row point; the same report against
# itself gives zero everywhere.
check(all(abs(v) == 0 for v, _ in pr.paired_figures(h, h).values()), "a report paired with itself: all zero")

sys.exit(check.status())
