"""CI: the quick mode of the validation suite (validation/run.py --quick, issue 9).

Runs every validation case with small histories (statistical tolerances stated in the
report where the acceptance tolerance is below what such a run can resolve) and writes
REPORT.md into the build tree (validation-quick/), never over the committed
validation/REPORT.md. Fails when any checked quantity fails; skipped (77) without
../shared (the references live there).
"""
import os
import subprocess
import sys

src = os.environ.get("SABRE_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
exe = os.environ.get("SABRE_EXE", "")
build = os.environ.get("SABRE_BINARY_DIR", os.path.dirname(exe))
shared = os.environ.get("SABRE_SHARED_DIR", os.path.join(src, "..", "shared"))
if not os.path.isdir(os.path.join(shared, "data", "reference")):
    print("SKIPPED: ../shared/data/reference absent")
    sys.exit(77)
if not exe or not os.path.exists(exe):
    print("SABRE_EXE not set or missing", file=sys.stderr)
    sys.exit(1)
out = os.path.join(build, "validation-quick")
r = subprocess.run([sys.executable, os.path.join(src, "validation", "run.py"), "--quick", "--sabre", exe,
                    "--build-dir", build, "--out", out])
print(f"report: {os.path.join(out, 'REPORT.md')}")
sys.exit(r.returncode)
