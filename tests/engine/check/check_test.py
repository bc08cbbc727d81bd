#!/usr/bin/env python3
"""sabre check end to end (engine/check/check.cc, docs/check.md) on the thorax phantom.

Two doses of one plan (a 3 x 3 cm 6X-FFF field from gantry 90 onto the left-lung lesion, 3
fractions; 4 x 10^6 histories) with seeds 1 and 2 on a 5 mm grid, sharing one calibration (the same
--calibration-seed: the doses differ by the transport's statistics only): seed 2 by `sabre
run`, seed 1 by `sabre check --run` itself; then, with the planning system's
dose stood in for by sabre's own RT Dose, changed with pydicom where said:

1. sabre's dose (seed 1) against sabre's dose from another seed: passes (exit 0), report
   directory with report.html (every section), check.json and the pictures.
2. The same with the planning system's dose times 1.03 (MU + 3 %): flagged on the target
   metrics (PTV and GTV Dmean, -2.9 % against the 2 % tolerance), exit 10.
3. A planning-system dose in another frame of reference: refused with one line naming the
   file (exit 3), no report written.
4. A cord over its TG-101 3-fraction limit (sabre's dose scaled so that the cord's
   D0.035cc is 25 Gy > 21.9 Gy): exit 10, the constraint and its source named.
5. The planning system's dose recomputed (seed 2) from the plan with MLC bank B closed by
   1 mm (the field edge at 14 instead of 15 mm): the error moves the PTV D95 difference by
   ~2 points (the seed-2 doses share their noise, so the change against case 1 is the
   error's own effect). Whether the verdict flags it is not asserted: an effect of 2 points
   against the 2 % D95 tolerance, plus the seed noise, is a coin toss (flagged when this
   test was written: PTV D95 +2.8 %; not on 2026-12-05: +1.66 %, +1.50 % at 4 x the
   histories). docs/check.md, "The verdict".

The histories (4 x 10^6, 1.2 x 10^7 until 2026-12-07, when the test took 551 s of an idle CI
and timed out under load) were chosen from seeds 1-4 at 4 x 10^6 (sabre of 2026-12-07, this
plan): the seed-to-seed PTV D95 difference of the 6 pairs was -0.29 .. +0.46 points against
the 2 % tolerance, every pair passed with gamma 3 %/2 mm >= 99.7 %, and the MLC effect
(case 5) was 1.99 - 2.01 points over 4 seed pairs against its 1-point threshold (at 6 x 10^6:
-0.34 .. +0.48 and 2.03 - 2.05).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import pydicom
except ImportError as e:
    print(f"SKIPPED: {e}")
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


def scaled_rtdose(src, dst, factor=1.0, frame=None):
    ds = pydicom.dcmread(src)
    if factor != 1.0:
        ds.DoseGridScaling = f"{float(ds.DoseGridScaling) * factor:.10g}"
    if frame:
        ds.FrameOfReferenceUID = frame
    ds.save_as(dst)


with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    ct = os.path.join(tmp, "ct")
    rs = os.path.join(ct, "RS.dcm")
    rc, _, err = sabre("phantom", "thorax", "-o", ct, "--spacing", "5", "--slice", "5")
    check(rc == 0, f"phantom: {err.strip()[:200]}")
    plan = os.path.join(tmp, "RP.dcm")
    rc, _, err = sabre("plan", "static", "-o", plan, "--ct", ct, "--rtstruct", rs, "--machine", "truebeam-hd120",
                       "--beam", "6X-FFF", "--iso", "65", "-5", "0", "--field", "3", "3", "--gantry", "90",
                       "--mu", "1500", "--fractions", "3")
    check(rc == 0, f"plan: {err.strip()[:200]}")
    shifted = os.path.join(tmp, "RP-mlc.dcm")
    ds = pydicom.dcmread(plan)
    for b in ds.BeamSequence:
        for cp in b.ControlPointSequence:
            for d in getattr(cp, "BeamLimitingDevicePositionSequence", []):
                if d.RTBeamLimitingDeviceType == "MLCX":
                    v = [float(x) for x in d.LeafJawPositions]
                    n = len(v) // 2
                    d.LeafJawPositions = [f"{x:.4f}" for x in v[:n]] + [f"{max(v[i], v[n + i] - 1.0):.4f}" for i in range(n)]
    ds.save_as(shifted)
    runs = {}
    for seed, p in ((2, plan), ("mlc", shifted)):
        h5, rd = os.path.join(tmp, f"dose{seed}.h5"), os.path.join(tmp, f"RD{seed}.dcm")
        rc, _, err = sabre("run", "--ct", ct, "--structures", rs, "--plan", p, "--histories", "4000000",
                           "--seed", "2", "--calibration-seed", "7", "--calibration-histories", "400000",
                           "--device", "cpu:2", "--output-h5", h5, "--output-rtdose", rd, env=env)
        check(rc == 0, f"sabre run {seed}: {err.strip()[-300:]}")
        runs[seed] = (h5, rd)
    # Seed 1 is computed by sabre check itself from a run file (--run); its HDF5 is kept in
    # the report and used by the later cases.
    run1 = os.path.join(tmp, "run1.toml")
    with open(run1, "w") as f:
        f.write(f'ct = "{ct}"\nstructures = "{rs}"\nplan = "{plan}"\nhistories = 4000000\nseed = 1\n'
                'calibration_seed = 7\ncalibration_histories = 400000\ndevice = "cpu:2"\n')

    def run_check(dose, tps, report=None, extra=()):
        src = ["--run", dose] if dose.endswith(".toml") else ["--dose", dose, "--structures", rs, "--plan", plan]
        args = ["check", *src, "--tps-dose", tps, "--json", *extra]
        if report:
            args += ["--report", report] + ([] if dose.endswith(".toml") else ["--ct", ct])
        rc, out, err = sabre(*args, env=env)
        return rc, (json.loads(out) if rc in (0, 10) and out.strip() else None), err.strip()

    # 1. another seed passes (seed 1 recomputed by the check itself)
    rep = os.path.join(tmp, "report")
    rc, s, err = run_check(run1, runs[2][1], report=rep)
    runs[1] = (os.path.join(rep, "sabre-dose.h5"), None)
    check(os.path.exists(runs[1][0]) and not [f for f in os.listdir(tmp) if "sabre-dose" in f],
          "the recomputed dose is kept in the report (sabre-dose.h5), nothing left beside it")
    d95_seed = None
    if s:
        g = s["gamma"][0]["pass_rate_percent"]
        ptv = next(m for st in s["structures"] if st["name"] == "PTV" for m in st["metrics"] if m["metric"] == "Dmean")
        d95_seed = next(m["difference_percent"] for st in s["structures"] if st["name"] == "PTV"
                        for m in st["metrics"] if m["metric"] == "D95%")
        check(rc == 0 and s["verdict"]["passed"],
              f"another seed passes: exit {rc}, gamma 3%/2mm {g:.1f} %, PTV Dmean {ptv['difference_percent']:+.2f} % "
              f"(failures: {[f['check'] for f in s['verdict']['failures']]})")
    else:
        check(False, f"another seed: exit {rc} {err[:300]}")
    html = open(os.path.join(rep, "report.html")).read() if os.path.exists(os.path.join(rep, "report.html")) else ""
    sections = ["1. Verdict", "2. Inputs and quantity", "3. Gamma", "4. Prescription coverage", "5. Structures",
                "6. OAR constraints", "7. Pictures", "8. Provenance"]
    check(all(x in html for x in sections) and html.count("data:image/png;base64,") >= 8 and
          os.path.exists(os.path.join(rep, "check.json")),
          f"the HTML report has every section and {html.count('data:image/png;base64,')} embedded pictures")
    pdf = open(os.path.join(rep, "report.pdf"), "rb").read() if os.path.exists(os.path.join(rep, "report.pdf")) else b""
    import re
    import zlib
    pages = pdf.count(b"/Type /Page ")
    images = pdf.count(b"/Subtype /Image")
    text = b"".join(zlib.decompress(m) for m in re.findall(rb"/Filter /FlateDecode >>\nstream\n(.*?)\nendstream", pdf, re.S))
    check(pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF") and pages >= 3 and images >= 8 and
          all(x.encode() in text for x in sections),
          f"the PDF report: {pages} pages, {images} pictures, every section heading in its text")

    # 2. MU + 3 %
    tps3 = os.path.join(tmp, "RD2-plus3.dcm")
    scaled_rtdose(runs[2][1], tps3, factor=1.03)
    rc, s, err = run_check(runs[1][0], tps3)
    if s:
        flagged = [f["check"] for f in s["verdict"]["failures"]]
        check(rc == 10 and any(f.startswith("PTV Dmean") for f in flagged) and any(f.startswith("GTV Dmean") for f in flagged),
              f"MU + 3 % is flagged on the targets: exit {rc}, {flagged}")
    else:
        check(False, f"MU + 3 %: exit {rc} {err[:300]}")

    # 3. another frame of reference
    tps_for = os.path.join(tmp, "RD2-otherframe.dcm")
    scaled_rtdose(runs[2][1], tps_for, frame="1.2.3.4.5.6.7.8.9")
    rep3 = os.path.join(tmp, "report3")
    rc, s, err = run_check(runs[1][0], tps_for, report=rep3)
    check(rc == 3 and "frame of reference" in err and tps_for in err and "\n" not in err and not os.path.exists(rep3),
          f"another frame of reference: exit {rc}, one line naming the file, no report: {err[:200]}")

    # 3b. a constraint table with a metric that is not a volume: refused before the check
    # recomputes anything (--run), one line naming the file and the metric, no report
    # (before: "D0.1xcc" read as 0.1 cc, "Dinfcc" as an infinite volume, and the tables
    # were read only after the recomputation)
    for metric in ("D0.1xcc", "Dinfcc"):
        bad_tab = os.path.join(tmp, "bad-constraints.toml")
        with open(bad_tab, "w") as f:
            f.write('format = "sabre-constraints/1"\nname = "bad"\ncitation = "test"\nfractions = [1]\n'
                    f'[[organ]]\nlabel = "Cord"\nnames = ["SPINAL_CORD"]\nlimits = [{{ metric = "{metric}", gy = [10.0] }}]\n')
        rep3b = os.path.join(tmp, "report3b")
        t0 = time.time()
        rc, s, err = run_check(run1, runs[2][1], report=rep3b, extra=("--constraints", bad_tab))
        check(rc == 3 and bad_tab in err and metric in err and "\n" not in err and not os.path.exists(rep3b)
              and time.time() - t0 < 20,
              f"constraint metric {metric}: exit {rc} after {time.time() - t0:.0f} s, one line naming the file, "
              f"no report: {err[:200]}")

    # 3c. an alpha/beta value that is not wholly a number: a usage error before anything is read
    # (before: '2abc' was read as 2 Gy)
    for ab in ("PTV=2abc", "PTV=inf", "PTV=nan"):
        rep3c = os.path.join(tmp, "report3c")
        rc, s, err = run_check(run1, runs[2][1], report=rep3c, extra=("--alpha-beta", ab))
        check(rc == 2 and ab in err and "\n" not in err and not os.path.exists(rep3c),
              f"--alpha-beta {ab}: exit {rc}, one usage line, no report: {err[:200]}")

    # 4. the cord over its limit
    rc, s, err = run_check(runs[2][1], runs[2][1])
    cord = None
    if s:
        cord = next(m["sabre"] for st in s["structures"] if st["name"] == "SPINAL_CORD" for m in st["metrics"]
                    if m["metric"] == "D0.035cc")
    if cord and cord > 0:
        hot = os.path.join(tmp, "RD2-hot.dcm")
        scaled_rtdose(runs[2][1], hot, factor=25.0 / cord)
        rc, s, err = run_check(hot, runs[2][1])
        flagged = [f for f in (s or {}).get("verdict", {}).get("failures", []) if "Spinal cord" in f["check"]]
        check(rc == 10 and any("D0.035cc" in f["check"] and "Task Group 101" in f["source"] for f in flagged),
              f"cord D0.035cc {cord * 25 / cord:.1f} Gy in 3 fractions is flagged: exit {rc}, "
              f"{[f['check'] for f in flagged]}")
    else:
        check(False, f"cord dose: exit {rc} {err[:300]}")

    # 5. one MLC bank 1 mm off. The planning-system doses of case 1 and of this case are both
    # seed 2 (the plan and the plan with the bank closed 1 mm): their noise is common, so the
    # difference of the two PTV D95 differences is the error's own effect on D95. It has always
    # been 2.0 percentage points: 2.8 - 0.8 when this test was written, 1.66 + 0.31 and (at 4 x
    # the histories) 1.50 + 0.50 on 2026-12-05, all at 1.2 x 10^7 histories; 1.99 - 2.01 over
    # four seed pairs at today's 4 x 10^6 on 2026-12-07. Checked: that effect is seen (> 1
    # point: a check blind to the bank's millimetre fails it). Not checked: the flag. The
    # verdict compares sabre's dose (seed 1) with that dose, whose D95 differs from it by the
    # effect plus the seed noise (-0.5 .. +0.8 points so far), against the 2 % D95 tolerance:
    # with an effect of 2.0 points the flag is a coin toss (flagged when written, not on
    # 2026-12-05; at 4 x 10^6 flagged for 2 of 4 seed pairs); docs/check.md says so.
    rc, s, err = run_check(runs[1][0], runs["mlc"][1])
    if s:
        flagged = [f["check"] + f" {f.get('value_percent', 0):+.2f} %" for f in s["verdict"]["failures"]]
        g21 = s["gamma"][1]["pass_rate_percent"]
        d95_mlc = next(m["difference_percent"] for st in s["structures"] if st["name"] == "PTV"
                       for m in st["metrics"] if m["metric"] == "D95%")
        effect = d95_mlc - d95_seed if d95_seed is not None else None
        check(effect is not None and effect > 1.0,
              f"an MLC bank 1 mm off moves the PTV D95 difference by {effect} points (> 1; seed {d95_seed}, "
              f"shifted {d95_mlc:+.2f} %); verdict: exit {rc}, flagged {flagged}, gamma 2%/1mm {g21:.1f} %")
    else:
        check(False, f"MLC shift: exit {rc} {err[:300]}")

if fails:
    sys.exit(f"FAIL: {len(fails)} check(s)")
print("check: all checks passed")
