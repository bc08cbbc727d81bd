"""validation/commissioning-recovery/make_measurements.py keeps each field's forward run and
reuses it (so a long data set can be made over several sessions), and the data it writes do
not depend on how the runs were split.

With a stand-in for sabre (a script that answers --version and writes a --forward file whose
values follow from the seed and the point, counting its calls):
1. a two-field set made twice: the second invocation runs nothing and writes the same
   measured.csv byte for byte;
2. a third field added later: only it runs, and measured.csv equals the three-field set made
   at once in a fresh directory;
3. a run killed in the middle of a field (its half-written *.part file left, no kept file):
   the field runs again, the half file is not read, and the result equals the one made at once;
4. another executable version: every field runs again (the key holds --version).
"""
import os
import stat
import subprocess
import sys
import tempfile

src = os.environ.get("SABRE_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
script = os.path.join(src, "validation", "commissioning-recovery", "make_measurements.py")

FAKE = r'''#!/usr/bin/env python3
import os, sys, zlib
a = sys.argv[1:]
if a == ["--version"]:
    print("sabre 0.1.0\ncommit: " + os.environ.get("FAKE_VERSION", "fake1"))
    sys.exit(0)
with open(os.environ["FAKE_COUNT"], "a") as f:
    f.write(" ".join(a) + "\n")
t = a[a.index("--measured") + 1]
out = a[a.index("--forward") + 1]
seed = int(a[a.index("--seed") + 1])
rows = []
for line in open(t):
    if line.startswith("#") or line.startswith("kind,") or not line.strip():
        continue
    p = line.strip().split(",")
    v = 1 + (zlib.crc32((line + str(seed)).encode()) % 1000) / 1e4
    rows.append(",".join(p[:8] + ["%.7g" % v, "0.002"]))
with open(out, "w") as f:
    f.write("# sabre-beam-data/1\nkind,axis,field_x_cm,field_y_cm,ssd_cm,depth_cm,detector,position_cm,value,sigma_rel\n")
    f.write("\n".join(rows) + "\n")
'''

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


with tempfile.TemporaryDirectory() as tmp:
    fake = os.path.join(tmp, "fake-sabre")
    with open(fake, "w") as f:
        f.write(FAKE)
    os.chmod(fake, os.stat(fake).st_mode | stat.S_IEXEC)
    count = os.path.join(tmp, "count")
    env = dict(os.environ, FAKE_COUNT=count)

    def make(out, fields, version="fake1"):
        e = dict(env, FAKE_VERSION=version)
        r = subprocess.run([sys.executable, script, fake, out, "--fields", fields, "--histories-scale", "0.01"],
                           capture_output=True, text=True, env=e)
        check(r.returncode == 0, f"make_measurements {fields}: exit {r.returncode}: {r.stderr[-400:]}")
        return open(os.path.join(out, "measured.csv"), "rb").read() if r.returncode == 0 else b""

    def calls():
        return len(open(count).read().splitlines()) if os.path.exists(count) else 0

    a = os.path.join(tmp, "a")
    first = make(a, "1x1,2x2")
    check(calls() == 2, f"two fields: {calls()} runs, expected 2")
    again = make(a, "1x1,2x2")
    check(calls() == 2, f"made again: {calls() - 2} runs, expected none (kept runs reused)")
    check(first == again and len(first) > 0, "made again: measured.csv differs")

    # 2. A field added later, against the same set made at once elsewhere.
    grown = make(a, "1x1,2x2,10x10")
    check(calls() == 3, f"a field added: {calls() - 2} runs, expected 1")
    b = os.path.join(tmp, "b")
    at_once = make(b, "1x1,2x2,10x10")
    check(calls() == 6, f"fresh directory: {calls() - 3} runs, expected 3")
    check(grown == at_once and len(grown) > 0, "a set grown over two invocations differs from one made at once")
    check(grown != first, "the three-field set equals the two-field one (the 10 x 10 field was not added)")

    # 3. A killed run: the 10 x 10 field's kept file gone, a half-written .part left.
    kept = os.path.join(a, "forward-runs")
    ten = [f for f in os.listdir(kept) if f.startswith("10x10-") and f.endswith(".csv")]
    check(len(ten) == 1, f"kept 10 x 10 runs: {ten}")
    if ten:
        path = os.path.join(kept, ten[0])
        os.remove(path)
        os.remove(path[:-4] + ".json")
        with open(path + ".part", "w") as f:
            f.write("# sabre-beam-data/1\nkind,axis\ndepth_dose,,10,10,100,,CC13,1.0,99,0.5\n")
        resumed = make(a, "1x1,2x2,10x10")
        check(calls() == 7, f"after a killed run: {calls() - 6} runs, expected 1 (the killed field again)")
        check(resumed == at_once, "after a killed run: measured.csv differs from the set made at once")

    # 4. Another executable: nothing kept applies.
    make(a, "1x1,2x2", version="fake2")
    check(calls() == 9, f"another --version: {calls() - 7} runs, expected 2")

print("make_measurements resume:", "FAIL" if failures else "pass")
sys.exit(1 if failures else 0)
