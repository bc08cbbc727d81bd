#!/usr/bin/python3
"""Synthetic water-tank measurements made by sabre itself from a hidden beam model, for the
commissioning recovery test (issue 16, acceptance 1; README.md of this directory).

1. The hidden model: the bundled truebeam-hd120.toml with its 6X-FFF beam changed (not the
   defaults): focal-spot sigma 0.075 cm (file 0.035; midway between two nodes of the spot
   stage's sigma grid 0, 0.03, ..., 0.12 cm, where its interpolation is worst), extra-focal weight 0.070 (0.040),
   electron weight 0.003 (0.005) with mean 1.0 MeV (1.5), the spectrum multiplied by
   1 + 0.3 (E / 6 MeV - 0.3) (harder; mean energy printed), the off-axis fluence times
   (1 - 0.004 r).
2. `sabre commission --forward` computes the hidden model at every point of the data set
   (SSD 100 cm, water), one field at a time with its own number of histories, with the
   read-out of the forward model (engine/commission/water_run.cc, docs/commissioning.md):
   depth doses and profiles seen by a 0.125 cm3 thimble chamber ("CC13": a cylinder of
   radius 0.3 cm, chord-length kernel across profiles), output factors by a point detector
   ("diode") at 10 cm depth, relative to the 10 x 10 cm2 field.
3. Noise: each point times (1 + 0.003 N(0, 1)) (fixed seed), on top of the run's own
   statistics. Each point's total 1-sigma, the 0.3 % and the run's own Monte Carlo 1-sigma
   (which --forward writes: the batch method on the read-out since 2026-12-05) in quadrature, goes into measured.csv's sigma_rel column, which
   the fit uses in place of its stated --measurement-uncertainty (until 2026-12-04 the fit
   was told 0.3 % while the profiles' Monte Carlo noise was larger).

4. Each field's forward run is kept in OUT_DIR/forward-runs/, named by a hash of everything
   that decides it (the hidden model, the field's template, its histories and seed, the
   executable's --version), and reused when present: a long data set (--histories-scale 10 is
   ~2.2 h on 2 cores) can be made over several sessions, a killed run losing only its current
   field. The noise is drawn afterwards in the same order, so a resumed set is the same to the
   last digit as one made at once.

Usage: make_measurements.py SABRE_EXE OUT_DIR [--histories-scale S] [--threads T] [--machine FILE]
                            [--fields LIST] [--seed K]
Writes OUT_DIR/hidden.toml, OUT_DIR/measured.csv (docs/beam-data.md) and OUT_DIR/truth.json.
"""
import hashlib
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# The hidden focal-spot sigma [cm]: between the spot stage's grid nodes (0.06 until
# 2026-12-04, a node, which the fit returned to the last bit).
HIDDEN_SIGMA_CM = 0.075

# The noise added to each point (relative 1-sigma).
NOISE_REL = 0.003

# Fields [cm], what is measured, histories (x --histories-scale).
DATA_SET = [
    # (fx, fy, pdd, profile depths (crossplane), inplane at 10, diagonal at 10, histories)
    (1, 1, False, [10], False, False, 2e7),
    (2, 2, False, [10], False, False, 2e7),
    (3, 3, True, [1.5, 10], False, False, 3e7),
    (5, 5, False, [10], False, False, 2e7),
    (10, 10, True, [1.5, 10, 20], True, False, 6e7),
    (20, 20, False, [10], False, False, 4e7),
    (30, 30, True, [1.5, 10, 20], True, True, 1e8),
    # The X x Y / Y x X pair is what the backscatter stage fits, as a ratio: 1e7 histories each
    # (before 2026-12-04) gave each output factor 1.5-1.7 % of Monte Carlo noise, more than
    # the 1 % the fit-quality row asks; 1e8 gives about 0.55 %.
    (5, 20, False, [], False, False, 1e8),
    (20, 5, False, [], False, False, 1e8),
]


def beam_block(text, name="6X-FFF"):
    """(start, end) of beam `name`'s block in a machine file's text: from its name line to the
    next [[beam]] (or the end)."""
    start = text.index(f'name = "{name}"')
    end = text.find("[[beam]]", start)
    return start, len(text) if end < 0 else end


def _section(block, section):
    """(start, end) within `block` of `[section]` up to the next table header, or all of it."""
    if section is None:
        return 0, len(block)
    i = block.index(f"[{section}]")
    j = block.find("\n[", i + 1)
    return i, len(block) if j < 0 else j + 1


def set_tagged(block, key, value, section=None):
    """`block` with the value of its one `key = { value = V, ...}` line (in `[section]` when
    given) replaced by `value` as Python prints it."""
    i, j = _section(block, section)
    part, n = re.subn(rf"(^{re.escape(key)} = \{{ value = )[^,]+", lambda m: m.group(1) + f"{value}", block[i:j],
                      flags=re.M)
    if n != 1:
        sys.exit(f"{os.path.basename(sys.argv[0])}: '{key}' is not once in the beam's "
                 f"{'[' + section + ']' if section else 'block'}")
    return block[:i] + part + block[j:]


def get_array(block, key):
    """The numbers of the first `key = [...]` line of `block`."""
    m = re.search(rf"^{re.escape(key)} = \[([^\]]*)\]", block, re.M)
    if not m:
        sys.exit(f"{os.path.basename(sys.argv[0])}: no '{key}' array in the beam's block")
    return [float(v) for v in m.group(1).split(",")]


def set_array(block, key, values, fmt):
    """`block` with its first `key = [...]` line holding `values`, each written with `fmt`."""
    get_array(block, key)  # present, or a message
    return re.sub(rf"^{re.escape(key)} = \[[^\]]*\]", lambda m: f"{key} = [" + ", ".join(fmt % v for v in values) + "]",
                  block, count=1, flags=re.M)


def hidden_machine(src, out):
    text = open(src).read()
    start, end = beam_block(text)
    b = text[start:end]
    b = set_tagged(b, "sigma_x_cm", HIDDEN_SIGMA_CM)
    b = set_tagged(b, "sigma_y_cm", HIDDEN_SIGMA_CM)
    b = set_tagged(b, "weight", 0.07, "beam.extrafocal")
    b = set_tagged(b, "weight", 0.003, "beam.electron")
    b = set_tagged(b, "mean_energy_mev", 1.0, "beam.electron")
    e, w = get_array(b, "energies_mev"), get_array(b, "weights")
    w2 = [wi * (1 + 0.3 * (ei / 6.0 - 0.3)) for ei, wi in zip(e, w)]
    b = set_array(b, "weights", w2, "%.6g")
    r, f = get_array(b, "fluence_r_cm"), get_array(b, "fluence_rel")
    f2 = [fi * (1 - 0.004 * ri) for ri, fi in zip(r, f)]
    b = set_array(b, "fluence_rel", f2, "%.6g")
    text = text[:start] + b + text[end:]
    text = text.replace('name = "TrueBeam-HD120"', 'name = "TrueBeam-HD120-hidden"', 1)
    open(out, "w").write(text)
    s = sum(w2)
    return {"sigma_cm": HIDDEN_SIGMA_CM, "extrafocal_weight": 0.07, "electron_weight": 0.003, "electron_mean_mev": 1.0,
            "spectrum_mean_mev": sum(ei * wi for ei, wi in zip(e, w2)) / s,
            "spectrum_mean_before_mev": sum(ei * wi for ei, wi in zip(e, w)) / sum(w)}


def depths():
    """Depth-dose points: every 1 mm to 3 cm, then every 2.5 mm to 25 cm."""
    return [round(0.1 * i, 4) for i in range(1, 31)] + [round(3 + 0.25 * i, 4) for i in range(1, 89)]


def positions(edge, lim):
    """Profile points: every 1 mm within 1.5 cm of an edge, every 5 mm elsewhere, to +-lim."""
    pts = set()
    x = 0.0
    while x <= lim + 1e-9:
        pts.add(round(x, 4))
        x += 0.1 if abs(x - edge) < 1.5 else 0.5
    pts |= {round(edge + 0.1 * i, 4) for i in range(-15, 16) if 0 <= edge + 0.1 * i <= lim}
    return sorted({-p for p in pts} | pts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("out")
    ap.add_argument("--histories-scale", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fields", default="", help="only these fields, e.g. 10x10,30x30 (testing)")
    ap.add_argument("--seed", type=int, default=1000, help="first run seed (default 1000)")
    ap.add_argument("--machine", default=os.path.join(ROOT, "beams", "machines", "truebeam-hd120.toml"),
                    help="machine file the hidden model is derived from (default: the bundled TrueBeam HD120)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    machine = os.path.join(a.out, "hidden.toml")
    truth = hidden_machine(a.machine, machine)
    hidden_text = open(machine).read()
    version = subprocess.run([a.exe, "--version"], capture_output=True, text=True).stdout
    kept = os.path.join(a.out, "forward-runs")
    os.makedirs(kept, exist_ok=True)
    rng = np.random.default_rng(20261203)
    header = ["# sabre-beam-data/1", "kind,axis,field_x_cm,field_y_cm,ssd_cm,depth_cm,detector,position_cm,value"]
    columns = "kind,axis,field_x_cm,field_y_cm,ssd_cm,depth_cm,detector,position_cm,value,sigma_rel"
    rows = ["# sabre-beam-data/1", "# synthetic: sabre commission --forward with " + os.path.basename(machine) +
            " (validation/commissioning-recovery/make_measurements.py)",
            "# sigma_rel: each point's 1-sigma, the added noise and the generator run's own Monte Carlo 1-sigma",
            columns]
    noise = lambda v: v * (1 + NOISE_REL * rng.normal())
    only = {f.strip() for f in a.fields.split(",") if f.strip()}
    of_raw = {}
    runs = []
    for k, (fx, fy, pdd, pdepths, inplane, diagonal, hist) in enumerate(DATA_SET):
        if only and f"{fx}x{fy}" not in only:
            continue
        tmpl = []
        if pdd:
            tmpl += [f"depth_dose,,{fx},{fy},100,,CC13,{d},1" for d in depths()]
        for depth in pdepths:
            scale = (100 + depth) / 100
            for axis_name, on in (("crossplane", True), ("inplane", inplane and depth == 10),
                                  ("diagonal", diagonal and depth == 10)):
                if not on:
                    continue
                f = fx if axis_name == "crossplane" else fy if axis_name == "inplane" else min(fx, fy) * np.sqrt(2)
                edge = 0.5 * f * scale
                lim = edge + min(5.0, max(2.0, 0.3 * f))
                tmpl += [f"profile,{axis_name},{fx},{fy},100,{depth},CC13,{p},1" for p in positions(edge, lim)]
        tmpl.append(f"output_factor,,{fx},{fy},100,10,diode,,1")
        t_path = os.path.join(a.out, f"template{k}.csv")
        template = "\n".join(header + tmpl) + "\n"
        n_hist = max(100000, int(hist * a.histories_scale))
        key = hashlib.sha256("\0".join([hidden_text, template, str(n_hist), str(a.seed + k), version]).encode()).hexdigest()[:16]
        f_path = os.path.join(kept, f"{fx}x{fy}-{key}.csv")
        meta_path = f_path[:-4] + ".json"
        if os.path.exists(f_path) and os.path.exists(meta_path):
            runs.append(json.load(open(meta_path)))
            print(f"{fx} x {fy}: {n_hist} histories, kept from {os.path.relpath(f_path, a.out)}", flush=True)
        else:
            with open(t_path, "w") as f:
                f.write(template)
            part = f_path + ".part"
            cmd = [a.exe, "--log-level", "warn", "commission", machine, "--beam", "6X-FFF", "--measured", t_path,
                   "--forward", part, "--histories", str(n_hist), "--seed", str(a.seed + k), "--no-cache",
                   "--device", f"cpu:{a.threads}"]
            t0 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{' '.join(cmd)}: {r.stderr}")
            os.remove(t_path)
            os.replace(part, f_path)
            run = {"field_cm": [fx, fy], "histories": n_hist, "seconds": round(time.time() - t0, 1)}
            with open(meta_path, "w") as f:
                json.dump(run, f)
            runs.append(run)
            print(f"{fx} x {fy}: {n_hist} histories, {time.time() - t0:.0f} s", flush=True)
        for line in open(f_path).read().splitlines():
            if not line.strip() or line.startswith("#") or line.startswith("kind,"):
                continue
            parts = line.split(",")  # the nine columns, then sigma_rel (the run's own 1-sigma)
            mc = float(parts[9]) if len(parts) > 9 and parts[9] else 0.0
            if parts[0] == "output_factor":
                of_raw[(fx, fy)] = (float(parts[8]), mc)
                continue
            parts[8] = f"{noise(float(parts[8])):.7g}"
            parts = parts[:9] + [f"{np.hypot(NOISE_REL, mc):.4g}"]
            rows.append(",".join(parts))
    ref, ref_mc = of_raw.get((10, 10), (None, 0.0))
    for (fx, fy), (v, mc) in of_raw.items():
        rel = v / ref if ref else v
        # The ratio's Monte Carlo 1-sigma (none for the reference field itself), and the noise.
        mc_rel = 0.0 if (fx, fy) == (10, 10) else float(np.hypot(mc, ref_mc))
        rows.append(f"output_factor,,{fx},{fy},100,10,diode,,{noise(rel):.7g},{np.hypot(NOISE_REL, mc_rel):.4g}")
    with open(os.path.join(a.out, "measured.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    truth["generator_runs"] = runs
    truth["generator_version"] = version.strip().splitlines()[:2]
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
    print(json.dumps(truth))


if __name__ == "__main__":
    main()
