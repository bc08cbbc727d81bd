#!/usr/bin/env python3
"""An IAEA phase space written here with numpy (independently of sabre's writer) is read
by `sabre linac --phsp` as the source above the jaws: the records are 2 MeV photons from
the focal point, aimed uniformly over 16 x 16 cm at the isocentre plane, z = 26.7 cm
(constant, in $RECORD_CONSTANT). With 10 x 10 cm jaws (MLC retracted), SSD 100, the dose
at 5 cm depth must fall to < 10 % of the centre beyond the projected edge + 1 cm
(5.25 + 1 cm) and stay > 80 % inside 3 cm: the collimators act on phase-space particles.
Also: a truncated data file fails with exit 3 and a message naming it.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIPPED: h5py/numpy not available")
    sys.exit(77)

EXE = os.environ.get("SABRE_EXE")
SRC = os.environ.get("SABRE_SOURCE_DIR")
if not EXE or not SRC or not os.path.exists(os.path.join(SRC, "physics", "data", "default.h5")):
    print("SKIPPED: SABRE_EXE / tables not available")
    sys.exit(77)

N = 60000
rng = np.random.default_rng(3)
xi = rng.uniform(-8, 8, N)
yi = rng.uniform(-8, 8, N)
zp = 26.7
norm = np.sqrt(xi ** 2 + yi ** 2 + 100.0 ** 2)
rec = np.zeros(N, dtype=[("t", "i1"), ("e", "<f4"), ("x", "<f4"), ("y", "<f4"), ("u", "<f4"), ("v", "<f4"), ("w", "<f4")])
rec["t"] = 1  # photons, w > 0
rec["e"] = -2.0  # every particle a new history
rec["x"] = xi * zp / 100
rec["y"] = yi * zp / 100
rec["u"] = xi / norm
rec["v"] = yi / norm
rec["w"] = 1.0  # weight
header = f"""$IAEA_INDEX:
0
$TITLE:
numpy-written test phase space
$FILE_TYPE:
0
$CHECKSUM:
{N * 25}
$RECORD_CONTENTS:
1 // X
1 // Y
0 // Z
1 // U
1 // V
0 // W
1 // Weight
0 // extra floats
0 // extra longs
$RECORD_CONSTANT:
{zp}
$RECORD_LENGTH:
25
$BYTE_ORDER:
1234
$ORIG_HISTORIES:
{N}
$PARTICLES:
{N}
$PHOTONS:
{N}
"""
fails = []
with tempfile.TemporaryDirectory() as tmp:
    base = os.path.join(tmp, "ps")
    open(base + ".IAEAheader", "w").write(header)
    rec.tofile(base + ".IAEAphsp")
    out = os.path.join(tmp, "d.h5")
    r = subprocess.run([EXE, "linac", "--phsp", base, "--field", "10", "10", "--histories", "300000", "--threads", "2",
                        "--voxel", "0.5", "0.5", "2", "--size", "30", "10", "30", "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        if "no electron/positron transport" in r.stderr:
            print("SKIPPED: built without charged transport")
            sys.exit(77)
        sys.exit(f"sabre linac --phsp failed: {r.stderr}")
    s = json.loads(r.stdout)
    check = s["source"].startswith("phase space")
    if not check:
        fails.append("summary does not name the phase-space source")
    with h5py.File(out, "r") as h:
        d = h["dose/dose"][...]
    nz, ny, nx = d.shape
    xc = (np.arange(nx) + 0.5) * 0.5 - 15
    prof = d[nz // 2 - 1:nz // 2 + 1, 9:11, :].mean(axis=(0, 1))  # depth 4.5-5.5 cm, |z| < 2 cm
    centre = prof[np.abs(xc) < 1].mean()
    inside = prof[np.abs(xc) < 3] / centre
    outside = prof[np.abs(xc) > 6.25] / centre
    print(f"inside min {inside.min():.3f}, outside max {outside.max():.3f}")
    if inside.min() < 0.8:
        fails.append(f"dose inside the field too low: {inside.min():.3f}")
    if outside.max() > 0.1:
        fails.append(f"dose outside the jaws too high: {outside.max():.3f}")
    # truncated data file
    with open(base + ".IAEAphsp", "r+b") as f:
        f.truncate(N * 25 - 10)
    r = subprocess.run([EXE, "linac", "--phsp", base, "--histories", "100"], capture_output=True, text=True)
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    if r.returncode != 3 or (base + ".IAEAphsp") not in last or "truncated" not in last:
        fails.append(f"truncated phase space: exit {r.returncode}, '{last}'")
if fails:
    print("\n".join(fails))
    sys.exit(1)
print("ok")
