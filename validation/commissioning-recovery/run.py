#!/usr/bin/python3
"""Issue 16, acceptance 1: commissioning recovers a hidden beam model (README.md here).

1. make_measurements.py: synthetic water-tank data made by sabre itself from a hidden 6X-FFF
   model (not the defaults), with 0.3 % noise and a 0.125 cm3 chamber's averaging on the
   depth doses and profiles, point-detector output factors.
2. `sabre commission truebeam-hd120 --beam 6X-FFF` (the bundled defaults as the start) on
   those data, all stages, 2 rounds; the report's runs of the fitted model with
   --report-histories.
3. Recovery: focal-spot sigma within 10 %, extra-focal weight within 20 %, spectrum mean
   energy within 2 % of the hidden values (truth.json).
   Fit quality (the report's summary; labelled so in validation/REPORT.md: the data are the
   ones the model was fitted on): depth dose beyond d_max within 1 %, d_max within 1 mm,
   inflection-point field size within 0.5 mm, 80-20 % penumbra within 1 mm, output factors
   within 1 % (2 x 2 to 30 x 30 cm2) and 2 % (1 x 1 cm2).
4. --control N: the hidden model itself scored against the same data the same way (`sabre
   commission WORK/hidden.toml --rounds 0`, N histories per set-up, into WORK/report-control):
   the figures the exact model gets at the data's and the report runs' noise. A fit-quality
   row the hidden model misses too is a miss of the noise, not of the fit; results.json's
   "control" holds those rows (with --skip-fit an existing WORK/report-control is reused).

Every Monte Carlo run is cached (WORK/cache, WORK/cache-control, WORK/cache-rereport; the
key names sabre's version and commit): a run killed part way is resumed by the same command
with --skip-measurements, and make_measurements.py keeps its fields in WORK/forward-runs.

Usage: run.py SABRE_EXE [--histories-scale S] [--histories N] [--report-histories N]
              [--work DIR] [--out results.json] [--machine FILE] [--skip-measurements]
              [--skip-fit] [--rereport N] [--control N]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def count(text):
    """A history count as an integer or in exponent form (1.5e7)."""
    v = float(text)
    if v != int(v) or v < 0:
        raise argparse.ArgumentTypeError(f"not a count of histories: {text}")
    return int(v)


def row_dict(q, v, t, d, tol, k):
    return {"quantity": q, "sabre": v, "reference": t, "difference": d, "tolerance": tol, "kind": k,
            "pass": bool(d is not None and d <= tol)}


def fit_quality_rows(j):
    """The six fit-quality rows of a commission report (report.json): a model against the data."""
    s = j["summary"]
    # The noise beside each figure (the report's own 1 sigmas: the data's sigma_rel and the
    # report run's Monte Carlo): a worst difference a few sigma from zero is noise.
    z = s.get("pdd_max_abs_diff_over_sigma_beyond_dmax")
    pdd_note = f" (largest |diff| / its 1 sigma: {z:.1f})" if z is not None else ""

    def of_note(small):
        ofs = [o for o in j.get("output_factors", []) if (min(o["field_cm"]) < 1.5) == small]
        if not ofs or "rel_diff_sigma" not in ofs[0]:
            return ""
        w = max(ofs, key=lambda o: abs(o["rel_diff"]))
        return (f" (worst {w['field_cm'][0]:g} x {w['field_cm'][1]:g}: {100 * w['rel_diff']:+.2f} % +- "
                f"{100 * w['rel_diff_sigma']:.2f} %)")
    fq = "fit quality"
    return [
        ("depth dose beyond d_max, max |diff|" + pdd_note, s["pdd_max_abs_diff_beyond_dmax"], 0,
         s["pdd_max_abs_diff_beyond_dmax"], 0.01, fq),
        ("d_max, max |diff| [cm]", s["dmax_max_abs_diff_cm"], 0, s["dmax_max_abs_diff_cm"], 0.1, fq),
        ("inflection field size, max |diff| [cm]", s["field_size_max_abs_diff_cm"], 0, s["field_size_max_abs_diff_cm"],
         0.05, fq),
        ("80-20 % penumbra, max |diff| [cm]", s["penumbra_max_abs_diff_cm"], 0, s["penumbra_max_abs_diff_cm"], 0.1, fq),
        ("output factors 2x2-30x30, max |rel diff|" + of_note(False), s["output_factor_max_abs_rel_diff"], 0,
         s["output_factor_max_abs_rel_diff"], 0.01, fq),
        ("output factor 1x1, |rel diff|" + of_note(True), s["output_factor_max_abs_rel_diff_below_1_5cm"], 0,
         s["output_factor_max_abs_rel_diff_below_1_5cm"], 0.02, fq),
    ]


def commission_cmd(exe, machine, work, report, histories, report_histories, rounds, cache, out=None):
    """`sabre commission` on WORK/measured.csv as every step here runs it (0.3 % for points
    without their own sigma; each step its own report and cache directory under WORK)."""
    return ([exe, "--log-level", "info", "commission", machine, "--beam", "6X-FFF", "--measured",
             os.path.join(work, "measured.csv")] + (["-o", out] if out else []) +
            ["--report", report, "--histories", str(histories), "--report-histories", str(report_histories),
             "--rounds", str(rounds), "--measurement-uncertainty", "0.3%", "--cache-dir", os.path.join(work, cache)])


def run_logged(cmd, log_path, what):
    with open(log_path, "w") as log:
        r = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit(f"{what} failed ({r.returncode}); see {log_path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--histories-scale", type=float, default=1.0, help="of the measurement runs")
    ap.add_argument("--histories", type=count, default=20000000, help="commissioning, per set-up and stage")
    ap.add_argument("--report-histories", type=count, default=40000000)
    ap.add_argument("--work", default="/tmp/sabre-commissioning-recovery")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--machine", default=os.path.join(HERE, "..", "..", "beams", "machines", "truebeam-hd120.toml"),
                    help="the starting machine file, from which the hidden model is also derived (default: bundled)")
    ap.add_argument("--skip-measurements", action="store_true", help="reuse WORK/measured.csv")
    ap.add_argument("--skip-fit", action="store_true", help="reuse WORK/commissioned.toml and WORK/report (with --rereport)")
    ap.add_argument("--rereport", type=count, default=0,
                    help="also run the fitted model alone (--rounds 0) at this many histories per set-up into "
                         "WORK/report-rereport and take the fit-quality rows from it (less report-run noise)")
    ap.add_argument("--control", type=count, default=0,
                    help="also score the hidden model itself against the data (--rounds 0, this many histories per "
                         "set-up, into WORK/report-control): the fit-quality figures of the exact model")
    a = ap.parse_args()
    exe = os.path.abspath(a.exe)
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    if not a.skip_measurements:
        r = subprocess.run([sys.executable, os.path.join(HERE, "make_measurements.py"), exe, a.work,
                            "--histories-scale", str(a.histories_scale), "--machine", os.path.abspath(a.machine)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        print(r.stdout, flush=True)
    t1 = time.time()
    truth = json.load(open(os.path.join(a.work, "truth.json")))
    out = os.path.join(a.work, "commissioned.toml")
    rep = os.path.join(a.work, "report")
    if os.path.exists(out) and not a.skip_fit:
        os.remove(out)
    cmd = commission_cmd(exe, os.path.abspath(a.machine), a.work, rep, a.histories, a.report_histories, 2, "cache",
                         out=out)
    if not a.skip_fit:
        run_logged(cmd, os.path.join(a.work, "commission.log"), "commission")
    t2 = time.time()
    j = json.load(open(os.path.join(rep, "report.json")))
    after = j["after"]
    spec = [s for s in j["stages"] if s["stage"] == "spectrum"]
    mean_after = spec[-1]["spectrum_mean_mev"] if spec else None
    fit_report = j
    if a.rereport:
        # The fitted model alone, no stage: only the report's runs, at more histories.
        rep2 = os.path.join(a.work, "report-rereport")
        run_logged(commission_cmd(exe, out, a.work, rep2, a.rereport, a.rereport, 0, "cache-rereport"),
                   os.path.join(a.work, "rereport.log"), "rereport")
        j = json.load(open(os.path.join(rep2, "report.json")))
    rel = lambda x, t: abs(x - t) / t
    rows = [
        ("focal-spot sigma [cm]", after["primary"][0], truth["sigma_cm"], rel(after["primary"][0], truth["sigma_cm"]), 0.10, "recovery"),
        ("extra-focal weight", after["extrafocal"][0], truth["extrafocal_weight"],
         rel(after["extrafocal"][0], truth["extrafocal_weight"]), 0.20, "recovery"),
        ("spectrum mean energy [MeV]", mean_after, truth["spectrum_mean_mev"], rel(mean_after, truth["spectrum_mean_mev"]),
         0.02, "recovery"),
    ] + fit_quality_rows(j)
    s = j["summary"]
    control = None
    if a.control:
        # The hidden model itself, no stage, scored against its own data like the fitted one.
        repc = os.path.join(a.work, "report-control")
        if not (a.skip_fit and os.path.exists(os.path.join(repc, "report.json"))):
            run_logged(commission_cmd(exe, os.path.join(a.work, "hidden.toml"), a.work, repc, a.control, a.control, 0,
                                      "cache-control", out=os.path.join(a.work, "control.toml")),
                       os.path.join(a.work, "control.log"), "control run")
        jc = json.load(open(os.path.join(repc, "report.json")))
        control = {"what": "the hidden model itself against the same data (sabre commission hidden.toml --rounds 0), "
                           "%d histories per set-up (x the report's field-size factor)" % a.control,
                   "rows": [row_dict(*r) for r in fit_quality_rows(jc)]}
    res = {"truth": truth, "after": after, "summary": s,
           "rows": [row_dict(*r) for r in rows],
           "seconds": {"measurements": round(t1 - t0), "commission": round(t2 - t1)},
           "cost": fit_report.get("cost"), "command": " ".join(cmd[1:]),
           "fit_quality_from": ("a rerun of the report alone at %d histories per set-up" % a.rereport) if a.rereport
           else "the fit's own report"}
    if control:
        res["control"] = control
    res["all_pass"] = all(r["pass"] for r in res["rows"])
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    for r in res["rows"]:
        print(f"{r['kind']:12s} {r['quantity']:45s} {r['sabre']:.5g} (ref {r['reference']:.5g}) diff {r['difference']:.4g} "
              f"tol {r['tolerance']} {'PASS' if r['pass'] else 'FAIL'}")
    print("all pass" if res["all_pass"] else "SOME FAIL")
    if control:
        print("control: " + control["what"])
        for r in control["rows"]:
            print(f"  {r['quantity']:45s} {r['sabre']:.5g} tol {r['tolerance']} {'PASS' if r['pass'] else 'FAIL'}")


if __name__ == "__main__":
    main()
