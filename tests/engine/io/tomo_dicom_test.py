#!/usr/bin/env python3
"""Tomotherapy plans from DICOM (engine/io/rtplan_tomo.cc, docs/tomo-plans.md "DICOM").

This test writes its DICOM files itself, with pydicom, from the tag lists in
docs/tomo-plans.md (not with sabre's code):

1. A helical plan (`sabre plan tomo`, native form) written again as an Accuray RT Plan
   (private block TOMO_HA_01: sinogram of open fractions, gantry period, pitch, couch speed,
   geometry; the sinogram stored with VR UN, the isocentre moving with the couch) and as a
   standard Tomotherapeutic Radiation object (leaf open durations in seconds, cumulative
   meterset in seconds, source roll angle, table-top longitudinal position). All three give
   the same dose bit for bit (`sabre linac`, same seed): dose and uncertainty arrays equal.
2. The same for a fixed-angle (TomoDirect) plan at 0 and 90 degrees (the couch returns to
   the start at each angle; the private sinogram stored as DS).
3. Malformed or unsupported plans: one error line naming the file and the problem, exit 3,
   no output file.
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
    import tomllib
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
except ImportError as e:
    print(f"SKIPPED: {e}")
    sys.exit(77)

EXE = os.environ.get("SABRE_EXE")
SRC = os.environ.get("SABRE_SOURCE_DIR")
if not EXE or not SRC or not os.path.exists(os.path.join(SRC, "physics", "data", "default.h5")):
    print("SKIPPED: SABRE_EXE / tables not available")
    sys.exit(77)

RT_PLAN = "1.2.840.10008.5.1.4.1.1.481.5"
TOMO_RADIATION = "1.2.840.10008.5.1.4.1.1.481.14"
fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails.append(what)


def sabre(*args):
    r = subprocess.run([EXE, "--log-level", "warn", *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def ds_text(x):
    """A DS value: the shortest text (at most 16 characters) that holds the double."""
    for p in range(17, 6, -1):
        t = f"{x:.{p}g}"
        if len(t) <= 16:
            return t
    raise ValueError(x)


def base_dataset(sop_class, modality, path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.dataset.FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientID = "TOMO-TEST"
    ds.PatientName = "Test^Tomo"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    return ds


def save(ds, path):
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.save_as(path, write_like_original=False)


def delivery(p, iso0, direction):
    """Per control point (n + 1 for n projections): gantry angle, couch offset along the
    travel [mm], open fractions (None for the closing control point)."""
    rows = p["sinogram"]
    n = len(rows)
    helical = p["geometry"] == "HELICAL"
    step = p["couch_mm_per_projection"]
    angles, index = [], []
    for k in range(n + 1):
        if helical:
            angles.append((p.get("gantry_start_deg", 0.0) + k * 360.0 / 51) % 360.0)
            index.append(k)
        else:
            g = p["fixed_gantry_deg"][min(k, n - 1)]
            angles.append(g)
            if k == n:
                index.append(index[-1] + 1)
            elif k > 0 and g == p["fixed_gantry_deg"][k - 1]:
                index.append(index[-1] + 1)
            else:
                index.append(0)
    couch = [c * step for c in index]
    iso = [[iso0[j] + c * step * direction[j] for j in range(3)] for c in index]
    return angles, couch, iso, rows


def write_private(p, iso0, direction, path, sinogram_vr="UN", moving_iso=True, mutate=None):
    ds = base_dataset(RT_PLAN, "RTPLAN", path)
    ds.RTPlanLabel = "tomo test"
    ds.RTPlanGeometry = "PATIENT"
    setup = Dataset()
    setup.PatientSetupNumber = 1
    setup.PatientPosition = p.get("patient_position", "HFS")
    ds.PatientSetupSequence = Sequence([setup])
    t = p["projection_time_s"]
    n = len(p["sinogram"])
    fg = Dataset()
    fg.FractionGroupNumber = 1
    fg.NumberOfFractionsPlanned = 1
    fg.NumberOfBeams = 1
    rb = Dataset()
    rb.ReferencedBeamNumber = 1
    rb.BeamMeterset = ds_text(n * t / 60.0)  # predicted beam-on time [min] (information)
    fg.ReferencedBeamSequence = Sequence([rb])
    ds.FractionGroupSequence = Sequence([fg])
    b = Dataset()
    b.BeamNumber = 1
    b.BeamName = "tomo"
    b.BeamType = "DYNAMIC"
    b.RadiationType = "PHOTON"
    b.TreatmentDeliveryType = "TREATMENT"
    b.TreatmentMachineName = p["machine"]
    b.ManufacturerModelName = "Hi-Art"
    b.PrimaryDosimeterUnit = "MINUTE"
    b.SourceAxisDistance = "850"
    b.ReferencedPatientSetupNumber = 1
    b.add_new((0x300D, 0x0010), "LO", "TOMO_HA_01")
    period = 51 * t
    speed = p["couch_mm_per_projection"] / t
    pitch = speed * period / p["jaw_width_mm"]
    b.add_new((0x300D, 0x1040), "DS", ds_text(period))
    b.add_new((0x300D, 0x1060), "DS", ds_text(pitch))
    b.add_new((0x300D, 0x1080), "DS", ds_text(speed))
    b.add_new((0x300D, 0x10A4), "LO", p["geometry"])
    angles, couch, iso, rows = delivery(p, iso0, direction)
    cps = []
    w = p["jaw_width_mm"]
    for k, g in enumerate(angles):
        c = Dataset()
        c.ControlPointIndex = k
        c.CumulativeMetersetWeight = ds_text(k / n)
        c.GantryAngle = ds_text(g)
        if k == 0:
            c.NominalBeamEnergy = "6"
            c.GantryRotationDirection = "CW" if p["geometry"] == "HELICAL" else "NONE"
            jy = Dataset()
            jy.RTBeamLimitingDeviceType = "Y"
            jy.LeafJawPositions = [ds_text(-w / 2), ds_text(w / 2)]
            c.BeamLimitingDevicePositionSequence = Sequence([jy])
        if k == 0 or moving_iso:
            c.IsocenterPosition = [ds_text(v) for v in iso[k]]
        if k < n and any(rows[k]):
            c.add_new((0x300D, 0x0010), "LO", "TOMO_HA_01")
            text = "\\".join(ds_text(f) for f in rows[k])
            if sinogram_vr == "UN":
                data = text.encode("ascii")
                c.add_new((0x300D, 0x10A7), "UN", data + (b" " if len(data) % 2 else b""))
            else:
                c.add_new((0x300D, 0x10A7), "DS", [ds_text(f) for f in rows[k]])
        cps.append(c)
    b.NumberOfControlPoints = len(cps)
    b.ControlPointSequence = Sequence(cps)
    ds.BeamSequence = Sequence([b])
    if mutate:
        mutate(ds)
    save(ds, path)


def write_standard(p, iso0, path, mutate=None):
    ds = base_dataset(TOMO_RADIATION, "RTRAD", path)
    ds.UserContentLabel = "tomo test"
    ds.IntendedNumberOfFractions = 1
    dev = Dataset()
    dev.DeviceLabel = p["machine"]
    ds.TreatmentDeviceIdentificationSequence = Sequence([dev])
    pos = Dataset()
    pos.PatientPosition = p.get("patient_position", "HFS")
    ds.TreatmentPositionSequence = Sequence([pos])
    ds.RadiationSourceAxisDistance = 850.0
    mode = Dataset()
    mode.NominalEnergy = "6"
    ds.RadiationGenerationModeSequence = Sequence([mode])
    unit = Dataset()
    unit.CodeValue = "s"
    unit.CodingSchemeDesignator = "UCUM"
    unit.CodeMeaning = "second"
    ds.RadiationDosimeterUnitSequence = Sequence([unit])
    jaw = Dataset()
    jaw.DeviceIndex = 1
    jp = Dataset()
    jp.NumberOfParallelRTBeamDelimiters = 1
    jp.ParallelRTBeamDelimiterBoundaries = [-200.0, 200.0]
    jaw.ParallelRTBeamDelimiterDeviceSequence = Sequence([jp])
    mlc = Dataset()
    mlc.DeviceIndex = 2
    mp = Dataset()
    mp.NumberOfParallelRTBeamDelimiters = 64
    mp.ParallelRTBeamDelimiterBoundaries = [-200.0 + 6.25 * i for i in range(65)]
    mlc.ParallelRTBeamDelimiterDeviceSequence = Sequence([mp])
    ds.RTBeamLimitingDeviceDefinitionSequence = Sequence([jaw, mlc])
    t = p["projection_time_s"]
    n = len(p["sinogram"])
    angles, couch, iso, rows = delivery(p, iso0, [0, 0, 0])
    w = p["jaw_width_mm"]
    cps = []
    for k, g in enumerate(angles):
        c = Dataset()
        c.RTControlPointIndex = k
        c.CumulativeMeterset = k * t
        c.SourceRollAngle = g
        c.TableTopLongitudinalPosition = ds_text(100.0 + couch[k])
        if k == 0:
            c.IsocenterPosition = [ds_text(v) for v in iso0]
            o = Dataset()
            o.ReferencedDefinedDeviceIndex = 1
            o.ParallelRTBeamDelimiterPositions = [-w / 2, w / 2]
            c.RTBeamLimitingDeviceOpeningSequence = Sequence([o])
        if k < n:
            c.TomotherapeuticLeafOpenDurations = [f * t for f in rows[k]]
        cps.append(c)
    ds.TomotherapeuticControlPointSequence = Sequence(cps)
    if mutate:
        mutate(ds)
    save(ds, path)


def dose(plan, out, box_centre):
    rc, _, err = sabre("linac", "--machine", "tomotherapy", "--plan", plan, "--centred", "--box-centre",
                       *map(str, box_centre), "--size", "6", "6", "6", "--voxel", "0.5", "0.5", "0.5",
                       "--histories", "60000", "--seed", "11", "--threads", "2", "-o", out)
    if rc != 0:
        return None, err.strip()[-300:]
    with h5py.File(out, "r") as h:
        return (h["dose/dose"][...], h["dose/rel_uncertainty"][...]), ""


with tempfile.TemporaryDirectory() as tmp:
    cases = {
        "helical": ["--target", "5", "-10", "20", "--radius", "12", "--jaw", "10", "--pitch", "0.43",
                    "--projection-time", "0.25", "--open-fraction", "0.7"],
        "fixed": ["--geometry", "FIXED_ANGLE", "--angles", "0", "90", "--target", "5", "-10", "20", "--radius", "12",
                  "--jaw", "25", "--pitch", "0.5", "--projection-time", "0.3"],
    }
    valid = {}
    for name, args in cases.items():
        native = os.path.join(tmp, f"{name}.toml")
        rc, _, err = sabre("plan", "tomo", "-o", native, "--machine-name", "Tomo-HDA", *args)
        check(rc == 0, f"{name}: sabre plan tomo: {rc} {err.strip()[:200]}")
        if rc != 0:
            continue
        with open(native, "rb") as f:
            p = tomllib.load(f)["plan"]
        rc, out, err = sabre("plan", "show", "--json", native)
        cp = json.loads(out)["beams"][0]["control_points"]
        iso0 = cp[0]["iso_mm"]
        travel = np.subtract(cp[1]["iso_mm"], iso0)
        direction = list(travel / np.linalg.norm(travel))
        private = os.path.join(tmp, f"{name}-accuray.dcm")
        standard = os.path.join(tmp, f"{name}-standard.dcm")
        write_private(p, iso0, direction, private, sinogram_vr="UN" if name == "helical" else "DS",
                      moving_iso=name == "helical")
        write_standard(p, iso0, standard)
        valid[name] = (p, iso0, direction)
        shows = {}
        for form, path in (("native", native), ("accuray", private), ("standard", standard)):
            rc, out, err = sabre("plan", "show", "--json", path)
            check(rc == 0, f"{name} {form}: plan show: {rc} {err.strip()[:300]}")
            if rc == 0:
                shows[form] = json.loads(out)["beams"][0]
        if len(shows) == 3:
            keys = ("control_points", "mu", "sinogram", "patient_position", "machine_model")
            differ = sorted({k for f in shows for k in keys if shows[f].get(k) != shows["native"].get(k)})
            s = shows["native"]["sinogram"]
            check(not differ and s is not None,
                  f"{name}: the three forms read as the same plan: sinogram of {s and s['n_projections']} "
                  f"projections, {s and s['projection_time_s']} s each, couch {s and s['couch_mm_per_projection']} "
                  f"mm per projection, {shows['native'].get('mu')} s beam-on (differ: {differ})")
        centre = [0.5 * (cp[0]["iso_mm"][j] + cp[1]["iso_mm"][j]) for j in range(3)]
        doses = {}
        for form, path in (("native", native), ("accuray", private), ("standard", standard)):
            d, err = dose(path, os.path.join(tmp, f"{name}-{form}.h5"), centre)
            check(d is not None, f"{name} {form}: sabre linac {err}")
            if d is not None:
                doses[form] = d
        if len(doses) == 3:
            ref = doses["native"]
            check(ref[0].max() > 0, f"{name}: the delivery deposits dose (max {ref[0].max():.3g} Gy)")
            for form in ("accuray", "standard"):
                check(np.array_equal(doses[form][0], ref[0]) and np.array_equal(doses[form][1], ref[1]),
                      f"{name}: {form} DICOM gives the native plan's dose bit for bit "
                      f"(max |diff| {np.abs(doses[form][0] - ref[0]).max():.3g})")

    # 3. malformed / unsupported
    def refused(path, want, what):
        out = os.path.join(tmp, "bad.h5")
        if os.path.exists(out):
            os.remove(out)
        rc, _, err = sabre("linac", "--machine", "tomotherapy", "--plan", path, "--centred", "--size", "4", "4", "4",
                           "--voxel", "1", "1", "1", "--histories", "1000", "--seed", "1", "-o", out)
        msg = err.strip()
        check(rc == 3 and want in msg and path in msg and "\n" not in msg and not os.path.exists(out),
              f"{what}: exit {rc}, one line naming the file: {msg[:260]}")

    if "helical" in valid:
        p, iso0, direction = valid["helical"]

        def private_case(tag, want, what, **kw):
            path = os.path.join(tmp, f"bad-{tag}.dcm")
            write_private(p, iso0, direction, path, **kw)
            refused(path, want, what)

        def standard_case(tag, want, what, mutate, q=None):
            path = os.path.join(tmp, f"bad-{tag}.dcm")
            write_standard(q or p, iso0, path, mutate=mutate)
            refused(path, want, what)

        def drop(tag):
            def m(ds):
                del ds.BeamSequence[0][tag]
            return m

        private_case("period", "(300D,xx40)", "Accuray: no gantry period", mutate=drop((0x300D, 0x1040)))

        def bad_fraction(ds):
            c = ds.BeamSequence[0].ControlPointSequence[3]
            vals = bytes(c[0x300D, 0x10A7].value).decode().split("\\")
            vals[5] = "1.5"
            data = "\\".join(vals).encode()
            c[0x300D, 0x10A7].value = data + (b" " if len(data) % 2 else b"")
        private_case("frac", "leaf 6: 1.5 is outside [0, 1]", "Accuray: an open fraction above 1", mutate=bad_fraction)

        def bad_angle(ds):
            ds.BeamSequence[0].ControlPointSequence[7].GantryAngle = "100"
        private_case("angle", "control point 7: GantryAngle 100 deg", "Accuray: a gantry angle off the rotation",
                     mutate=bad_angle)

        def geometry(ds):
            ds.BeamSequence[0][0x300D, 0x10A4].value = "TOPOTHERAPY"
        private_case("geom", "not HELICAL or FIXED_ANGLE", "Accuray: an unknown geometry", mutate=geometry)

        def iso_off(ds):
            ds.BeamSequence[0].ControlPointSequence[9].IsocenterPosition = ["0", "0", "0"]
        private_case("iso", "control point 9: IsocenterPosition", "Accuray: an isocentre the couch cannot reach",
                     mutate=iso_off)

        def sad(ds):
            ds.RadiationSourceAxisDistance = 1000.0
        standard_case("sad", "source-axis distance 850 mm, plan has 1000 mm", "standard: a source-axis distance "
                      "other than the machine's", sad)

        def unit(ds):
            ds.RadiationDosimeterUnitSequence[0].CodeValue = "{MU}"
        standard_case("unit", "must be in seconds", "standard: a meterset not in seconds", unit)

        def long_open(ds):
            c = ds.TomotherapeuticControlPointSequence[4]
            v = list(c.TomotherapeuticLeafOpenDurations)
            v[10] = 2 * p["projection_time_s"]
            c.TomotherapeuticLeafOpenDurations = v
        standard_case("long", "leaf 11: 0.5 s is outside [0, the projection time", "standard: a leaf open longer "
                      "than its projection", long_open)

        def uneven(ds):
            ds.TomotherapeuticControlPointSequence[6].CumulativeMeterset += 0.05
        standard_case("uneven", "projections must last the same time", "standard: projections of unequal time", uneven)

        def off_centre(ds):
            c = ds.TomotherapeuticControlPointSequence[2]
            c.TomotherapeuticLeafInitialClosedDurations = [0.0] * 64
        standard_case("offc", "not centred", "standard: off-centre leaf openings", off_centre)

        def jaws_move(ds):
            o = Dataset()
            o.ReferencedDefinedDeviceIndex = 1
            o.ParallelRTBeamDelimiterPositions = [-7.0, 5.0]
            ds.TomotherapeuticControlPointSequence[5].RTBeamLimitingDeviceOpeningSequence = Sequence([o])
        standard_case("jaws", "dynamic jaws are not read", "standard: jaws that move", jaws_move)

        def no_roll(ds):
            del ds.TomotherapeuticControlPointSequence[0].SourceRollAngle
        standard_case("roll", "lacks SourceRollAngle", "standard: no gantry angle", no_roll)

        def couch_back(ds):
            c = ds.TomotherapeuticControlPointSequence[5]
            c.TableTopLongitudinalPosition = ds_text(float(c.TableTopLongitudinalPosition) + 3)
        standard_case("couch", "control point 5: TableTopLongitudinalPosition", "standard: a couch that jumps", couch_back)

        def last_open(ds):
            ds.TomotherapeuticControlPointSequence[-1].TomotherapeuticLeafOpenDurations = [0.1] * 64
        standard_case("last", "the last control point ends the delivery", "standard: a leaf opened at the end",
                      last_open)

if fails:
    sys.exit(f"FAIL: {len(fails)} check(s)")
print("tomo DICOM: all checks passed")
