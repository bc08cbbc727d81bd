#!/usr/bin/env python3
"""The fitted model against the hidden model on the 30 x 30 cm2 curves, at common seeds
(README.md, "The 30 x 30 cm2 penumbra at 20 cm").

For each seed, `sabre commission MODEL --rounds 0 --seed S` scores two models against the
30 x 30 cm2 curves of the data (depth dose and profiles; as run.py's control does for all
fields): the hidden model itself (data-10x-2818bd8/hidden.toml) and the fitted one (the same
file with results.json's fitted values written in: focal spot, extra-focal and electron
weights, spectrum, off-axis fluence, monitor backscatter). With one seed the two report runs
share their random numbers, so the difference of a figure between the models is much less
noisy than either figure; across seeds, each model's own figures show how far a report run of
it scatters.

Usage: paired_penumbra.py SABRE WORK [--seeds 11,12] [--report-histories N] [--write-results]
(N per set-up, scaled by the field's area as the report does: 6e7 -> 5.4e8 for 30 x 30 cm2;
about 22 min per model and seed on 2 cores.) Writes WORK/{hidden,fitted}.toml,
WORK/measured.csv (the 30 x 30 cm2 curves), WORK/report-<model>-<seed>/ (a report already
there is read, not rerun: delete it to rerun), and prints a table; --write-results also puts the
figures into results.json's `paired_penumbra` block, which validation/run.py turns into control
rows of REPORT.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_measurements as mm  # noqa: E402  (the machine-file edits hidden.toml was made with)
from run import commission_cmd, count, run_logged  # noqa: E402

DATA = os.path.join(HERE, "data-10x-2818bd8")


def fitted_toml(hidden_text, after):
    """hidden.toml with the fitted values of results.json's `after` in its 6X-FFF beam."""
    i, j = mm.beam_block(hidden_text)
    b = hidden_text[i:j]
    b = mm.set_tagged(b, "sigma_x_cm", after["primary"][0])
    b = mm.set_tagged(b, "sigma_y_cm", after["primary"][1])
    b = mm.set_tagged(b, "weight", after["extrafocal"][0], "beam.extrafocal")
    b = mm.set_tagged(b, "weight", after["electron"][0], "beam.electron")
    b = mm.set_array(b, "weights", after["spectrum_weights"], "%.10g")
    b = mm.set_array(b, "fluence_rel", after["fluence_rel"], "%.10g")
    b = mm.set_tagged(b, "backscatter_kx", after["backscatter"][0])
    b = mm.set_tagged(b, "backscatter_ky", after["backscatter"][1])
    return hidden_text[:i] + b + hidden_text[j:]


def write_models(work, keep=None):
    """WORK/hidden.toml, WORK/fitted.toml (results.json's fitted values in hidden.toml) and
    WORK/measured.csv: the data's lines for which keep(fields) is true (all when None)."""
    os.makedirs(work, exist_ok=True)
    after = json.load(open(os.path.join(HERE, "results.json")))["after"]
    hidden = open(os.path.join(DATA, "hidden.toml")).read()
    shutil.copy(os.path.join(DATA, "hidden.toml"), os.path.join(work, "hidden.toml"))
    with open(os.path.join(work, "fitted.toml"), "w") as fh:
        fh.write(fitted_toml(hidden, after))
    with open(os.path.join(DATA, "measured.csv")) as src, open(os.path.join(work, "measured.csv"), "w") as dst:
        for line in src:
            if keep is None or line.startswith("#") or line.startswith("kind,") or keep(line.split(",")):
                dst.write(line)


def model_reports(exe, work, seed, report_histories):
    """report.json of the hidden and the fitted model at one seed (`sabre commission MODEL
    --rounds 0 --seed S` on WORK/measured.csv; a report already in WORK is read, not rerun)."""
    out = {}
    for model in ("hidden", "fitted"):
        tag = f"{model}-{seed}"
        rep = os.path.join(work, f"report-{tag}")
        cmd = commission_cmd(exe, os.path.join(work, f"{model}.toml"), work, rep, report_histories,
                             report_histories, 0, f"cache-{tag}") + ["--seed", str(seed)]
        if not os.path.exists(os.path.join(rep, "report.json")):
            run_logged(cmd, os.path.join(work, f"{tag}.log"), tag)
        out[model] = json.load(open(os.path.join(rep, "report.json")))
    return out


def paired_args(default_seeds, block):
    """The two scripts' command line: SABRE WORK [--seeds S,...] [--report-histories N]
    [--write-results] (into results.json's `block`); seeds come back as a list of ints."""
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("work")
    ap.add_argument("--seeds", default=default_seeds, type=lambda t: [int(s) for s in t.split(",") if s])
    ap.add_argument("--report-histories", type=count, default=60000000)
    ap.add_argument("--write-results", action="store_true", help=f"into results.json's {block} block")
    a = ap.parse_args()
    a.exe = os.path.abspath(a.exe)
    return a


def write_result_block(exe, block, fields):
    """results.json's `block` replaced by `fields` plus the executable's --version lines."""
    path = os.path.join(HERE, "results.json")
    res = json.load(open(path))
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.splitlines()
    res[block] = dict(fields, sabre=version[:3])
    with open(path, "w") as fh:
        json.dump(res, fh, indent=1)


def main():
    a = paired_args("11,12", "paired_penumbra")
    exe = a.exe
    write_models(a.work, lambda f: f[2:4] == ["30", "30"] and f[0] != "output_factor")
    rows = []
    for seed in a.seeds:
        reports = model_reports(exe, a.work, seed, a.report_histories)
        pen = {model: {c["depth_cm"]: (c["penumbra_measured_cm"], c["penumbra_computed_cm"]) for c in r["curves"]
                       if c["kind"] == "profile" and c["axis"] == "crossplane" and "penumbra_computed_cm" in c}
               for model, r in reports.items()}
        for depth in sorted(pen["hidden"]):
            data, h = pen["hidden"][depth]
            f = pen["fitted"][depth][1]
            rows.append((seed, depth, data, h, f))
    print("| seed | depth [cm] | data [mm] | hidden model [mm] | fitted model [mm] | fitted - hidden [mm] |")
    print("|---|---|---|---|---|---|")
    for seed, depth, data, h, f in rows:
        print(f"| {seed} | {depth:g} | {10 * data:.2f} | {10 * h:.2f} | {10 * f:.2f} | {10 * (f - h):+.2f} |")
    if a.write_results:
        write_result_block(exe, "paired_penumbra", {
            "what": "the hidden and the fitted model, each scored against the 30 x 30 cm2 curves alone (sabre "
                    "commission MODEL --rounds 0 --seed S), the two models of one seed sharing their random numbers "
                    "(paired_penumbra.py)",
            "report_histories_per_setup": a.report_histories,
            "rows": [{"seed": seed, "depth_cm": depth, "data_penumbra_cm": data, "hidden_penumbra_cm": h,
                      "fitted_penumbra_cm": f} for seed, depth, data, h, f in rows]})

if __name__ == "__main__":
    main()
