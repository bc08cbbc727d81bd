#!/usr/bin/env python3
"""The build-time version stamp (core/git_stamp.cmake): after an incremental rebuild at a new
commit, `sabre --version` and the HDF5 provenance name that commit.

A real build, not a mock: the source tree as it is (tracked and untracked files git does
not ignore, so uncommitted work is tested too) is copied into a new git repository in a
temporary directory, committed there, and `sabre` is built (CUDA off, Debug for a faster
compile, ~1 min on 2 cores). Then:
1. `sabre --version` names that repository's HEAD (12 hex digits, clean);
2. an empty commit and a rebuild: the rebuild compiles exactly one file (the stamp) and
   `sabre --version` names the new commit;
3. a tracked file changed and a rebuild: the commit with "-dirty", also in the
   `/provenance` `sabre_commit` attribute of a dose file written by `sabre simulate`;
4. the change undone and a rebuild: clean again;
5. the stamp script on a directory outside git writes "unknown".
Skipped (77) when git, cmake, ninja or h5py are missing or the source is not a git clone.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("SABRE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def skip(why):
    print(f"SKIPPED: {why}")
    sys.exit(77)


for tool in ("git", "cmake", "ninja"):
    if not shutil.which(tool):
        skip(f"{tool} not found")
try:
    import h5py
except ImportError:
    skip("h5py not available")
if subprocess.run(["git", "-C", SRC, "rev-parse", "HEAD"], capture_output=True).returncode != 0:
    skip(f"{SRC} is not a git work tree")

fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails.append(what)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} ({r.returncode})\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


GIT = ["git", "-c", "user.name=sabre test", "-c", "user.email=test@sabre.invalid", "-c", "commit.gpgsign=false"]

with tempfile.TemporaryDirectory(prefix="sabre-stamp-") as tmp:
    src, build = os.path.join(tmp, "src"), os.path.join(tmp, "build")
    listed = run(["git", "-C", SRC, "ls-files", "-z", "-co", "--exclude-standard"]).split("\0")
    for rel in filter(None, listed):
        if not os.path.isfile(os.path.join(SRC, rel)):
            continue  # listed but deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(src, rel)) or src, exist_ok=True)
        shutil.copy2(os.path.join(SRC, rel), os.path.join(src, rel))
    run(GIT + ["init", "-q", src])
    run(GIT + ["-C", src, "add", "-A"])
    run(GIT + ["-C", src, "commit", "-q", "-m", "the source tree under test"])
    run(["cmake", "-S", src, "-B", build, "-G", "Ninja", "-DSABRE_CUDA=OFF", "-DBUILD_TESTING=OFF",
         "-DCMAKE_BUILD_TYPE=Debug"])
    exe = os.path.join(build, "sabre")

    def build_and_version():
        out = run(["cmake", "--build", build, "--target", "sabre", "-j", str(os.cpu_count() or 2)])
        compiled = re.findall(r"Building CXX object (\S+)", out)
        v = run([exe, "--version"])
        m = re.search(r"commit: (\S+)", v)
        return (m.group(1) if m else None), compiled

    def head():
        return run(["git", "-C", src, "rev-parse", "--short=12", "HEAD"]).strip()

    commit, _ = build_and_version()
    check(commit == head(), f"fresh build names the clone's HEAD: {commit} vs {head()}")

    run(GIT + ["-C", src, "commit", "-q", "--allow-empty", "-m", "version stamp test"])
    commit, compiled = build_and_version()
    check(commit == head(), f"after a new commit, the incremental rebuild names it: {commit} vs {head()}")
    check(len(compiled) == 1 and compiled[0].endswith("git_commit.cc.o"),
          f"the incremental rebuild compiled only the stamp: {compiled}")

    readme = os.path.join(src, "README.md")
    with open(readme, "a") as f:
        f.write("\nlocal change\n")
    commit, _ = build_and_version()
    check(commit == head() + "-dirty", f"a changed tracked file marks the build dirty: {commit}")
    toml = os.path.join(tmp, "tiny.toml")
    with open(toml, "w") as f:
        f.write('[phantom]\nvoxels = [4, 4, 4]\nvoxel_cm = [1.0, 1.0, 1.0]\norigin_cm = [-2.0, -2.0, 0.0]\n'
                'material = "water"\n[source]\nparticle = "photon"\ntype = "parallel"\n'
                'field_centre_cm = [0, 0, -1]\nfield_x_cm = [-1, 1]\nfield_y_cm = [-1, 1]\nenergy_mev = 1.0\n'
                '[run]\nhistories = 200\nbatches = 10\nseed = 1\n')
    h5 = os.path.join(tmp, "d.h5")
    run([exe, "--log-level", "warn", "simulate", toml, "--device", "cpu:1", "-o", h5])
    with h5py.File(h5, "r") as h:
        prov = h["provenance"].attrs["sabre_commit"]
        prov = prov.decode() if isinstance(prov, bytes) else str(prov)
    check(prov == commit, f"HDF5 provenance sabre_commit {prov} = --version's {commit}")

    run(["git", "-C", src, "checkout", "-q", "--", "README.md"])
    commit, compiled = build_and_version()
    check(commit == head(), f"the change undone: clean again: {commit}")

    nogit = os.path.join(tmp, "nogit")
    os.makedirs(nogit)
    out = os.path.join(tmp, "stamp.cc")
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=tmp)  # no repository above nogit
    run(["cmake", f"-DSOURCE_DIR={nogit}", f"-DOUT={out}", "-P", os.path.join(SRC, "core", "git_stamp.cmake")],
        env=env)
    check('return "unknown"' in open(out).read(), "outside git the stamp is 'unknown'")

if fails:
    sys.exit(f"FAIL: {len(fails)} check(s)")
print("version stamp: all checks passed")
