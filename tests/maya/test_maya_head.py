"""Head motion onto the rig (apply_take's head=True) against the fake Maya, whose joints compose their
matrices as Maya does ([S][RA][R][JO][T], row vectors, its own code): the turn the take describes is what
the head does in world space, for MetaHuman-like axes (local X up the neck), every rotate order, a lone
face-rig head and a transform the artist picks; the neutral keys the rest pose; one undo step."""
from __future__ import annotations

import numpy as np
import pytest

import fake_maya
import maya_take_factory
from maya import cmds

import retarget_maya
from retarget_maya import batch, headpose, rotation

FPS = 24.0
TURNED = 20                           # the take turns from this sample on (0.83 s at 24 fps)
NEUTRAL = np.array([6.0, -8.0, 2.0])   # the actor rests a little turned: yaw, pitch, roll (degrees)


# --- an expected turn built by hand, independently of retarget_maya.rotation ---------------------------

def about(axis, degrees):
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]), "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def camera_turn(yaw, pitch, roll):
    """engine/track/head_pose.py: yaw about Y, pitch about X, roll about Z, intrinsic YXZ (column vectors)."""
    return about("y", yaw) @ about("x", pitch) @ about("z", roll)


RIGHT_DOWN_ROLL = camera_turn(-20.0, 10.0, 5.0)   # 20 degrees to the actor's right, 10 down, 5 towards the right shoulder


def angle_deg(a, b):
    return float(np.degrees(rotation.angle_between(np.asarray(a)[None], np.asarray(b)[None])[0]))


def world(node, frame):
    """The node's world rotation at `frame` (column vectors), from the fake's own matrix code."""
    values = cmds.getAttr(node + ".worldMatrix[0]", time=frame)
    return rotation.nearest_rotation(np.array(values).reshape(4, 4)[:3, :3].T)


def turn_of(node, frame, rest_frame=1):
    return world(node, frame) @ world(node, rest_frame).T


def turning_take(take_factory, turn=RIGHT_DOWN_ROLL, neutral=NEUTRAL, name="take", neutral_times=(0.0, 0.2),
                 seconds=1.0, **head_options):
    """A take at the scene's rate: the actor rests at `neutral` for TURNED samples, then turns by `turn`
    (in the camera frame, from the neutral)."""
    rest = camera_turn(*neutral)
    turned = rotation.matrix_to_euler(turn @ rest, rotation.TAKE_ORDER)[0]     # (pitch, yaw, roll) radians
    turned = np.degrees(turned[[1, 0, 2]])

    def angles(times):
        return np.where((times < TURNED / FPS)[:, None], neutral, turned)
    head = maya_take_factory.HeadPose(angles, neutral_times=neutral_times, **head_options)
    return take_factory(name, fps=FPS, seconds=seconds, head=head)


# --- the scenes: several joint orientations and rotate orders ----------------------------------------

def metahuman(order):
    def build():
        fake_maya.build_face_board("mh4", namespace="MH")
        return fake_maya.build_metahuman_neck("MH", rotate_order=order, rest_rotate=(3.0, -4.0, 7.0))["head"], {}
    return build


def face_only_head():
    """A face-only rig: a lone joint named head, tipped and turned, under a turned group."""
    fake_maya.build_face_board("mh4", namespace="Face")
    group = fake_maya.add_transform("Face:rig", rotate=(20.0, 30.0, -10.0))
    head = fake_maya.add_transform("Face:head", "joint", parent=group, rotate_order="yxz",
                                   joint_orient=(12.0, -70.0, 95.0), rotate=(-5.0, 2.0, 11.0))
    return head, {}


def picked_transform():
    """A control the artist picks: a transform with a rotate axis and rotate order zyx."""
    fake_maya.build_face_board("mh4", namespace="MH")
    group = fake_maya.add_transform("grp", rotate=(0.0, -35.0, 15.0))
    control = fake_maya.add_transform("headCtrl", parent=group, rotate_order="zyx", rotate=(5.0, 5.0, 5.0),
                                      rotate_axis=(10.0, 20.0, 30.0))
    return control, {"head_target": "headCtrl"}


SCENES = {**{"metahuman_" + order: metahuman(order) for order in fake_maya.ROTATE_ORDERS},
          "face_only_head": face_only_head, "picked_transform": picked_transform}


@pytest.mark.parametrize("build", list(SCENES.values()), ids=list(SCENES))
@pytest.mark.parametrize("fast", [True, False], ids=["api", "cmds"])
def test_the_head_turns_in_world_space_as_the_take_says(maya_scene, take_factory, build, fast):
    head, options = build()
    rest = np.array(cmds.getAttr(head + ".rotate")[0])
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1, fast=fast, **options)
    assert report.head is not None, report.summary()
    assert report.head.joints[-1].endswith(head)
    # The neutral frames key the rest pose: the head's own rotate values, no pop on the first frame.
    for frame in (1, 5, 12):
        np.testing.assert_allclose(cmds.getAttr(head + ".rotate", time=frame)[0], rest, atol=1e-6)
    # After the turn: the head's world rotation is the take's turn, relative to its rest pose.
    for frame in (TURNED + 2, 25):
        assert angle_deg(turn_of(head, frame), RIGHT_DOWN_ROLL) < 0.5


def test_right_down_and_roll_mean_what_an_animator_expects(maya_scene, take_factory):
    """The character faces +Z with its left at +X (Maya's front view looks at it): the actor turning to
    their right, looking down and tipping the head to the right shoulder does the same to the character."""
    head, _ = metahuman("xyz")()
    retarget_maya.apply_take(turning_take(take_factory), start_frame=1)
    turn = turn_of(head, 25)
    forward, up = turn @ [0.0, 0.0, 1.0], turn @ [0.0, 1.0, 0.0]
    assert forward[0] < -0.3 and forward[1] < -0.15          # its nose goes to its right (-X) and down
    assert up[0] < -0.05                                       # the top of its head to its right shoulder


def test_the_metahuman_like_head_has_its_local_x_up_the_neck(maya_scene):
    nodes = fake_maya.build_metahuman_neck("MH")
    for joint in ("neck_01", "neck_02", "head"):
        assert (world(nodes[joint], 1) @ [1.0, 0.0, 0.0])[1] > 0.9


def test_the_turn_is_spread_over_neck_and_head(maya_scene, take_factory):
    nodes = fake_maya.build_metahuman_neck("MH")
    fake_maya.build_face_board("mh4", namespace="MH")
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1)
    assert report.head is not None and report.head.shares == pytest.approx([0.2, 0.3, 0.5])
    assert "MH:neck_01 (20%), MH:neck_02 (30%), MH:head (50%)" in report.summary()
    whole = np.degrees(rotation.angle_between(RIGHT_DOWN_ROLL[None], np.eye(3)[None])[0])
    # Each joint turns in world space by its share plus its parents' (same axis): 20%, 50%, 100%.
    for joint, share in (("neck_01", 0.2), ("neck_02", 0.5), ("head", 1.0)):
        expected = rotation.fraction_of(RIGHT_DOWN_ROLL[None], share)[0]
        assert angle_deg(turn_of(nodes[joint], 25), expected) < 0.05
        assert angle_deg(turn_of(nodes[joint], 25), np.eye(3)) == pytest.approx(share * whole, abs=0.05)


def test_weights_and_strength(maya_scene, take_factory):
    nodes = fake_maya.build_metahuman_neck("MH")
    fake_maya.build_face_board("mh4", namespace="MH")
    take = turning_take(take_factory)
    retarget_maya.apply_take(take, start_frame=1, head_strength=0.5, head_weights={"head": 1.0})
    half = rotation.fraction_of(RIGHT_DOWN_ROLL[None], 0.5)[0]
    assert angle_deg(turn_of(nodes["head"], 25), half) < 0.05
    assert angle_deg(turn_of(nodes["neck_02"], 25), np.eye(3)) < 1e-4      # weight 0: left still
    retarget_maya.apply_take(take, start_frame=1, head_strength=0.0)
    assert angle_deg(turn_of(nodes["head"], 25), np.eye(3)) < 1e-4
    with pytest.raises(ValueError, match="between 0 and 1"):
        retarget_maya.apply_take(take, start_frame=1, head_strength=1.5)


def test_one_undo_removes_face_and_head_keys(maya_scene, take_factory):
    nodes = fake_maya.build_metahuman_neck("MH")
    fake_maya.build_face_board("mh4", namespace="MH")
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1)
    plugs = ["MH:CTRL_C_jaw.translateY"] + ["%s.rotate%s" % (nodes[j], a) for j in ("neck_01", "head") for a in "XYZ"]
    assert report.key_path == "api"
    assert all(cmds.keyframe(plug, query=True, keyframeCount=True) == 25 for plug in plugs)
    assert cmds.undoInfo(query=True, undoName=True) == "FaceRetarget: apply take"
    cmds.undo()
    assert all(cmds.keyframe(plug, query=True, keyframeCount=True) == 0 for plug in plugs)
    cmds.redo()
    assert all(cmds.keyframe(plug, query=True, keyframeCount=True) == 25 for plug in plugs)
    assert angle_deg(turn_of(nodes["head"], 25), RIGHT_DOWN_ROLL) < 0.5


def test_in_a_layer_the_keys_are_offsets_that_add_up_to_the_same_turn(maya_scene, take_factory):
    nodes = fake_maya.build_metahuman_neck("MH", rotate_order="zxy", rest_rotate=(3.0, -4.0, 7.0))
    fake_maya.build_face_board("mh4", namespace="MH")
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1, mode="layer")
    assert report.layer == "FaceRetarget"
    head = fake_maya.scene().nodes[nodes["head"].rsplit("|", 1)[-1]]
    assert head.attrs["rotateX"].curve is None                          # the base is left as it was
    assert np.allclose(cmds.getAttr(nodes["head"] + ".rotate", time=1)[0], (3.0, -4.0, 7.0))
    assert angle_deg(turn_of(nodes["head"], 25), RIGHT_DOWN_ROLL) < 0.5


def test_no_head_joint_says_so_and_keys_the_face(mh4_rig, take_factory):
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1)
    assert report.head is None and len(report.keyed) == 174
    assert "No head joint found (no joint named 'head' in any namespace)" in report.summary()
    assert "head_target=" in report.summary()


def test_head_off_keys_the_face_only(maya_scene, take_factory):
    nodes = fake_maya.build_metahuman_neck("MH")
    fake_maya.build_face_board("mh4", namespace="MH")
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1, head=False)
    assert report.head is None and "Head rotation" not in report.summary() and not report.warnings
    assert cmds.keyframe(nodes["head"] + ".rotateX", query=True, keyframeCount=True) == 0


def test_a_take_without_head_pose_says_so(maya_scene, take_factory):
    fake_maya.build_metahuman_neck("MH")
    fake_maya.build_face_board("mh4", namespace="MH")
    report = retarget_maya.apply_take(take_factory(fps=FPS, seconds=1.0), start_frame=1)
    assert report.head is None and "The take has no head pose (head_pose.csv)" in report.summary()
    never_seen = turning_take(take_factory, name="audio_only", detected=lambda t: np.zeros(len(t), bool))
    report = retarget_maya.apply_take(never_seen, start_frame=1)
    assert report.head is None and "never saw the actor's face" in report.summary()


def test_without_neutral_frames_the_median_pose_is_the_rest(maya_scene, take_factory):
    """An iPhone take lists no neutral frames: the median of the tracked head is the rest pose."""
    nodes = fake_maya.build_metahuman_neck("MH")
    fake_maya.build_face_board("mh4", namespace="MH")
    rest = world(nodes["head"], 1)
    report = retarget_maya.apply_take(turning_take(take_factory, neutral_times=(), seconds=2.0), start_frame=1)
    assert report.head is not None and "median" in report.head.neutral
    # 29 of the 49 frames are turned: the median is the turned pose (the rig's rest), and the first frames
    # turn back from it.
    assert angle_deg(world(nodes["head"], 30), rest) < 1e-3
    assert angle_deg(world(nodes["head"], 1) @ rest.T, RIGHT_DOWN_ROLL.T) < 0.5


def test_a_driven_face_rig_head_is_passed_over_for_the_body_head(maya_scene, take_factory):
    """Body and face skeletons together: the face rig's head follows the body's through a constraint, so
    the body's head is keyed."""
    fake_maya.build_face_board("mh4", namespace="Face")
    face = fake_maya.build_metahuman_neck("Face")
    for axis in "XYZ":
        fake_maya.scene().nodes["Face:head"].attrs["rotate" + axis].driver = "Face:head_orientConstraint1"
    fake_maya.scene().add_node("Face:head_orientConstraint1", "orientConstraint")
    body = fake_maya.build_metahuman_neck("Body")
    report = retarget_maya.apply_take(turning_take(take_factory), start_frame=1)
    assert report.head is not None and report.head.joints[-1].endswith("|" + body["head"])
    assert cmds.keyframe(face["head"] + ".rotateX", query=True, keyframeCount=True) == 0


def test_two_free_heads_take_the_face_boards_namespace_or_ask(maya_scene, take_factory):
    fake_maya.build_face_board("mh4", namespace="Hero")
    hero = fake_maya.build_metahuman_neck("Hero")
    fake_maya.build_metahuman_neck("Extra")
    take = turning_take(take_factory)
    assert retarget_maya.apply_take(take, start_frame=1).head.joints[-1].endswith("|" + hero["head"])
    fake_maya.build_metahuman_neck("Other")
    maya_scene.nodes.pop("Hero:head")
    report = retarget_maya.apply_take(take, start_frame=1)
    assert report.head is None and "2 head joints could be keyed" in report.summary()
    assert "Choose one with head_target=" in report.summary()


def test_a_missing_or_locked_head_target_is_a_report_line(maya_scene, take_factory):
    fake_maya.build_face_board("mh4", namespace="MH")
    take = turning_take(take_factory)
    report = retarget_maya.apply_take(take, start_frame=1, head_target="nowhere")
    assert report.head is None and "Head target nowhere is no transform in the scene" in report.summary()
    control = fake_maya.add_transform("headCtrl")
    maya_scene.nodes["headCtrl"].attrs["rotateY"].locked = True
    report = retarget_maya.apply_take(take, start_frame=1, head_target=control)
    assert report.head is None and "is locked (rotateY)" in report.summary()


def test_head_translation_is_off_by_default_and_moves_as_far_as_the_actor(maya_scene, take_factory):
    """The position goes on the top-most neck joint, through its (scaled, turned) parent, in scene units."""
    cmds.currentUnit(linear="m")
    fake_maya.build_face_board("mh4", namespace="MH")
    nodes = fake_maya.build_metahuman_neck("MH")
    maya_scene.nodes["MH:root"].attrs["scaleX"].value = 2.0      # a character scaled up non-uniformly
    shift = np.array([3.0, -1.5, 2.0])                           # cm, camera frame: left, down, forward

    def moving(times):
        return np.array([0.5, -1.0, -45.0]) + np.where((times < TURNED / FPS)[:, None], 0.0, shift)
    take = turning_take(take_factory, translation=moving)
    report = retarget_maya.apply_take(take, start_frame=1)
    assert cmds.keyframe(nodes["neck_01"] + ".translateX", query=True, keyframeCount=True) == 0
    report = retarget_maya.apply_take(take, start_frame=1, head_translation=True)
    assert "Head position keyed on MH:neck_01." in report.summary()

    def position(frame):
        return np.array(cmds.getAttr(nodes["neck_01"] + ".worldMatrix[0]", time=frame)).reshape(4, 4)[3, :3]
    np.testing.assert_allclose(position(25) - position(1), shift, atol=1e-4)      # world cm, Y up, +Z forward
    assert cmds.keyframe(nodes["neck_01"] + ".translateX", query=True, valueChange=True)[0] == pytest.approx(
        cmds.getAttr(nodes["neck_01"] + ".translateX", time=1))


def test_radians_as_the_angle_unit(maya_scene, take_factory):
    cmds.currentUnit(angle="rad")
    head, _ = metahuman("yzx")()
    retarget_maya.apply_take(turning_take(take_factory), start_frame=1, fast=False)
    assert angle_deg(turn_of(head, 25), RIGHT_DOWN_ROLL) < 0.5
    np.testing.assert_allclose(cmds.getAttr(head + ".rotate", time=1)[0], np.radians([3.0, -4.0, 7.0]), atol=1e-9)


def test_in_a_z_up_scene_the_character_faces_minus_y(maya_scene, take_factory):
    cmds.upAxis(axis="z")
    fake_maya.build_face_board("mh4", namespace="MH")
    head = fake_maya.add_transform("MH:head", "joint", joint_orient=(90.0, 0.0, 0.0))
    retarget_maya.apply_take(turning_take(take_factory), start_frame=1)
    forward, up = turn_of(head, 25) @ [0.0, -1.0, 0.0], turn_of(head, 25) @ [0.0, 0.0, 1.0]
    assert forward[0] < -0.3 and forward[2] < -0.15 and up[0] < -0.05     # right (-X), down (-Z), right shoulder


# --- the pure parts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("order", fake_maya.ROTATE_ORDERS)
def test_rotate_orders_compose_as_maya_composes_them(order):
    """Against the fake's own row-vector composition (Maya's [R] = Rx Ry Rz for xyz): transposed, the same."""
    angles = np.radians([[25.0, -40.0, 70.0], [-120.0, 10.0, 5.0], [0.0, 89.0, -30.0]])
    ours = rotation.euler_to_matrix(angles, order)
    for mine, values in zip(ours, angles):
        np.testing.assert_allclose(mine, fake_maya._row_euler(tuple(values), order).T, atol=1e-12)
    back = rotation.matrix_to_euler(ours, order, reference=angles)
    np.testing.assert_allclose(back, angles, atol=1e-9)


@pytest.mark.parametrize("order", fake_maya.ROTATE_ORDERS)
def test_euler_angles_stay_next_to_their_reference(order):
    rng = np.random.default_rng(7)
    angles = rng.uniform(-3.0, 3.0, (200, 3))
    matrices = rotation.euler_to_matrix(angles, order)
    reference = angles + rng.uniform(-0.3, 0.3, angles.shape) + 2 * np.pi * rng.integers(-1, 2, angles.shape)
    back = rotation.matrix_to_euler(matrices, order, reference=reference)
    np.testing.assert_allclose(rotation.euler_to_matrix(back, order), matrices, atol=1e-9)
    assert np.abs(back - reference).max() < 0.5            # the set of angles (and turn) next to the reference
    locked = angles.copy()
    locked[:, "xyz".index(order[1])] = np.pi / 2           # gimbal lock: still the same rotation
    np.testing.assert_allclose(rotation.euler_to_matrix(rotation.matrix_to_euler(
        rotation.euler_to_matrix(locked, order), order), order), rotation.euler_to_matrix(locked, order), atol=1e-7)


def test_the_takes_angles_in_words():
    """+yaw turns the face to the actor's left (+X), +pitch tips the nose down, +roll the top of the head to
    the right shoulder (-X): engine/track/head_pose.py's convention, as documented in docs/maya.md."""
    def turn(yaw=0.0, pitch=0.0, roll=0.0):
        return rotation.take_rotation(np.array([yaw]), np.array([pitch]), np.array([roll]))[0]
    np.testing.assert_allclose(turn(yaw=90) @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(turn(pitch=90) @ [0, 0, 1], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(turn(roll=90) @ [0, 1, 0], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(turn(-20, 10, 5), RIGHT_DOWN_ROLL, atol=1e-12)


def test_a_fraction_of_a_turn_keeps_its_axis():
    turns = np.stack([RIGHT_DOWN_ROLL, camera_turn(170.0, 5.0, 0.0), np.eye(3)])
    half = rotation.fraction_of(turns, 0.5)
    np.testing.assert_allclose(half @ half, turns, atol=1e-9)
    np.testing.assert_allclose(rotation.fraction_of(turns, 0.0), np.tile(np.eye(3), (3, 1, 1)), atol=1e-12)


def test_chain_shares_and_the_neck_found_above_the_head():
    weights = dict((("neck_01", 0.2), ("neck_02", 0.3), ("head", 0.5)))
    assert headpose.chain_shares(["neck_01", "neck_02", "head"], weights) == pytest.approx([0.2, 0.3, 0.5])
    assert headpose.chain_shares(["neck_02", "head"], weights) == pytest.approx([0.375, 0.625])
    assert headpose.chain_shares(["headCtrl"], weights) == [1.0]
    with pytest.raises(ValueError):
        headpose.chain_shares(["head"], {"head": 0.0})
    parents = {"|r|MH:neck_01|MH:neck_02|MH:head": "|r|MH:neck_01|MH:neck_02", "|r|MH:neck_01|MH:neck_02": "|r|MH:neck_01",
               "|r|MH:neck_01": "|r"}
    assert headpose.neck_chain("|r|MH:neck_01|MH:neck_02|MH:head", parents.get) == [
        "|r|MH:neck_01", "|r|MH:neck_01|MH:neck_02", "|r|MH:neck_01|MH:neck_02|MH:head"]
    assert headpose.neck_chain("|grp|ctrl", {"|grp|ctrl": "|grp"}.get) == ["|grp|ctrl"]


# --- batch ----------------------------------------------------------------------------------------------

def test_batch_flags_and_manifest_keys(tmp_path):
    args = batch.parse_args(["--scene", "s.ma", "--take", "t", "--no-head", "--head-strength", "0.6",
                             "--head-target", "MH:headCtrl", "--head-translation"])
    clip = batch.clips_from_args(args)[0]
    assert (clip.no_head, clip.head_strength, clip.head_target, clip.head_translation) == (
        True, 0.6, "MH:headCtrl", True)
    default = batch.clips_from_args(batch.parse_args(["--scene", "s.ma", "--take", "t"]))[0]
    assert (default.no_head, default.head_strength, default.head_translation) == (False, 1.0, False)
    with pytest.raises(ValueError, match="head_strength"):
        batch.make_clip({"scene": "s.ma", "take": "t", "head_strength": 2})
