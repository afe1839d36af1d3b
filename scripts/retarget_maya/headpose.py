"""The take's head motion as joint rotations: what turns, by how much, about which axes. Pure: numpy only,
never imports maya (scene.py reads the joints, head_motion.py keys them).

The take (head_pose.csv, engine/track/head_pose.py) gives the head's rotation in the *camera's* frame: Y up,
the camera looking down -Z, so the actor, facing the camera, looks down +Z, with their left side at +X.
Yaw turns about Y (+: towards the actor's left), pitch about X (+: chin down), roll about Z (+: the top of
the head towards the actor's right shoulder), applied as intrinsic YXZ.

The character faces its own front: +Z in a Y-up scene (Maya's front camera looks at it), -Y in a Z-up one,
with its left at +X. The actor's frame maps onto the character's frame axis for axis (camera +Z, towards the
camera, is the character's forward), so nothing is mirrored: the actor turning to their own right turns the
character to its own right, and in Maya's front view the character's nose moves the way the actor's does
in the (unmirrored) video. In a Y-up scene the take's yaw, pitch and roll are the character's turns about
world Y, X and Z with Maya's signs (a transform facing +Z with rotate order zxy would take them as
rotateY, rotateX, rotateZ).

Only the change from the actor's neutral is applied: the take's neutral frames (take.json
tracking.neutral_frames) map to the rig's rest pose, so the first key does not pop. The change is taken in
the camera's (world) frame, Delta(t) = R(t) R_neutral^-1: a nod stays a nod about the world's left-right axis
even when the actor rests with the head turned.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import defaults, faceboard, rotation, takes


@dataclass
class HeadTrack:
    """head_pose.csv: per sample, the head's rotation (degrees) and position (cm) in the camera frame."""

    times: np.ndarray            # (N,) seconds
    angles: np.ndarray           # (N, 3) yaw, pitch, roll
    translation: np.ndarray      # (N, 3) x, y, z
    detected: np.ndarray         # (N,) bool: a face was seen (other samples were filled by the engine)

    @property
    def values(self) -> np.ndarray:
        """(N, 6) angles then translation: one table to resample."""
        return np.column_stack([self.angles, self.translation])


@dataclass
class NeutralPose:
    angles: np.ndarray           # (3,) yaw, pitch, roll (degrees)
    translation: np.ndarray      # (3,) cm
    samples: int
    source: str                  # where it came from, for the report


def read_head_track(path: str) -> HeadTrack:
    table = takes.read_curve_csv(path)
    missing = [name for name in defaults.HEAD_POSE_COLUMNS if name not in table.names]
    if missing:
        raise takes.TakeError("%s: no column(s) %s" % (path, ", ".join(missing)))
    column = table.column
    return HeadTrack(times=table.times,
                     angles=np.column_stack([column(name) for name in defaults.HEAD_ANGLE_COLUMNS]),
                     translation=np.column_stack([column(name) for name in defaults.HEAD_TRANSLATION_COLUMNS]),
                     detected=column(defaults.HEAD_DETECTED_COLUMN) > 0.5)


def neutral_pose(track: HeadTrack, neutral_times: Sequence[float]) -> Optional[NeutralPose]:
    """The head pose at the take's neutral frames (the median over them), else the median of every
    tracked sample; None when the take never saw a face (an audio-only take)."""
    rows = _rows_at(track.times, neutral_times)
    rows = rows[track.detected[rows]]
    source = "the take's %d neutral frame(s)" % len(rows)
    if not len(rows):
        rows = np.flatnonzero(track.detected)
        source = "the median of its %d tracked frames: the take lists no tracked neutral frame" % len(rows)
    if not len(rows):
        return None
    return NeutralPose(np.median(track.angles[rows], axis=0), np.median(track.translation[rows], axis=0),
                       len(rows), source)


def _rows_at(times: np.ndarray, wanted: Sequence[float]) -> np.ndarray:
    """The sample nearest each wanted time (times sorted)."""
    targets = np.asarray(list(wanted), dtype=float)
    if not len(targets) or not len(times):
        return np.zeros(0, dtype=int)
    if len(times) == 1:
        return np.zeros(1, dtype=int)
    right = np.clip(np.searchsorted(times, targets), 1, len(times) - 1)
    left = right - 1
    nearer_left = targets - times[left] <= times[right] - targets
    return np.unique(np.where(nearer_left, left, right))


def character_axes(up_axis: str) -> np.ndarray:
    """(3, 3) whose columns are where the camera frame's X (actor's left), Y (up) and Z (towards the camera:
    the actor's forward) go in the scene: the character's left, up and forward."""
    if up_axis == "y":
        return np.eye(3)
    if up_axis == "z":           # Maya's Z-up: the front view looks down +Y, so the character faces -Y
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    raise ValueError("unknown up axis %r" % up_axis)


def world_turns(angles: np.ndarray, neutral: NeutralPose, axes: np.ndarray, strength: float) -> np.ndarray:
    """(F, 3, 3) the head's turn away from the neutral at each frame, in the scene's axes, scaled by
    `strength` (a fraction of the angle, about the same axis)."""
    turns = rotation.take_rotation(*angles.T) @ rotation.take_rotation(*neutral.angles[:, None]).transpose(0, 2, 1)
    turns = axes @ turns @ axes.T
    return turns if strength == 1.0 else rotation.fraction_of(turns, strength)


def world_shifts(translation: np.ndarray, neutral: NeutralPose, axes: np.ndarray, strength: float) -> np.ndarray:
    """(F, 3) the head's move away from the neutral position (cm), in the scene's axes."""
    return strength * (translation - neutral.translation) @ axes.T


# --- the joints ---------------------------------------------------------------------------------------

@dataclass
class JointRest:
    """What the scene says about a joint (or transform) at the start frame; angles in radians, cm."""

    node: str
    rotate_order: str
    joint_orient: np.ndarray     # (3,) zeros for a transform
    rotate: np.ndarray           # (3,) its rotate values: the rest pose the neutral maps to
    translate: np.ndarray        # (3,)
    parent_world: np.ndarray     # (3, 3) the parent's world rotation and scale (column vectors)


def joint_rotations(rest: JointRest, turns: np.ndarray) -> np.ndarray:
    """(F, 3) rotate values (radians) that turn the joint by `turns` (F, 3, 3, in world axes) from its rest.

    Maya puts a joint's rotate between its parent's world orientation and joint orient on one side and its
    rotate axis on the other (world = Parent . JointOrient . Rotate . RotateAxis, column vectors), so a
    world turn D becomes Rotate' = F^-1 . D . F . Rotate with F = Parent . JointOrient. Every ancestor keyed
    here turns by its own share of the same axis, so the parent's rest orientation is the right F."""
    frame = rotation.nearest_rotation(rest.parent_world) @ rotation.euler_to_matrix(rest.joint_orient, "xyz")[0]
    local = frame.T @ turns @ frame @ rotation.euler_to_matrix(rest.rotate, rest.rotate_order)[0]
    return rotation.matrix_to_euler(local, rest.rotate_order, reference=rest.rotate)


def joint_translations(rest: JointRest, shifts: np.ndarray) -> np.ndarray:
    """(F, 3) translate values (cm) that move the joint by `shifts` (F, 3, world cm): through the parent's
    inverse world matrix, so a scaled or turned character moves as far as the actor did."""
    return rest.translate + shifts @ np.linalg.inv(rest.parent_world).T


def chain_shares(short_names: Sequence[str], weights: Dict[str, float]) -> List[float]:
    """Each joint's share of the head turn, from `weights` by short name ("neck_01", ...), normalised to
    sum to 1 over the joints found, so that the head ends up turned by the whole of it. The last joint
    (the head, or the transform the user picked) takes the head's weight when its name has none."""
    raw = [float(weights.get(name, 0.0)) for name in short_names[:-1]]
    raw.append(float(weights.get(short_names[-1], weights.get(defaults.HEAD_JOINT, 1.0))))
    if any(w < 0 for w in raw) or sum(raw) <= 0:
        raise ValueError("head weights must be >= 0 with a positive sum: %s" % dict(zip(short_names, raw)))
    total = sum(raw)
    return [w / total for w in raw]


def neck_chain(head: str, parent_of: Callable[[str], Optional[str]]) -> List[str]:
    """[neck_01, neck_02, head] as far as the head's parents are named like the neck joints (namespaces
    ignored), top-most first; just [head] when they are not."""
    chain = [head]
    node = head
    for name in defaults.NECK_JOINTS:             # walked upwards: neck_02, then neck_01
        parent = parent_of(node)
        if parent is None or faceboard.short_name(parent) != name:
            break
        chain.insert(0, parent)
        node = parent
    return chain


def leaf_name(node: str) -> str:
    """"|MH:root|MH:head" -> "MH:head" (what the artist reads)."""
    return node.rsplit("|", 1)[-1]


@dataclass
class HeadCandidate:
    node: str
    blocked: str = ""           # why its rotation cannot be keyed (driven by a constraint, locked); "" if free


def choose_head(candidates: Sequence[HeadCandidate], board_namespace: str) -> Tuple[Optional[str], str]:
    """(the head joint to key, or None; the report line). Joints whose rotation is driven or locked are
    passed over (a face rig's head that follows the body's); of the rest, the one in the face board's
    namespace, else the only one."""
    if not candidates:
        return None, ("No head joint found (no joint named %r in any namespace): the head was not keyed. "
                      "Pass head_target= (or pick a transform in the dialog) to key another node."
                      % defaults.HEAD_JOINT)
    free = [c for c in candidates if not c.blocked]
    if not free:
        return None, "No head joint can be keyed: %s. Key the joint that drives it with head_target=." % (
            "; ".join("%s is %s" % (c.node, c.blocked) for c in candidates))
    if len(free) == 1:
        return free[0].node, ""
    same = [c for c in free if faceboard.namespace_of(c.node) == board_namespace]
    if len(same) == 1:
        return same[0].node, ""
    return None, ("%d head joints could be keyed (%s): the head was not keyed. Choose one with "
                  "head_target=." % (len(free), ", ".join(c.node for c in free)))
