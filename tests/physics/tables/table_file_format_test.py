"""Independent reader (h5py) of the shipped physics table file against docs/tables.md.

Checks the documented layout, units and provenance, and the internal identities
(total = sum of processes, majorant = max of totals, dedx sums, composition sums to 1,
alias tables well formed), and, when ../shared exists, that the recorded source digests
are those of the raw files (hashlib). Exit 77 = skipped.
"""
import hashlib
import os
import sys

import h5py
import numpy as np

src = os.environ.get("SABRE_SOURCE_DIR")
if not src:
    print("SKIPPED: SABRE_SOURCE_DIR not set")
    sys.exit(77)
path = os.path.join(src, "physics", "data", "default.h5")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(path, "r") as f:
    a = f.attrs
    check(a["format"] == "sabre-physics-tables", "format name")
    check(int(a["format_version_major"]) == 1, "major version 1")
    check(a["generator"] == "sabre tables build", "generator")
    n = int(a["n_materials"])
    names = list(f["materials"].attrs["names"])
    check(len(names) == n, "names length")
    for m in ["air", "lung", "adipose", "soft_tissue", "muscle", "water", "cartilage",
              "bone_cortical", "pmma", "polystyrene", "titanium", "tungsten"]:
        check(m in names, "material %s present" % m)
    cuts = f["cuts"].attrs
    check(abs(cuts["electron_production_mev"] - 0.189) < 1e-12, "W_cc 0.189 MeV")
    check(abs(cuts["photon_production_mev"] - 0.010) < 1e-12, "W_cr 0.010 MeV")
    off = f["materials/composition_offset"][()]
    w = f["materials/composition_mass_fraction"][()]
    for m in range(n):
        check(abs(w[off[m]:off[m + 1]].sum() - 1) < 1e-6, "mass fractions of %s sum to 1" % names[m])

    ph = f["photon"]
    ng = int(ph.attrs["grid_n"])
    e = np.exp(ph.attrs["grid_ln_e0"] + np.arange(ng) / ph.attrs["grid_inv_dln"])
    check(abs(e[0] - 1e-3) < 1e-12 and abs(e[-1] - 25) < 1e-9, "photon grid 1 keV - 25 MeV")
    procs = sum(ph[p][()] for p in ["incoherent", "photoelectric", "pair_nuclear", "pair_electron", "rayleigh"])
    tot = ph["total"][()]
    check(tot.shape == (n, ng), "photon total shape")
    check(np.allclose(procs, tot, rtol=1e-12, atol=0), "total = sum of processes")
    check(np.array_equal(ph["majorant"][()][0], tot.max(axis=0)), "majorant = max over materials")
    # XCOM check value (raw data README): water 0.1704 cm^2/g at 0.1 MeV (log-interpolated here)
    iw = names.index("water")
    v = np.interp(np.log(0.1), np.log(e), tot[iw])
    check(abs(v / 0.1704 - 1) < 0.002, "water mu/rho at 0.1 MeV = 0.1704 (got %g)" % v)

    for sp in ["electron", "positron"]:
        g = f[sp]
        units = dict(u.split("=") for u in g.attrs["units"].split(";"))
        check(units["dedx_total"] == "MeV cm^2/g" and units["range_csda"] == "g/cm^2", "units attribute")
        check(np.allclose(g["dedx_total"][()], g["dedx_collision"][()] + g["dedx_radiative"][()], rtol=1e-12),
              "%s dedx_total = collision + radiative" % sp)
        check(np.allclose(g["dedx_restricted"][()],
                          g["dedx_collision_restricted"][()] + g["dedx_radiative_restricted"][()], rtol=1e-12),
              "%s restricted sum" % sp)
        check((g["dedx_collision_restricted"][()] <= g["dedx_collision"][()] * (1 + 1e-12)).all(),
              "%s restricted <= unrestricted" % sp)
        check((np.diff(g["range_csda"][()], axis=1) > 0).all(), "%s CSDA range increases" % sp)
        ann = g["sigma_annihilation"][()]
        check((ann == 0).all() if sp == "electron" else (ann > 0).all(), "%s annihilation rows" % sp)

    al = f["brems_alias"]
    bins = int(al.attrs["bins"])
    prob, alias = al["prob"][()], al["alias"][()]
    check(prob.shape == (n, int(al.attrs["grid_n"]), bins), "alias shape")
    check(((prob >= 0) & (prob <= 1 + 1e-12)).all(), "alias probabilities in [0, 1]")
    check(((alias >= 0) & (alias < bins)).all(), "alias indices in range")

    files = list(f["sources"].attrs["files"])
    digests = list(f["sources"].attrs["sha256"])
    check(len(files) == len(digests) == 6 + n, "one source per XCOM/SB file and material")
    shared = os.environ.get("SABRE_SHARED_DIR", "")
    raw = os.path.join(shared, "data", "physics")
    if os.path.isdir(raw):
        for p, d in zip(files, digests):
            with open(os.path.join(raw, p), "rb") as fh:
                check(hashlib.sha256(fh.read()).hexdigest() == d, "digest of %s" % p)
    else:
        print("note: ../shared absent, source digests not re-computed")

if failures:
    for x in failures:
        print("FAILED:", x)
    sys.exit(1)
print("table file %s: layout, identities and provenance OK (%d materials)" % (path, n))
