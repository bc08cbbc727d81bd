#!/usr/bin/python3
"""`sabre phantom` -> `sabre ct -o phantom.h5`, checked by independent readers.

For an FFS and an HFP thorax: pydicom reads the CT slices and places every pixel in
patient coordinates through ImagePositionPatient / ImageOrientationPatient / PixelSpacing;
h5py reads sabre's phantom file. Every CT voxel's HU must be found at the same patient
position in sabre's axis-aligned /ct/hu, the grid must match the slices' geometry, and the
provenance must carry the series digest as documented (docs/hdf5-output.md)."""
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
    import pydicom
except ImportError as e:
    print(f"SKIP: python module missing: {e}")
    sys.exit(77)

exe = os.environ.get("SABRE_EXE")
if not exe or not os.path.exists(exe):
    print("SKIP: SABRE_EXE is not set to a built sabre")
    sys.exit(77)

errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


tmp = tempfile.mkdtemp(prefix="sabre-ct-phantom-")
try:
    for position in ("FFS", "HFP"):
        ct = os.path.join(tmp, "ct_" + position)
        h5 = os.path.join(tmp, position + ".h5")
        subprocess.run([exe, "--log-level", "warn", "phantom", "thorax", "--size", "160", "100", "24",
                        "--slice", "3", "--position", position, "-o", ct], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([exe, "--log-level", "warn", "ct", ct, "-o", h5], check=True,
                       stdout=subprocess.DEVNULL)
        slices = [pydicom.dcmread(f) for f in glob.glob(os.path.join(ct, "CT_*.dcm"))]
        with h5py.File(h5, "r") as f:
            hu = f["ct/hu"][...]
            origin = 10 * np.array(f["ct/grid"].attrs["origin_cm"])
            spacing = 10 * np.array(f["ct/grid"].attrs["spacing_cm"])
            prov = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f["provenance"].attrs.items()}
        expect(hu.shape == (len(slices), int(slices[0].Rows), int(slices[0].Columns)),
               f"{position}: shape {hu.shape}")
        # Every pixel of every slice, at its patient position, in sabre's grid.
        centres = []
        for s in slices:
            iop = np.array([float(v) for v in s.ImageOrientationPatient])
            ipp = np.array([float(v) for v in s.ImagePositionPatient])
            ps = [float(v) for v in s.PixelSpacing]
            a = s.pixel_array * float(s.RescaleSlope) + float(s.RescaleIntercept)
            rr, cc = np.meshgrid(np.arange(a.shape[0]), np.arange(a.shape[1]), indexing="ij")
            pos = (ipp[None, None, :] + cc[..., None] * ps[1] * iop[None, None, :3]
                   + rr[..., None] * ps[0] * iop[None, None, 3:])
            centres.append(pos.reshape(-1, 3))
            idx = np.floor((pos - origin) / spacing).astype(int)
            inside = np.all((idx >= 0) & (idx < np.array(hu.shape[::-1])), axis=-1)
            expect(inside.all(), f"{position}: pixels outside sabre's grid")
            got = hu[idx[..., 2], idx[..., 1], idx[..., 0]]
            expect(np.array_equal(got, a), f"{position}: HU differ in slice at z {ipp[2]}")
        allc = np.concatenate(centres)
        expect(np.allclose(allc.min(axis=0) - spacing / 2, origin, atol=1e-3),
               f"{position}: origin {origin} vs pydicom {allc.min(axis=0) - spacing / 2}")
        # Provenance: series digest as documented.
        order = sorted(slices, key=lambda s: float(np.dot(
            np.cross([float(v) for v in s.ImageOrientationPatient[:3]],
                     [float(v) for v in s.ImageOrientationPatient[3:]]),
            [float(v) for v in s.ImagePositionPatient])))
        digests = "".join(hashlib.sha256(open(s.filename, "rb").read()).hexdigest() + "\n" for s in order)
        expect(prov.get("input_sha256:ct_series") == hashlib.sha256(digests.encode()).hexdigest(),
               f"{position}: ct_series digest")
        expect(prov.get("frame_of_reference_uid") == slices[0].FrameOfReferenceUID, "frame of reference")
        expect(prov.get("sabre_version", "") != "", "sabre_version")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if errors:
    print("FAILED: " + "; ".join(errors))
    sys.exit(1)
print("OK")
