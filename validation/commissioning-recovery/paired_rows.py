#!/usr/bin/env python3
"""Every fit-quality row of acceptance 1, the fitted model against the hidden model at common
seeds (README.md, "Paired comparison of every fit-quality row").

paired_penumbra.py does this for the 30 x 30 cm2 penumbrae; here both models are scored on all
the data's set-ups (`sabre commission MODEL --rounds 0 --seed S`, what run.py's control runs for
the hidden model), and each row's figure is taken between the two models' report curves instead
of between a model and the data:
- depth dose beyond d_max: both models' curves are scaled to the same data by the report (least
  squares beyond the data's d_max), so their point-by-point difference, relative to the data's
  maximum, is the fitted model's departure from the hidden one;
- d_max, inflection field size, 80-20 % penumbra: fitted figure minus hidden figure, per curve;
- output factors: both normalised to the data's 10 x 10 cm2 value, so fitted / hidden - 1.
With one seed the two report runs share their random numbers, so these differences carry far
less noise than either model's difference from the data; what is left of the noise shows as the
spread between seeds.

Usage: paired_rows.py SABRE WORK [--seeds 21] [--report-histories N] [--write-results]
Writes WORK/{hidden,fitted}.toml, WORK/report-<model>-<seed>/ (a report already there is read,
not rerun) and prints a table; --write-results puts the figures into results.json's
`paired_rows` block, which validation/run.py turns into rows of REPORT.md.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from paired_penumbra import model_reports, paired_args, write_models, write_result_block  # noqa: E402

# each row's tolerance as acceptance 1 states it (fractions and cm)
TOLERANCES = {"pdd": 0.01, "dmax_cm": 0.1, "field_size_cm": 0.05, "penumbra_cm": 0.1, "of": 0.01, "of_small": 0.02}


def curve_key(c):
    f = "x".join("%g" % v for v in c["field_cm"])
    if c["kind"] == "depth_dose":
        return f"{f} depth dose"
    return f"{f} {c['axis']} {c['depth_cm']:g} cm"


def paired_figures(hidden, fitted):
    """Per-row worst |fitted - hidden| and where, from two report.json of the same data and seed."""
    hc = {curve_key(c): c for c in hidden["curves"]}
    out = {k: (0.0, "") for k in TOLERANCES}
    def worst(key, value, where):
        if abs(value) > abs(out[key][0]):
            out[key] = (value, where)
    for c in fitted["curves"]:
        k = curve_key(c)
        h = hc[k]
        assert h["position_cm"] == c["position_cm"], k
        if c["kind"] == "depth_dose":
            dm = c["dmax_measured_cm"]  # the same data, so the same d_max for both
            for z, a, b in zip(c["position_cm"], c["computed"], h["computed"]):
                if z >= dm:
                    worst("pdd", a - b, f"{k} at {z:g} cm")
            worst("dmax_cm", c["dmax_computed_cm"] - h["dmax_computed_cm"], k)
        elif "field_size_computed_cm" in c and "field_size_computed_cm" in h:
            worst("field_size_cm", c["field_size_computed_cm"] - h["field_size_computed_cm"], k)
            worst("penumbra_cm", c["penumbra_computed_cm"] - h["penumbra_computed_cm"], k)
    ho = {tuple(o["field_cm"]): o for o in hidden["output_factors"]}
    for o in fitted["output_factors"]:
        f = tuple(o["field_cm"])
        d = o["computed"] / ho[f]["computed"] - 1
        worst("of_small" if min(f) < 1.5 else "of", d, "%g x %g" % f)
    return out


def main():
    a = paired_args("21", "paired_rows")
    exe = a.exe
    write_models(a.work)
    per_seed = {}
    for seed in a.seeds:
        rep = model_reports(exe, a.work, seed, a.report_histories)
        per_seed[seed] = {"paired": paired_figures(rep["hidden"], rep["fitted"]),
                          "hidden_vs_data": rep["hidden"]["summary"], "fitted_vs_data": rep["fitted"]["summary"]}
    print("| seed | row | worst fitted - hidden | where | tolerance |")
    print("|---|---|---|---|---|")
    for seed, r in per_seed.items():
        for k, (v, where) in r["paired"].items():
            scale, unit = (10, "mm") if k.endswith("_cm") else (100, "%")
            print(f"| {seed} | {k} | {scale * v:+.3g} {unit} | {where} | {scale * TOLERANCES[k]:g} {unit} |")
    if a.write_results:
        write_result_block(exe, "paired_rows", {
            "what": "the fitted and the hidden model, each scored against all the data (sabre commission MODEL "
                    "--rounds 0 --seed S), the two models of one seed sharing their random numbers; each row's worst "
                    "fitted - hidden difference (paired_rows.py)",
            "report_histories_per_setup": a.report_histories, "tolerances": TOLERANCES,
            "seeds": {str(s): {"paired": {k: {"value": v, "where": w} for k, (v, w) in r["paired"].items()},
                               "hidden_vs_data": r["hidden_vs_data"], "fitted_vs_data": r["fitted_vs_data"]}
                      for s, r in per_seed.items()}})

if __name__ == "__main__":
    main()
