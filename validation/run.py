#!/usr/bin/python3
"""Run the sabre validation cases and write REPORT.md (issue 9).

Usage: validation/run.py (--quick | --full) [--sabre PATH] [--build-dir DIR] [--out DIR]
                         [--threads N] [--r1-minutes M] [--cases a,b,...]
       validation/run.py --stored-only [--out DIR]

REPORT.md ends with the long runs this script does not repeat (commissioning, the precise
calibration: hours on 2 cores), read from their directories' results.json and labelled
recovery / fit quality / commissioned to / acceptance; --stored-only rewrites just that part.

Each case compares a figure computed by sabre with an independent reference and prints one
JSON line per quantity {"case","quantity","reference","sabre","difference","tolerance",
"pass"} ("pass": null marks an informational row). REPORT.md (in --out, default
validation/) gets the table, the plots (PNG, in --out/plots/), date, commit, machine and
the wall time. Exit status: 0 when every checked quantity passes, 1 otherwise (a failing
case is listed as failing in the report either way), 2 on a usage error.

Cases (README.md of each directory: input, reference and its origin, tolerance):
  attenuation       narrow-beam attenuation in water vs NIST XCOM exp(-mu t)      (Catch2 figure)
  klein-nishina     sampled Compton energies vs the analytic KN cross section      (Catch2 figure)
  electron-csda     CSDA path length vs ESTAR range, radiation yield vs ESTAR      (Catch2 figures)
  fano              Fano cavity test, slab at 1/4, 1/10, 1/100 density            (Catch2 figures)
  R1-water-6MV      6 MV 10x10 water depth dose, dmax, penumbra vs EGSnrc          (sabre simulate)
  reproducibility   same seed on 1 and 2 threads bit-identical; seeds differ by noise (sabre simulate)
  host-gpu          host vs CUDA dose agree within statistics (only with a GPU)   (sabre simulate)
  linac-output-factors  output factor rises with jaw field size (6X-FFF)          (sabre linac)
  linac-mlc         closed-leaf MLC transmission in the documented 1-2 % range    (sabre linac)
  gamma-analytic    gamma index of analytic dose pairs (sabre compare)

Quick mode (CI, a few minutes on 2 cores): fewer histories and, where the acceptance
tolerance is below the statistics such a run can reach, a statistical tolerance stated
in the row ("quick: ..."). Full mode (< 1 h on 2 cores): the acceptance tolerances.
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def shared_dir():
    return os.environ.get("SABRE_SHARED_DIR") or os.path.abspath(os.path.join(ROOT, "..", "shared"))


def plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as p
    return p


class Ctx:
    def __init__(self, a, tmp):
        self.a, self.tmp, self.quick = a, tmp, a.quick
        self.rows, self.plots, self.notes = [], {}, {}
        self.plot_dir = os.path.join(a.out, "plots")

    def row(self, case, quantity, reference, sabre, difference, tolerance, passed, kind=None, **extra):
        if kind not in KINDS:
            raise ValueError(f"row {case}: {quantity}: kind {kind!r} is not one of {sorted(KINDS)}")
        r = {"case": case, "quantity": quantity, "kind": kind, "reference": reference, "sabre": sabre,
             "difference": difference, "tolerance": tolerance, "pass": passed}
        r.update(extra)
        self.rows.append(r)
        print(json.dumps(r), flush=True)

    def evidence_row(self, case, e, **extra):
        """One row of a test's evidence file (tests/support/evidence.hh) into the report:
        the test's own tolerance and verdict."""
        tol = e.get("tolerance_text") or e.get("tolerance")
        if e.get("tolerance_text") and e.get("tolerance") is not None:
            tol = f"{e['tolerance_text']} (bound {fmt(e['tolerance'])})"
        x = {"sigma": e.get("sigma"), "histories": e.get("histories") or None, "unit": e.get("unit"),
             "reference_source": e.get("reference_source"), "evidence_id": e["id"]}
        x.update(extra)
        self.row(case, e["quantity"], e.get("reference"), e.get("value"), e.get("difference"), tol, bool(e["pass"]),
                 kind=e["kind"], **x)

    def plot_path(self, case):
        os.makedirs(self.plot_dir, exist_ok=True)
        p = os.path.join(self.plot_dir, case + ".png")
        self.plots[case] = os.path.relpath(p, self.a.out)
        return p

    def env(self):
        e = dict(os.environ)
        e.setdefault("SABRE_DATA_DIR", ROOT)
        e.pop("SABRE_TEST_UNDER_CTEST", None)
        return e

    def sh(self, cmd, env=None, check=True):
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env or self.env())
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): "
                               f"{(r.stderr or r.stdout).strip()[-600:]}")
        return r

    def evidence(self, binary, test, expected, env=None):
        """Runs one Catch2 test (name or tag expression) with SABRE_EVIDENCE set and returns
        its evidence rows by id. Every id in `expected` must be there: a missing one raises
        an error naming it. A test whose assertions fail while all of its rows pass is a
        failure too (a row "test assertions" is added)."""
        exe = os.path.join(self.a.build_dir, "tests", binary)
        if not os.path.exists(exe):
            raise RuntimeError(f"{exe} not built (target {binary})")
        path = os.path.join(self.tmp, f"evidence-{len(os.listdir(self.tmp))}.jsonl")
        e = self.env()
        e.update(env or {})
        e["SABRE_EVIDENCE"] = path
        # a test name is matched literally (Catch2 reads an unescaped comma as "or")
        spec = test if test.startswith("[") else test.replace(",", "\\,")
        r = subprocess.run([exe, spec], capture_output=True, text=True, env=e)
        if "No tests ran" in r.stdout + r.stderr:
            raise RuntimeError(f"{binary}: no test matches \"{test}\"")
        if "SKIPPED:" in r.stdout:
            raise RuntimeError("skipped: " + r.stdout.split("SKIPPED:", 1)[1].strip().splitlines()[0])
        rows = read_evidence(path, expected, f"{binary} \"{test}\"")
        if r.returncode != 0 and all(x["pass"] for x in rows.values()):
            fails = [l.strip() for l in r.stdout.splitlines() if "FAILED" in l or "REQUIRE" in l or "CHECK" in l]
            raise RuntimeError(f"{binary} \"{test}\" failed (exit {r.returncode}) although its evidence rows pass: "
                               + " | ".join(fails[:6])[:400])
        return rows


KINDS = {"independent", "guard", "tool"}
KIND_TITLE = {"independent": "against an independent reference",
              "guard": "self-consistency and regression guards", "tool": "tool checks"}


class MissingRow(RuntimeError):
    pass


def read_evidence(path, expected, source):
    """Rows of an evidence file (one JSON object per line, tests/support/evidence.hh) by id.
    Raises MissingRow naming the first expected id that is absent, and RuntimeError on a line
    that is not a JSON object or a row without a valid kind."""
    rows = {}
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    x = json.loads(line)
                except ValueError as err:
                    raise RuntimeError(f"{source}: evidence line {n} is not JSON ({err})")
                if not isinstance(x, dict) or "id" not in x or x.get("kind") not in KINDS:
                    raise RuntimeError(f"{source}: evidence line {n} has no id or no valid kind")
                rows[x["id"]] = x
    for want in expected:
        if want not in rows:
            raise MissingRow(f"row '{want}' missing from the evidence of {source}")
    return rows


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(v)
    if isinstance(v, (float, np.floating)):
        if v == 0:
            return "0"
        return f"{v:.5g}" if abs(v) >= 1 else f"{v:.4g}"
    return str(v)


# ----------------------------------------------------------------------------- cases

ATT_E = (0.1, 1.25, 6, 10)


def case_attenuation(c):
    case = "attenuation"
    ev = c.evidence("sabre_kernels_tests", "[attenuation]", [f"attenuation/{e:g}MeV" for e in ATT_E])
    pts = []
    for e in ATT_E:
        x = ev[f"attenuation/{e:g}MeV"]
        c.evidence_row(case, x)
        pts.append((e, 100 * x["difference"], 100 * x["sigma"]))
    p = plt()
    fig, ax = p.subplots(figsize=(6, 3.5))
    ax.errorbar([q[0] for q in pts], [q[1] for q in pts], yerr=[q[2] for q in pts], fmt="o")
    ax.axhline(0.5, ls="--", color="g")
    ax.axhline(-0.5, ls="--", color="g")
    ax.set_xscale("log")
    ax.set_xlabel("photon energy [MeV]")
    ax.set_ylabel("sabre / NIST exp(-mu t) - 1 [%]")
    ax.set_title("narrow-beam attenuation, 10 cm water")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


def chi2_quantile_999(dof):
    # Wilson-Hilferty approximation of the 99.9 % quantile (z = 3.0902)
    z = 3.090232
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


KN_E = (0.5, 2, 10)


def case_klein_nishina(c):
    case = "klein-nishina"
    ev = c.evidence("sabre_physics_tests", "Klein-Nishina scattered-photon energies pass a chi-square test",
                    [f"klein-nishina/{e:g}MeV" for e in KN_E])
    pts = []
    for e in KN_E:
        x = ev[f"klein-nishina/{e:g}MeV"]
        c.evidence_row(case, x)
        pts.append((e, x["value"], chi2_quantile_999(49) / 49))
    p = plt()
    fig, ax = p.subplots(figsize=(6, 3.5))
    ax.plot([q[0] for q in pts], [q[1] for q in pts], "o", label="chi2/dof")
    ax.plot([q[0] for q in pts], [q[2] for q in pts], "r_", ms=20, label="99.9 % quantile / dof")
    ax.set_xscale("log")
    ax.set_xlabel("photon energy [MeV]")
    ax.set_ylabel("chi2 / dof")
    ax.legend()
    ax.set_title("Klein-Nishina sampling")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


CSDA_E = (1, 5, 10, 20)


def case_electron_csda(c):
    case = "electron-csda"
    ids = [f"electron-csda/path/rho{r:g}/{e:g}MeV" for r in (1, 0.25) for e in CSDA_E]
    ev = c.evidence("sabre_physics_tests", "[csda]", ids)
    csda = []
    for i in ids:
        c.evidence_row(case, ev[i])
        if "/rho1/" in i:
            csda.append((ev[i]["histories"], float(i.split("/")[-1][:-3]), 100 * ev[i]["difference"]))
    ids = [f"electron-csda/yield/{e:g}MeV" for e in CSDA_E]
    ev = c.evidence("sabre_physics_tests", "[yield]", ids)
    yld = []
    for e, i in zip(CSDA_E, ids):
        c.evidence_row(case, ev[i])
        yld.append((e, 100 * ev[i]["difference"], 100 * ev[i]["sigma"]))
    p = plt()
    fig, ax = p.subplots(1, 2, figsize=(9, 3.5))
    ax[0].plot([q[1] for q in csda], [q[2] for q in csda], "o", label="density 1 (0.25: identical, guard rows)")
    ax[0].axhline(0.5, ls="--", color="g")
    ax[0].axhline(-0.5, ls="--", color="g")
    ax[0].set_xlabel("E0 [MeV]")
    ax[0].set_ylabel("path / ESTAR - 1 [%]")
    ax[0].legend(fontsize=8)
    ax[0].set_title("CSDA path length")
    ax[1].errorbar([q[0] for q in yld], [q[1] for q in yld], yerr=[q[2] for q in yld], fmt="o")
    ax[1].axhline(5, ls="--", color="g")
    ax[1].axhline(-5, ls="--", color="g")
    ax[1].set_xlabel("E0 [MeV]")
    ax[1].set_ylabel("yield / ESTAR - 1 [%]")
    ax[1].set_title("radiation yield")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


def case_fano(c):
    case = "fano"
    if c.quick:
        test, env, energies = "Fano cavity test, 1 MeV electrons, water slabs at 1/4, 1/10, 1/100", {}, (1,)
    else:
        test, env, energies = "[.fano-long]", \
            {"SABRE_FANO_SCALE": str(c.a.fano_scale), "SABRE_FANO_SEED": "1955"}, (1, 10)
    ids = [f"fano/{e:g}MeV/{w}" for e in energies for w in ("slab", "ratio", "density-scaling")]
    ev = c.evidence("sabre_physics_tests", test, ids, env)
    for i in ids:
        c.evidence_row(case, ev[i])
    p = plt()
    fig, ax = p.subplots(figsize=(6, 3.5))
    for k, e in enumerate(energies):
        a, b = ev[f"fano/{e:g}MeV/slab"], ev[f"fano/{e:g}MeV/ratio"]
        ax.errorbar([k], [100 * a["difference"]], yerr=[100 * a["sigma"]], fmt="o", color="C0",
                    label="slab / (E0 N/M) - 1" if k == 0 else None)
        ax.errorbar([k + 0.2], [100 * b["difference"]], yerr=[100 * b["sigma"]], fmt="s", color="C1",
                    label="slab / surround - 1" if k == 0 else None)
    ax.set_xticks(range(len(energies)))
    ax.set_xticklabels([f"{e:g} MeV, slab 1/100" for e in energies])
    ax.axhline(0.5, ls="--", color="g")
    ax.axhline(-0.5, ls="--", color="g")
    ax.set_ylabel("[%]")
    ax.legend()
    ax.set_title("Fano cavity test (water)")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


def case_fano_interface(c):
    case = "fano-interface"
    # (the boundary layout at density 0.1 repeats density 1's theorem rows by construction:
    # only its paired row is recorded)
    ids = [f"fano-interface/{lay}/density{d:g}/{w}" for lay in ("boundary", "checkerboard") for d in (1, 0.1)
           for w in ("slab", "surround", "vs-uniform") if not (lay == "boundary" and d == 0.1 and w != "vs-uniform")]
    env = {} if c.quick else {"SABRE_FANO_INTERFACE_N": str(c.a.fano_interface_n)}
    ev = c.evidence("sabre_physics_tests",
                    "Fano across material boundaries: identical materials of different names, 1 MeV", ids, env)
    for i in ids:
        c.evidence_row(case, ev[i])


def case_thin_layer(c):
    case = "thin-layer"
    ev = c.evidence("sabre_physics_tests",
                    "Thin bone layer in water, isotropic electrons: default steps agree with short steps within 1 %",
                    ["thin-layer/isotropic-1MeV"])
    c.evidence_row(case, ev["thin-layer/isotropic-1MeV"])


def case_r1(c):
    case = "R1-water-6MV"
    toml = os.path.join(HERE, "R1-water-6MV", "R1.toml")
    ref = os.path.join(shared_dir(), "data", "reference", "egsnrc", "R1-water-6MV-10x10")
    if not os.path.isdir(ref):
        raise RuntimeError(f"reference {ref} absent")
    files = []
    t0 = time.time()
    if c.a.r1_files:
        # pieces run beforehand (sabre simulate R1.toml, independent seeds): compare only
        files = sorted(glob.glob(c.a.r1_files))
        if not files:
            raise RuntimeError(f"--r1-files {c.a.r1_files}: no files")
        plan = []
    elif c.quick:
        # 8 independent pieces (seeds 501..508), so that compare.py measures the block
        # correlation factor of sabre's uncertainty instead of using the quadrature sum of
        # the per-voxel uncertainties, an underestimate (~1.3 for 7 x 7 blocks) that the chi2
        # check would flag as a disagreement
        plan = [(c.a.r1_quick_histories // 8, 501 + k) for k in range(8)]
    else:
        plan = None
    piece = c.a.r1_piece
    seed = 601
    rate = None
    while True:
        if plan is not None:
            if not plan:
                break
            n, seed = plan.pop(0)
        else:
            spent = time.time() - t0
            left = c.a.r1_minutes * 60 - spent
            n = piece
            if rate is not None:
                if left < 0.5 * piece / rate:
                    break
                # the last piece fills the budget
                n = int(min(piece, max(5e5, left * rate * 0.95)))
                n = max(n - n % 10, 10)
            seed += 1
        out = os.path.join(c.tmp, f"r1_{seed}.h5")
        ts = time.time()
        c.sh([c.a.sabre, "--log-level", "warn", "simulate", toml, "--histories", n, "--seed", seed,
              "--threads", c.a.threads, "-o", out])
        rate = n / (time.time() - ts)
        files.append(out)
        print(f"# R1 piece seed {seed}: {n} histories, {rate:.0f} histories/s", flush=True)
    r = c.sh(["/usr/bin/python3", os.path.join(HERE, "R1-water-6MV", "compare.py"), *files,
              "--reference", ref, "--plot", c.plot_path(case)])
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    have = {x["quantity"] for x in rows}
    for want in R1_ROWS:
        if want not in have:
            raise MissingRow(f"row '{want}' missing from the output of R1-water-6MV/compare.py")
    src = ("EGSnrc/DOSXYZnrc, 168 M histories (../shared/data/reference/egsnrc/R1-water-6MV-10x10; "
           "its README gives geometry, source, spectrum, cuts)")
    for x in rows:
        q = x.pop("quantity")
        x.pop("case")
        if q == "run":
            c.row(case, "run (histories, wall seconds, sabre's mean 7x7 depth-dose 1-sigma beyond 1.5 cm)",
                  None, x.get("histories"), None, None, None, kind="independent", wall_seconds=x.get("wall_seconds"),
                  device=x.get("device"), sabre_commits=x.get("sabre_commits"),
                  sabre_mean_rel_unc=x.get("sabre_mean_7x7_rel_unc_beyond_1_5cm"))
            continue
        x["reference_source"] = src
        ref_v, sab, diff, tol, ok = (x.pop(k) for k in ("reference", "sabre", "difference", "tolerance", "pass"))
        if c.quick and ok is not None:
            # quick: acceptance tolerance plus 4 combined sigma (statistical, stated)
            if q.startswith("cax_depth_dose_max"):
                s = x.get("mean_combined_1sigma", 0)
                tol = f"quick: 0.01 + 4 x mean combined 1 sigma = {0.01 + 4 * s:.4f}"
                ok = abs(diff) <= 0.01 + 4 * s
            elif q.startswith("cax_dose_at"):
                s = x.get("combined_1sigma", 0)
                tol = f"quick: 0.01 + 4 sigma = {0.01 + 4 * s:.4f}"
                ok = abs(diff) <= 0.01 + 4 * s
            elif q == "absolute_dose_9x9_at_10cm_checked":
                s = x.get("combined_1sigma", 0)
                tol = f"quick: 0.01 + 4 sigma = {0.01 + 4 * s:.4f}"
                ok = abs(diff) <= 0.01 + 4 * s
            elif q.startswith("depth_of_maximum") or q.startswith("penumbra"):
                # a parabola vertex / single-row profile edges: not resolvable at quick statistics
                tol = "quick: not checked (too few histories; the full mode checks it)"
                ok = None
        if q.startswith("cax_depth_dose_mean_diff") and "chi2" in x:
            # statistical consistency of the whole depth dose (both modes): chi2 of the
            # per-depth differences against the combined 1 sigma below its 99.9 % quantile
            c.row(case, q, ref_v, sab, diff, None, None, kind="independent", **x)
            dof, chi2 = int(x["dof"]), float(x["chi2"])
            qnt = chi2_quantile_999(dof)
            c.row(case, "cax_depth_dose_chi2_per_dof_beyond_1.5cm", 1.0, chi2 / dof, chi2 / dof - 1,
                  f"chi2 < 99.9 % quantile ({qnt:.1f} for {dof} dof)", chi2 < qnt, kind="independent", chi2=chi2,
                  dof=dof, reference_source=src)
            continue
        c.row(case, q, ref_v, sab, diff, tol, ok, kind="independent", **x)


# compare.py's rows that must be there (a missing one is an error naming it)
R1_ROWS = ["cax_depth_dose_max_abs_diff_beyond_1.5cm", "cax_depth_dose_mean_diff_beyond_1.5cm",
           *[f"cax_dose_at_{d:g}cm_normalised_10cm" for d in (1.5, 5, 20, 25)], "depth_of_maximum_cm",
           "penumbra_80_20_at_10cm_cm", "absolute_dose_9x9_at_10cm_checked", "run"]


SMALL_TOML = """# reproducibility / host-gpu case: 6 MeV photons, 5 x 5 cm, water with a lung and a bone slab
[phantom]
voxels = [20, 20, 30]
voxel_cm = [1.0, 1.0, 1.0]
material = "water"
[[slab]]
from_cm = 5.0
to_cm = 12.0
material = "lung"
density_g_cm3 = 0.26
[[slab]]
from_cm = 12.0
to_cm = 14.0
material = "bone_cortical"
[source]
particle = "photon"
type = "point"
position_cm = [0, 0, -100]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2.5, 2.5]
field_y_cm = [-2.5, 2.5]
energy_mev = 6.0
[run]
histories = 100000
batches = 10
"""


def read_dose(path):
    import h5py
    with h5py.File(path, "r") as f:
        return f["dose/dose"][...], f["dose/rel_uncertainty"][...]


def case_reproducibility(c):
    case = "reproducibility"
    toml = os.path.join(c.tmp, "small.toml")
    with open(toml, "w") as f:
        f.write(SMALL_TOML)
    n = 40000 if c.quick else 200000
    d = {}
    for name, threads, seed in (("a1", 1, 7), ("a2", 2, 7), ("a2b", 2, 7), ("b2", 2, 8)):
        out = os.path.join(c.tmp, f"rep_{name}.h5")
        c.sh([c.a.sabre, "--log-level", "warn", "simulate", toml, "--histories", n, "--seed", seed,
              "--threads", threads, "-o", out])
        d[name] = read_dose(out)
    for other, what in (("a2", "1 thread vs 2 threads"), ("a2b", "2 threads, run twice")):
        diff = float(np.max(np.abs(d["a1"][0] - d[other][0])))
        c.row(case, f"same seed, {what}: max |dose difference| [Gy/history]", 0.0, diff, diff,
              "0 (bit-identical)", diff == 0.0, kind="guard", histories=n,
              reference_source="the same run (determinism)")
    (da, ua), (db, ub) = d["a1"], d["b2"]
    sel = (da > 0.2 * da.max()) & (db > 0) & (ua > 0) & (ub > 0)
    z = (da[sel] - db[sel]) / np.sqrt((ua[sel] * da[sel]) ** 2 + (ub[sel] * db[sel]) ** 2)
    chi = float(np.mean(z ** 2))
    c.row(case, f"seeds 7 vs 8: chi2/dof of dose differences ({int(sel.sum())} voxels > 20 % of max)", 1.0, chi,
          chi - 1, "0.7 .. 1.4 (10-batch uncertainties)", 0.7 <= chi <= 1.4, kind="guard", mean_z=float(np.mean(z)),
          histories=n, reference_source="the same problem with another seed (differences are noise only)")
    p = plt()
    fig, ax = p.subplots(figsize=(6, 3.5))
    ax.hist(z, bins=40, density=True, alpha=0.7, label="z = (D_7 - D_8)/sigma")
    xs = np.linspace(-4, 4, 200)
    ax.plot(xs, np.exp(-xs ** 2 / 2) / math.sqrt(2 * math.pi), "k-", label="N(0,1)")
    ax.set_xlabel("z")
    ax.legend()
    ax.set_title("reproducibility: independent seeds")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


def case_host_gpu(c):
    case = "host-gpu"
    r = c.sh([c.a.sabre, "info", "--json"], check=False)
    try:
        info = json.loads(r.stdout)
    except ValueError:
        info = {}
    devs = info.get("cuda_devices") or []
    if not devs:
        why = info.get("cuda_none_reason", "none found")
        c.row(case, "host vs GPU dose, chi2/dof", None, None, None, None, None, kind="guard",
              status=f"not run: no GPU ({why})")
        return
    help_ = c.sh([c.a.sabre, "simulate", "--help"], check=False).stdout
    if "--device" not in help_:
        c.row(case, "host vs GPU dose, chi2/dof", None, None, None, None, None, kind="guard",
              status="not run: this sabre has no `simulate --device`")
        return
    toml = os.path.join(c.tmp, "small_gpu.toml")
    with open(toml, "w") as f:
        f.write(SMALL_TOML)
    n = 200000 if c.quick else 2000000
    d = {}
    for dev, seed in (("cpu", 11), ("cuda:0", 12)):
        out = os.path.join(c.tmp, f"hg_{dev.replace(':', '')}.h5")
        c.sh([c.a.sabre, "--log-level", "warn", "simulate", toml, "--histories", n, "--seed", seed,
              "--device", dev, "-o", out])
        d[dev] = read_dose(out)
    (da, ua), (db, ub) = d["cpu"], d["cuda:0"]
    sel = (da > 0.2 * da.max()) & (db > 0) & (ua > 0) & (ub > 0)
    z = (da[sel] - db[sel]) / np.sqrt((ua[sel] * da[sel]) ** 2 + (ub[sel] * db[sel]) ** 2)
    chi = float(np.mean(z ** 2))
    c.row(case, f"host vs {devs[0].get('name', 'GPU')}: chi2/dof ({int(sel.sum())} voxels > 20 % of max)", 1.0,
          chi, chi - 1, "0.7 .. 1.4", 0.7 <= chi <= 1.4, kind="guard", mean_z=float(np.mean(z)), histories=n,
          reference_source="the host transport of the same problem")
    ratio = float(db[sel].sum() / da[sel].sum())
    c.row(case, "summed dose GPU / host", 1.0, ratio, ratio - 1, "0.005", abs(ratio - 1) <= 0.005, kind="guard",
          reference_source="the host transport of the same problem")


def linac_dose(c, extra, n, seed, out):
    r = c.sh([c.a.sabre, "--log-level", "warn", "linac", *extra, "--histories", int(n), "--seed", seed,
              "--threads", c.a.threads, "-o", out])
    return json.loads(r.stdout)


def case_linac_of(c):
    case = "linac-output-factors"
    fields = [2, 10] if c.quick else [2, 3, 5, 10, 15, 20]
    # Full mode: histories so that the 10 -> 15 -> 20 steps (expected +1-3 %) are resolved,
    # about 0.4 % (1 sigma) per output factor in the 4 x 4 cm region; small fields need fewer
    # (their steps are 5-10 %).
    full_n = {2: 1e6, 3: 1e6, 5: 2e6, 10: 8e6, 15: 1.4e7, 20: 2.4e7}
    res = {}
    for f in fields:
        n = 4e5 if c.quick else full_n[f]
        out = os.path.join(c.tmp, f"of{f}.h5")
        linac_dose(c, ["--field", f, f, "--ssd", 100, "--size", 30, 30, 30, "--voxel", 0.5, 0.5, 0.5], n,
                   300 + f, out)
        d, u = read_dose(out)  # [z, y, x]; beam along +y, surface at y = 0 of the box
        nz, ny, nx = d.shape
        xc = (np.arange(nx) + 0.5) * 0.5 - 15
        zc = (np.arange(nz) + 0.5) * 0.5 - 15
        h = min(2.0, f / 4)  # 4 x 4 cm from 8 cm fields up: same region for 10, 15, 20
        blk = d[:, 18:22, :][np.abs(zc) < h][:, :, np.abs(xc) < h]     # depth 9-11 cm
        ublk = u[:, 18:22, :][np.abs(zc) < h][:, :, np.abs(xc) < h]
        res[f] = (float(blk.mean()), float(math.sqrt(((ublk * blk) ** 2).sum()) / blk.sum()), int(n))
    ref = res[10]
    of = {f: (v[0] / ref[0], v[0] / ref[0] * math.hypot(v[1], ref[1]) if f != 10 else 0.0) for f, v in res.items()}
    for f in fields:
        c.row(case, f"output factor {f}x{f} cm2 (depth 10 cm, SSD 100, rel. to 10x10)", None, of[f][0], None, None,
              None, kind="guard", sigma=of[f][1], histories=res[f][2],
              reference_source="information: the uncommissioned model's output factor (no measured value compared)")
    for a, b in zip(fields, fields[1:]):
        step = of[b][0] - of[a][0]
        s = math.hypot(of[a][1], of[b][1]) if 10 not in (a, b) else (of[b][1] or of[a][1])
        c.row(case, f"OF({b}x{b}) - OF({a}x{a})", "> 0 (rises with field size)", step, step, "> 0", step > 0,
              kind="guard", sigma=s,
              reference_source="plausibility: output factors rise with field size (no measured value compared)")
    p = plt()
    fig, ax = p.subplots(figsize=(6, 3.5))
    ax.errorbar(fields, [of[f][0] for f in fields], yerr=[of[f][1] for f in fields], fmt="o-")
    ax.set_xlabel("square jaw field at isocentre [cm]")
    ax.set_ylabel("output factor (10 cm depth)")
    ax.set_title("TrueBeam HD120 6X-FFF (uncommissioned model)")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


def case_linac_mlc(c):
    case = "linac-mlc"
    n = 2e5 if c.quick else 2e6
    out = os.path.join(c.tmp, "mlc.json")
    c.sh(["/usr/bin/python3", os.path.join(HERE, "linac-mlc", "run.py"), c.a.sabre, "--parts", "1",
          "--histories", int(n), "--threads", c.a.threads, "--out", out], check=False)
    if not os.path.exists(out):
        raise RuntimeError("linac-mlc/run.py wrote no results")
    with open(out) as f:
        t = json.load(f)["transmission"]
    vals = []
    for m, v in t.items():
        lo, hi = v["documented_range"]
        tr, s = v["transmission"], v["transmission"] * v["rel_unc"]
        ok = lo <= tr <= hi
        tol = f"[{lo:g}, {hi:g}]"
        if c.quick:
            tol = f"quick: [{lo:g}, {hi:g}] +- 4 sigma ({4 * s:.4f})"
            ok = lo - 4 * s <= tr <= hi + 4 * s
        vals.append((m, tr, s))
        c.row(case, f"closed-leaf transmission, {m} (10x10 jaws, depth 5 cm)", f"{lo:g} .. {hi:g}", tr,
              None, tol, ok, kind="guard", sigma=s, histories=int(n),
              reference_source="the machine file's own documented range (collimator.MLCX.transmission_range); "
                               "the leaf transmission was commissioned to a published figure, so this is fit "
                               "quality, not validation")
    p = plt()
    fig, ax = p.subplots(figsize=(6, 3.5))
    ax.errorbar(range(len(vals)), [100 * v[1] for v in vals], yerr=[100 * v[2] for v in vals], fmt="o")
    ax.axhspan(1, 2, color="g", alpha=0.15, label="documented 1-2 %")
    ax.set_xticks(range(len(vals)))
    ax.set_xticklabels([v[0] for v in vals])
    ax.set_ylabel("transmission [%]")
    ax.legend()
    ax.set_title("closed-leaf MLC transmission")
    fig.tight_layout()
    fig.savefig(c.plot_path(case), dpi=100)


def case_gamma(c):
    case = "gamma-analytic"
    os.makedirs(c.plot_dir, exist_ok=True)
    r = c.sh(["/usr/bin/python3", os.path.join(HERE, "gamma-analytic", "run.py"), c.a.sabre, "--out", c.plot_dir],
             check=False)
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    if not rows:
        raise RuntimeError(f"no results ({r.returncode}): {r.stderr[-400:]}")
    for x in rows:
        c.row(case, f"{x['case']}: {x['quantity']}", x["reference"], x["sabre"], x["difference"], x["tolerance"],
              x["pass"], kind="tool", reference_source="closed-form gamma of analytic dose pairs (tests sabre compare, "
                                                       "not dose)")
    png = os.path.join(c.plot_dir, "gamma-analytic.png")
    if os.path.exists(png):
        c.plots[case] = os.path.relpath(png, c.a.out)


def case_slurm(c):
    case = "slurm"
    if c.quick:
        c.row(case, "SLURM array job + merge, MPI job vs a single run", None, None, None, None, None, kind="guard",
              status="not run in quick mode (starts a one-node SLURM cluster: validation/slurm/run.sh)")
        return
    r = c.sh(["bash", os.path.join(HERE, "slurm", "run.sh"), c.a.sabre], check=False)
    if r.returncode == 77:
        c.row(case, "SLURM array job + merge, MPI job vs a single run", None, None, None, None, None, kind="guard",
              status="not run: " + r.stdout.strip()[-200:])
        return
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    want = ["array job (4 parts) + dependent merge == single run", "MPI job (2 ranks) == single run"]
    have = {x["quantity"]: x for x in rows}
    for w in want:
        if w not in have:
            raise MissingRow(f"row '{w}' missing from validation/slurm/run.sh ({r.stderr.strip()[-300:]})")
        c.row(case, w, "single run, same seed", have[w]["detail"], None, "bit for bit", bool(have[w]["pass"]),
              kind="guard", reference_source="the same job as one process (exactness of parts and ranks)")


CASES = [("attenuation", case_attenuation), ("klein-nishina", case_klein_nishina),
         ("electron-csda", case_electron_csda), ("fano", case_fano), ("fano-interface", case_fano_interface),
         ("thin-layer", case_thin_layer), ("R1-water-6MV", case_r1),
         ("reproducibility", case_reproducibility), ("host-gpu", case_host_gpu),
         ("linac-output-factors", case_linac_of), ("linac-mlc", case_linac_mlc), ("gamma-analytic", case_gamma), ("slurm", case_slurm)]


# the class of a case's rows (a case that cannot run fails in its class)
CASE_KIND = {"attenuation": "independent", "klein-nishina": "independent", "electron-csda": "independent",
             "fano": "independent", "fano-interface": "independent", "thin-layer": "guard",
             "R1-water-6MV": "independent", "reproducibility": "guard", "host-gpu": "guard",
             "linac-output-factors": "guard", "linac-mlc": "guard", "gamma-analytic": "tool", "slurm": "guard"}

# ----------------------------------------------------------------------------- report

def git(*args):
    r = subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True)
    return r.stdout.strip()


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.node()}: {cpu}, {os.cpu_count()} CPU threads"


STORED_MARK = "## Long runs, stored (not re-run by this script)"


def stored_section():
    """Rows of the long validation runs that this script does not repeat (hours on 2 cores),
    read from their stored results.json, each labelled by what it is: a recovery of hidden
    values, fit quality (the data the model was fitted on: not validation), a match to a
    published figure the model was commissioned to (fit quality as well), or an acceptance
    test with its own verdict."""
    L = [STORED_MARK, "",
         "Each row comes from the results.json of the directory named, written by that directory's "
         "run.py (its README gives the command, the commit and the cost). **kind** says what a row "
         "proves: *recovery* compares fitted values with hidden ones the data were made from; *fit quality* "
         "compares a model with the very data it was fitted on (a guard on the fit, not validation); "
         "*commissioned to* compares a commissioned model with the published figure it was fitted to "
         "(fit quality too); *control* scores the hidden model itself against the same data (the floor the "
         "data's and the report runs' noise set: a fit-quality row the exact model misses too is the noise's); "
         "*paired* compares the fitted model with the hidden one in report runs that share their random "
         "numbers (a difference between the two models, with most of the report runs' noise cancelled); "
         "*acceptance* is a test with an independent repeat. In the three classes of the "
         "summary every row here is a **guard**: none compares sabre's dose with an independent reference "
         "(the acceptance rows repeat a run, or compare a width with the collimator's nominal size). They "
         "are not counted in the summary above.", "",
         "| directory | kind | quantity | reference | sabre | difference | tolerance | pass/fail |",
         "|---|---|---|---|---|---|---|---|"]

    def load(d):
        p = os.path.join(HERE, d, "results.json")
        return json.load(open(p)) if os.path.exists(p) else None

    def pf(v):
        return "" if v is None else ("pass" if v else "**FAIL**")

    n = 0

    def recovery_row(kind, quantity, reference, value, difference, tolerance, verdict):
        nonlocal n
        q = quantity.replace("|", "\\|")
        L.append(f"| commissioning-recovery | {kind} | {q} | {fmt(reference)} | {fmt(value)} | {fmt(difference)} | "
                 f"{fmt(tolerance)} | {verdict} |")
        n += 1

    def within(ok):
        return "within" if ok else "beyond"

    rec = load("commissioning-recovery")
    if rec:
        for r in rec["rows"]:
            recovery_row(r["kind"], r["quantity"], r["reference"], r["sabre"], r["difference"], r["tolerance"],
                         pf(r["pass"]))
        # The hidden model itself scored against the same data: what the exact model gets at
        # the data's and the report runs' noise (informational: it tests the noise, not sabre).
        for r in rec.get("control", {}).get("rows", []):
            recovery_row("control", "the hidden model itself: " + r["quantity"], r["reference"], r["sabre"],
                         r["difference"], r["tolerance"], within(r["pass"]))
        # The 30 x 30 cm2 curves alone, the hidden and the fitted model at common seeds
        # (paired_penumbra.py): the hidden model's own 20 cm penumbra against the data (control),
        # and the fitted model's against the hidden model's of the same seed (paired).
        for r in rec.get("paired_penumbra", {}).get("rows", []):
            if r["depth_cm"] != 20:
                continue
            data, hidden, fitted = r["data_penumbra_cm"], r["hidden_penumbra_cm"], r["fitted_penumbra_cm"]
            recovery_row("control", f"the hidden model itself, 30 x 30 cm2 curves alone, seed {r['seed']}: 80-20 % "
                         "penumbra at 20 cm [cm]", data, hidden, hidden - data, 0.1, within(abs(hidden - data) <= 0.1))
            recovery_row("paired", f"the fitted model against the hidden model at seed {r['seed']} (common random "
                         "numbers): 80-20 % penumbra at 20 cm [cm]", hidden, fitted, fitted - hidden, 0.1,
                         within(abs(fitted - hidden) <= 0.1))
        # Every fit-quality row, the fitted model against the hidden one on all the data's
        # set-ups at common seeds (paired_rows.py): the worst difference per row.
        pr = rec.get("paired_rows", {})
        labels = {"pdd": "depth dose beyond d_max, worst |difference| [fraction of the maximum]",
                  "dmax_cm": "d_max, worst |difference| [cm]",
                  "field_size_cm": "inflection field size, worst |difference| [cm]",
                  "penumbra_cm": "80-20 % penumbra, worst |difference| [cm]",
                  "of": "output factors 2 x 2 to 30 x 30 cm2, worst |fitted / hidden - 1|",
                  "of_small": "output factor 1 x 1 cm2, |fitted / hidden - 1|"}
        for seed, s in pr.get("seeds", {}).items():
            for key, label in labels.items():
                v = s["paired"][key]
                tol = pr["tolerances"][key]
                recovery_row("paired", f"the fitted model against the hidden model, all set-ups, seed {seed} (common "
                             f"random numbers): {label} ({v['where']})", 0, v["value"], v["value"], tol,
                             within(abs(v["value"]) <= tol))
    tb = load("commissioning-truebeam")
    if tb:
        for cs in tb["cases"]:
            if "published_pdd10_percent" in cs:
                a = cs["after"]
                lo, hi = cs["published_dmax_range_cm"]
                L.append(f"| commissioning-truebeam | commissioned to | {cs['case']}: PDD(10) [%] | "
                         f"{fmt(cs['published_pdd10_percent'])} | {fmt(a['pdd10_percent'])} | "
                         f"{fmt(a['pdd10_percent'] - cs['published_pdd10_percent'])} | 0.7 | "
                         f"{pf(abs(a['pdd10_percent'] - cs['published_pdd10_percent']) <= 0.7)} |")
                L.append(f"| commissioning-truebeam | commissioned to | {cs['case']}: d_max [cm] | {lo}-{hi} | "
                         f"{fmt(a['dmax_cm'])} | | inside | {pf(lo <= a['dmax_cm'] <= hi)} |")
                n += 2
            else:
                f = cs["final"]
                t = cs["published_transmission_percent"]
                L.append(f"| commissioning-truebeam | commissioned to | {cs['case']}: transmission [%] | {fmt(t)} | "
                         f"{fmt(100 * f['transmission'])} | {fmt(100 * f['transmission'] - t)} | 0.2 | "
                         f"{pf(abs(100 * f['transmission'] - t) <= 0.2)} |")
                n += 1
                if cs.get("published_dlg_mm") is not None:
                    g = cs["published_dlg_mm"]
                    L.append(f"| commissioning-truebeam | commissioned to | {cs['case']}: DLG [mm] | {fmt(g)} | "
                             f"{fmt(f['dlg_mm'])} | {fmt(f['dlg_mm'] - g)} | 0.2 | {pf(abs(f['dlg_mm'] - g) <= 0.2)} |")
                    n += 1
    ck = load("cyberknife-collimators")
    if ck and "cones" in ck:
        cones = ck["cones"]["by_size_mm"]
        for c in ("5", "7.5", "10"):
            r = cones[c]
            for det, ref in r["published"].items():
                if det not in ("microMOSFET_RADPOS", "Al2O3C_RL_fibre"):
                    continue
                d = r["of"] / ref - 1
                L.append(f"| cyberknife-collimators | fit quality | {c} mm cone output factor (60 mm = 1), {det} | "
                         f"{fmt(ref)} | {fmt(r['of'])} | {fmt(d)} | 0.03 | {pf(abs(d) <= 0.03)} |")
                n += 1
        for c, r in cones.items():
            w = r["radial"]["width_mm"]
            L.append(f"| cyberknife-collimators | acceptance | {c} mm cone 50 % width at 1.5 cm [mm] | {c} | {fmt(w)} | "
                     f"{fmt(w - float(c))} | 0.3 | {pf(abs(w - float(c)) <= 0.3)} |")
            n += 1
        for c, r in ck.get("iris", {}).get("by_size_mm", {}).items():
            L.append(f"| cyberknife-collimators | acceptance | Iris {c} mm / cone {c} mm, axis dose | 1 | "
                     f"{fmt(r['axis_ratio_to_cone'])} | {fmt(r['axis_ratio_to_cone'] - 1)} | 0.01 | "
                     f"{pf(abs(r['axis_ratio_to_cone'] - 1) <= 0.01)} |")
            for ax in ("x", "z"):
                dw = r[ax]["delta_width_to_cone_mm"]
                L.append(f"| cyberknife-collimators | acceptance | Iris {c} mm - cone, 50 % width along {ax} [mm] | 0 | "
                         f"{fmt(dw)} | {fmt(dw)} | 0.3 | {pf(abs(dw) <= 0.3)} |")
            n += 3
        inc = ck.get("incise")
        if inc:
            for k, v in inc["field_2x2"]["edge_minus_nominal_mm"].items():
                L.append(f"| cyberknife-collimators | acceptance | InCise 2 x 2 cm2 edge {k} - nominal [mm] | 0 | {fmt(v)} | "
                         f"{fmt(v)} | 0.5 | {pf(abs(v) <= 0.5)} |")
                n += 1
            t = inc["transmission"]
            L.append(f"| cyberknife-collimators | acceptance | InCise closed-leaf transmission (range assumed, see README) | "
                     f"{fmt(t['range'][0])}-{fmt(t['range'][1])} | {fmt(t['value'])} | | inside | {pf(t['inside_range'])} |")
            n += 1
    cal = load("linac-calibration")
    if cal and "accepted" in cal:
        L.append(f"| linac-calibration | acceptance | reference field as a plan vs the calibration, relative "
                 f"(combined 1 sigma {fmt(cal['combined_rel_uncertainty'])}; needs <= 0.0015) | 0 | "
                 f"{fmt(cal['relative_difference'])} | {fmt(cal['relative_difference'])} | 0.003 | "
                 f"{'pass' if cal['accepted'] else 'not demonstrated' if not cal['sigma_at_most_0.15_percent'] else '**FAIL**'} |")
        n += 1
    return L if n else []


def class_counts(rows):
    """{kind: (checked, passed, failed, informational)} of the rows."""
    out = {}
    for k in ("independent", "guard", "tool"):
        rs = [r for r in rows if r["kind"] == k]
        ck = [r for r in rs if r["pass"] is not None]
        nf = sum(1 for r in ck if r["pass"] is False)
        out[k] = (len(ck), len(ck) - nf, nf, len(rs) - len(ck))
    return out


def write_report(c, wall, times, loads, started):
    rows = c.rows
    checked = [r for r in rows if r["pass"] is not None]
    failed = [r for r in checked if r["pass"] is False]
    commit = c.commit
    mode = "quick" if c.quick else "full"
    cc = class_counts(rows)
    L = [f"# sabre validation report ({mode} mode)", "",
         f"- date: {started} (UTC); wall time {wall / 60:.1f} min",
         f"- commit: {commit}; executable `{os.path.relpath(c.a.sabre, ROOT) if c.a.sabre.startswith(ROOT) else c.a.sabre}`",
         f"- machine: {machine()}; load average at start / end: {loads[0]:.1f} / {loads[1]:.1f} "
         f"(shared machine), sabre threads: {c.a.threads or 'all'}",
         f"- command: `validation/run.py --{mode}" + (f" --fano-scale {c.a.fano_scale:g}" if not c.quick else "")
         + (f" --r1-minutes {c.a.r1_minutes:g}" if not c.quick and not c.a.r1_files else "")
         + (f" --r1-files '{c.a.r1_files}'" if c.a.r1_files else "") + "`",
         "- inputs: this repository and ../shared/data/reference only"
         + (f" (and the R1 pieces `{c.a.r1_files}`)" if c.a.r1_files else ""),
         "",
         "## Summary", "",
         "Three classes, counted apart (a row's class is in the `class` column of the results):", "",
         "| class | what the rows compare | checked | pass | fail | informational |", "|---|---|---|---|---|---|"]
    what = {"independent": "sabre against a reference outside the code: another transport code (EGSnrc), "
                           "NIST data, an analytic result or a theorem",
            "guard": "sabre against itself: density scaling with the same random numbers, shorter steps, "
                     "another seed or thread count, plausibility (output factors rise), a commissioned value "
                     "against its own window",
            "tool": "the analysis tools (gamma of `sabre compare`), not dose"}
    for k in ("independent", "guard", "tool"):
        n, p_, f_, i_ = cc[k]
        L.append(f"| **{KIND_TITLE[k]}** | {what[k]} | {n} | {p_} | {f_} | {i_} |")
    L += ["",
          f"- result: **{cc['independent'][1]} of {cc['independent'][0]} independent comparisons pass; "
          f"{cc['guard'][1]} of {cc['guard'][0]} guards; {cc['tool'][1]} of {cc['tool'][0]} tool checks**"
          + (" (failing: " + ", ".join(sorted({r['case'] for r in failed})) + ")" if failed else ""),
          "",
          "Each case directory (validation/<case>/README.md) gives the input, the reference and where it "
          "comes from, and the tolerance; the `compared with` column names the reference of every row. "
          "The figures of the Catch2 cases are written by the tests themselves as JSON rows "
          "(tests/support/evidence.hh: value, sigma, tolerance and verdict are the test's own); a row "
          "this script expects and does not find fails its case. Rows with an empty pass column are "
          "informational. In quick mode the statistical tolerances are loosened where the row says "
          "\"quick: ...\" or \"4 sigma\"; only the full mode tests the acceptance tolerances.", "",
          "| case | class | checked | pass | fail | wall time [s] |", "|---|---|---|---|---|---|"]
    for name, _ in CASES:
        rs = [r for r in rows if r["case"] == name]
        if name not in times and not rs:
            continue
        ck = [r for r in rs if r["pass"] is not None]
        nf = sum(1 for r in ck if r["pass"] is False)
        status = ""
        if not ck and rs:
            status = " (" + "; ".join(str(r.get("status", "informational")) for r in rs[:1]) + ")"
        kinds = "/".join(k for k in ("independent", "guard", "tool") if any(r["kind"] == k for r in rs))
        L.append(f"| {name}{status} | {kinds} | {len(ck)} | {len(ck) - nf} | {nf} | {times.get(name, 0):.0f} |")
    L += ["", "## Results", "",
          "| case | class | quantity | compared with | reference | sabre | difference | tolerance | pass/fail |",
          "|---|---|---|---|---|---|---|---|---|"]
    last_src = {}
    for r in rows:
        pf = "" if r["pass"] is None else ("pass" if r["pass"] else "**FAIL**")
        extra = []
        for k in ("block", "sigma", "sigma_rel", "combined_1sigma", "mean_combined_1sigma", "z", "chi2", "dof",
                  "histories", "wall_seconds", "sabre_commits", "status", "error"):
            if k in r and r[k] is not None and not (k.startswith("sigma") and r[k] == 0):
                extra.append(f"{k} {fmt(r[k])}")
        q = (r["quantity"] + (f" ({'; '.join(extra)})" if extra else "")).replace("|", "\\|")
        src = r.get("reference_source") or ""
        shown = src if (not src or last_src.get(r["case"]) != src) else "〃"
        last_src[r["case"]] = src
        L.append(f"| {r['case']} | {r['kind']} | {q} | {shown.replace('|', '/')} | {fmt(r['reference'])} | "
                 f"{fmt(r['sabre'])} | {fmt(r['difference'])} | {fmt(r['tolerance'])} | {pf} |")
    L += ["", "## Plots", ""]
    for name, _ in CASES:
        if name in c.plots:
            L += [f"### {name}", "", f"![{name}]({c.plots[name]})", ""]
    L += stored_section()
    os.makedirs(c.a.out, exist_ok=True)
    with open(os.path.join(c.a.out, "REPORT.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    with open(os.path.join(c.a.out, "results.json"), "w") as f:
        json.dump({"mode": mode, "commit": commit, "date": started, "wall_seconds": wall,
                   "classes": {k: dict(zip(("checked", "pass", "fail", "informational"), v)) for k, v in cc.items()},
                   "rows": rows}, f, indent=1, default=float)
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required="--stored-only" not in sys.argv)
    g.add_argument("--quick", action="store_true", help="CI mode: a few minutes on 2 cores")
    g.add_argument("--full", action="store_true", help="full mode: < 1 h on 2 cores")
    ap.add_argument("--sabre", default=os.environ.get("SABRE_EXE", ""))
    ap.add_argument("--build-dir", default=os.environ.get("SABRE_BINARY_DIR", ""),
                    help="build tree with tests/sabre_*_tests (default: the sabre executable's directory)")
    ap.add_argument("--out", default=HERE, help="where REPORT.md, results.json and plots/ go (default validation/)")
    ap.add_argument("--threads", type=int, default=0, help="sabre threads (0: all)")
    ap.add_argument("--r1-minutes", type=float, default=25.0, help="full mode: wall-time budget of the R1 runs")
    ap.add_argument("--r1-piece", type=int, default=5000000, help="full mode: histories per R1 run (seeds 602, ...)")
    ap.add_argument("--r1-quick-histories", type=int, default=2000000)
    ap.add_argument("--r1-files", default="",
                    help="R1: compare these pieces (a glob of sabre simulate R1.toml outputs) instead of running")
    ap.add_argument("--fano-scale", type=float, default=1.0,
                    help="full mode: SABRE_FANO_SCALE of the long Fano test (1 = 4e6 / 2e6 histories)")
    ap.add_argument("--fano-interface-n", type=int, default=1600000,
                    help="full mode: histories of the Fano interface test (1 sigma ~0.15 %%; quick: the test's 2e5)")
    ap.add_argument("--cases", default="", help="comma-separated subset")
    ap.add_argument("--stored-only", action="store_true",
                    help="only rewrite the stored long runs' section of the existing REPORT.md in --out")
    a = ap.parse_args()
    if a.stored_only:
        p = os.path.join(os.path.abspath(a.out), "REPORT.md")
        text = open(p).read()
        text = text.split(STORED_MARK)[0].rstrip("\n") + "\n\n"
        with open(p, "w") as f:
            f.write(text + "\n".join(stored_section()) + "\n")
        return
    if not a.sabre:
        a.sabre = os.path.join(ROOT, "build", "sabre")
    a.sabre = os.path.abspath(a.sabre)
    if not os.path.exists(a.sabre):
        print(f"no sabre executable at {a.sabre} (--sabre)", file=sys.stderr)
        sys.exit(2)
    if not a.build_dir:
        a.build_dir = os.path.dirname(a.sabre)
    a.out = os.path.abspath(a.out)
    want = set(a.cases.split(",")) if a.cases else None
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    # the commit the sabre binary was built from (sabre --version) and the checkout's HEAD at the start
    ver = subprocess.run([a.sabre, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"commit: (\S+)", ver)
    built = (m.group(1)[:7] + ("-dirty" if m.group(1).endswith("-dirty") else "")) if m else "unknown"
    head = git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    commit_text = f"sabre built from {built} (`sabre --version`); checkout HEAD at the start {head}"
    load0 = os.getloadavg()[0]
    t0 = time.time()
    times = {}
    with tempfile.TemporaryDirectory(prefix="sabre-validation-") as tmp:
        c = Ctx(a, tmp)
        c.commit = commit_text
        if os.path.isdir(c.plot_dir):
            for p in glob.glob(os.path.join(c.plot_dir, "*.png")):
                os.remove(p)
        for name, fn in CASES:
            if want and name not in want:
                continue
            ts = time.time()
            print(f"# case {name} ...", flush=True)
            try:
                fn(c)
            except Exception as e:  # a case that cannot run is a failure, listed as such
                print(f"# case {name} FAILED: {e}", file=sys.stderr, flush=True)
                c.row(name, "case ran", None, None, None, None, False, kind=CASE_KIND[name], error=str(e)[:400])
            times[name] = time.time() - ts
            print(f"# case {name}: {times[name]:.0f} s", flush=True)
        failed = write_report(c, time.time() - t0, times, (load0, os.getloadavg()[0]), started)
    print(f"# wrote {os.path.join(a.out, 'REPORT.md')}: {len(failed)} failing quantities, "
          f"{(time.time() - t0) / 60:.1f} min", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
