#!/usr/bin/env python3
"""benchmarks/efficiency.py's bias comparison (issue 20, acceptance 1) on doses whose truth is
known: two independent noisy draws of one dose, and the same with a 1 % shift.

- Unbiased draws (each voxel's relative sigma stated in the file and used for the noise): the
  fraction within 3 sigma is 99.73 % for a Gaussian; over 20 000 voxels its standard error is
  0.04 %, so >= 99.5 % is a 5-sigma bound. The mean symmetric relative difference lies within
  4 of its standard errors of zero.
- Draws chosen so that one voxel in ten has both sigmas <= 0.5 %: that subset is counted
  exactly (the selection is on the sigmas, never on the difference).
- A 1 % shift of the second run: the mean relative difference reads 1 % (within 4 standard
  errors), and the voxels with 0.3 % sigma mostly fall outside 3 sigma (the test has power).
- Voxels below 10 % of the maximum of the mean dose, and voxels of density < 0.05 g/cm3, are
  left out.
"""
import importlib.util
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, source_dir  # noqa: E402

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIPPED: no numpy/h5py")
    sys.exit(77)

check = Checks()
spec = importlib.util.spec_from_file_location("efficiency", os.path.join(source_dir(), "benchmarks", "efficiency.py"))
eff = importlib.util.module_from_spec(spec)
spec.loader.exec_module(eff)

rng = np.random.default_rng(20)
n = 24000
truth = np.ones(n)
truth[:2000] = 0.05          # below 10 % of the maximum: left out
density = np.ones(n)
density[2000:4000] = 0.001   # air: left out
sigma = np.full(n, 0.03)
sigma[4000::10] = 0.003      # one kept voxel in ten with sigma 0.3 %
kept = n - 4000
fine = len(range(4000, n, 10))


def write(path, dose, rel):
    with h5py.File(path, "w") as f:
        f["dose/dose"] = dose.reshape(20, 30, 40)
        f["dose/rel_uncertainty_statistical"] = rel.reshape(20, 30, 40)
        f["phantom/density_g_cm3"] = density.reshape(20, 30, 40)


with tempfile.TemporaryDirectory() as tmp:
    a, b, c = (os.path.join(tmp, x + ".h5") for x in "abc")
    write(a, truth * (1 + sigma * rng.standard_normal(n)), sigma)
    write(b, truth * (1 + sigma * rng.standard_normal(n)), sigma)
    write(c, 1.01 * truth * (1 + sigma * rng.standard_normal(n)), sigma)

    st = eff.bias_stats(a, b, False)
    check(st["voxels"] == kept, f"unbiased: {st['voxels']} voxels compared (expected {kept})")
    check(st["within_3sigma"] >= 0.995, f"unbiased: {100 * st['within_3sigma']:.2f} % within 3 sigma >= 99.5 %")
    check(abs(st["mean_rel_diff"]) <= 4 * st["se_mean_rel_diff"],
          f"unbiased: mean rel. diff {st['mean_rel_diff']:+.5f} within 4 SE ({st['se_mean_rel_diff']:.5f}) of 0")
    f = st["sigma_le_half_percent"]
    check(f["voxels"] == fine, f"{f['voxels']} voxels with both sigmas <= 0.5 % (expected {fine})")
    check(f["within_3sigma"] >= 0.99, f"those within 3 sigma: {100 * f['within_3sigma']:.2f} % >= 99 %")
    check(abs(st["max_sigma"] - 0.03) < 1e-12, "the largest sigma is the 3 % of the coarse voxels")

    sh = eff.bias_stats(a, c, False)
    check(abs(sh["mean_rel_diff"] - 0.01) <= 4 * sh["se_mean_rel_diff"],
          f"1 % shift: mean rel. diff {sh['mean_rel_diff']:+.5f} within 4 SE of +0.01")
    g = sh["sigma_le_half_percent"]
    # 1 % at sigma_diff = 0.3 % x sqrt 2 = 0.42 %: z ~ N(2.36, 1), P(|z| <= 3) ~ 0.74
    check(g["within_3sigma"] < 0.85,
          f"1 % shift seen in the fine voxels: {100 * g['within_3sigma']:.1f} % within 3 sigma < 85 %")
    check(abs(g["mean_rel_diff"] - 0.01) <= 4 * g["se_mean_rel_diff"],
          f"fine voxels' mean rel. diff {g['mean_rel_diff']:+.5f} within 4 SE of +0.01")

sys.exit(check.status())
