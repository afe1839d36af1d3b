"""Head yaw/pitch/roll against rendered ground truth, per camera and identity (engine_dev/render/head_angles.py).

    .venv/bin/python bench/head_angles.py [--ict DIR] [--size 256]

The ICT head (../shared/data/ict-facekit or $FACERETARGET_ICT) held at known poses (20 degrees right/left,
10 down/up, 5 roll each way, and two combinations), rendered headless, tracked by the engine's FaceTracker
and solved by `solve` as `run` does. Printed (markdown): per camera field of view and identity, the largest
error of each angle relative to the rest frames (what the Maya side keys), and the rest pose read; then the
per-pose errors of the first row. tests/test_head_pose_rendered.py holds the webcam-like row to 2 degrees.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine_dev.render.head_angles import CHECK_POSES, check_head_angles  # noqa: E402
from engine_dev.render.ict_head import IctHead, default_ict_dir  # noqa: E402
from engine_dev.render.renderer import Camera, Look, TruthRenderer  # noqa: E402

# Vertical fields of view with distances that keep the face about the same size in the image: a long lens,
# a webcam, and the 63 degrees MediaPipe's face geometry assumes (a phone's front camera).
CAMERAS = ((45.0, 40.0), (30.0, 60.0), (63.0, 28.0))
IDENTITIES = ((None, Look()), (3, Look("medium", "blue", "left_key")), (7, Look("dark", "brown", "top_soft")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ict", type=Path, default=None)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    head = IctHead.load(args.ict or default_ict_dir())
    rows, first = [], None
    began = time.time()
    with tempfile.TemporaryDirectory() as workdir, TruthRenderer(head, Camera(args.size, args.size)) as renderer:
        for fov, distance in CAMERAS:
            camera = Camera(args.size, args.size, fov_y_deg=fov, distance_cm=distance)
            for identity, look in IDENTITIES:
                check = check_head_angles(head, Path(workdir), camera, identity_seed=identity, look=look,
                                          renderer=renderer)
                first = first or check
                worst = np.abs(check.errors).max(axis=0)
                rows.append("| %g deg, %g cm | %s | %.0f%% | %.2f | %.2f | %.2f | %.2f | %s |" % (
                    fov, distance, "mean face" if identity is None else "identity %d" % identity,
                    100 * check.detected_share, *worst, worst.max(), " / ".join("%.1f" % a for a in check.rest)))
    print("Machine: %s, %s; %s; %.0f s\n" % (platform.machine(), platform.python_version(),
                                            time.strftime("%Y-%m-%d"), time.time() - began))
    print("| camera (vertical fov, distance) | head | face found | worst yaw error | worst pitch error "
          "| worst roll error | worst | rest read (yaw / pitch / roll) |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print("\nPer pose, %g degree camera, mean face (read - rendered, degrees):\n" % CAMERAS[0][0])
    print("| rendered yaw, pitch, roll | read | error |")
    print("|---|---|---|")
    for pose, read, error in zip(CHECK_POSES, first.read, first.errors):
        print("| %s | %s | %s |" % (", ".join("%g" % a for a in pose), ", ".join("%.1f" % a for a in read),
                                    ", ".join("%+.1f" % e for e in error)))


if __name__ == "__main__":
    main()
