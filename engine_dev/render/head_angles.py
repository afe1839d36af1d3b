"""Head angles against rendered ground truth: the ICT head held at known yaw/pitch/roll (HeadPoses), tracked by
the engine's FaceTracker and solved by `solve` as `run` does; what head_pose.csv reads for each pose.

Angles are compared as the Maya side uses them (retarget_maya/headpose.py): the turn away from the rest
frames, in the camera frame (R . R_rest^-1, read back as yaw/pitch/roll, intrinsic YXZ), because the ICT
head's own rest is not exactly MediaPipe's canonical face. The renderer turns the head in the same convention
as head_pose.csv (engine_dev/render/renderer.py rotation_matrix), so the rendered angles are the truth.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from engine.config import SolveOptions
from engine.solve.solver import solve
from engine_dev.render.ict_head import IctHead
from engine_dev.render.renderer import Camera, Look, TruthRenderer
from engine_dev.render.sequences import HeadPoses
from engine_dev.render.truth import ClipSpec, render_and_track

# (yaw, pitch, roll): to the actor's right, left, down, up, roll to the right and left shoulder, two together.
CHECK_POSES = ((-20.0, 0.0, 0.0), (20.0, 0.0, 0.0), (0.0, 10.0, 0.0), (0.0, -10.0, 0.0), (0.0, 0.0, 5.0),
               (0.0, 0.0, -5.0), (-20.0, 10.0, 5.0), (20.0, -10.0, -5.0))
# A webcam-like camera: 45 degrees vertical field of view, the face about as large as in the benchmark's clips.
WEBCAM = Camera(256, 256, fov_y_deg=45.0, distance_cm=40.0)
REST_SCRIPT_S = 1.6            # sequences.rest's length: the clip is as many of them as the poses need


@dataclass
class HeadAngleCheck:
    poses: tuple[tuple[float, float, float], ...]
    read: np.ndarray           # (poses, 3) yaw, pitch, roll read back, relative to the rest frames (degrees)
    rest: np.ndarray           # (3,) what the rest frames read (absolute)
    detected_share: float

    @property
    def errors(self) -> np.ndarray:
        return self.read - np.asarray(self.poses)


def check_head_angles(head: IctHead, workdir: Path, camera: Camera = WEBCAM,
                      poses: tuple[tuple[float, float, float], ...] = CHECK_POSES, identity_seed: int | None = None,
                      look: Look = Look(), renderer: TruthRenderer | None = None) -> HeadAngleCheck:
    """Render the poses, track and solve them; the mean of each held pose's frames."""
    motion = HeadPoses(poses)
    spec = ClipSpec(f"head_angles_{identity_seed}", identity_seed=identity_seed, look=look, camera=camera,
                    motion=motion, scripts=("rest",) * int(np.ceil(motion.duration_s / REST_SCRIPT_S)),
                    fps=25.0)
    clip = render_and_track(spec, head, workdir, renderer)
    angles = solve(clip.track, SolveOptions()).head_pose[:, 3:6]
    held = motion.held(clip.times)
    rest_pose = Rotation.from_euler("YXZ", np.median(angles[held == 0], axis=0), degrees=True)
    turned = (Rotation.from_euler("YXZ", angles, degrees=True) * rest_pose.inv()).as_euler("YXZ", degrees=True)
    read = np.array([turned[held == k + 1].mean(axis=0) for k in range(len(poses))])
    return HeadAngleCheck(tuple(poses), read, rest_pose.as_euler("YXZ", degrees=True),
                          float(clip.track.detected.mean()))
