#!/usr/bin/env python3
"""sabre check's DVH metrics (engine/check/dvh.cc) against plastimatch's, an independent tool
(Debian package plastimatch; pipeline in validation/check-dvh/plastimatch_dvh.py), on the
thorax phantom's structures (PTV, GTV, lungs, cord: the lung example's) and a smooth dose
written here with pydicom: a 50 Gy Gaussian blob (sigma 12 mm) on the lesion, a 2 Gy floor and
a gradient of 0.05 Gy/mm along z, so the targets sit in steep gradients across contour planes.

Criterion (issue 19, acceptance 1): every metric within 1 % (volume, Dmean, D95/D98/D2 for
the targets, D0.035cc/D1cc for the organs, V20Gy where either tool finds at least 1 cm3).
The same comparison on the lung example's Monte Carlo dose: validation/check-dvh (0.42 % at
worst).
"""
import json
import math
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from clitest import Checks, run_sabre, sabre_exe, source_dir  # noqa: E402

try:
    import numpy as np
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
except ImportError as e:
    print(f"SKIPPED: {e}")
    sys.exit(77)
if not shutil.which("plastimatch"):
    print("SKIPPED: plastimatch not installed")
    sys.exit(77)

sabre_exe()
SRC = source_dir()
PLM = os.path.join(SRC, "validation", "check-dvh", "plastimatch_dvh.py")
NAMES = ("PTV", "GTV", "SPINAL_CORD", "LUNG_L", "LUNG_R")
checks = Checks()


def write_rtdose(ct_dir, frame, path):
    """A dose on the CT's own grid (2.5 mm), from the CT slices' geometry."""
    slices = []
    for f in os.listdir(ct_dir):
        ds = pydicom.dcmread(os.path.join(ct_dir, f), stop_before_pixels=True)
        if ds.Modality == "CT":
            slices.append(ds)
    slices.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    x0, y0, z0 = (float(v) for v in slices[0].ImagePositionPatient)
    sy, sx = (float(v) for v in slices[0].PixelSpacing)
    nx, ny, nz = int(slices[0].Columns), int(slices[0].Rows), len(slices)
    zs = [float(d.ImagePositionPatient[2]) for d in slices]
    x = x0 + sx * np.arange(nx)
    y = y0 + sy * np.arange(ny)
    z = np.array(zs)
    Z, Y, X = np.meshgrid(z, y, x, indexing="ij")
    r2 = (X - 65) ** 2 + (Y + 5) ** 2 + Z ** 2
    dose = 50 * np.exp(-r2 / (2 * 12.0 ** 2)) + 2 + 0.05 * (Z - z.min())
    scaling = dose.max() / 4e9
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    rd = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    rd.SOPClassUID, rd.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    rd.Modality = "RTDOSE"
    rd.FrameOfReferenceUID = frame
    rd.PatientID = slices[0].PatientID
    rd.StudyInstanceUID = slices[0].StudyInstanceUID
    rd.SeriesInstanceUID = generate_uid()
    rd.Rows, rd.Columns, rd.NumberOfFrames = ny, nx, nz
    rd.PixelSpacing = [sy, sx]
    rd.ImagePositionPatient = [x0, y0, zs[0]]
    rd.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    rd.GridFrameOffsetVector = [v - zs[0] for v in zs]
    rd.DoseGridScaling = f"{scaling:.10g}"
    rd.DoseUnits, rd.DoseType, rd.DoseSummationType = "GY", "PHYSICAL", "PLAN"
    rd.SamplesPerPixel, rd.PhotometricInterpretation = 1, "MONOCHROME2"
    rd.BitsAllocated = rd.BitsStored = 32
    rd.HighBit, rd.PixelRepresentation = 31, 0
    rd.FrameIncrementPointer = (0x3004, 0x000C)
    rd.PixelData = np.round(dose / scaling).astype(np.uint32).tobytes()
    rd.is_little_endian, rd.is_implicit_VR = True, False
    rd.save_as(path)


def main(tmp):
    ct = os.path.join(tmp, "ct")
    r = run_sabre("--log-level", "warn", "phantom", "thorax", "-o", ct)
    checks(r.returncode == 0, f"sabre phantom thorax: {r.stderr.strip()[:200]}")
    rs = os.path.join(ct, "RS.dcm")
    rd = os.path.join(tmp, "RD.dcm")
    write_rtdose(ct, pydicom.dcmread(rs).ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID, rd)
    r = run_sabre("--log-level", "warn", "check", "--dose", rd, "--tps-dose", rd, "--structures", rs,
                  "--fractions", "3", "--json")
    checks(r.returncode in (0, 10), f"sabre check: exit {r.returncode} {r.stderr.strip()[:200]}")
    ours = {}
    for st in json.loads(r.stdout)["structures"]:
        m = {x["metric"]: x["sabre"] for x in st["metrics"]}
        m["volume_cm3"] = st["volume_cm3"]
        ours[st["name"]] = m
    p = subprocess.run([sys.executable, PLM, rs, rd, *NAMES, "--fine", "4"], capture_output=True, text=True,
                       timeout=600)
    checks(p.returncode == 0, f"plastimatch pipeline: {p.stderr.strip()[-300:]}")
    ref = json.loads(p.stdout)
    compared = 0
    for name in NAMES:
        checks(name in ours and name in ref, f"{name}: both tools report it")
        if name not in ours or name not in ref:
            continue
        for metric in ("volume_cm3", "Dmean", "D95%", "D98%", "D2%", "D0.035cc", "D1cc", "V20Gy"):
            if metric not in ours[name] or metric not in ref[name]:
                continue
            a, b = ours[name][metric], ref[name][metric]
            if metric == "V20Gy" and max(a, b) < 1.0:
                continue
            rel = 100 * (a - b) / b
            compared += 1
            checks(abs(rel) <= 1.0 and math.isfinite(rel),
                   f"{name:12s} {metric:10s} sabre {a:10.4f}  plastimatch {b:10.4f}  {rel:+.2f} % (criterion 1 %)")
    checks(compared >= 20, f"{compared} metrics compared")


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        main(tmp)
    sys.exit(checks.status())
