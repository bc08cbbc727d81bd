#!/usr/bin/env python3
"""Issue 19, acceptance 1 (second part): sabre check's DVH metrics against an independent
tool, dicompyler-core (PyPI), given the same dose and structures.

Inputs: the lung example's RT Structure Set and RT Dose (examples/lung-sbrt: `bash
examples/lung-sbrt/run.sh` first). The RT Dose is given to `sabre check` as both doses, so
its "sabre" column is sabre's DVH of that dose; dicompyler-core computes its own DVH of the
same RT Dose and structures (in-plane interpolation to a quarter of the pixel; --segments N
interpolated contours between contour planes, default 0). Criterion: every metric within 1 %.

Usage: python3 run.py SABRE_EXE [--python PY]   (PY: an interpreter with dicompyler-core;
default: this one; --segments N). Writes results.json (results-segments-N.json) beside this file.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
EX = os.path.join(SRC, "examples", "lung-sbrt")
PLASTIMATCH = os.path.join(HERE, "plastimatch_dvh.py")
NAMES = ("PTV", "GTV", "SPINAL_CORD", "LUNG_L", "LUNG_R")

DICOMPYLER = r'''
import json, sys
from dicompylercore import dicomparser, dvhcalc
rs, rd = sys.argv[1], sys.argv[2]
structs = dicomparser.DicomParser(rs).GetStructures()
out = {}
for k, s in structs.items():
    if s["name"] not in ("PTV", "GTV", "SPINAL_CORD", "LUNG_L", "LUNG_R"):  # NAMES
        continue
    h = dvhcalc.get_dvh(rs, rd, k, interpolation_resolution=(0.625, 0.625), interpolation_segments_between_planes=int(sys.argv[3]))
    r = {"volume_cm3": float(h.volume), "Dmean": float(h.mean)}
    for name, q in (("D95%", "D95"), ("D98%", "D98"), ("D2%", "D2"), ("D0.035cc", "D0.035cc"), ("D1cc", "D1cc")):
        r[name] = float(h.statistic(q).value)
    r["V20Gy"] = float(h.statistic("V20Gy").value)
    out[s["name"]] = r
print(json.dumps(out))
'''


ANALYTIC = r'''
# A 2 cm sphere contoured every 2.5 mm (area-preserving 128-gons) in a dose rising along z
# by 0.4 Gy/mm (10 Gy at the centre), on a 2.5 mm RT Dose grid: written with pydicom,
# measured with dicompyler-core, compared with the contoured stack's analytic DVH.
import json, sys, math, numpy as np, pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from dicompylercore import dvhcalc
tmp = sys.argv[1]
R, s, zc = 10.0, 2.5, 1.25
frame = generate_uid()
def base(cls, mod, path):
    m = FileMetaDataset(); m.MediaStorageSOPClassUID = cls; m.MediaStorageSOPInstanceUID = generate_uid()
    m.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=m, preamble=b"\0" * 128)
    ds.SOPClassUID = cls; ds.SOPInstanceUID = m.MediaStorageSOPInstanceUID; ds.Modality = mod
    ds.FrameOfReferenceUID = frame; ds.PatientID = "A"; ds.StudyInstanceUID = generate_uid(); ds.SeriesInstanceUID = generate_uid()
    ds.is_little_endian = True; ds.is_implicit_VR = False
    return ds
rs = base("1.2.840.10008.5.1.4.1.1.481.3", "RTSTRUCT", tmp + "/RS.dcm")
roi = Dataset(); roi.ROINumber = 1; roi.ROIName = "SPHERE"; roi.ReferencedFrameOfReferenceUID = frame
rs.StructureSetROISequence = Sequence([roi])
n = 128; scale = math.sqrt(2 * math.pi / (n * math.sin(2 * math.pi / n)))
contours = []
for p in range(int(round(2 * R / s))):
    z = -R + (p + 0.5) * s
    rho = math.sqrt(R * R - z * z) * scale
    c = Dataset(); c.ContourGeometricType = "CLOSED_PLANAR"; c.NumberOfContourPoints = n
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        pts += [f"{rho * math.cos(a):.6f}", f"{rho * math.sin(a):.6f}", f"{zc + z:.6f}"]
    c.ContourData = pts
    contours.append(c)
rc = Dataset(); rc.ReferencedROINumber = 1; rc.ROIDisplayColor = [255, 0, 0]; rc.ContourSequence = Sequence(contours)
rs.ROIContourSequence = Sequence([rc])
obs = Dataset(); obs.ObservationNumber = 1; obs.ReferencedROINumber = 1; obs.RTROIInterpretedType = "GTV"
rs.RTROIObservationsSequence = Sequence([obs])
rs.save_as(tmp + "/RS.dcm")
rd = base("1.2.840.10008.5.1.4.1.1.481.2", "RTDOSE", tmp + "/RD.dcm")
nx = 17; sp = 2.5; x0 = -20.0
zs = [x0 + zc + k * sp for k in range(nx)]
dose = np.zeros((nx, nx, nx))
for k, z in enumerate(zs):
    dose[k] = 10 + 0.4 * (z - zc)
scaling = dose.max() / 60000
rd.Rows = rd.Columns = nx; rd.NumberOfFrames = nx; rd.PixelSpacing = [sp, sp]
rd.ImagePositionPatient = [x0, x0, zs[0]]; rd.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
rd.GridFrameOffsetVector = [z - zs[0] for z in zs]; rd.DoseGridScaling = f"{scaling:.10g}"
rd.DoseUnits = "GY"; rd.DoseType = "PHYSICAL"; rd.DoseSummationType = "PLAN"
rd.SamplesPerPixel = 1; rd.PhotometricInterpretation = "MONOCHROME2"; rd.BitsAllocated = 32; rd.BitsStored = 32
rd.HighBit = 31; rd.PixelRepresentation = 0; rd.FrameIncrementPointer = (0x3004, 0x000C)
rd.PixelData = np.round(dose / scaling).astype(np.uint32).tobytes()
rd.save_as(tmp + "/RD.dcm")
h = dvhcalc.get_dvh(tmp + "/RS.dcm", tmp + "/RD.dcm", 1, interpolation_resolution=(0.625, 0.625),
                    interpolation_segments_between_planes=int(sys.argv[2]))
out = {"volume_cm3": float(h.volume), "Dmean": float(h.mean)}
for q in ("D95", "D98", "D2"):
    out[q + "%"] = float(h.statistic(q).value)
print(json.dumps(out))
'''


def stack_reference(r=10.0, s=2.5, d0=10.0, g=0.4):
    """The contoured stack's exact DVH for D = d0 + g z (tests/engine/check/dvh_test.cc)."""
    import math
    zs = [-r + (p + 0.5) * s for p in range(int(round(2 * r / s)))]
    area = [math.pi * (r * r - z * z) for z in zs]
    def above(h):
        return sum(a * min(max(z + s / 2 - max(h, z - s / 2), 0), s) for z, a in zip(zs, area))
    vol = above(-1e9)
    def dose(p):
        lo, hi = -r - s, r + s
        for _ in range(100):
            t = 0.5 * (lo + hi)
            if above(t) > p / 100 * vol:
                lo = t
            else:
                hi = t
        return d0 + g * 0.5 * (lo + hi)
    return {"volume_cm3": vol / 1000, "Dmean": d0, "D95%": dose(95), "D98%": dose(98), "D2%": dose(2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exe")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--tool", choices=("dicompyler-core", "plastimatch"), default="dicompyler-core",
                    help="the independent tool (plastimatch: plastimatch_dvh.py, the Debian package)")
    ap.add_argument("--fine", type=int, default=5, help="plastimatch: sub-division of the dose pixel and contour spacing")
    ap.add_argument("--segments", type=int, default=0,
                    help="dicompyler-core's interpolation_segments_between_planes (default 0)")
    a = ap.parse_args()
    rs = os.path.join(EX, "generated", "ct", "RS.dcm")
    rd = os.path.join(EX, "output", "RD.dcm")
    if not (os.path.exists(rs) and os.path.exists(rd)):
        sys.exit("run examples/lung-sbrt/run.sh first")
    r = subprocess.run([a.exe, "--log-level", "warn", "check", "--dose", rd, "--tps-dose", rd, "--structures", rs,
                        "--fractions", "3", "--json"], capture_output=True, text=True)
    if r.returncode not in (0, 10):
        sys.exit(r.stderr)
    s = json.loads(r.stdout)
    if a.tool == "plastimatch":
        d = subprocess.run([a.python, PLASTIMATCH, rs, rd, *NAMES, "--fine", str(a.fine)], capture_output=True, text=True)
    else:
        d = subprocess.run([a.python, "-c", DICOMPYLER, rs, rd, str(a.segments)], capture_output=True, text=True)
    if d.returncode != 0:
        sys.exit(d.stderr[-2000:])
    ref = json.loads(d.stdout)
    rows, worst = [], 0.0
    for st in s["structures"]:
        name = st["name"]
        if name not in ref:
            continue
        ours = {m["metric"]: m["sabre"] for m in st["metrics"]}
        ours["volume_cm3"] = st["volume_cm3"]
        for metric in ("volume_cm3", "Dmean", "D95%", "D98%", "D2%", "D0.035cc", "D1cc", "V20Gy"):
            if metric not in ours or metric not in ref[name]:
                continue
            a_, b_ = ours[metric], ref[name][metric]
            if metric == "V20Gy" and max(abs(a_), abs(b_)) < 1.0:
                rel = None  # both under 1 cm3: a relative figure means nothing
            else:
                rel = 100 * (a_ - b_) / b_ if b_ else None
            if rel is not None:
                worst = max(worst, abs(rel))
            rows.append({"structure": name, "metric": metric, "sabre": a_, "reference": b_, "difference_percent": rel})
            print(f"{name:12s} {metric:10s} sabre {a_:10.4f}  {a.tool} {b_:10.4f}  "
                  f"{'' if rel is None else f'{rel:+.2f} %'}", flush=True)
    # The analytic case: both tools on the same files, against the exact values.
    import tempfile
    analytic = []
    with tempfile.TemporaryDirectory() as tmp:
        d = subprocess.run([a.python, "-c", ANALYTIC, tmp, str(a.segments)], capture_output=True, text=True)
        if d.returncode != 0:
            sys.exit(d.stderr[-2000:])
        dp = json.loads(d.stdout)
        if a.tool == "plastimatch":  # the same files, measured by plastimatch instead
            d = subprocess.run([a.python, PLASTIMATCH, tmp + "/RS.dcm", tmp + "/RD.dcm", "SPHERE", "--fine",
                                str(a.fine)], capture_output=True, text=True)
            if d.returncode != 0:
                sys.exit(d.stderr[-2000:])
            dp = json.loads(d.stdout)["SPHERE"]
        r = subprocess.run([a.exe, "--log-level", "warn", "check", "--dose", tmp + "/RD.dcm", "--tps-dose",
                            tmp + "/RD.dcm", "--structures", tmp + "/RS.dcm", "--fractions", "1", "--json"],
                           capture_output=True, text=True)
        if r.returncode not in (0, 10):
            sys.exit(r.stderr)
        st = json.loads(r.stdout)["structures"][0]
        ours = {m["metric"]: m["sabre"] for m in st["metrics"]}
        ours["volume_cm3"] = st["volume_cm3"]
        exact = stack_reference()
        print("analytic: a 2 cm sphere contoured every 2.5 mm, dose rising 0.4 Gy/mm along z, 2.5 mm grid")
        for metric in ("volume_cm3", "Dmean", "D95%", "D98%", "D2%"):
            e = exact[metric]
            row = {"metric": metric, "exact": e, "sabre": ours[metric], "reference": dp[metric],
                   "sabre_percent": 100 * (ours[metric] - e) / e, "reference_percent": 100 * (dp[metric] - e) / e}
            analytic.append(row)
            print(f"  {metric:10s} exact {e:8.4f}  sabre {ours[metric]:8.4f} ({row['sabre_percent']:+.2f} %)  "
                  f"{a.tool} {dp[metric]:8.4f} ({row['reference_percent']:+.2f} %)", flush=True)
    res = {"rows": rows, "worst_percent": worst, "criterion_percent": 1.0, "passed": worst <= 1.0,
           "inputs": {"rs": rs, "rd": rd}, "analytic": analytic}
    res["tool"] = a.tool
    if a.tool == "plastimatch":
        res["plastimatch_fine"] = a.fine
        name = f"results-plastimatch-fine-{a.fine}.json"
    else:
        res["dicompyler_core_segments_between_planes"] = a.segments
        name = "results.json" if a.segments == 0 else f"results-segments-{a.segments}.json"
    json.dump(res, open(os.path.join(HERE, name), "w"), indent=1)
    print(f"worst |difference| {worst:.2f} % (criterion 1 %): {'pass' if worst <= 1 else 'FAIL'}")


if __name__ == "__main__":
    main()
