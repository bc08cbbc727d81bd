#!/usr/bin/env python3
"""The Elekta Versa HD / Agility machine model with RT Plans written independently of sabre
(pydicom), in the encodings the planning systems use (beams/machines/versa-hd-agility.toml):

1. Monaco's: BeamLimitingDeviceSequence ASYMY + MLCX (80 pairs, boundaries -200 .. 200 mm,
   SourceToBeamLimitingDeviceDistance 432 / 349 mm), every control point with both; a
   two-arc VMAT plan (CW 181 -> 179, CC back) with a modulated aperture, 6 MV FFF.
   `sabre plan show --json` maps every beam to VersaHD-Agility; a plan with the same
   devices named for a TrueBeam is refused by both TrueBeam models with the reason (leaf
   pairs);
2. Pinnacle's: the same plan with an ASYMX device (bogus positions) added: read, the ASYMX
   ignored with a warning, and `sabre linac` gives bit-identical dose to the Monaco form
   (the X jaws play no part);
3. `sabre run` takes the Monaco-form VMAT plan end to end on the thorax phantom (CT + RT
   Structure Set from `sabre phantom thorax`): HDF5, RT Dose and summary written, the PTV
   receiving dose, the summary naming the Agility model.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
    import pydicom
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
except ImportError:
    print("SKIPPED: pydicom/h5py/numpy not available")
    sys.exit(77)

EXE = os.environ.get("SABRE_EXE")
SRC = os.environ.get("SABRE_SOURCE_DIR")
if not EXE or not SRC or not os.path.exists(os.path.join(SRC, "physics", "data", "default.h5")):
    print("SKIPPED: SABRE_EXE / tables not available")
    sys.exit(77)

fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails.append(what)


def sabre(*args):
    r = subprocess.run([EXE, "--log-level", "warn", *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


RTPLAN = "1.2.840.10008.5.1.4.1.1.481.5"
BOUNDS = [-200.0 + 5.0 * k for k in range(81)]


def aperture(phase, half_x=15.0, half_y=15.0, modulation=0.3):
    """Leaf positions (bank A then B, mm) of a rectangle |x| <= s half_x over the pairs whose
    centre is inside |y| < half_y, s = 1 - modulation (1 - cos 2 pi phase) / 2; the other
    pairs closed at x = 0 under the diaphragms."""
    s = 1 - modulation * (1 - np.cos(2 * np.pi * phase)) / 2
    a, b = [], []
    for k in range(80):
        yc = 0.5 * (BOUNDS[k] + BOUNDS[k + 1])
        inside = abs(yc) < half_y
        a.append(-s * half_x if inside else 0.0)
        b.append(s * half_x if inside else 0.0)
    return a + b


def plan(path, machine_name, with_asymx=False, frame_uid=None, study_uid=None, patient=("PHANTOM", "SABRE^THORAX"),
         iso=(65.0, -5.0, 0.0), mu=650.0, n_cp=19):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = RTPLAN
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = RTPLAN
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "RTPLAN"
    ds.Manufacturer = "CMS, Inc."
    ds.ManufacturerModelName = "Monaco"
    ds.PatientID, ds.PatientName = patient
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = frame_uid or generate_uid()
    ds.RTPlanLabel = "VMAT"
    ds.RTPlanGeometry = "PATIENT"
    setup = Dataset()
    setup.PatientSetupNumber = 1
    setup.PatientPosition = "HFS"
    ds.PatientSetupSequence = Sequence([setup])
    fg = Dataset()
    fg.FractionGroupNumber = 1
    fg.NumberOfFractionsPlanned = 3
    fg.NumberOfBeams = 2
    refs = []
    beams = []
    for number, (g0, direction) in enumerate(((181.0, "CW"), (179.0, "CC")), start=1):
        rb = Dataset()
        rb.ReferencedBeamNumber = number
        rb.BeamMeterset = mu
        refs.append(rb)
        b = Dataset()
        b.BeamNumber = number
        b.BeamName = f"arc {number}"
        b.TreatmentMachineName = machine_name
        b.PrimaryDosimeterUnit = "MU"
        b.SourceAxisDistance = 1000.0
        b.BeamType = "DYNAMIC"
        b.RadiationType = "PHOTON"
        b.TreatmentDeliveryType = "TREATMENT"
        fm = Dataset()
        fm.FluenceMode = "NON_STANDARD"
        fm.FluenceModeID = "FFF"
        b.PrimaryFluenceModeSequence = Sequence([fm])
        devices = []
        if with_asymx:
            d = Dataset()
            d.RTBeamLimitingDeviceType = "ASYMX"
            d.NumberOfLeafJawPairs = 1
            devices.append(d)
        d = Dataset()
        d.RTBeamLimitingDeviceType = "ASYMY"
        d.SourceToBeamLimitingDeviceDistance = 432.0
        d.NumberOfLeafJawPairs = 1
        devices.append(d)
        d = Dataset()
        d.RTBeamLimitingDeviceType = "MLCX"
        d.SourceToBeamLimitingDeviceDistance = 349.0
        d.NumberOfLeafJawPairs = 80
        d.LeafPositionBoundaries = BOUNDS
        devices.append(d)
        b.BeamLimitingDeviceSequence = Sequence(devices)
        b.ReferencedPatientSetupNumber = 1
        b.FinalCumulativeMetersetWeight = 1.0
        b.NumberOfControlPoints = n_cp
        cps = []
        for k in range(n_cp):
            w = k / (n_cp - 1)
            cp = Dataset()
            cp.ControlPointIndex = k
            gantry = (g0 + (358.0 * w if direction == "CW" else -358.0 * w)) % 360.0
            cp.GantryAngle = round(gantry, 6)
            cp.GantryRotationDirection = direction if k + 1 < n_cp else "NONE"
            pos = []
            if with_asymx:
                p = Dataset()
                p.RTBeamLimitingDeviceType = "ASYMX"
                p.LeafJawPositions = [-173.0, 212.0]  # bogus, as Pinnacle writes them
                pos.append(p)
            p = Dataset()
            p.RTBeamLimitingDeviceType = "ASYMY"
            p.LeafJawPositions = [-15.0, 15.0]
            pos.append(p)
            p = Dataset()
            p.RTBeamLimitingDeviceType = "MLCX"
            p.LeafJawPositions = [round(v, 4) for v in aperture(w)]
            pos.append(p)
            cp.BeamLimitingDevicePositionSequence = Sequence(pos)
            if k == 0:
                cp.NominalBeamEnergy = 6.0
                cp.BeamLimitingDeviceAngle = 30.0
                cp.PatientSupportAngle = 0.0
                cp.IsocenterPosition = list(iso)
            cp.CumulativeMetersetWeight = w
            cps.append(cp)
        b.ControlPointSequence = Sequence(cps)
        beams.append(b)
    fg.ReferencedBeamSequence = Sequence(refs)
    ds.FractionGroupSequence = Sequence([fg])
    ds.BeamSequence = Sequence(beams)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.save_as(path, write_like_original=False)


with tempfile.TemporaryDirectory() as tmp:
    # 1. Monaco form: mapped to the Agility model.
    monaco = os.path.join(tmp, "monaco.dcm")
    plan(monaco, "VersaHD1")
    rc, out, err = sabre("plan", "show", monaco, "--json")
    check(rc == 0, f"plan show (Monaco form): exit {rc} {err.strip()}")
    if rc == 0:
        j = json.loads(out)
        check([b["machine_model"] for b in j["beams"]] == ["VersaHD-Agility"] * 2,
              f"both arcs map to VersaHD-Agility: {[b.get('machine_model') for b in j['beams']]}")
        cp1 = j["beams"][0]["control_points"][1]
        check(sorted(cp1["positions_mm"]) == ["ASYMY", "MLCX"] and len(cp1["positions_mm"]["MLCX"]) == 160,
              "control point 1 carries ASYMY and 160 MLCX positions")
    named_tb = os.path.join(tmp, "truebeam-named.dcm")
    plan(named_tb, "TrueBeam1")
    rc, out, err = sabre("plan", "show", named_tb, "--json")
    if rc == 0:
        b = json.loads(out)["beams"][0]
        check(b["machine_model"] is None and "has 60 leaf pairs, plan 80" in b.get("machine_error", ""),
              f"an Agility leaf layout is no TrueBeam's: {b.get('machine_error', '')[:160]}")
    else:
        check(False, f"plan show (TrueBeam-named): exit {rc} {err.strip()}")

    # 2. Pinnacle form (bogus ASYMX): ignored, the same dose bits.
    pinnacle = os.path.join(tmp, "pinnacle.dcm")
    plan(pinnacle, "VersaHD1", with_asymx=True)
    doses = {}
    for label, p in (("monaco", monaco), ("pinnacle", pinnacle)):
        h5 = os.path.join(tmp, f"{label}.h5")
        r = subprocess.run([EXE, "linac", "--plan", p, "--machine", "versa-hd-agility", "--beam", "6X-FFF",
                            "--centred", "--size", "16", "16", "16", "--voxel", "0.5", "0.5", "0.5",
                            "--histories", "200000", "--seed", "5", "--threads", "2", "-o", h5],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"sabre linac on the {label} form: exit {r.returncode} {r.stderr.strip()[-300:]}")
        if r.returncode == 0:
            with h5py.File(h5, "r") as h:
                doses[label] = h["dose/dose"][...]
            if label == "pinnacle":
                check("device ASYMX is ignored" in r.stderr, "the ignored ASYMX is logged")
    if len(doses) == 2:
        check(doses["monaco"].max() > 0 and np.array_equal(doses["monaco"], doses["pinnacle"]),
              "Pinnacle form (with ASYMX) gives bit-identical dose to the Monaco form")

    # 3. sabre run end to end on the thorax phantom.
    ct = os.path.join(tmp, "ct")
    rc, out, err = sabre("phantom", "thorax", "-o", ct)
    check(rc == 0, f"sabre phantom thorax: exit {rc} {err.strip()}")
    ct0 = pydicom.dcmread(os.path.join(ct, sorted(f for f in os.listdir(ct) if f.startswith("CT"))[0]))
    vmat = os.path.join(tmp, "vmat.dcm")
    plan(vmat, "VersaHD1", frame_uid=ct0.FrameOfReferenceUID, study_uid=ct0.StudyInstanceUID,
         patient=(ct0.PatientID, str(ct0.PatientName)))
    outd = os.path.join(tmp, "out")
    os.makedirs(outd)
    env = dict(os.environ, SABRE_CACHE_DIR=os.path.join(tmp, "cache"))
    r = subprocess.run([EXE, "--log-level", "warn", "run", "--ct", ct, "--plan", vmat, "--structures",
                        os.path.join(ct, "RS.dcm"), "--histories", "300000", "--calibration-histories", "300000",
                        "--device", "cpu:2", "--output-h5", os.path.join(outd, "dose.h5"),
                        "--output-rtdose", os.path.join(outd, "RD.dcm"), "--summary-json",
                        os.path.join(outd, "summary.json"), "--json"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 0, f"sabre run (Agility VMAT): exit {r.returncode} {r.stderr.strip()[-400:]}")
    if r.returncode == 0:
        s = json.loads(r.stdout)
        check(s["machine"]["name"] == "VersaHD-Agility" and s["machine"]["beam"] == "6X-FFF",
              f"summary names the model: {s['machine']}")
        check(all(os.path.exists(os.path.join(outd, f)) for f in ("dose.h5", "RD.dcm", "summary.json")),
              "HDF5, RT Dose and summary written")
        ptv = next((x for x in s.get("structures", []) if x["name"] == "PTV"), None)
        body = next((x for x in s.get("structures", []) if x["name"] == "BODY"), None)
        check(ptv is not None and body is not None and ptv["mean_gy"] > 5 * body["mean_gy"] > 0,
              f"the PTV gets the dose: PTV mean {ptv and ptv['mean_gy']:.3g} Gy, body mean {body and body['mean_gy']:.3g} Gy")
        rd = pydicom.dcmread(os.path.join(outd, "RD.dcm"))
        check(rd.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == pydicom.dcmread(vmat).SOPInstanceUID,
              "the RT Dose references the Agility plan")

if fails:
    sys.exit(f"FAIL: {len(fails)} check(s)")
print("versa-hd-agility: all checks passed")
