"""sabre compare against `plastimatch gamma` (Debian package plastimatch) on pairs of RT Dose
files written here with pydicom: pass rates must agree within 0.5 percentage points,
globally and locally.

Like-for-like settings (see docs/compare.md, "Agreement with plastimatch"):
  --ref-only-threshold        plastimatch's threshold otherwise also admits voxels where only
                              the compared dose is above it; sabre thresholds the reference
  --analysis-threshold 0.1    = sabre --threshold 10 (both % of the reference maximum)
  --interp-search             plastimatch otherwise searches voxel centres only, which
                              over-estimates gamma; sabre searches the continuous trilinear
                              interpolant
  --gamma-max 1.01            only caps reported gamma (and plastimatch's search cube): pass
                              rates are unchanged for any value >= 1; kept small for speed
The grids are 1 mm (DTA / voxel >= 2): on coarser grids plastimatch's interpolation (along
lines between neighbouring voxels) and trilinear interpolation give visibly different gamma
values, and pass rates drift apart by more than 0.5 points (docs/compare.md).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtdose_files  # noqa: E402

TOLERANCE_PP = 0.5


def main():
    exe = rtdose_files.sabre_exe()
    if exe is None:
        print("SKIPPED: SABRE_EXE is not set or does not exist")
        return 77
    plm = shutil.which("plastimatch")
    if plm is None:
        print("SKIPPED: plastimatch is not installed (Debian package plastimatch)")
        return 77

    sp = 1.0  # voxel [mm]
    n, nz = 32, 24
    c0 = (-(n - 1) * sp / 2, -(n - 1) * sp / 2, -(nz - 1) * sp / 2)  # first centre [mm]
    z, y, x = np.meshgrid(np.arange(nz) * sp + c0[2], np.arange(n) * sp + c0[1],
                          np.arange(n) * sp + c0[0], indexing="ij")

    def dose(shift_x, shift_y, scale, ripple):
        # A 10 Gy sphere of radius 8 mm with a 2.5 mm logistic penumbra, shifted, scaled
        # and modulated by a smooth ripple.
        r = np.sqrt((x - shift_x) ** 2 + (y - shift_y) ** 2 + z ** 2)
        d = scale * 10.0 / (1.0 + np.exp((r - 8.0) / 2.5))
        return d * (1.0 + ripple * np.sin(x / 4.0) * np.cos(y / 5.0))

    cases = [  # name, evaluated dose parameters, (dose %, DTA mm)
        ("shift 2.2 mm, +2 %", (2.2, 1.0, 1.02, 0.0), [(2, 2)]),
        ("shift 3.4 mm, -3 %, ripple 2 %", (3.0, -1.5, 0.97, 0.02), [(2, 2), (3, 3)]),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        ref = os.path.join(tmp, "ref.dcm")
        rtdose_files.write_rtdose(ref, dose(0, 0, 1, 0), (sp, sp, sp), c0, frame_uid="1.2.3")
        for ci, (name, params, criteria) in enumerate(cases):
            ev = os.path.join(tmp, f"ev{ci}.dcm")
            rtdose_files.write_rtdose(ev, dose(*params), (sp, sp, sp), c0, frame_uid="1.2.3")
            for dose_pct, dta_mm in criteria:
                for local in (False, True):
                    args = ["--dose-criterion", str(dose_pct), "--distance-mm", str(dta_mm),
                            "--threshold", "10"] + (["--local"] if local else [])
                    rep = rtdose_files.sabre_compare(exe, ref, ev, *args)
                    txt = os.path.join(tmp, "plm.txt")
                    cmd = [plm, "gamma", "--ref-only-threshold", "--analysis-threshold", "0.1",
                           "--dose-tolerance", str(dose_pct / 100), "--dta-tolerance",
                           str(dta_mm), "--interp-search", "--gamma-max", "1.01",
                           "--output-text", txt] + (["--local-gamma"] if local else []) + [ref, ev]
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    if p.returncode != 0 or not os.path.exists(txt):
                        print(f"FAIL: plastimatch failed ({p.returncode}): {p.stderr[-500:]}")
                        return 1
                    text = open(txt).read()
                    plm_rate = float(re.findall(r"pass_rate\(%\)\s+([0-9.]+)", text)[-1])
                    plm_n = int(re.search(r"number_of_analysis_voxels\s+(\d+)", text).group(1))
                    s_rate = rep["gamma"]["pass_rate_percent"]
                    s_n = rep["gamma"]["evaluated_voxels"]
                    diff = s_rate - plm_rate
                    ok = abs(diff) <= TOLERANCE_PP and s_n == plm_n
                    failures += not ok
                    mode = "local" if local else "global"
                    print(f"{'ok  ' if ok else 'FAIL'} {name}, {dose_pct} %/{dta_mm} mm {mode}: "
                          f"sabre {s_rate:.2f} % ({s_n} voxels), plastimatch {plm_rate:.2f} % "
                          f"({plm_n} voxels), difference {diff:+.2f} points "
                          f"(tolerance {TOLERANCE_PP})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
