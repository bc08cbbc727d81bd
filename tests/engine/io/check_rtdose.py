#!/usr/bin/python3
"""Independent check of an RT Dose written by sabre against the CT it was computed on.

Usage: check_rtdose.py RTDOSE CT_DIR DOSE_H5
  - dciodvfy (dicom3tools) reports no "Error" lines;
  - pydicom reads it: modality, DoseUnits GY, DoseType PHYSICAL, the CT's frame of
    reference and orientation, origin (ImagePositionPatient) and spacing equal to the CT's
    within 1e-3 mm, frames one per CT slice at the CT slice positions;
  - its dose, placed in patient coordinates through IPP/IOP/offsets, equals the dose in
    sabre's HDF5 (read with h5py, axis-aligned grid) within the DoseGridScaling step.
Exit 0 and "OK"; 77 when a tool is missing (reason printed); 1 with the reasons."""
import glob
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
    import pydicom
except ImportError as e:
    print(f"SKIP: python module missing: {e}")
    sys.exit(77)

rtdose, ctdir, h5 = sys.argv[1:4]
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


dciodvfy = shutil.which("dciodvfy")
if dciodvfy is None:
    print("SKIP: dciodvfy (Debian package dicom3tools) is not installed")
    sys.exit(77)
res = subprocess.run([dciodvfy, rtdose], capture_output=True, text=True)
report = res.stdout + res.stderr
bad = [l for l in report.splitlines() if l.startswith("Error")]
expect(not bad, "dciodvfy errors: " + " | ".join(bad))
expect(res.returncode == 0 and "Assertion" not in report,
       f"dciodvfy did not finish (exit {res.returncode}): {report.strip()[-300:]}")

d = pydicom.dcmread(rtdose)
cts = [pydicom.dcmread(f) for f in glob.glob(os.path.join(ctdir, "CT_*.dcm"))]
iop = np.array([float(v) for v in cts[0].ImageOrientationPatient])
normal = np.cross(iop[:3], iop[3:])
cts.sort(key=lambda c: float(np.dot(normal, [float(v) for v in c.ImagePositionPatient])))
ct0 = cts[0]
expect(d.Modality == "RTDOSE", "modality")
expect(d.DoseUnits == "GY", f"DoseUnits {d.DoseUnits}")
expect(d.DoseType == "PHYSICAL", "DoseType")
expect(d.DoseSummationType in ("PLAN", "BEAM"), "DoseSummationType")
expect(d.FrameOfReferenceUID == ct0.FrameOfReferenceUID, "FrameOfReferenceUID differs from the CT's")
expect(np.allclose([float(v) for v in d.ImageOrientationPatient], iop, atol=1e-6), "orientation")
ipp = np.array([float(v) for v in d.ImagePositionPatient])
ct_ipp = np.array([float(v) for v in ct0.ImagePositionPatient])
expect(np.all(np.abs(ipp - ct_ipp) < 1e-3), f"origin {ipp} vs CT {ct_ipp}")
ps = np.array([float(v) for v in d.PixelSpacing])
expect(np.all(np.abs(ps - np.array([float(v) for v in ct0.PixelSpacing])) < 1e-3), "pixel spacing")
offsets = np.array([float(v) for v in d.GridFrameOffsetVector])
expect(len(offsets) == len(cts) == int(d.NumberOfFrames), "one frame per CT slice")
ct_pos = [float(np.dot(normal, [float(v) for v in c.ImagePositionPatient])) for c in cts]
frame_pos = float(np.dot(normal, ipp)) + offsets
expect(np.all(np.abs(frame_pos - np.array(ct_pos)) < 1e-3), "frame positions differ from CT slices")

# Dose in patient coordinates: voxel (frame f, row r, column c) is at
# ipp + c*dx*row_dir + r*dy*col_dir + offsets[f]*normal.
dose = d.pixel_array.astype(np.float64) * float(d.DoseGridScaling)
with h5py.File(h5, "r") as f:
    ref = f["dose/dose"][...]  # [k][j][i] on the axis-aligned grid
    origin_mm = 10 * np.array(f["grid"].attrs["origin_cm"])
    spacing_mm = 10 * np.array(f["grid"].attrs["spacing_cm"])
nf, nr, nc = dose.shape
cc, rr = np.meshgrid(np.arange(nc), np.arange(nr))
maxdiff = 0.0
for fr in range(nf):
    pos = (ipp[None, None, :] + cc[..., None] * ps[1] * iop[None, None, :3]
           + rr[..., None] * ps[0] * iop[None, None, 3:] + offsets[fr] * normal[None, None, :])
    idx = np.floor((pos - origin_mm) / spacing_mm).astype(int)
    vals = ref[idx[..., 2], idx[..., 1], idx[..., 0]]
    maxdiff = max(maxdiff, float(np.max(np.abs(vals - dose[fr]))))
expect(maxdiff <= 1.01 * float(d.DoseGridScaling), f"dose differs from the HDF5 by {maxdiff}")
expect(ref.max() > 0, "dose is all zero")

if errors:
    print("FAILED: " + "; ".join(errors))
    print(report)
    sys.exit(1)
print(f"OK (dciodvfy clean, max dose difference {maxdiff:.3g} Gy)")
