"""How long apply_take takes for a 10-minute take at 60 fps (36,000 frames x 174 attributes) on the
in-memory Maya of the tests (tests/maya/fake_maya.py), fast path (MFnAnimCurve.addKeys) and, on a
shorter take, the cmds.setKeyframe fallback.

    .venv/bin/python bench/maya_apply.py [--minutes 10]

The fake stores keys as numpy arrays, so the figures measure retarget_maya's own work (reading the take,
resampling, clamping, the per-curve calls), not Maya's. Printed as a table; nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, "scripts"), os.path.join(REPO, "tests", "maya")]

import fake_maya  # noqa: E402

fake_maya.install()

import maya_take_factory  # noqa: E402
from maya import cmds  # noqa: E402

import retarget_maya  # noqa: E402
from retarget_maya import takes  # noqa: E402


def run(take: str, time_unit: str, fast: bool) -> dict:
    scene = fake_maya.reset()
    fake_maya.build_face_board("mh4", namespace="MH")
    cmds.currentUnit(time=time_unit)
    began = time.perf_counter()
    table = takes.read_curve_csv(os.path.join(take, "faceboard.csv"))
    read_s = time.perf_counter() - began
    began = time.perf_counter()
    report = retarget_maya.apply_take(take, start_frame=1, fast=fast, import_audio=False)
    total_s = time.perf_counter() - began
    return {"frames": int(report.end_frame - report.start_frame + 1), "samples": len(table.times),
            "curves": len(report.keyed), "path": report.key_path, "read_s": read_s, "apply_s": total_s,
            "addKeys": scene.calls["MFnAnimCurve.addKeys"], "setKeyframe": scene.calls["setKeyframe"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fallback-seconds", type=float, default=20.0,
                        help="length of the take the (slow) setKeyframe fallback is timed on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print("writing a %g-minute take at 60 fps ..." % args.minutes, flush=True)
        long_take = maya_take_factory.write_take(os.path.join(folder, "long"), fps=60.0,
                                                 seconds=args.minutes * 60.0, arkit=False, audio=False)
        short_take = maya_take_factory.write_take(os.path.join(folder, "short"), fps=60.0,
                                                  seconds=args.fallback_seconds, arkit=False, audio=False)
        rows = [("%g min -> 60 fps" % args.minutes, run(long_take, "ntscf", True)),
                ("%g min -> 24 fps" % args.minutes, run(long_take, "film", True)),
                ("%g s -> 60 fps" % args.fallback_seconds, run(short_take, "ntscf", True)),
                ("%g s -> 60 fps" % args.fallback_seconds, run(short_take, "ntscf", False))]
    print()
    print("| take | scene frames | curves | path | read CSV (s) | apply_take total (s) | addKeys | setKeyframe |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for label, r in rows:
        print("| %s | %d | %d | %s | %.2f | %.2f | %d | %d |" % (
            label, r["frames"], r["curves"], r["path"], r["read_s"], r["apply_s"], r["addKeys"], r["setKeyframe"]))


if __name__ == "__main__":
    main()
