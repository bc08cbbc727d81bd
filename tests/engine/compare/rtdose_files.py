"""Helpers for the compare checks: write a DICOM RT Dose with pydicom (an independent
writer, not sabre's), and run `sabre compare --json`. Not a test itself (no _test suffix)."""
import datetime
import json
import os
import subprocess

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

RT_DOSE_STORAGE = "1.2.840.10008.5.1.4.1.1.481.2"


def write_rtdose(path, dose_gy, spacing_mm, first_centre_mm, frame_uid=None, flip_x=False,
                 flip_y=False):
    """dose_gy: array [nz, ny, nx] (x fastest) on an axis-aligned grid whose voxel (0,0,0)
    centre is first_centre_mm (x, y, z) with spacing_mm (sx, sy, sz). flip_x/flip_y store
    the rows/columns in decreasing coordinate order (negative direction cosines)."""
    dose_gy = np.asarray(dose_gy, dtype=np.float64)
    nz, ny, nx = dose_gy.shape
    sx, sy, sz = spacing_mm
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = RT_DOSE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = RT_DOSE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "RTDOSE"
    ds.PatientName = "Gamma^Test"
    ds.PatientID = "GAMMA"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = frame_uid or generate_uid()
    ds.StudyDate = ds.ContentDate = datetime.date.today().strftime("%Y%m%d")
    x0 = first_centre_mm[0] + (nx - 1) * sx if flip_x else first_centre_mm[0]
    y0 = first_centre_mm[1] + (ny - 1) * sy if flip_y else first_centre_mm[1]
    ds.ImagePositionPatient = [float(x0), float(y0), float(first_centre_mm[2])]
    ds.ImageOrientationPatient = [-1.0 if flip_x else 1.0, 0.0, 0.0,
                                  0.0, -1.0 if flip_y else 1.0, 0.0]
    ds.PixelSpacing = [float(sy), float(sx)]
    ds.SliceThickness = float(sz)
    ds.NumberOfFrames = nz
    ds.FrameIncrementPointer = pydicom.tag.Tag(0x3004, 0x000C)
    ds.GridFrameOffsetVector = [float(k * sz) for k in range(nz)]
    ds.Rows, ds.Columns = ny, nx
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 32
    ds.HighBit = 31
    ds.PixelRepresentation = 0
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    vmax = float(dose_gy.max()) if dose_gy.size else 0.0
    scaling = vmax / 2.0e9 if vmax > 0 else 1.0
    ds.DoseGridScaling = f"{scaling:.10g}"
    scaling = float(ds.DoseGridScaling)
    stored = dose_gy
    if flip_x:
        stored = stored[:, :, ::-1]
    if flip_y:
        stored = stored[:, ::-1, :]
    pixels = np.rint(stored / scaling).astype("<u4")
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, write_like_original=False)
    return scaling


def sabre_compare(exe, ref, ev, *args):
    """Runs `sabre compare REF EV ARGS --json`; returns the parsed report (raises on failure)."""
    cmd = [exe, "--log-level", "warn", "compare", ref, ev, *args, "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def sabre_exe():
    exe = os.environ.get("SABRE_EXE")
    if not exe or not os.path.exists(exe):
        return None
    return exe
