#!/usr/bin/env python3
"""The transport identity (core/transport_id.cmake), the commissioning basis cache's key in
place of the commit: it must change with anything that can change a computed dose and stay
put for what cannot, and the built executable must carry the identity of its sources.

1. On a small tree in a temporary directory: the identity is 64 hex digits; editing the fit's
   own files (engine/commission/fit.cc, commission.cc, report.hh, mlc.cc), engine/check/,
   engine/compare/, engine/viz/, a bundled machine file, anything outside the hashed trees
   (cli/, docs/) or adding a __pycache__ file leaves it as it was, and the output file is not
   rewritten (nothing recompiles); editing a physics header, the commissioning water run
   (engine/commission/water_run.cc), the top-level CMakeLists.txt, adding a file anywhere in
   the hashed trees or renaming one changes it.
2. On the real source tree: the script's identity equals `sabre info --json`'s transport_id
   (the executable was built from these sources) and `sabre --version` prints its first 12
   digits.
Skipped (77) when cmake is missing.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("SABRE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXE = os.environ.get("SABRE_EXE") or os.path.join(SRC, "build", "sabre")
SCRIPT = os.path.join(SRC, "core", "transport_id.cmake")

if not shutil.which("cmake"):
    print("SKIPPED: cmake not found")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from clitest import Checks  # noqa: E402

check = Checks()


def ident(src, out):
    r = subprocess.run(["cmake", f"-DSOURCE_DIR={src}", f"-DOUT={out}", "-P", SCRIPT], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: transport_id.cmake ({r.returncode}): {r.stderr[-2000:]}")
    m = re.search(r'transport_id\(\) \{ return "([0-9a-f]*)"; \}', open(out).read())
    if not m:
        sys.exit(f"FAIL: no identity in {out}:\n{open(out).read()}")
    return m.group(1)


with tempfile.TemporaryDirectory(prefix="sabre-transport-id-") as tmp:
    tree = os.path.join(tmp, "src")
    files = {
        "CMakeLists.txt": "project(x)\n",
        "core/log.cc": "int log;\n",
        "physics/photon/compton.hh": "double kn();\n",
        "kernels/transport.cu": "__global__ void k();\n",
        "beams/vsm.cc": "int vsm;\n",
        "beams/machines/truebeam.toml": "sad_cm = 100\n",
        "engine/commission/water_run.cc": "int water;\n",
        "engine/commission/fit.cc": "int fit;\n",
        "engine/commission/commission.cc": "int stages;\n",
        "engine/commission/report.hh": "int report;\n",
        "engine/commission/mlc.cc": "int mlc;\n",
        "engine/check/check.cc": "int verdict;\n",
        "engine/compare/gamma.cc": "int gamma;\n",
        "engine/viz/png.cc": "int png;\n",
        "cli/main.cc": "int main();\n",
        "docs/physics.md": "# physics\n",
    }

    def write(rel, text):
        p = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    for rel, text in files.items():
        write(rel, text)
    out = os.path.join(tmp, "transport_id.cc")
    base = ident(tree, out)
    check(re.fullmatch(r"[0-9a-f]{64}", base) is not None, f"the identity is 64 hex digits ({base[:12]}...)")
    check(ident(tree, out) == base, "the same tree gives the same identity")

    mtime = os.stat(out).st_mtime_ns
    for rel in ("engine/commission/fit.cc", "engine/commission/commission.cc", "engine/commission/report.hh",
                "engine/commission/mlc.cc", "engine/check/check.cc", "engine/compare/gamma.cc", "engine/viz/png.cc",
                "beams/machines/truebeam.toml", "cli/main.cc", "docs/physics.md"):
        write(rel, files[rel] + "// changed\n")
        check(ident(tree, out) == base, f"editing {rel} keeps the identity")
        write(rel, files[rel])
    write("physics/__pycache__/gen.cpython-311.pyc", "bytes")
    check(ident(tree, out) == base, "a __pycache__ file keeps the identity")
    check(os.stat(out).st_mtime_ns == mtime, "the output file was not rewritten while the identity held")

    for rel in ("physics/photon/compton.hh", "engine/commission/water_run.cc", "CMakeLists.txt", "kernels/transport.cu",
                "core/log.cc", "beams/vsm.cc"):
        write(rel, files[rel] + "// changed\n")
        check(ident(tree, out) != base, f"editing {rel} changes the identity")
        write(rel, files[rel])
    check(ident(tree, out) == base, "undoing the edits restores the identity")
    for rel in ("physics/electron/new_model.hh", "engine/new_scorer.cc", "engine/commission/new_part.cc"):
        write(rel, "int x;\n")
        check(ident(tree, out) != base, f"a new file {rel} changes the identity")
        os.remove(os.path.join(tree, rel))
    os.rename(os.path.join(tree, "beams/vsm.cc"), os.path.join(tree, "beams/vsm2.cc"))
    check(ident(tree, out) != base, "renaming a file changes the identity")

    # 2. The executable against its own sources.
    if os.path.exists(EXE):
        real = ident(SRC, os.path.join(tmp, "real.cc"))
        r = subprocess.run([EXE, "info", "--json"], capture_output=True, text=True)
        got = json.loads(r.stdout).get("transport_id") if r.returncode == 0 else None
        check(got == real, f"sabre info --json transport_id {str(got)[:12]}... is the sources' {real[:12]}... "
                           "(rebuild after editing the sources)")
        v = subprocess.run([EXE, "--version"], capture_output=True, text=True).stdout
        check(f"transport: {real[:12]}" in v, "sabre --version prints the identity's first 12 digits")
    else:
        check(False, f"no executable at {EXE}")

print("FAILED: " + "; ".join(check.failures) if check.failures else "all passed")
sys.exit(check.status())
