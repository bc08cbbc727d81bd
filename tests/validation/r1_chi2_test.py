"""The chi2 of validation/R1-water-6MV/compare.py, under the null hypothesis.

All 58 depth-dose differences of R1 are normalised at one point (10 cm), so they share
that point's noise. The first version summed d_i^2 / (own_i + var_n) as if the depths were
independent: right mean, but far too wide a spread. With R1's variances (own ~0.24 %,
normalisation ~0.2 %) it exceeded the chi2(58) 99.9 % quantile (97.1) in ~11 % of null
draws, and it failed the 2026-11-29 run (104.6) whose covariance chi2 is 59.9. This
checks, on 20000 null draws with a fixed seed, that chi2_common_normalisation exceeds
97.1 at the nominal rate (0.1 %; allowed < 0.3 %, i.e. 4 sigma of a binomial count of 20)
and has mean 58 +- 1 %, and that the diagonal form does not (> 5 %); and the algebra
against a direct solve of the covariance matrix (1e-9).
"""
import importlib.util
import os
import sys

import numpy as np

src = os.environ.get("SABRE_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
spec = importlib.util.spec_from_file_location("r1_compare", os.path.join(src, "validation", "R1-water-6MV", "compare.py"))
cmp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cmp)

rng = np.random.default_rng(20261129)
n = 58
own = (0.0024 ** 2) * rng.uniform(0.5, 1.5, n)
var_n = 0.002 ** 2
q999 = 97.1  # chi2 99.9 % quantile for 58 dof

# algebra: Sherman-Morrison against a direct solve
d = rng.normal(0, 0.003, n)
c = np.diag(own) + var_n * np.ones((n, n))
direct = float(d @ np.linalg.solve(c, d))
ok = abs(cmp.chi2_common_normalisation(d, own, var_n) / direct - 1) < 1e-9

draws = 20000
cov = np.empty(draws)
diag = np.empty(draws)
for k in range(draws):
    d = rng.normal(0, np.sqrt(own)) + rng.normal(0, np.sqrt(var_n))
    cov[k] = cmp.chi2_common_normalisation(d, own, var_n)
    diag[k] = np.sum(d ** 2 / (own + var_n))
p_cov = float(np.mean(cov > q999))
p_diag = float(np.mean(diag > q999))
print(f"algebra ok: {ok}; covariance chi2: mean {cov.mean():.2f}, P(>97.1) {p_cov:.4f}; "
      f"diagonal: mean {diag.mean():.2f}, P(>97.1) {p_diag:.4f}")
ok = ok and p_cov < 0.003 and abs(cov.mean() / n - 1) < 0.01 and p_diag > 0.05
sys.exit(0 if ok else 1)
