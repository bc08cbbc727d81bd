#!/usr/bin/env python3
"""The layering of the source tree (docs/architecture.md): core <- physics <- beams <-
kernels <- engine <- cli. A file of one layer may include headers of its own layer and of
the layers below it, never of a layer above; each layer's CMake library links only
libraries of its own layer and below. Also:

- the device-side physics (physics/ outside physics/tables/) includes nothing of the
  host-only table generator and loader (physics/tables/), which it never needs;
- all DICOM I/O is in engine/io/: no other file includes DCMTK.

The checker is first run on a small synthetic tree with one violation of each kind, and
must report exactly those (so the test fails if the checker stops seeing violations);
then it is run on the real tree, which must have none.
"""
import os
import re
import sys
import tempfile

LAYERS = ["core", "physics", "beams", "kernels", "engine", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}
# CMake libraries by layer (sabre_options is the common compile settings, below all).
LIBRARY_LAYER = {"sabre_core": "core", "sabre_physics": "physics", "sabre_physics_tables": "physics",
                 "sabre_beams": "beams", "sabre_kernels": "kernels", "sabre_kernels_cuda": "kernels",
                 "sabre_engine": "engine"}
SOURCE_EXT = (".cc", ".hh", ".cu", ".cuh", ".h", ".in")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def layer_of(rel):
    top = rel.split("/", 1)[0]
    return top if top in RANK else None


def check_tree(root):
    """Returns (violations, files scanned per layer)."""
    bad = []
    scanned = {name: 0 for name in LAYERS}
    for layer in LAYERS:
        base = os.path.join(root, layer)
        for dirpath, _, files in os.walk(base):
            for fn in sorted(files):
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                if fn == "CMakeLists.txt":
                    bad += check_cmake(path, rel, layer)
                    continue
                if not fn.endswith(SOURCE_EXT):
                    continue
                scanned[layer] += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        where = f"{rel}:{lineno}: includes {inc}"
                        target = layer_of(inc)
                        if target is not None and RANK[target] > RANK[layer]:
                            bad.append(f"{where}: {layer} may not include the higher layer {target}")
                        if (rel.startswith("physics/") and not rel.startswith("physics/tables/")
                                and inc.startswith("physics/tables/")):
                            bad.append(f"{where}: device-side physics may not include the host-only tables")
                        if inc.startswith("dcmtk/") and not rel.startswith("engine/io/"):
                            bad.append(f"{where}: DICOM I/O belongs in engine/io/")
    return bad, scanned


def check_cmake(path, rel, layer):
    bad = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for m in re.finditer(r"target_link_libraries\s*\(([^)]*)\)", text):
        for lib in re.findall(r"\bsabre_[a-z_]+\b", m.group(1)):
            target = LIBRARY_LAYER.get(lib)
            if target is not None and RANK[target] > RANK[layer]:
                bad.append(f"{rel}: links {lib} of the higher layer {target}")
    return bad


def self_test():
    files = {
        "core/errors.hh": '#include <string>\n',
        "physics/core/rng.hh": '#include "core/errors.hh"\n',
        "physics/photon/x.hh": '#include "physics/tables/table_set.hh"\n',   # violation 1
        "physics/tables/table_set.cc": '#include "physics/core/rng.hh"\n',
        "beams/machine.cc": '#include "engine/io/rtplan.hh"\n',              # violation 2
        "beams/plan.cc": '#include "dcmtk/dcmdata/dctk.h"\n',                # violation 3
        "kernels/transport.cu": '#include "beams/source_kinds.hh"\n',
        "engine/io/rtplan.cc": '#include "dcmtk/dcmdata/dctk.h"\n#include "beams/plan.hh"\n',
        "engine/run_job.cc": '#  include "cli/registry.hh"\n',              # violation 4
        "cli/main.cc": '#include "engine/run_job.hh"\n',
        "kernels/CMakeLists.txt": "target_link_libraries(sabre_kernels PUBLIC sabre_engine sabre_beams)\n",  # 5
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            p = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        bad, _ = check_tree(tmp)
    expected = ["physics/photon/x.hh:1", "beams/machine.cc:1", "beams/plan.cc:1", "engine/run_job.cc:1",
                "kernels/CMakeLists.txt: links sabre_engine"]
    missing = [e for e in expected if not any(b.startswith(e) for b in bad)]
    if missing or len(bad) != len(expected):
        sys.exit(f"FAIL: the checker's self-test expected {expected}, got {bad}")


def main():
    self_test()
    root = os.environ.get("SABRE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad, scanned = check_tree(root)
    empty = [name for name, n in scanned.items() if n == 0]
    if empty:
        sys.exit(f"FAIL: no source files found for layer(s) {empty} under {root}")
    if bad:
        print("\n".join(bad))
        sys.exit(f"FAIL: {len(bad)} layering violation(s)")
    print("layering: " + ", ".join(f"{k} {v} files" for k, v in scanned.items()) + ": no violation")


if __name__ == "__main__":
    main()
