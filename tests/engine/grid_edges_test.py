#!/usr/bin/env python3
"""Non-uniform voxel boundaries (engine/grid_edges.hh, issue 26 acceptance 2).

  memory        validation/R2-grid/R2.toml (30 cm water, 1 mm lateral voxels in the central
                3 cm, 5 mm outside, 2 mm deep: 84 x 84 x 150 voxels) runs with a peak resident
                memory below 100 MB (10^8 bytes; the process's own ru_maxrss from wait4).
  same planes   a uniform grid and the same planes given as DOSXYZnrc groups give the same
                dose bits (the walker, the photon locator and the volumes agree).
  coarse/fine   energy is conserved across scoring resolutions: in a water phantom, each
                coarse voxel's energy (dose x mass) equals the sum over the fine voxels it
                covers, within 4 sigma, sigma the two runs' uncertainties with the fine sum's
                taken as the sum of its voxels' sigmas (the bound for any correlation). A
                wrong voxel volume (0.25 cm taken for a 3 cm voxel) fails it by a factor 12.
  file          the dose file is schema 3 with x/y/z_edges_cm and no spacing_cm, and reads
                back (sabre compare refuses it with one message: gamma needs a uniform grid).
"""
import os
import resource  # noqa: F401  (documents where ru_maxrss comes from)
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks, need_h5py, run_sabre, sabre_exe, same_dose_bits, source_dir, under_sanitizer  # noqa: E402

EXE = sabre_exe()
SRC = source_dir()
need_h5py()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

check = Checks()
tmp = tempfile.TemporaryDirectory()


def path(name):
    return os.path.join(tmp.name, name)


# ---------------------------------------------------------------- memory (first child: wait4)
r2 = os.path.join(SRC, "validation", "R2-grid", "R2.toml")
SHARED = os.environ.get("SABRE_SHARED_DIR") or os.path.join(SRC, "..", "shared")
spectrum = os.path.join(SHARED, "data", "reference", "egsnrc", "R1-water-6MV-10x10",
                        "mohan6_spectrum_as_sampled.csv")
if os.path.exists(spectrum):
    out = path("r2.h5")
    p = subprocess.Popen([EXE, "simulate", r2, "--histories", "20000", "-o", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read()
    check(p.returncode == 0, f"R2 set-up runs (exit {p.returncode}) {err.strip()[-300:]}")
    peak_bytes = usage.ru_maxrss * 1024  # Linux: KiB
    if under_sanitizer():
        # The sanitizer build (scripts/sanitize.sh) keeps shadow memory and a quarantine of
        # freed blocks: its resident size (~500 MB here) says nothing of sabre's. The figure is
        # printed; the bound is held in the normal build (CI).
        print(f"note R2 set-up peak resident memory under AddressSanitizer {peak_bytes / 1e6:.1f} MB (not judged)")
    else:
        check(peak_bytes < 100e6, f"R2 set-up peak resident memory {peak_bytes / 1e6:.1f} MB < 100 MB")
    if p.returncode == 0:
        with h5py.File(out, "r") as f:
            g = f["grid"]
            check(f.attrs["schema_version"] == 3, f"schema_version {f.attrs['schema_version']} == 3")
            check("spacing_cm" not in g.attrs, "no spacing_cm on a non-uniform grid")
            x = g.attrs["x_edges_cm"]
            check(len(x) == 85 and x[0] == -15.0 and abs(x[-1] - 15.0) < 1e-12 and
                  abs(x[28] - x[27] - 0.1) < 1e-12 and abs(x[1] - x[0] - 0.5) < 1e-12,
                  f"x_edges_cm: 85 planes from -15 to 15, 5 mm then 1 mm (got {len(x)}, {x[0]}..{x[-1]})")
            check(tuple(f["dose/dose"].shape) == (150, 84, 84), f"dose shape {f['dose/dose'].shape}")
            d = f["dose/dose"][...]
            # Dose on the axis (voxel 42 spans 0..1 mm) at 5 cm is higher than 5 mm outside the
            # 2 x 2 cm field edge: the 1 mm voxels resolve the field.
            check(d[25, 42, 42] > 3 * d[25, 42, 42 + 25], "the field is resolved on the 1 mm voxels")
        c = run_sabre("compare", out, out)
        check(c.returncode != 0 and "non-uniform voxel boundaries" in c.stderr and c.stderr.count("\n") <= 2,
              f"sabre compare refuses a non-uniform grid in one message (exit {c.returncode}): {c.stderr.strip()}")
else:
    print("SKIPPED (part): the R1 reference spectrum is not beside the source tree")

# ---------------------------------------------------------------- same planes, same bits
BASE = """
[source]
particle = "photon"
type = "parallel"
direction = [0, 0, 1]
field_centre_cm = [0, 0, -1]
field_x_cm = [-1, 1]
field_y_cm = [-1, 1]
energy_mev = 2.0
[run]
histories = {hist}
batches = 10
seed = 7
threads = 2
"""


def phantom(name, grid, hist):
    p = path(name)
    with open(p, "w") as f:
        f.write("[phantom]\n" + grid + 'material = "water"\n' + BASE.format(hist=hist))
    return p


uniform = phantom("uniform.toml", "voxels = [6, 6, 40]\nvoxel_cm = [1.0, 1.0, 0.25]\norigin_cm = [-3, -3, 0]\n", 20000)
groups_grid = ("x_start_cm = -3\nx_groups = [[1.0, 6]]\ny_start_cm = -3\ny_groups = [[1.0, 6]]\n"
               "z_start_cm = 0\nz_groups = [[0.25, 40]]\n")
groups = phantom("groups.toml", groups_grid, 20000)
for name, f in (("u.h5", uniform), ("g.h5", groups)):
    r = run_sabre("simulate", f, "-o", path(name))
    check(r.returncode == 0, f"simulate {os.path.basename(f)} (exit {r.returncode}) {r.stderr.strip()[-200:]}")
diff = same_dose_bits(path("u.h5"), path("g.h5"))
check(diff == "", "uniform voxels and the same planes as groups: same dose bits " + diff)

# ---------------------------------------------------------------- coarse / fine energy
fine = phantom("fine.toml", groups_grid, 2000000)
coarse_z = [0, 0.25, 0.5, 1.0, 2.0, 4.0, 7.0, 10.0]
coarse = phantom("coarse.toml", "x_start_cm = -3\nx_groups = [[1.0, 6]]\ny_start_cm = -3\ny_groups = [[1.0, 6]]\n"
                 f"z_boundaries_cm = {coarse_z}\n", 2000000)
ok = True
for name, f in (("fine.h5", fine), ("coarse.h5", coarse)):
    r = run_sabre("simulate", f, "--seed", "11" if name == "fine.h5" else "12", "-o", path(name))
    ok = ok and r.returncode == 0
    check(r.returncode == 0, f"simulate {os.path.basename(f)} (exit {r.returncode}) {r.stderr.strip()[-200:]}")
if ok:
    def energy(name):
        with h5py.File(path(name), "r") as f:
            d = f["dose/dose"][...]
            u = f["dose/rel_uncertainty_statistical"][...]
            z = f["grid"].attrs["z_edges_cm"]
            x = f["grid"].attrs["x_edges_cm"]
            y = f["grid"].attrs["y_edges_cm"]
            vol = np.diff(z)[:, None, None] * np.diff(y)[None, :, None] * np.diff(x)[None, None, :]
            e = d * vol * 1e-3  # J per history (density 1 g/cm3: mass = vol g)
            return e, e * u, z
    ef, sf, zf = energy("fine.h5")
    ec, sc, zc = energy("coarse.h5")
    check(np.allclose(zc, coarse_z), f"coarse planes read back {list(zc)}")
    worst = 0.0
    for k in range(len(coarse_z) - 1):
        sel = (zf[:-1] >= zc[k] - 1e-9) & (zf[1:] <= zc[k + 1] + 1e-9)
        # each coarse voxel (i, j, k) against the fine voxels (i, j, k') it covers
        for j in range(6):
            for i in range(6):
                a, sa = ec[k, j, i], sc[k, j, i]
                b, sb = ef[sel, j, i].sum(), sf[sel, j, i].sum()
                if a == 0 and b == 0:
                    continue
                z_score = abs(a - b) / np.sqrt(sa ** 2 + sb ** 2)
                worst = max(worst, z_score)
        layer_a, layer_b = ec[k].sum(), ef[sel].sum()
        print(f"     layer {zc[k]:.2f}-{zc[k + 1]:.2f} cm: coarse/fine energy {layer_a / layer_b:.4f}")
    check(worst < 4.0, f"coarse voxel energy = sum of the fine voxels it covers: worst |z| {worst:.2f} < 4")
    tot_c, tot_f = ec.sum(), ef.sum()
    check(abs(tot_c / tot_f - 1) < 0.01, f"total energy in the phantom: coarse/fine {tot_c / tot_f:.4f} within 1 %")

sys.exit(check.status())
