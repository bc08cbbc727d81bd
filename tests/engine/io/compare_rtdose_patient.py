#!/usr/bin/python3
"""Compares two RT Dose files in patient coordinates (pydicom), whatever their stored
orientation: each voxel's dose is keyed by its centre (x, y, z) in mm, rounded to 1 um.
Usage: compare_rtdose_patient.py A.dcm B.dcm   exit 0 when grids and doses agree
(within one DoseGridScaling step), 1 otherwise, 77 when pydicom is missing."""
import sys

try:
    import numpy as np
    import pydicom
except ImportError as e:
    print(f"SKIP: python module missing: {e}")
    sys.exit(77)


def patient_dose(path):
    d = pydicom.dcmread(path)
    iop = np.array([float(v) for v in d.ImageOrientationPatient])
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    ipp = np.array([float(v) for v in d.ImagePositionPatient])
    ps = [float(v) for v in d.PixelSpacing]
    off = [float(v) for v in d.GridFrameOffsetVector]
    a = d.pixel_array.astype(np.float64) * float(d.DoseGridScaling)
    out = {}
    for f in range(a.shape[0]):
        for r in range(a.shape[1]):
            for c in range(a.shape[2]):
                p = ipp + c * ps[1] * row + r * ps[0] * col + off[f] * normal
                out[tuple(np.round(p * 1000).astype(int))] = a[f, r, c]
    return out, float(d.DoseGridScaling)


a, sa = patient_dose(sys.argv[1])
b, sb = patient_dose(sys.argv[2])
if set(a) != set(b):
    print(f"FAILED: voxel centres differ ({len(set(a) ^ set(b))} not shared)")
    sys.exit(1)
diff = max(abs(a[k] - b[k]) for k in a)
if diff > 1.01 * max(sa, sb):
    print(f"FAILED: dose differs by {diff} (scaling {sa}, {sb})")
    sys.exit(1)
print(f"OK ({len(a)} voxels, max difference {diff:.3g})")
