#!/usr/bin/python3
"""Prints, as one JSON object, what pydicom (an independent reader) finds in a DICOM file,
for tests/engine/io/pydicom_samples_test.cc to compare with sabre's readers.

Usage: pydicom_dump.py FILE        exit 77 when pydicom/numpy are missing."""
import json
import sys

try:
    import numpy as np
    import pydicom
except ImportError as e:
    print(f"pydicom/numpy missing: {e}")
    sys.exit(77)

ds = pydicom.dcmread(sys.argv[1], force=True)
out = {"modality": str(ds.get("Modality", ""))}
if out["modality"] == "CT":
    a = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    out.update({
        "ipp": [float(v) for v in ds.ImagePositionPatient],
        "iop": [float(v) for v in ds.ImageOrientationPatient],
        "pixel_spacing": [float(v) for v in ds.PixelSpacing],
        "thickness": float(ds.SliceThickness),
        "rows": int(ds.Rows), "cols": int(ds.Columns),
        "hu_first_rows": a[:3, :].tolist(),  # stored order: [row][column]
        "hu_sum": float(a.sum()), "hu_min": float(a.min()), "hu_max": float(a.max()),
        "frame": str(ds.FrameOfReferenceUID),
    })
elif out["modality"] == "RTSTRUCT":
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    rois = []
    for rc in ds.ROIContourSequence:
        cons = [{"type": str(c.ContourGeometricType),
                 "points": [float(v) for v in c.ContourData]}
                for c in rc.get("ContourSequence", [])]
        rois.append({"number": int(rc.ReferencedROINumber),
                     "name": names[int(rc.ReferencedROINumber)], "contours": cons})
    out["rois"] = rois
    out["frame"] = str(ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID)
elif out["modality"] == "RTDOSE":
    a = ds.pixel_array.astype(np.float64) * float(ds.DoseGridScaling)
    if a.ndim == 2:
        a = a[None]
    out.update({
        "ipp": [float(v) for v in ds.ImagePositionPatient],
        "iop": [float(v) for v in ds.ImageOrientationPatient],
        "pixel_spacing": [float(v) for v in ds.PixelSpacing],
        "offsets": [float(v) for v in ds.GridFrameOffsetVector],
        "shape": list(a.shape),  # frames, rows, columns
        "dose": a.ravel().tolist(),
        "units": str(ds.DoseUnits), "summation": str(ds.DoseSummationType),
        "frame": str(ds.FrameOfReferenceUID),
    })
elif out["modality"] == "RTPLAN":
    out.update({"sop": str(ds.SOPInstanceUID), "label": str(ds.get("RTPlanLabel", "")),
                "frame": str(ds.get("FrameOfReferenceUID", ""))})
print(json.dumps(out))
