"""What the Python tests of the sabre command share: finding the executable (and the source
tree), printing and counting checks, running sabre, and comparing dose files bit for bit.

    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))  # from tests/<dir>/
    from clitest import Checks, sabre_exe, run_sabre, same_dose_bits

A test ends with `sys.exit(checks.status())`. A missing executable is an error (exit 1); what
a test cannot do here (no h5py, no source tree) is a skip (exit 77, CTest's SKIP_RETURN_CODE).
"""
import os
import subprocess
import sys


def sabre_exe():
    exe = os.environ.get("SABRE_EXE", "")
    if not exe or not os.path.exists(exe):
        print("SABRE_EXE not set or missing", file=sys.stderr)
        sys.exit(1)
    return exe


def source_dir():
    src = os.environ.get("SABRE_SOURCE_DIR", "")
    if not src:
        print("SKIPPED: SABRE_SOURCE_DIR not set")
        sys.exit(77)
    return src


def need_tables():
    """The source tree, or a skip when it lacks the shipped physics tables (physics/data/default.h5)."""
    src = source_dir()
    if not os.path.exists(os.path.join(src, "physics", "data", "default.h5")):
        print("SKIPPED: no physics tables")
        sys.exit(77)
    return src


def under_sanitizer():
    """True under the sanitizer build's test run (scripts/sanitize.sh sets ASAN_OPTIONS)."""
    return "ASAN_OPTIONS" in os.environ


def need_h5py():
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        print("SKIPPED: h5py/numpy not available")
        sys.exit(77)


class Checks:
    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)

    def status(self):
        return 1 if self.failures else 0


def run_sabre(*args, timeout=600, **kw):
    """sabre with these arguments (numbers as strings), output captured as text."""
    return subprocess.run([sabre_exe(), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def same_dose_bits(a, b, keys=("dose", "rel_uncertainty", "rel_uncertainty_statistical")):
    """'' when the two dose files hold the same /dose datasets bit for bit and the same
    histories and batches; else what differs."""
    import h5py
    import numpy as np
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for k in keys:
            x, y = fa["dose/" + k][...], fb["dose/" + k][...]
            if x.tobytes() != y.tobytes():
                return f"/dose/{k} differs (max |diff| {np.max(np.abs(x - y)):.3e})"
        for k in ("histories", "batches"):
            if fa["provenance"].attrs[k] != fb["provenance"].attrs[k]:
                return f"provenance {k}: {fa['provenance'].attrs[k]} vs {fb['provenance'].attrs[k]}"
    return ""


def sigterm_after_checkpoint(args, checkpoint, env=None, timeout=120):
    """Starts `sabre --log-level info ARGS` (which writes `checkpoint`), sends SIGTERM as soon
    as the checkpoint exists, and returns (exit code, stderr) - a scheduler stopping a job."""
    import signal
    import time
    p = subprocess.Popen([sabre_exe(), "--log-level", "info", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    t0 = time.time()
    while not os.path.exists(checkpoint) and p.poll() is None and time.time() - t0 < timeout:
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=timeout)
    return p.returncode, err
