"""validation/run.py reads the tests' evidence rows (tests/support/evidence.hh) and a missing
row is an error naming it (issue 21, acceptance 3).

End to end: a build directory whose sabre_physics_tests is a wrapper that runs the real test
program and then deletes one line of the evidence file it wrote; `run.py --quick --cases
klein-nishina` against it must exit 1 and name the deleted row, in its output and in the
report. The same run against the real program passes (so the failure is the deleted line's).
"""
import json
import os
import stat
import subprocess
import sys
import tempfile

src = os.environ.get("SABRE_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
exe = os.environ.get("SABRE_EXE", "")
build = os.environ.get("SABRE_BINARY_DIR", os.path.dirname(exe))
real = os.path.join(build, "tests", "sabre_physics_tests")
if not exe or not os.path.exists(real):
    print("SABRE_EXE / sabre_physics_tests missing", file=sys.stderr)
    sys.exit(1)
run_py = os.path.join(src, "validation", "run.py")
sys.path.insert(0, os.path.join(src, "validation"))
import run as validation  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(build_dir, out):
    return subprocess.run([sys.executable, run_py, "--quick", "--sabre", exe, "--build-dir", build_dir, "--out", out,
                           "--cases", "klein-nishina"], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    # 1. the real program: every expected row is there
    r = run(build, os.path.join(tmp, "real"))
    check(r.returncode == 0, f"run.py on the real test program passes (exit {r.returncode})")
    res = json.load(open(os.path.join(tmp, "real", "results.json")))
    ids = [x.get("evidence_id") for x in res["rows"]]
    check(ids == ["klein-nishina/0.5MeV", "klein-nishina/2MeV", "klein-nishina/10MeV"], f"rows read by id: {ids}")
    check(all(x["kind"] == "independent" for x in res["rows"]), "the Klein-Nishina rows are independent")

    # 2. a wrapper deletes the second line of the evidence file
    fake = os.path.join(tmp, "build")
    os.makedirs(os.path.join(fake, "tests"))
    wrapper = os.path.join(fake, "tests", "sabre_physics_tests")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\n\"{real}\" \"$@\"\nst=$?\nsed -i 2d \"$SABRE_EVIDENCE\"\nexit $st\n")
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
    r = run(fake, os.path.join(tmp, "fake"))
    msg = "row 'klein-nishina/2MeV' missing"
    check(r.returncode == 1, f"run.py with a deleted evidence line exits 1 (exit {r.returncode})")
    check(msg in r.stderr + r.stdout, f"its output names the row ({msg!r})")
    report = open(os.path.join(tmp, "fake", "REPORT.md")).read()
    check(msg in report and "**FAIL**" in report, "the report lists the case as failing with the row's name")

    # 3. the reader itself: a line that is not JSON, a row without a class
    p = os.path.join(tmp, "bad.jsonl")
    with open(p, "w") as f:
        f.write('{"id": "a", "kind": "independent", "pass": true}\nnot json\n')
    try:
        validation.read_evidence(p, ["a"], "test")
        check(False, "a line that is not JSON is refused")
    except RuntimeError as e:
        check("line 2 is not JSON" in str(e), f"a line that is not JSON is refused ({e})")
    with open(p, "w") as f:
        f.write('{"id": "a", "kind": "proof", "pass": true}\n')
    try:
        validation.read_evidence(p, ["a"], "test")
        check(False, "a row with an unknown class is refused")
    except RuntimeError as e:
        check("valid kind" in str(e), f"a row with an unknown class is refused ({e})")
    try:
        validation.read_evidence(os.path.join(tmp, "absent.jsonl"), ["x/y"], "prog")
        check(False, "no evidence file: the expected row is missing")
    except validation.MissingRow as e:
        check("row 'x/y' missing" in str(e), f"no evidence file: the expected row is named ({e})")

sys.exit(1 if failures else 0)
