#!/usr/bin/python3
"""Independent check of sabre's dose HDF5 (docs/hdf5-output.md) with h5py.

Usage: check_dose_hdf5.py FILE EXPECTED_VERSION EXPECTED_COMMIT
Called by tests/engine/io/dose_hdf5_test.cc on a file it wrote with known values.
Exit 0 and "OK" when every documented name and provenance field is right; 77 when h5py
is missing; 1 with the reasons otherwise."""
import re
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"h5py/numpy missing: {e}")
    sys.exit(77)

path, version, commit = sys.argv[1:4]
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


with h5py.File(path, "r") as f:
    expect(f.attrs["format"] == "sabre-dose", "format")
    expect(int(f.attrs["schema_version"]) == 2, "schema_version")
    g = f["grid"]
    expect(np.allclose(g.attrs["origin_cm"], [-1.25, -2.0, 3.5]), "grid/origin_cm")
    expect(np.allclose(g.attrs["spacing_cm"], [0.25, 0.5, 0.3]), "grid/spacing_cm")
    expect(list(g.attrs["shape_xyz"]) == [4, 3, 2], "grid/shape_xyz")
    expect(np.allclose(g.attrs["first_voxel_centre_mm"], [-11.25, -17.5, 36.5]),
           "grid/first_voxel_centre_mm")
    d = f["dose/dose"]
    expect(d.shape == (2, 3, 4), f"dose/dose shape {d.shape}")
    dose = d[...]
    # Voxel (i, j, k) has linear index i + nx*(j + ny*k) and dose 1e-12*(index+1).
    expect(abs(dose[1, 2, 3] - 1e-12 * (3 + 4 * (2 + 3 * 1) + 1)) < 1e-24, "dose value order")
    expect(f["dose"].attrs["unit"] == "Gy", "dose/unit")
    expect(f["dose"].attrs["quantity"] == "dose to medium", "dose/quantity")
    expect(f["dose/rel_uncertainty"].shape == (2, 3, 4), "rel_uncertainty shape")
    # Schema 2: rel_uncertainty = statistical and calibration in quadrature (0 without dose),
    # the statistical part (0.01 * (index % 5)) in rel_uncertainty_statistical.
    stat = f["dose/rel_uncertainty_statistical"][...]
    total = f["dose/rel_uncertainty"][...]
    cal = float(f["dose"].attrs["calibration_rel_uncertainty"])
    idx = np.arange(24).reshape(2, 3, 4)
    expect(np.array_equal(stat, 0.01 * (idx % 5)), "rel_uncertainty_statistical values")
    expect(cal == 0.02, f"calibration_rel_uncertainty {cal}")
    m = dose > 0
    expect(not m[0, 0, 0] and total[0, 0, 0] == 0, "no uncertainty where there is no dose")
    expect(np.array_equal(total[m], np.sqrt(stat[m] ** 2 + cal ** 2)), "rel_uncertainty = quadrature sum")
    expect("calibration" in f["dose"].attrs["uncertainty"], "dose/uncertainty says how")
    expect(f["phantom/material"].dtype == np.int32, "phantom/material dtype")
    expect(f["phantom/density_g_cm3"].dtype == np.float32, "phantom/density dtype")
    names = list(f["phantom"].attrs["material_names"])
    expect(names == ["water", "lung", "cortical bone"] and all(type(n) is str for n in names),
           f"/phantom@material_names as str {names}")
    p = f["provenance"].attrs
    expect(p["sabre_version"] == version, "provenance/sabre_version")
    expect(p["sabre_commit"] == commit, "provenance/sabre_commit")
    expect(int(p["seed"]) == 0xDEADBEEFCAFE, "provenance/seed")
    expect(int(p["histories"]) == 123456789, "provenance/histories")
    expect(int(p["batches"]) == 10, "provenance/batches")
    expect(p["device"] == "cpu:2 threads", "provenance/device")
    expect(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["created_utc"]) is not None,
           "provenance/created_utc")
    expect(p["physics_tables_sha256"] == "ab12", "provenance/physics_tables_sha256")
    expect(p["machine_model_sha256"] == "cd34", "provenance/machine_model_sha256")
    expect(p["input_sha256:plan.dcm"] == "ef56", "provenance/input_sha256:plan.dcm")

if errors:
    print("FAILED: " + "; ".join(errors))
    sys.exit(1)
print("OK")
