#!/usr/bin/env python3
"""Step-size convergence of the electron transport (validation/step-convergence/README.md).

usage: run.py SABRE_EXE [--histories N] [--pieces K] [--threads T] [--out results.json]
               [--extend results.json] [--reanalyse results.json]
               [--rerun default --base results.json --out new.json]

Runs mini-R1.toml with the default step control and with steps 5-10 times shorter
(estepe 0.05, msc_g1_max 0.02), and, for information, the default steps with the
first-moment multiple-scattering model. Each configuration is K independent pieces
(seeds differ); the depth dose is the mean over the central 7 x 7 voxels (3.5 x 3.5 cm2),
normalised to its mean over 1.5-2.5 cm depth; its standard error comes from the spread
of the pieces. Criterion, fixed before the run: at every depth the default differs from
the short steps by less than 0.5 % + 2 sigma (sigma of the difference, which must be
<= 0.35 % for the verdict to count): half of R1's 1 % acceptance, plus noise.
Exit code 0 when the criterion holds, 1 when not.
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = {
    "default": {},
    "short_steps": {"estepe": 0.05, "msc_g1_max": 0.02},
    "first_moment": {"msc_two_moments": "false"},
}
SEED0 = {"default": 100, "short_steps": 300, "first_moment": 500}


def profile(path):
    import h5py
    with h5py.File(path, "r") as f:
        d = f["dose/dose"][...]  # (z, y, x)
    p = d[:, 12:19, 12:19].mean(axis=(1, 2))
    return p / p[6:10].mean()


def run_config(exe, name, histories, pieces, threads, work, first=0):
    base = open(os.path.join(HERE, "mini-R1.toml")).read()
    extra = "".join(f"{k} = {v}\n" for k, v in CONFIGS[name].items())
    toml = os.path.join(HERE, f".{name}.toml")  # beside mini-R1.toml: the spectrum path is relative
    with open(toml, "w") as f:
        f.write(base + extra)
    profs = []
    try:
        for k in range(first, first + pieces):
            out = os.path.join(work, f"{name}_{k}.h5")
            subprocess.run([exe, "simulate", toml, "--histories", str(histories), "--seed",
                            str(SEED0[name] + k), "--threads", str(threads), "-o", out],
                           check=True, stdout=subprocess.DEVNULL)
            profs.append(profile(out).tolist())
    finally:
        os.remove(toml)
    return profs


def analyse(res):
    z = 0.125 + 0.25 * np.arange(16)
    ref = np.array(res["profiles"]["short_steps"])
    rm, rs = ref.mean(0), ref.std(0, ddof=1) / np.sqrt(len(ref))
    ok = True
    rows = {}
    for name in ("default", "first_moment"):
        g = np.array(res["profiles"][name])
        gm, gs = g.mean(0), g.std(0, ddof=1) / np.sqrt(len(g))
        d = gm / rm - 1
        s = np.hypot(gs / gm, rs / rm)
        rows[name] = {"diff": d.tolist(), "sigma": s.tolist()}
        if name == "default":
            ok = bool(np.all(np.abs(d) < 0.005 + 2 * s) and np.all(s <= 0.0035))
    print("depth [cm]   short steps (rel. dose)   default - short [%]   first moment - short [%]")
    for k in range(16):
        print(f"{z[k]:6.3f}   {rm[k]:.4f} +- {100*rs[k]/rm[k]:.2f} %      "
              f"{100*rows['default']['diff'][k]:+6.2f} +- {100*rows['default']['sigma'][k]:.2f}"
              f"        {100*rows['first_moment']['diff'][k]:+6.2f} +- {100*rows['first_moment']['sigma'][k]:.2f}")
    print("criterion |default - short| < 0.5 % + 2 sigma at every depth, sigma <= 0.35 %:",
          "PASS" if ok else "FAIL")
    res["comparison"] = rows
    res["pass"] = ok
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sabre", nargs="?")
    ap.add_argument("--histories", type=float, default=1e7)
    ap.add_argument("--pieces", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--reanalyse")
    ap.add_argument("--extend", help="add --pieces more pieces (next seeds) to this results file")
    ap.add_argument("--rerun", help="comma-separated configurations to run again (as many pieces as --base "
                    "holds, same seeds) with SABRE_EXE, keeping --base's other profiles (e.g. a new default "
                    "against the saved short-step reference); written to --out")
    ap.add_argument("--base", help="the results file --rerun starts from")
    a = ap.parse_args()
    if a.reanalyse:
        res = json.load(open(a.reanalyse))
    elif a.rerun:
        if not a.sabre or not a.base:
            ap.error("--rerun needs SABRE_EXE and --base")
        if os.path.abspath(a.out) == os.path.abspath(a.base):
            ap.error("--out must differ from --base")
        res = json.load(open(a.base))
        with tempfile.TemporaryDirectory() as work:
            for name in a.rerun.split(","):
                if name not in CONFIGS:
                    ap.error(f"unknown configuration {name}")
                res["profiles"][name] = run_config(os.path.abspath(a.sabre), name, res["histories_per_piece"],
                                                   len(res["profiles"][name]), a.threads, work)
        res["rerun"] = {"configurations": a.rerun.split(","), "base": os.path.basename(a.base)}
    elif a.extend:
        if not a.sabre:
            ap.error("SABRE_EXE is required")
        res = json.load(open(a.extend))
        if int(a.histories) != res["histories_per_piece"]:
            ap.error("--histories must equal the file's histories_per_piece")
        with tempfile.TemporaryDirectory() as work:
            for name in CONFIGS:
                have = len(res["profiles"][name])
                res["profiles"][name] += run_config(os.path.abspath(a.sabre), name, int(a.histories),
                                                    a.pieces, a.threads, work, first=have)
        res["pieces"] = len(res["profiles"]["default"])
        a.out = a.extend
    else:
        if not a.sabre:
            ap.error("SABRE_EXE is required (or --reanalyse)")
        res = {"histories_per_piece": int(a.histories), "pieces": a.pieces, "profiles": {}}
        with tempfile.TemporaryDirectory() as work:
            for name in CONFIGS:
                res["profiles"][name] = run_config(os.path.abspath(a.sabre), name, int(a.histories),
                                                   a.pieces, a.threads, work)
    ok = analyse(res)
    if not a.reanalyse:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
