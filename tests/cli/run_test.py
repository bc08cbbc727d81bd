#!/usr/bin/env python3
"""`sabre run` end to end on a small water phantom (80 x 80 x 60 mm, 5 mm voxels) with a
3 x 3 cm 6X-FFF field: the acceptance checks of the main job.

  target      --target-uncertainty stops at the first batch (>= 10) where the headline
              uncertainty is reached: the reported figure equals the one recomputed from the
              HDF5 (h5py), is <= the target, and the same run one batch shorter is above it.
  interrupt   SIGINT and SIGTERM during the transport: exit 5, no output file and no
              temporary left in the output directory.
  reproduce   two runs with the same seed and histories give bit-identical dose and
              uncertainty (on 1 and 2 CPU threads).
  calibration the uncertainty of the absolute dose includes the calibration's: the HDF5's
              /dose/rel_uncertainty is the statistical part (/dose/rel_uncertainty_statistical,
              the same bits whatever the calibration) and the calibration term (attribute
              calibration_rel_uncertainty, the summary's) in quadrature; the summary's
              uncertainty block and text line say the same. A calibration run to a target
              (--calibration-uncertainty) stops at it; the run's stopping rule stays on the
              statistical part.
  errors      a missing CT directory, a plan with no matching machine, a structure set from
              another frame of reference, an unwritable output path: exit 3/3/3/4, one line
              "sabre: error: ..." naming the file, nothing written.

Fixed seeds; the calibration's reference run is small (an explicit fixed count of 20 000
histories, or a 10 % target in batches of 20 000, cached in the test's temporary directory):
these checks are about the job, not the physics.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIPPED: h5py/numpy not available")
    sys.exit(77)

EXE = os.environ.get("SABRE_EXE")
SRC = os.environ.get("SABRE_SOURCE_DIR")
if not EXE or not SRC:
    print("SKIPPED: SABRE_EXE / SABRE_SOURCE_DIR not set")
    sys.exit(77)
if not os.path.exists(os.path.join(SRC, "physics", "data", "default.h5")):
    print("SKIPPED: no physics tables")
    sys.exit(77)

fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what)


def sabre(*args, **kw):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, **kw)


def headline_uncertainty(h5, dataset="dose/rel_uncertainty_statistical"):
    """Mean relative 1-sigma over voxels of density >= 0.05 g/cm3 with dose > 50 % of their max
    (the statistical part: the stopping rule's figure; or another dataset)."""
    with h5py.File(h5, "r") as f:
        d = f["dose/dose"][...]
        u = f[dataset][...]
        rho = f["phantom/density_g_cm3"][...].astype(np.float64)
    m = rho >= 0.05
    dmax = d[m].max()
    sel = m & (d > 0.5 * dmax)
    return float(u[sel].mean()), float(dmax)


with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    ct = os.path.join(tmp, "ct")
    r = sabre("--log-level", "warn", "phantom", "water", "-o", ct, "--size", 60, 60, 60, "--spacing", 5, "--slice", 5)
    if r.returncode != 0:
        sys.exit(f"sabre phantom failed: {r.stderr}")
    plan = os.path.join(tmp, "RP.dcm")
    r = sabre("--log-level", "warn", "plan", "static", "-o", plan, "--ct", ct, "--rtstruct", os.path.join(ct, "RS.dcm"),
              "--field", 3, 3, "--iso", 0, 0, 0, "--mu", 100, "--fractions", 3)
    if r.returncode != 0:
        sys.exit(f"sabre plan failed: {r.stderr}")
    base = ["run", "--ct", ct, "--plan", plan, "--structures", os.path.join(ct, "RS.dcm"),
            "--calibration-histories", 20000, "--seed", 3]

    def outdir(name):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        return d

    # --- target uncertainty -------------------------------------------------------------
    o = outdir("target")
    target = 0.08
    r = sabre(*base, "--target-uncertainty", "8%", "--batch-histories", 2000, "--histories", 4000000,
              "--output-h5", os.path.join(o, "d.h5"), "--summary-json", os.path.join(o, "s.json"),
              "--png-dir", os.path.join(o, "png"), "--phantom-plots", env=env)
    if r.returncode != 0 and "no electron/positron transport" in r.stderr:
        print("SKIPPED: built without charged transport")
        sys.exit(77)
    check(r.returncode == 0, f"target run exit {r.returncode}: {r.stderr[-500:]}")
    if r.returncode == 0:
        s = json.load(open(os.path.join(o, "s.json")))
        u, dmax = headline_uncertainty(os.path.join(o, "d.h5"))
        print(f"target: stopped by {s['stopped_by']} after {s['batches']} batches, {s['histories']} histories, "
              f"reported {s['mean_rel_uncertainty_50']:.6f}, from HDF5 {u:.6f}")
        check(s["stopped_by"] == "target_uncertainty", f"stopped by {s['stopped_by']}")
        check(s["batches"] >= 10, f"only {s['batches']} batches")
        check(s["mean_rel_uncertainty_50"] <= target, "reported uncertainty above the target")
        check(abs(s["mean_rel_uncertainty_50"] - u) <= 1e-12 * u, f"reported {s['mean_rel_uncertainty_50']} != HDF5 {u}")
        check(abs(s["dose"]["max_gy"] - dmax) <= 1e-12 * dmax, "reported max dose != HDF5")
        check(not s["calibration"]["from_cache"], "first run: calibration claimed from the cache")
        cal0 = s["calibration"]["reference_dose_gy_per_history"]
        pngs = sorted(os.listdir(os.path.join(o, "png")))
        check(pngs == ["axial.png", "coronal.png", "depth_dose.csv", "depth_dose.png", "profile.csv", "profile.png",
                       "sagittal.png"], f"pictures: {pngs}")
        for n in pngs:
            if n.endswith(".png"):
                with open(os.path.join(o, "png", n), "rb") as f:
                    check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{n} is not a PNG")
        # The cache: the next run reuses the figure; without the cache the same reference
        # run (same histories and seed) gives the same figure bit for bit.
        for flags, cached in (([], True), (["--no-calibration-cache"], False)):
            oc = outdir("cache" + str(int(cached)))
            rc = sabre(*base, "--histories", 20000, "--output-h5", os.path.join(oc, "d.h5"), "--quiet", "--json",
                       *flags, env=env)
            check(rc.returncode == 0, f"cache run: {rc.stderr[-300:]}")
            if rc.returncode == 0:
                c = json.loads(rc.stdout)["calibration"]
                check(c["from_cache"] == cached, f"from_cache {c['from_cache']}, expected {cached}")
                check(c["reference_dose_gy_per_history"] == cal0, "calibration figure differs from the first run's")
        if s["batches"] > 10:
            # One batch fewer (the same histories: batch b always holds the same ones) is
            # still above the target: the run stopped at the first batch that reached it.
            o2 = outdir("target-1")
            r2 = sabre(*base, "--histories", (s["batches"] - 1) * 2000, "--batch-histories", 2000,
                       "--time-limit", 1e9, "--output-h5", os.path.join(o2, "d.h5"), "--quiet", env=env)
            check(r2.returncode == 0, f"shorter run: {r2.stderr[-300:]}")
            if r2.returncode == 0:
                u2, _ = headline_uncertainty(os.path.join(o2, "d.h5"))
                print(f"target: one batch fewer gives {u2:.6f}")
                check(u2 > target, f"one batch fewer already reached the target ({u2})")

    # --- the calibration's uncertainty in the reported uncertainty -------------------------
    # Two runs of the same plan histories and seed, with calibrations of different
    # uncertainty: a fixed count of 20 000 histories (above), and a 10 % target in batches of
    # 20 000. The statistical part is the same bits in both; the total is it and each
    # calibration term in quadrature.
    cal_runs = {}
    for name, flags in (("fixed", []), ("target", ["--calibration-uncertainty", "10%",
                                                   "--calibration-batch-histories", 20000])):
        o = outdir("cal-" + name)
        args = [*base, "--histories", 20000, "--output-h5", os.path.join(o, "d.h5"),
                "--summary-json", os.path.join(o, "s.json"), *flags]
        if name == "target":
            args.remove("--calibration-histories")
            args.remove(20000)  # the first 20000: the calibration's, right after its flag
        r = sabre(*args, env=env)
        check(r.returncode == 0, f"calibration run {name}: {r.stderr[-300:]}")
        if r.returncode != 0:
            continue
        s = json.load(open(os.path.join(o, "s.json")))
        with h5py.File(os.path.join(o, "d.h5"), "r") as f:
            d = f["dose/dose"][...]
            tot = f["dose/rel_uncertainty"][...]
            stat = f["dose/rel_uncertainty_statistical"][...]
            c = float(f["dose"].attrs["calibration_rel_uncertainty"])
            ver = int(f.attrs["schema_version"])
        cal_runs[name] = (s, stat, c)
        m = d > 0
        u = s["uncertainty"]
        check(ver == 2, f"{name}: schema_version {ver}")
        check(c > 0 and c == s["calibration"]["reference_rel_uncertainty"] == u["calibration_rel"],
              f"{name}: HDF5 calibration term {c} != summary {s['calibration']['reference_rel_uncertainty']}")
        check(np.array_equal(tot[m], np.sqrt(stat[m] ** 2 + c ** 2)) and not np.any(tot[~m]),
              f"{name}: /dose/rel_uncertainty is not statistical (+) calibration")
        ustat, _ = headline_uncertainty(os.path.join(o, "d.h5"))
        utot, _ = headline_uncertainty(os.path.join(o, "d.h5"), "dose/rel_uncertainty")
        check(abs(u["statistical_mean_rel_50"] - ustat) <= 1e-12 * ustat
              and s["mean_rel_uncertainty_50"] == u["statistical_mean_rel_50"],
              f"{name}: summary statistical {u['statistical_mean_rel_50']} != HDF5 {ustat}")
        check(abs(u["total_mean_rel_50"] - utot) <= 1e-12 * utot, f"{name}: summary total {u['total_mean_rel_50']} != HDF5 {utot}")
        check(utot > ustat and utot <= ustat + c, f"{name}: total {utot} not between statistical {ustat} and the sum")
        print(f"calibration {name}: {s['calibration']['mode']}, {s['calibration']['reference_histories']} histories, "
              f"{100 * c:.2f} %; statistical {100 * ustat:.2f} %, total {100 * utot:.2f} %")
        rt = sabre(*args, "--quiet", env=env)  # the text summary (calibration cached now)
        check(rt.returncode == 0 and f"{100 * u['total_mean_rel_50']:.3f} % total" in rt.stdout
              and f"{100 * c:.3f} % calibration in quadrature" in rt.stdout,
              f"{name}: text summary: {rt.stdout[:600]}")
    if len(cal_runs) == 2:
        (sf, statf, cf), (stt, statt, ctt) = cal_runs["fixed"], cal_runs["target"]
        check(np.array_equal(statf, statt), "the statistical part depends on the calibration")
        check(cf != ctt, "two calibrations of different histories gave the same uncertainty")
        tc = stt["calibration"]
        m = re.search(r"source_splitting (\d+)", stt["physics"]["variance_reduction"])
        splitting = int(m.group(1)) if m else 0
        check(splitting > 1, f"the run file's default source_splitting: {stt['physics']['variance_reduction']!r}")
        check(tc["mode"] == "target_uncertainty" and tc["stopped_by"] == "target_uncertainty"
              and tc["reference_batches"] >= 10 and tc["reference_rel_uncertainty"] <= 0.10
              # batches of 20000 histories asked for, 1/n of them run: each history is n
              # transports (the run's source_splitting, read from its provenance), the same
              # work per batch
              and tc["batch_histories"] == 20000 // splitting
              and tc["reference_histories"] == tc["batch_histories"] * tc["reference_batches"], f"target calibration: {tc}")
        check(sf["calibration"]["mode"] == "histories" and sf["calibration"]["reference_histories"] == 20000,
              f"fixed calibration: {sf['calibration']}")

    # --- interrupt ------------------------------------------------------------------------
    for sig in (signal.SIGINT, signal.SIGTERM):
        o = outdir(f"sig{int(sig)}")
        args = [*base, "--target-uncertainty", "0.0001", "--batch-histories", 5000, "--histories", 100000000,
                "--output-h5", os.path.join(o, "d.h5"), "--output-rtdose", os.path.join(o, "RD.dcm"),
                "--png-dir", os.path.join(o, "png"), "--summary-json", os.path.join(o, "s.json")]
        p = subprocess.Popen([EXE, *map(str, args)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        # Wait until the plan's transport has started (the "run:" log line), then signal.
        started = False
        t0 = time.time()
        while time.time() - t0 < 120:
            line = p.stderr.readline()
            if not line:
                break
            if "] run:" in line:
                started = True
                break
        time.sleep(1.0)
        p.send_signal(sig)
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        check(started, f"{sig.name}: the run never started")
        check(p.returncode == 5, f"{sig.name}: exit {p.returncode} (expected 5): {err[-300:]}")
        check("interrupted" in err, f"{sig.name}: no 'interrupted' message")
        left = os.listdir(o)
        check(left == [], f"{sig.name}: left in the output directory: {left}")
        print(f"interrupt {sig.name}: exit {p.returncode}, output directory {left}")

    # --- time limit ---------------------------------------------------------------------------
    o = outdir("time")
    r = sabre(*base, "--time-limit", 2, "--batch-histories", 2000, "--output-h5", os.path.join(o, "d.h5"),
              "--summary-json", os.path.join(o, "s.json"), "--quiet", env=env)
    check(r.returncode == 0, f"time-limit run: {r.stderr[-300:]}")
    if r.returncode == 0:
        s = json.load(open(os.path.join(o, "s.json")))
        print(f"time limit 2 s: stopped by {s['stopped_by']} after {s['transport_seconds']:.2f} s, "
              f"{s['batches']} batches")
        check(s["stopped_by"] == "time_limit", f"time limit: stopped by {s['stopped_by']}")
        check(s["transport_seconds"] < 2.0 + 1.0, f"time limit: ran {s['transport_seconds']} s")

    # --- a quantity other than medium or water is refused (dose to water itself:
    # tests/engine/dose_to_water_run_test.py) -------------------------------------------------
    o = outdir("water")
    r = sabre(*base, "--histories", 20000, "--dose-to", "tissue", "--output-h5", os.path.join(o, "d.h5"), env=env)
    check(r.returncode == 2 and r.stderr.count("\n") == 1 and "--dose-to" in r.stderr,
          f"--dose-to tissue: exit {r.returncode}: {r.stderr}")
    check(os.listdir(o) == [], "--dose-to tissue wrote something")

    # --- reproducibility ------------------------------------------------------------------
    doses = []
    for i, dev in enumerate(("cpu:2", "cpu:2", "cpu:1")):
        o = outdir(f"rep{i}")
        r = sabre(*base, "--histories", 30000, "--device", dev, "--output-h5", os.path.join(o, "d.h5"), "--quiet",
                  "--output-rtdose", os.path.join(o, "RD.dcm"), env=env)
        check(r.returncode == 0, f"reproducibility run {i}: {r.stderr[-300:]}")
        if r.returncode == 0:
            with h5py.File(os.path.join(o, "d.h5"), "r") as f:
                doses.append((f["dose/dose"][...], f["dose/rel_uncertainty"][...]))
                fx = f["provenance"].attrs.get("fractions_planned")
                fractions = max(1, int(fx.decode() if isinstance(fx, bytes) else fx)) if fx is not None else None
                vr = f["provenance"].attrs.get("variance_reduction")
                vr = vr.decode() if isinstance(vr, bytes) else vr
                check(vr == "msc_tables on; range_rejection on (survival 0.125); source_margin_density 0.25; "
                      "far_steps on (msc_g1_max 1); source_splitting 8",
                      f"HDF5 provenance variance_reduction: {vr!r} (the efficiency defaults, docs/efficiency.md)")
    if len(doses) == 3:
        for i in (1, 2):
            check(np.array_equal(doses[0][0], doses[i][0]), f"dose of run {i} differs from run 0")
            check(np.array_equal(doses[0][1], doses[i][1]), f"uncertainty of run {i} differs from run 0")
        # The RT Dose holds the plan total (DoseSummationType PLAN: the entire delivery), i.e.
        # the HDF5's per-fraction dose times the planned fractions (16-bit, scaled to its max).
        try:
            import pydicom
            rd = pydicom.dcmread(os.path.join(tmp, "rep0", "RD.dcm"))
            arr = rd.pixel_array.astype(np.float64) * float(rd.DoseGridScaling)
            check(rd.DoseUnits == "GY", f"RT Dose units {rd.DoseUnits}")
            check(rd.DoseSummationType == "PLAN", f"RT Dose summation {rd.DoseSummationType}")
            check(fractions == 3, f"HDF5 provenance fractions_planned {fractions}, the plan has 3")
            nfx = fractions or 1
            check(abs(arr.max() - nfx * doses[0][0].max()) <= 1e-4 * nfx * doses[0][0].max(),
                  f"RT Dose maximum {arr.max()} != {nfx} fractions x HDF5 maximum {doses[0][0].max()}")
        except ImportError:
            print("pydicom missing: RT Dose not checked")
        print(f"reproduce: max dose {doses[0][0].max():.6g} Gy, identical: "
              f"{all(np.array_equal(doses[0][0], d[0]) for d in doses)}")

    # --- input errors ---------------------------------------------------------------------
    bad_plan = os.path.join(tmp, "RP-other-machine.dcm")
    r = sabre("--log-level", "warn", "plan", "static", "-o", bad_plan, "--ct", ct, "--field", 3, 3,
              "--machine-name", "Unknown Linac 9")
    check(r.returncode == 0, f"plan for the machine error: {r.stderr}")
    other = os.path.join(tmp, "other")
    r = sabre("--log-level", "warn", "phantom", "water", "-o", other, "--size", 60, 60, 60, "--spacing", 5,
              "--slice", 5, "--random-uids")
    check(r.returncode == 0, f"second phantom: {r.stderr}")
    other_plan = os.path.join(tmp, "RP-other-frame.dcm")
    r = sabre("--log-level", "warn", "plan", "static", "-o", other_plan, "--ct", other, "--field", 3, 3)
    check(r.returncode == 0, f"plan on the other CT: {r.stderr}")
    missing_ct = os.path.join(tmp, "no-such-ct")
    other_rs = os.path.join(other, "RS.dcm")
    cases = [
        ("missing CT directory", ["--ct", missing_ct], 3, missing_ct),
        ("plan with no matching machine", ["--plan", bad_plan], 3, bad_plan),
        ("structure set from another frame of reference", ["--structures", other_rs], 3, other_rs),
        ("plan from another frame of reference", ["--plan", other_plan], 3, other_plan),
        ("unwritable output path", ["--output-h5", os.path.join(tmp, "no-such-dir", "d.h5")], 4, "no-such-dir"),
    ]
    for what, extra, code, name in cases:
        o = outdir("err-" + what.replace(" ", "-"))
        args = ["run", "--ct", ct, "--plan", plan, "--structures", os.path.join(ct, "RS.dcm"),
                "--calibration-histories", 20000, "--histories", 20000, "--seed", 3,
                "--output-h5", os.path.join(o, "d.h5"), "--output-rtdose", os.path.join(o, "RD.dcm"),
                "--png-dir", os.path.join(o, "png"), "--summary-json", os.path.join(o, "s.json")]
        # Later occurrences of an option win in CLI11 only for vectors; rebuild instead.
        merged = list(args)
        for k in range(0, len(extra), 2):
            i = merged.index(extra[k])
            merged[i + 1] = extra[k + 1]
        r = sabre(*merged, "--quiet", env=env)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        print(f"error '{what}': exit {r.returncode}: {r.stderr.strip()}")
        check(r.returncode == code, f"{what}: exit {r.returncode}, expected {code}")
        check(len(lines) == 1, f"{what}: {len(lines)} lines on stderr")
        check(bool(lines) and lines[0].startswith("sabre: error: "), f"{what}: not a 'sabre: error:' line")
        check(bool(lines) and name in lines[0], f"{what}: the message does not name {name}")
        check(os.listdir(o) == [], f"{what}: left {os.listdir(o)}")
        check(r.stdout == "", f"{what}: printed on stdout")

if fails:
    print(f"{len(fails)} failure(s)")
    sys.exit(1)
print("OK")
