"""Pieces of the calibrated solve: head-pose-normalised landmark space, the bounded blendshape fit, the
per-channel table and the regressor shipped with the engine (pure logic, no tracking)."""
import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.solve.channels import load_channels
from engine.solve.landmark_fit import LandmarkBasis, fit_weights, load_basis
from engine.solve.landmark_regressor import load_regressor
from engine.solve.landmark_space import EYE_SPAN_CM, LEFT_EYE_OUTER, RIGHT_EYE_OUTER, build_space


def face_points(rng):
    """A rough face of 478 points (cm): a half ellipsoid, eye corners where the head frame expects them."""
    p = rng.normal(0, 1, (478, 3)) * np.array([6.0, 8.0, 2.0])
    p[:, 2] += 8.0
    p[RIGHT_EYE_OUTER] = (-4.5, 3.4, 8.6)
    p[LEFT_EYE_OUTER] = (4.5, 3.4, 8.6)
    p[152] = (0.0, -7.7, 10.2)
    p[10] = (0.0, 9.5, 9.7)
    return p


def to_image(points, yaw, pitch, scale=20.0, size=(640, 480)):
    """Landmarks as MediaPipe reports them (x, y in 0..1, z in width units, camera looking down -z)."""
    r = Rotation.from_euler("YXZ", [yaw, pitch, 0.0], degrees=True).as_matrix()
    q = points @ r.T * scale
    w, h = size
    return np.stack([(q[:, 0] + w / 2) / w, (-q[:, 1] + h / 2) / h, -q[:, 2] / w], axis=1)


def test_head_motion_alone_leaves_no_displacement_and_an_expression_shows_in_cm():
    rng = np.random.default_rng(0)
    face = face_points(rng)
    n = 120
    angles = np.stack([25 * np.sin(np.linspace(0, 6, n)), 15 * np.sin(np.linspace(0, 4, n))], axis=1)
    moved = face.copy()
    moved[14, 1] -= 1.0                   # the lower lip 1 cm down in frames 100-109
    frames = [to_image(moved if 100 <= i < 110 else face, *angles[i]) for i in range(n)]
    space = build_space(np.array(frames), (640, 480), np.arange(0, 20), np.arange(0, 90))
    span = np.linalg.norm(face[LEFT_EYE_OUTER] - face[RIGHT_EYE_OUTER])
    assert np.abs(space.displacement[:90]).max() < 1e-3
    lip = space.displacement[100:110, 14, 1] * span / EYE_SPAN_CM
    assert lip == pytest.approx(np.full(10, -1.0), abs=0.02)


def test_bounded_fit_recovers_weights_under_a_millisecond_per_frame():
    rng = np.random.default_rng(1)
    basis = load_basis()
    truth = np.zeros((400, 52))
    for name in ("jawOpen", "cheekPuff", "noseSneerLeft", "eyeBlinkRight", "mouthSmileLeft"):
        truth[:, ARKIT_INDEX[name]] = rng.uniform(0, 1, 400)
    disp = np.tensordot(truth, basis.deltas, axes=1) + rng.normal(0, 0.005, (400, len(basis.landmarks), 3))
    start = time.perf_counter()
    w = fit_weights(disp, basis)
    per_frame = (time.perf_counter() - start) / 400
    assert per_frame < 1e-3
    assert np.all((w >= 0) & (w <= 1))
    for name in ("jawOpen", "cheekPuff", "noseSneerLeft", "eyeBlinkRight", "mouthSmileLeft"):
        assert np.abs(w[:, ARKIT_INDEX[name]] - truth[:, ARKIT_INDEX[name]]).mean() < 0.05, name


def test_fit_keeps_mouth_close_under_jaw_open():
    basis = LandmarkBasis(np.arange(3), np.zeros((3, 3)), np.zeros((52, 3, 3)))
    basis.deltas[ARKIT_INDEX["mouthClose"], 0, 1] = 1.0
    w = fit_weights(np.array([[[0.0, 0.8, 0.0], [0, 0, 0], [0, 0, 0]]]), basis)
    assert w[0, ARKIT_INDEX["mouthClose"]] <= w[0, ARKIT_INDEX["jawOpen"]] + 1e-9


def test_shipped_tables_cover_every_channel_and_say_why():
    import json

    from engine.solve.channels import TABLE

    doc = json.loads(TABLE.read_text())
    assert set(doc["channels"]) == set(ARKIT_NAMES)
    assert all(row["why"] for row in doc["channels"].values())
    table = load_channels()
    assert np.all((table.blend >= 0) & (table.blend <= 1)) and np.all(table.deadzone < 0.5)
    reg = load_regressor()
    assert reg is not None and reg.n_inputs == 3 * len(reg.landmarks) + 52 + 3 * reg.pose_inputs and reg.members[0][-1][0].shape[1] == 52
    out = reg.predict(np.zeros((5, len(reg.landmarks), 3)), np.zeros((5, 52)), np.zeros((5, 3)) if reg.pose_inputs else None)
    assert np.all((out >= 0) & (out <= 1))


def test_the_landmark_network_learns_what_a_linear_map_cannot_and_runs_in_numpy():
    """A weight that follows |x| (a cheek puff pushes the contour out on either side): the network trained
    with torch and run with numpy fits it; the best linear map cannot."""
    pytest.importorskip("torch")
    from engine.solve.landmark_regressor import inputs
    from engine_dev.landmark_training import NetworkOptions, train_network

    rng = np.random.default_rng(0)
    disp = rng.normal(0.0, 1.0, (3000, 2, 3))
    scores = rng.uniform(0.0, 1.0, (3000, 52))
    truth = np.zeros((3000, 52))
    truth[:, 0] = np.clip(np.abs(disp[:, 0, 0]) / 2, 0, 1)
    truth[:, 1] = scores[:, 5]
    train, test = slice(0, 2500), slice(2500, None)
    net = train_network(inputs(disp[train], scores[train]), truth[train], np.array([10, 20]),
                        NetworkOptions(hidden=32, epochs=60, batch=64, learning_rate=1e-2, members=2,
                                       input_dropout=0.0, input_noise=0.0))
    got = net.predict(disp[test], scores[test])
    assert got.shape == (500, 52) and np.all((got >= 0) & (got <= 1))
    assert np.abs(got[:, 0] - truth[test, 0]).mean() < 0.05
    assert np.abs(got[:, 1] - truth[test, 1]).mean() < 0.05
    x = np.c_[inputs(disp[train], scores[train]), np.ones(2500)]
    coef = np.linalg.lstsq(x, truth[train, 0], rcond=None)[0]
    linear = np.c_[inputs(disp[test], scores[test]), np.ones(500)] @ coef
    assert np.abs(linear - truth[test, 0]).mean() > 0.1


def test_network_with_head_angles_discounts_a_pose_dependent_displacement(tmp_path):
    """A tilted head shifts a landmark as an expression would (what the pose correction leaves behind): with
    the head's angles as inputs the network tells the two apart, and the flag survives save and load."""
    pytest.importorskip("torch")
    from engine.solve.landmark_regressor import inputs, load_regressor
    from engine_dev.landmark_training import NetworkOptions, train_network

    rng = np.random.default_rng(1)
    n = 3000
    weight = rng.uniform(0.0, 1.0, n) * (rng.random(n) < 0.5)
    pitch = rng.uniform(-0.45, 0.45, n)
    disp = rng.normal(0.0, 0.02, (n, 2, 3))
    disp[:, 0, 1] += weight + 1.5 * pitch           # the chin moves with the weight and with the head's pitch
    scores = np.zeros((n, 52))
    pose = np.c_[np.zeros(n), pitch, np.zeros(n)]
    truth = np.zeros((n, 52))
    truth[:, 0] = weight
    train, test = slice(0, 2500), slice(2500, None)
    options = NetworkOptions(hidden=32, epochs=60, batch=64, learning_rate=1e-2, input_dropout=0.0, input_noise=0.0,
                             pose_noise=0.0)
    net = train_network(inputs(disp[train], scores[train], pose[train]), truth[train], np.array([10, 20]), options,
                        pose_inputs=True)
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = load_regressor(str(path))
    assert loaded.pose_inputs
    got = loaded.predict(disp[test], scores[test], pose[test])
    assert np.abs(got[:, 0] - truth[test, 0]).mean() < 0.05
    blind = train_network(inputs(disp[train], scores[train]), truth[train], np.array([10, 20]), options)
    assert np.abs(blind.predict(disp[test], scores[test])[:, 0] - truth[test, 0]).mean() > 0.1
